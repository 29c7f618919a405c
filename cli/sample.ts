/** `babylon-vae-textures sample`: decode textures from a model's prior (or a named material) to PNG files. */
import { parseArgs } from 'node:util';
import { resizeLatent } from '../src/latent/latentOps.js';
import { offsetSeed } from '../src/latent/random.js';
import { loadPretrainedLatents, materialLatent } from '../src/model/pretrained/pretrained.js';
import { writePng } from '../src/node/png.js';
import { checkWritable, integer, loadModelArg, number, seedOption } from './args.js';
import { ProgressBar } from './progress.js';
import { loadSwatchArg } from './swatchArg.js';

const help = `usage: babylon-vae-textures sample --out <prefix> [options]

Decodes --count textures to <prefix>-<i>.png: prior samples (seed + i), or, with --material, variations of a
named material of the default model (similar(material, --amount, seed + i)).

options:
  --model <dir|default>  model folder, or the model shipped in the package (default: default)
  --count <n>            number of textures (default: 1)
  --size <px>            texture side, a multiple of the stride (default: 256)
  --seed <n>             seed of the first texture, 0..4294967295 (default: 0)
  --temperature <t>      prior standard deviation (default: 1)
  --swatch <file|name>   new textures of a swatch (seed + i each), from a file written by 'swatch --out', or
                         a swatch name of the default model
  --material <name>      start from a named material of the default model (e.g. bricks)
  --amount <a>           variation amount for --material, 0..1 (default: 0.3)
  --out <prefix>         output path without extension (required)
  --force                overwrite existing files
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', default: 'default' },
      count: { type: 'string' },
      size: { type: 'string' },
      seed: { type: 'string' },
      temperature: { type: 'string' },
      swatch: { type: 'string' },
      material: { type: 'string' },
      amount: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (!values.out) throw new Error('--out <prefix> is required (writes <prefix>-<i>.png)');
  const count = integer('count', values.count, 1, { min: 1, max: 1024 });
  const size = integer('size', values.size, 256);
  const seed = seedOption(values.seed);
  const temperature = number('temperature', values.temperature, 1);
  const amount = number('amount', values.amount, 0.3);
  const paths = Array.from({ length: count }, (_, i) => `${values.out}-${i}.png`);
  checkWritable(paths, values.force);
  if (values.material !== undefined && values.model !== 'default') {
    throw new Error('--material picks a named material of the default model; use it with --model default');
  }

  if (values.swatch !== undefined) {
    for (const other of ['material', 'temperature', 'amount'] as const) {
      if (values[other] !== undefined) throw new Error(`--swatch cannot be combined with --${other}`);
    }
  }

  // A named material is looked up before the model is loaded: an unknown name costs nothing.
  const named =
    values.material === undefined
      ? null
      : materialLatent(await loadPretrainedLatents('default'), values.material);
  const model = await loadModelArg(values.model);
  try {
    const swatch =
      values.swatch === undefined ? null : await loadSwatchArg(values.swatch, model, values.model);
    const grid = model.latentSize(size, size);
    const base = named ? resizeLatent(named, grid.height, grid.width) : null;
    const bar = new ProgressBar(count, 'sample');
    for (let i = 0; i < count; i++) {
      const latent = swatch
        ? swatch.sample({ width: size, height: size, seed: offsetSeed(seed, i) })
        : base
          ? model.similar(base, amount, offsetSeed(seed, i))
          : model.sample({ width: size, height: size, seed: offsetSeed(seed, i), temperature });
      writePng(paths[i], await model.decode(latent));
      bar.update(i + 1);
    }
    bar.finish();
    process.stdout.write(`wrote ${paths.join(', ')}\n`);
    return 0;
  } finally {
    model.dispose();
  }
}
