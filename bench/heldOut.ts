/**
 * Reconstruction quality of one or more models on photos they never saw: PSNR of encode -> decode, normalised
 * SWD (1.0 = as close as a real crop of the photo) and the cell-grid ratio (a photo: about 1.0), on the centre
 * crop of each photo (a multiple of 8 px, at most --crop) and on every whole --crop tile.
 *
 * With --pca, a last column gives the linear baseline on the same photo: a PCA of 64x64 crops with as many
 * components as the first model's latent for that crop, fitted on 1.5k + 2 random crops of the photo itself (so
 * it has seen the photo, which the models have not) and scored on 64 other random crops.
 *
 * With --sheet OUT.png it also writes a picture to look at: one row per photo, its centre crop and then each
 * model's reconstruction of it, side by side at full size.
 *
 *   npx tsx bench/heldOut.ts --images DIR [--models default,DIR,...] [--crop 128] [--pca] [--sheet OUT.png [--zoom 2]]
 *     [--results]
 *
 * With --results it writes the 'heldOut' section of bench/RESULTS.md.
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';

import {
  cellGridRatio,
  cropImage,
  fitCropPca,
  pcaReconstructionPsnr,
  psnr,
  SwdReference,
} from '../src/eval/index.js';
import type { PixelImage } from '../src/model/pixelImage.js';
import { loadPretrained } from '../src/model/pretrained/pretrained.js';
import { TextureVae } from '../src/model/textureVae.js';
import { fileSystemHandler } from '../src/node/fileHandler.js';
import { readPng, writePng } from '../src/node/png.js';
import { useWasmBackend } from '../src/node/wasmBackend.js';
import { machineLine, markdownTable, writeResultsSection } from './results.js';

const { values } = parseArgs({
  options: {
    images: { type: 'string' },
    models: { type: 'string', default: 'default' },
    crop: { type: 'string', default: '128' },
    results: { type: 'boolean', default: false },
    pca: { type: 'boolean', default: false },
    sheet: { type: 'string' },
    zoom: { type: 'string', default: '1' },
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

const PCA_CROP = 64;
const pcaComponents = (PCA_CROP / models[0].stride) ** 2 * models[0].latentChannels;
let pcaTotal = 0;
const rows: (string | number)[][] = [];
/** Rows of the --sheet picture: the centre crop and each model's reconstruction of it. */
const sheetRows: PixelImage[][] = [];
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
  if (values.sheet) {
    const x0 = Math.floor((photo.width - size) / 16) * 8;
    const y0 = Math.floor((photo.height - size) / 16) * 8;
    const centre = cropImage(photo, x0, y0, size, size);
    const row = [centre];
    for (const model of models) row.push(await model.decode(await model.encode(centre)));
    sheetRows.push(row);
  }
  if (values.pca) {
    const pca = fitCropPca(photo, {
      components: pcaComponents,
      cropSize: PCA_CROP,
      trainingCrops: Math.floor(1.5 * pcaComponents) + 2,
      seed: 0,
    });
    const value = pcaReconstructionPsnr(pca, photo, 64, 1);
    pcaTotal += value;
    cells.push(`${value.toFixed(2)}`);
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
  ...(values.pca ? [(pcaTotal / photos.length).toFixed(2)] : []),
]);

const markdown = `## Reconstruction of unseen photos

encode -> decode of every whole crop of each photo in \`${values.images}\` (photos none of the models was
trained on). Each cell: PSNR (dB) / normalised SWD (1.0 = a real crop of the photo) / cell-grid ratio (1.0 = no
latent-cell grid).${values.pca ? ` PCA: PSNR (dB) of the linear baseline with ${pcaComponents} components (the latent size of a 64x64 crop), fitted on random 64x64 crops of the photo itself.` : ''}

${markdownTable(['photo', 'size', 'crops', ...modelArgs.map((m) => `model ${m}`), ...(values.pca ? ['PCA (fitted on the photo)'] : [])], rows)}

${machineLine()}, WASM backend.
Command: \`npx tsx bench/heldOut.ts --images ${values.images} --models ${values.models} --crop ${maxCrop}${values.pca ? ' --pca' : ''} --results\``;
if (values.results) writeResultsSection('heldOut', markdown);
if (values.sheet) {
  // --zoom N repeats every pixel N x N times, so single pixels and the 8-px cell grid can be seen.
  const zoom = Number(values.zoom);
  if (!Number.isInteger(zoom) || zoom < 1 || zoom > 8)
    throw new Error(`--zoom must be 1 to 8, got ${values.zoom}`);
  const side = Math.max(...sheetRows.flat().map((t) => t.width)) * zoom;
  const width = side * (models.length + 1);
  const data = new Uint8Array(width * side * sheetRows.length * 3);
  for (const [r, row] of sheetRows.entries()) {
    for (const [c, tile] of row.entries()) {
      for (let y = 0; y < tile.height * zoom; y++) {
        for (let x = 0; x < tile.width * zoom; x++) {
          const from = (Math.floor(y / zoom) * tile.width + Math.floor(x / zoom)) * 3;
          const to = ((r * side + y) * width + c * side + x) * 3;
          data[to] = tile.data[from];
          data[to + 1] = tile.data[from + 1];
          data[to + 2] = tile.data[from + 2];
        }
      }
    }
  }
  writePng(values.sheet, { data, width, height: side * sheetRows.length, channels: 3 });
  process.stdout.write(`wrote ${values.sheet}\n`);
}
process.stdout.write(`${markdown}\n`);
for (const m of models) m.dispose();
