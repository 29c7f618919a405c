/**
 * Swatch synthesis on the embedded model: for each exemplar photo, a swatch of the whole photo, then samples
 * scored against the targets of the swatch issue, next to the photo's own figures:
 *  - seam score of samples at 256, 512 and 1024 px (target <= 1.1), and the cell seam score (the wrap against
 *    the decoder's other cell boundaries, where seamScore also counts the decoder's cell grid);
 *  - repetition (largest autocorrelation at shifts >= 16 px) of a 1024-px sample vs. the photo (target: photo
 *    + 0.1) and vs. the model's reconstruction of the whole photo (the decoder's blur alone raises it), and
 *    the same at shifts >= 64 px, where a repeated piece would show;
 *  - diversity: largest cross-correlation of two 256-px samples (seeds 1, 2) vs. two disjoint 256-px crops of
 *    the photo (opposite quadrants; target: crops + 0.15);
 *  - realism: normalised SWD of 256-px windows of two 512-px samples vs. the model's reconstruction of the four
 *    256-px quadrants of the photo, each encoded alone (target: ratio <= 1.15);
 *  - cell-grid ratio of the 512-px samples; time of the swatch (encode) and of one 1024-px latent (median
 *    of three after a warm-up).
 * --method spectral swaps the synthesis for random-phase noise of the same latent grid (for comparison only).
 *
 * npx tsx bench/swatch.ts [--model default|DIR] [--images a.png,b.png] [--patch 16] [--candidates 64] [--method quilt|spectral]
 *   [--no-1024] [--look /tmp/swatch-look] [--results]
 */
import { mkdirSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';

import { cellGridRatio, cellSeamScore } from '../src/eval/cellGrid.js';
import { maxCrossCorrelation, repetitionScore } from '../src/eval/correlation.js';
import { fft2d } from '../src/eval/fft.js';
import { cropImage, toFloatRgb } from '../src/eval/floatImage.js';
import { seamScore } from '../src/eval/seamScore.js';
import { SwdReference } from '../src/eval/swdReference.js';
import type { LatentGrid } from '../src/latent/latentGrid.js';
import { SeededRandom } from '../src/latent/random.js';
import { Swatch } from '../src/latent/swatch.js';
import type { PixelImage } from '../src/model/pixelImage.js';
import { loadPretrained } from '../src/model/pretrained/pretrained.js';
import { TextureVae } from '../src/model/textureVae.js';
import { fileSystemHandler } from '../src/node/fileHandler.js';
import { readPng, writePng } from '../src/node/png.js';
import { useWasmBackend } from '../src/node/wasmBackend.js';
import { machineLine, markdownTable, writeResultsSection } from './results.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'default' },
    images: {
      type: 'string',
      default:
        'assets/textures/bricks_bricks102.png,assets/textures/moss_mossy_rock053.png,assets/textures/rock_rock058.png,assets/textures/tiles_concrete_tile_facade.png,assets/textures/wood_wood_table_worn.png',
    },
    patch: { type: 'string' },
    candidates: { type: 'string' },
    method: { type: 'string', default: 'quilt' },
    'no-1024': { type: 'boolean', default: false },
    look: { type: 'string' },
    tileable: { type: 'boolean', default: false },
    results: { type: 'boolean', default: false },
  },
});
const method = values.method;
if (method !== 'quilt' && method !== 'spectral')
  throw new Error(`--method must be quilt or spectral, got ${method}`);

await useWasmBackend();
const model =
  values.model === 'default'
    ? await loadPretrained('default')
    : await TextureVae.load(fileSystemHandler(values.model));
const swd = { patches: 4096, directions: 128, referenceCrops: 4, projection: 'tfjs' as const };

/**
 * Random-phase (asymptotic discrete spot noise) synthesis of a latent grid: each channel of the exemplar grid,
 * centred, folded onto the output torus and convolved with one white-noise field shared by all channels, so
 * cross-channel structure is kept; divided by sqrt(cells), means added back.
 */
function spectral(swatch: Swatch, size: number, seed: number): LatentGrid {
  const { latent } = swatch;
  const m = swatch.tileable ? 0 : 2;
  const n = size / swatch.stride;
  const C = latent.channels;
  const hs = latent.height - 2 * m;
  const ws = latent.width - 2 * m;
  const noiseRe = new SeededRandom(seed).gaussianArray(n * n);
  const wr = Float64Array.from(noiseRe);
  const wi = new Float64Array(n * n);
  fft2d(wr, wi, n, n);
  const out = new Float32Array(n * n * C);
  for (let c = 0; c < C; c++) {
    let mean = 0;
    for (let y = 0; y < hs; y++)
      for (let x = 0; x < ws; x++) mean += latent.data[((y + m) * latent.width + x + m) * C + c];
    mean /= hs * ws;
    const kr = new Float64Array(n * n);
    const ki = new Float64Array(n * n);
    for (let y = 0; y < hs; y++)
      for (let x = 0; x < ws; x++)
        kr[(y % n) * n + (x % n)] += latent.data[((y + m) * latent.width + x + m) * C + c] - mean;
    fft2d(kr, ki, n, n);
    for (let k = 0; k < n * n; k++) {
      const r = kr[k] * wr[k] - ki[k] * wi[k];
      ki[k] = kr[k] * wi[k] + ki[k] * wr[k];
      kr[k] = r;
    }
    fft2d(kr, ki, n, n, true);
    const s = 1 / Math.sqrt(hs * ws);
    for (let k = 0; k < n * n; k++) out[k * C + c] = kr[k] * s + mean;
  }
  return { data: out, height: n, width: n, channels: C };
}

function sample(swatch: Swatch, size: number, seed: number): LatentGrid {
  return method === 'spectral' ? spectral(swatch, size, seed) : swatch.sample({ width: size, seed });
}

function windows(image: PixelImage, size: number): PixelImage[] {
  const out: PixelImage[] = [];
  for (let y = 0; y + size <= image.height; y += size)
    for (let x = 0; x + size <= image.width; x += size) out.push(cropImage(image, x, y, size, size));
  return out;
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const f2 = (v: number) => v.toFixed(2);
const rows: (string | number)[][] = [];
const options = {
  tileable: values.tileable,
  ...(values.patch ? { patchSize: Number(values.patch) } : {}),
  ...(values.candidates ? { candidates: Number(values.candidates) } : {}),
};
if (values.look) mkdirSync(values.look, { recursive: true });

for (const path of values.images?.split(',') ?? []) {
  const name = basename(path, '.png');
  const photo = readPng(path);
  // Warm the encoder's kernels and the synthesis code first; the median of three timed runs is reported.
  await model.encode(cropImage(photo, 0, 0, 64, 64));
  const swatchTimes: number[] = [];
  let swatch = await Swatch.fromImage(model, photo, options);
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    swatch = await Swatch.fromImage(model, photo, options);
    swatchTimes.push(performance.now() - start);
  }
  sample(swatch, 256, 0);
  const sampleTimes: number[] = [];
  let grid1024 = sample(swatch, 1024, 1);
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    grid1024 = sample(swatch, 1024, 1);
    sampleTimes.push(performance.now() - start);
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[1];
  const swatchMs = median(swatchTimes);
  const sampleMs = median(sampleTimes);
  const reference = SwdReference.fromExemplar(toFloatRgb(photo), swd);

  // Windows of 256 px, or half the photo (a multiple of the stride) for small photos.
  const side = Math.min(photo.width, photo.height);
  const half = Math.min(256, Math.floor(side / 2 / model.stride) * model.stride);
  const quadrants = [
    cropImage(photo, 0, 0, half, half),
    cropImage(photo, side - half, 0, half, half),
    cropImage(photo, 0, side - half, half, half),
    cropImage(photo, side - half, side - half, half, half),
  ];
  const photoCc = mean([
    maxCrossCorrelation(quadrants[0], quadrants[3]),
    maxCrossCorrelation(quadrants[1], quadrants[2]),
  ]);
  const photoRep = repetitionScore(photo);
  const photoRep64 =
    Math.min(photo.width, photo.height) >= 128 ? repetitionScore(photo, { minShift: 64 }) : Number.NaN;
  const reconRep = repetitionScore(await model.decode(swatch.latent));
  const reconSwd: number[] = [];
  for (const q of quadrants) reconSwd.push(reference.normalised(await model.decode(await model.encode(q))));

  const s256 = [await model.decode(sample(swatch, half, 1)), await model.decode(sample(swatch, half, 2))];
  // similar() ramp: largest cross-correlation of a varied sample with its start, per amount.
  const startGrid = sample(swatch, 256, 1);
  const startImage = await model.decode(startGrid);
  const ramp: string[] = [];
  for (const amount of [0.25, 0.5, 0.75, 1]) {
    ramp.push(f2(maxCrossCorrelation(startImage, await model.decode(swatch.similar(startGrid, amount, 9)))));
  }
  const s512 = [await model.decode(sample(swatch, 512, 1)), await model.decode(sample(swatch, 512, 2))];
  const sampleSwd = s512.flatMap((s) => windows(s, half)).map((w) => reference.normalised(w));
  const cellSeam = (images: PixelImage[]) => f2(mean(images.map((i) => cellSeamScore(i, model.stride))));
  let seam1024 = Number.NaN;
  let cellSeam1024 = 'NaN';
  let rep1024 = Number.NaN;
  let rep64 = Number.NaN;
  let cc1024 = Number.NaN;
  let big: PixelImage | null = null;
  if (!values['no-1024']) {
    big = await model.decode(grid1024);
    const big2 = await model.decode(sample(swatch, 1024, 2));
    seam1024 = mean([seamScore(big), seamScore(big2)]);
    cellSeam1024 = cellSeam([big, big2]);
    rep64 = repetitionScore(big, { minShift: 64 });
    rep1024 = repetitionScore(big);
    cc1024 = maxCrossCorrelation(big, big2);
  }
  const ratio = mean(sampleSwd) / mean(reconSwd);
  rows.push([
    name,
    `${f2(mean(s256.map(seamScore)))} / ${f2(mean(s512.map(seamScore)))} / ${f2(seam1024)}`,
    `${cellSeam(s256)} / ${cellSeam(s512)} / ${cellSeam1024}`,
    `${f2(rep1024)} / ${f2(reconRep)} / ${f2(photoRep)}`,
    `${f2(rep64)} / ${f2(photoRep64)}`,
    `${f2(maxCrossCorrelation(s256[0], s256[1]))} / ${f2(photoCc)}`,
    f2(cc1024),
    `${f2(mean(sampleSwd))} / ${f2(mean(reconSwd))} = ${f2(ratio)}`,
    f2(mean(s512.map((s) => cellGridRatio(s, model.stride)))),
    ramp.join(' '),
    Math.round(swatchMs),
    Math.round(sampleMs),
  ]);
  if (values.look) {
    const tag = `${name}-${method}${values.patch ? `-p${values.patch}` : ''}${values.candidates ? `-c${values.candidates}` : ''}`;
    writePng(`${values.look}/${tag}-512-s1.png`, s512[0]);
    writePng(`${values.look}/${tag}-512-s2.png`, s512[1]);
    if (big) writePng(`${values.look}/${tag}-1024-s1.png`, big);
  }
  process.stderr.write(`${rows[rows.length - 1].join(' | ')}\n`);
}

const table = markdownTable(
  [
    'photo',
    'seam 256 / 512 / 1024',
    'cell seam 256 / 512 / 1024',
    'repeat 1024 / reconstruction / photo',
    'repeat >= 64 px: 1024 / photo',
    'same 256 (seeds 1, 2) / disjoint crops',
    'same 1024',
    'SWD 256-px windows / reconstruction = ratio',
    'cell grid 512',
    'similar 0.25 / 0.5 / 0.75 / 1',
    'swatch ms',
    '1024 latent ms',
  ],
  rows,
);
const settings = `method ${method}${values.tileable ? ', tileable exemplars' : ''}${values.patch ? `, patch ${values.patch}` : ''}${values.candidates ? `, candidates ${values.candidates}` : ''}`;
const markdown = `### Swatch synthesis (${settings})\n\n${table}\n\n${machineLine()}; \`npx tsx bench/swatch.ts --model ${values.model}\`\n`;
process.stdout.write(markdown);
if (values.results) writeResultsSection('swatch', markdown);
model.dispose();
