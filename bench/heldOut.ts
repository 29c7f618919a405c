/**
 * Reconstruction quality of one or more models on photos they never saw: PSNR of encode -> decode, normalised
 * SWD (1.0 = as close as a real crop of the photo) and the cell-grid ratio (a photo: about 1.0), on the centre
 * crop of each photo (a multiple of 8 px, at most --crop) and on every whole --crop tile.
 *
 *   npx tsx bench/heldOut.ts --images DIR [--models default,DIR,...] [--crop 128] [--results]
 *
 * With --results it writes the 'heldOut' section of bench/RESULTS.md.
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';

import { cellGridRatio, cropImage, psnr, SwdReference } from '../src/eval/index.js';
import type { PixelImage } from '../src/model/pixelImage.js';
import { loadPretrained } from '../src/model/pretrained/pretrained.js';
import { TextureVae } from '../src/model/textureVae.js';
import { fileSystemHandler } from '../src/node/fileHandler.js';
import { readPng } from '../src/node/png.js';
import { useWasmBackend } from '../src/node/wasmBackend.js';
import { machineLine, markdownTable, writeResultsSection } from './results.js';

const { values } = parseArgs({
  options: {
    images: { type: 'string' },
    models: { type: 'string', default: 'default' },
    crop: { type: 'string', default: '128' },
    results: { type: 'boolean', default: false },
  },
});
if (!values.images) throw new Error('--images <dir> is required');
const maxCrop = Number(values.crop);

await useWasmBackend();
const files = readdirSync(values.images)
  .filter((f) => f.endsWith('.png'))
  .sort();
const photos = files.map((f) => readPng(join(values.images as string, f)));
const modelArgs = values.models.split(',');
const models: TextureVae[] = [];
for (const m of modelArgs) {
  models.push(m === 'default' ? await loadPretrained() : await TextureVae.load(fileSystemHandler(m)));
}

const rows: (string | number)[][] = [];
const totals = models.map(() => ({ psnr: 0, swd: 0, grid: 0, n: 0 }));
for (const [i, photo] of photos.entries()) {
  // Crops small enough that the SWD reference has other crops of the photo to compare with.
  const size = Math.min(maxCrop, Math.floor(Math.min(photo.width, photo.height) / 2 / 8) * 8);
  const reference = SwdReference.fromExemplar(photo, {
    patches: 2048,
    directions: 64,
    referenceCrops: 4,
    projection: 'tfjs',
  });
  const crops: PixelImage[] = [];
  for (let y = 0; y + size <= photo.height; y += size) {
    for (let x = 0; x + size <= photo.width; x += size) crops.push(cropImage(photo, x, y, size, size));
  }
  const cells: string[] = [
    basename(files[i], '.png'),
    `${photo.width}x${photo.height}`,
    `${crops.length}x${size}`,
  ];
  for (const [k, model] of models.entries()) {
    let p = 0;
    let s = 0;
    let g = 0;
    for (const c of crops) {
      const decoded = await model.decode(await model.encode(c));
      p += psnr(decoded, c);
      s += reference.normalised(decoded);
      g += cellGridRatio(decoded, model.stride);
    }
    const n = crops.length;
    cells.push(`${(p / n).toFixed(2)} / ${(s / n).toFixed(2)} / ${(g / n).toFixed(3)}`);
    totals[k].psnr += p / n;
    totals[k].swd += s / n;
    totals[k].grid += g / n;
    totals[k].n++;
  }
  rows.push(cells);
  process.stdout.write(`${cells.join(' | ')}\n`);
}
rows.push([
  '**mean**',
  '',
  '',
  ...totals.map(
    (t) => `${(t.psnr / t.n).toFixed(2)} / ${(t.swd / t.n).toFixed(2)} / ${(t.grid / t.n).toFixed(3)}`,
  ),
]);

const markdown = `## Reconstruction of unseen photos

encode -> decode of every whole crop of each photo in \`${values.images}\` (photos none of the models was
trained on). Each cell: PSNR (dB) / normalised SWD (1.0 = a real crop of the photo) / cell-grid ratio (1.0 = no
latent-cell grid).

${markdownTable(['photo', 'size', 'crops', ...modelArgs.map((m) => `model ${m}`)], rows)}

${machineLine()}, WASM backend.
Command: \`npx tsx bench/heldOut.ts --images ${values.images} --models ${values.models} --crop ${maxCrop} --results\``;
if (values.results) writeResultsSection('heldOut', markdown);
process.stdout.write(`${markdown}\n`);
for (const m of models) m.dispose();
