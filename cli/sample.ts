/** `babylon-vae-textures sample`: decode new textures of a swatch (or the model's prior) to PNG files. */
import { parseArgs } from 'node:util';
import { offsetSeed } from '../src/index.js';
import { writePng } from '../src/node/index.js';
import { checkWritable, integer, loadModelArg, number, seedOption } from './args.js';
import { ProgressBar } from './progress.js';
import { loadSwatchArg } from './swatchArg.js';

const help = `usage: babylon-vae-textures sample --out <prefix> [options]

Decodes --count textures to <prefix>-<i>.png: new textures of a swatch (--swatch; seed + i each), or
without --swatch the model's prior samples (seed + i, mostly coloured noise; for inspecting a model).

options:
  --model <dir|default>  model folder, or the model shipped in the package (default: default)
  --count <n>            number of textures (default: 1)
  --size <px>            texture side, a multiple of the stride (default: 256)
  --seed <n>             seed of the first texture, 0..4294967295 (default: 0)
  --swatch <file|name>   new textures of a swatch (seed + i each), from a file written by 'swatch --out', or
                         a swatch name of the default model (bricks, moss, rust, wood, ...)
  --temperature <t>      prior standard deviation, without --swatch only (default: 1)
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
  const paths = Array.from({ length: count }, (_, i) => `${values.out}-${i}.png`);
  checkWritable(paths, values.force);
  if (values.swatch !== undefined && values.temperature !== undefined) {
    throw new Error('--swatch cannot be combined with --temperature (a prior setting)');
  }
  const model = await loadModelArg(values.model);
  try {
    const swatch =
      values.swatch === undefined ? null : await loadSwatchArg(values.swatch, model, values.model);
    const bar = new ProgressBar(count, 'sample');
    for (let i = 0; i < count; i++) {
      const latent = swatch
        ? swatch.sample({ width: size, height: size, seed: offsetSeed(seed, i) })
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
