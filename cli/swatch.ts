/** `babylon-vae-textures swatch`: make a swatch (a material's look) from one exemplar image. */
import { parseArgs } from 'node:util';
import { Swatch } from '../src/index.js';
import { readExemplarFile, writeSwatchFile } from '../src/node/index.js';
import { checkModelArg, checkWritable, loadModelArg } from './args.js';
import { materialName } from './encode.js';

const help = `usage: babylon-vae-textures swatch <image> --out <file> [options]

Encodes the whole image (PNG or JPEG, at least 64 px a side) with the model and writes a swatch file: the
image's latent grid and the model's id, from which 'sample --swatch <file>' synthesises new seamless textures
of any size.

options:
  --model <dir|default>  model folder, or the model shipped in the package (default: default)
  --out <file>           swatch file to write (required)
  --force                overwrite an existing file
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', default: 'default' },
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new Error(`give exactly one exemplar image, got ${positionals.length}`);
  }
  if (!values.out) throw new Error('--out <file> is required (the swatch file to write)');
  checkModelArg(values.model);
  checkWritable([values.out], values.force);
  const [path] = positionals;
  const model = await loadModelArg(values.model);
  try {
    const image = await readExemplarFile(path, model.outputChannels);
    const start = performance.now();
    const swatch = await Swatch.fromImage(model, image, { name: materialName(path).slice(0, 64) || null });
    writeSwatchFile(values.out, swatch);
    const { height, width, channels } = swatch.latent;
    process.stdout.write(
      `wrote ${values.out}: swatch '${swatch.name}' of ${image.width}x${image.height} px (${height}x${width}x${channels} latent) for model '${model.config.name}' in ${((performance.now() - start) / 1000).toFixed(1)} s\n`,
    );
    return 0;
  } finally {
    model.dispose();
  }
}
