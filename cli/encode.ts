/** `babylon-vae-textures encode`: encode exemplar images into named latent grids (JSON index + binary). */
import { writeFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parseArgs } from 'node:util';
import { cropImage } from '../src/eval/index.js';
import type { LatentGrid, PixelImage } from '../src/index.js';
import { readPng } from '../src/node/index.js';
import { checkWritable, integer, loadModelArg } from './args.js';
import { ProgressBar } from './progress.js';

const help = `usage: babylon-vae-textures encode <images...> --out <prefix> [options]

Encodes the centre crop of each PNG image into a latent grid and writes them, named:
<prefix>.json (names, sources, grid shape) and <prefix>.bin (float32 grids, in order), for your own
tools. For a material's look use 'swatch' instead: it encodes the whole image and synthesises new textures.

options:
  --model <dir|default>  model folder, or the model shipped in the package (default: default)
  --crop <px>            side of the centre crop to encode, a multiple of the stride (default: 256)
  --names <list>         comma-separated material names, one per image (default: from the file names)
  --out <prefix>         output path without extension (required)
  --force                overwrite existing files
`;

/** A file name as a camelCase identifier: "rock_cliff-side.png" -> "rockCliffSide". */
export function materialName(path: string): string {
  const words = basename(path, extname(path))
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  return words
    .map((w, i) => (i === 0 ? w.toLowerCase() : w[0].toUpperCase() + w.slice(1).toLowerCase()))
    .join('');
}

function centreCrop(image: PixelImage, size: number): PixelImage {
  if (image.width < size || image.height < size) {
    throw new Error(`--crop ${size} is larger than an image of ${image.width}x${image.height}`);
  }
  return cropImage(
    image,
    Math.floor((image.width - size) / 2),
    Math.floor((image.height - size) / 2),
    size,
    size,
  );
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', default: 'default' },
      crop: { type: 'string' },
      names: { type: 'string' },
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
  if (positionals.length === 0) throw new Error('give at least one PNG image to encode');
  if (!values.out) throw new Error('--out <prefix> is required (writes <prefix>.json and <prefix>.bin)');
  const names = values.names ? values.names.split(',').map((n) => n.trim()) : positionals.map(materialName);
  if (names.length !== positionals.length) {
    throw new Error(
      `--names lists ${names.length} names for ${positionals.length} images; give one name per image`,
    );
  }
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate)
    throw new Error(`material name '${duplicate}' is used twice; names must be unique (see --names)`);
  const crop = integer('crop', values.crop, 256);
  const jsonPath = `${values.out}.json`;
  const binPath = `${values.out}.bin`;
  checkWritable([jsonPath, binPath], values.force);

  const model = await loadModelArg(values.model);
  try {
    model.latentSize(crop, crop);
    const latents: LatentGrid[] = [];
    const bar = new ProgressBar(positionals.length, 'encode');
    for (const [i, path] of positionals.entries()) {
      const image = centreCrop(readPng(path, model.outputChannels), crop);
      latents.push(await model.encode(image));
      bar.update(i + 1);
    }
    bar.finish();
    const { height, width, channels } = latents[0];
    const floats = new Float32Array(latents.length * height * width * channels);
    for (const [i, l] of latents.entries()) floats.set(l.data, i * l.data.length);
    const index = {
      model: model.config.name,
      crop,
      height,
      width,
      channels,
      materials: names.map((name, i) => ({ name, source: basename(positionals[i]) })),
    };
    writeFileSync(jsonPath, `${JSON.stringify(index, null, 2)}\n`);
    writeFileSync(binPath, new Uint8Array(floats.buffer));
    process.stdout.write(
      `wrote ${jsonPath} and ${binPath} (${names.length} materials of ${height}x${width}x${channels})\n`,
    );
    return 0;
  } finally {
    model.dispose();
  }
}
