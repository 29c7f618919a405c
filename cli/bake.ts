/** `babylon-vae-textures bake`: decode many latent variations into a mip-safe atlas (PNG pages + manifest JSON). */
import { parseArgs } from 'node:util';

import { type AtlasLayoutKind, bakeAtlas, MAX_TEXTURE_SIZE, planAtlas } from '../src/index.js';
import { checkAtlasWritable, writeAtlas } from '../src/node/index.js';
import { integer, loadModelArg, number, seedOption } from './args.js';
import { ProgressBar } from './progress.js';
import { loadSwatchArg } from './swatchArg.js';

const help = `usage: babylon-vae-textures bake --out <prefix> [options]

Decodes --count variations of a swatch (tile i: a swatch sample with seed + i) in batches into atlas page(s)
<prefix>.png (or <prefix>-<page>.png) and the manifest <prefix>.json (tile rects in pixels and Babylon UVs,
swatch and seeds, model id). Without --swatch the tiles are the model's prior samples (for inspecting a model).

options:
  --model <dir|default>  model folder (model.json + weights.bin), or the model shipped in the package
                         (default: default)
  --swatch <file|name>   the tiles' swatch: a file written by 'swatch --out', or a swatch name of the default
                         model (bricks, moss, rust, wood, ...)
  --count <n>            number of tiles (default: 16)
  --tile-size <px>            tile size, a multiple of the model stride up to ${MAX_TEXTURE_SIZE} (default: 128)
  --padding <px>         gutter on each side of a tile, 0..tile/2 (default: 8)
  --seed <n>             tile i uses seed + i; 0..4294967295 (default: 0)
  --temperature <t>      prior standard deviation, without --swatch only (default: 1)
  --layout <square|row>  (default: square)
  --max-size <px>        largest page side; more tiles go to further pages (default: ${MAX_TEXTURE_SIZE})
  --pot                  power-of-two page sizes
  --batch <n>            tiles per decode call (default: as many as 128 MiB of activations hold)
  --out <prefix>         output path without extension (required)
  --force                overwrite existing files
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', default: 'default' },
      swatch: { type: 'string' },
      count: { type: 'string' },
      'tile-size': { type: 'string' },
      padding: { type: 'string' },
      seed: { type: 'string' },
      temperature: { type: 'string' },
      layout: { type: 'string' },
      'max-size': { type: 'string' },
      pot: { type: 'boolean', default: false },
      batch: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (!values.out)
    throw new Error('--out <prefix> is required (the atlas is written to <prefix>.png and <prefix>.json)');
  const layout = values.layout ?? 'square';
  if (layout !== 'square' && layout !== 'row')
    throw new Error(`--layout must be square or row, got ${layout}`);
  const count = integer('count', values.count, 16);
  if (values.swatch !== undefined && values.temperature !== undefined) {
    throw new Error('--swatch cannot be combined with --temperature (a prior setting)');
  }
  const options = {
    count,
    tileSize: integer('tile-size', values['tile-size'], 128),
    padding: integer('padding', values.padding, 8),
    seed: seedOption(values.seed),
    temperature: values.swatch === undefined ? number('temperature', values.temperature, 1) : undefined,
    layout: layout as AtlasLayoutKind,
    maxTextureSize: integer('max-size', values['max-size'], MAX_TEXTURE_SIZE),
    powerOfTwo: values.pot,
    batchSize: values.batch === undefined ? undefined : integer('batch', values.batch, 1),
  };
  const modelArg = values.model ?? 'default';
  const model = await loadModelArg(modelArg);
  try {
    const swatch =
      values.swatch === undefined ? undefined : await loadSwatchArg(values.swatch, model, modelArg);
    // Validate everything, output files included, before the long part.
    const plan = planAtlas(model, { ...options, swatch });
    checkAtlasWritable(values.out, plan.pages.length, { force: values.force });
    const bar = new ProgressBar(count, 'bake');
    const result = await bakeAtlas(model, {
      ...options,
      swatch,
      onProgress: (done) => bar.update(done, { pages: plan.pages.length }),
    });
    bar.finish();
    const paths = writeAtlas(values.out, result, { force: values.force });
    process.stdout.write(`${[...paths.pages, paths.manifest].join('\n')}\n`);
    return 0;
  } finally {
    model.dispose();
  }
}
