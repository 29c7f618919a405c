/**
 * Calibration and speed of the texture-quality metrics (src/eval):
 *  - normalised SWD of reference degradations of each exemplar (a real crop, blur by 2x and 4x, colour noise),
 *    so model scores can be read against them;
 *  - time of one SWD evaluation with the projections in plain JS against tf.matMul on the WASM backend, and of
 *    a PCA fit of the size the eval command uses.
 *
 * npx tsx bench/eval.ts [--images assets/textures] [--size 256]
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';

import { fitCropPca } from '../src/eval/baselines.js';
import { downUpBlur, gaussianBlur } from '../src/eval/filters.js';
import { cropImage, type FloatImage, randomCrop, toFloatRgb } from '../src/eval/floatImage.js';
import { SwdReference } from '../src/eval/swdReference.js';
import { SeededRandom } from '../src/latent/random.js';
import { readPng } from '../src/node/png.js';
import { useWasmBackend } from '../src/node/wasmBackend.js';
import { machineLine, markdownTable, writeResultsSection } from './results.js';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: 'assets/textures' },
    size: { type: 'string', default: '256' },
  },
});
const folder = values.images ?? 'assets/textures';
const size = Number(values.size);
await useWasmBackend();

/** I.i.d. Gaussian pixels with the exemplar's per-channel mean and standard deviation, clamped to [0, 1]. */
function colourNoise(exemplar: FloatImage, width: number, height: number, rng: SeededRandom): FloatImage {
  const n = exemplar.width * exemplar.height;
  const mean = [0, 0, 0];
  const sq = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      mean[c] += exemplar.data[3 * i + c] / n;
      sq[c] += exemplar.data[3 * i + c] ** 2 / n;
    }
  }
  const std = mean.map((m, c) => Math.sqrt(Math.max(sq[c] - m * m, 0)));
  const data = new Float32Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) data[3 * i + c] = Math.min(1, Math.max(0, mean[c] + std[c] * rng.gaussian()));
  }
  return { data, width, height, channels: 3 };
}

const kinds = [
  'real crop',
  'blur 2x (box down, bilinear up)',
  'blur 4x (box down, bilinear up)',
  'Gaussian blur sigma 2',
  'colour noise',
];
const files = readdirSync(folder)
  .filter((f) => f.endsWith('.png'))
  .sort();
const rows: (string | number)[][] = [];
const columns: number[][] = kinds.map(() => []);
for (const file of files) {
  const exemplar = toFloatRgb(readPng(join(folder, file)));
  const reference = SwdReference.fromExemplar(exemplar, { referenceCrops: 4, projection: 'tfjs' });
  const rng = new SeededRandom(99);
  const x = (exemplar.width - size) >> 1;
  const y = (exemplar.height - size) >> 1;
  const scores = [
    randomCrop(exemplar, size, size, rng),
    cropImage(downUpBlur(exemplar, 2), x, y, size, size),
    cropImage(downUpBlur(exemplar, 4), x, y, size, size),
    cropImage(gaussianBlur(exemplar, 2), x, y, size, size),
    colourNoise(exemplar, size, size, rng),
  ].map((image) => reference.normalised(image));
  scores.forEach((s, i) => {
    columns[i].push(s);
  });
  rows.push([basename(file, '.png'), ...scores.map((s) => s.toFixed(2))]);
}
const quantile = (v: number[], q: number) => [...v].sort((a, b) => a - b)[Math.round(q * (v.length - 1))];
rows.push(['**median**', ...columns.map((c) => quantile(c, 0.5).toFixed(2))]);
rows.push([
  '**10th-90th percentile**',
  ...columns.map((c) => `${quantile(c, 0.1).toFixed(2)}-${quantile(c, 0.9).toFixed(2)}`),
]);

// Speed: one distance with each projection path (median of 3), and one PCA fit as the eval command runs it.
const exemplar = toFloatRgb(readPng(join(folder, files[0])));
const texture = cropImage(exemplar, 0, 0, size, size);
const timeDistance = (projection: 'js' | 'tfjs') => {
  const reference = SwdReference.fromExemplar(exemplar, { projection });
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    reference.distance(texture);
    times.push(performance.now() - t);
  }
  return quantile(times, 0.5);
};
const js = timeDistance('js');
const wasm = timeDistance('tfjs');
const k = 512;
const pcaStart = performance.now();
fitCropPca(exemplar, { components: k, cropSize: 64, trainingCrops: 1.5 * k + 2 });
const pcaSeconds = (performance.now() - pcaStart) / 1000;

const markdown = [
  `### Metric calibration: normalised SWD of reference degradations (${size} px textures vs the 512 px exemplar)`,
  '',
  "Blurred textures are crops of the blurred exemplar; colour noise is i.i.d. Gaussian pixels with the exemplar's per-channel mean and standard deviation. 4096 patches x 128 directions x 4 Laplacian levels, normaliser from 4 crops.",
  '',
  markdownTable(['exemplar', ...kinds], rows),
  '',
  markdownTable(
    ['operation', 'time', 'vs plain JS'],
    [
      [`SWD of one ${size} px texture, projections in plain JS`, `${js.toFixed(0)} ms`, '1.00x'],
      [
        `SWD of one ${size} px texture, projections as tf.matMul (WASM)`,
        `${wasm.toFixed(0)} ms`,
        `${(js / wasm).toFixed(2)}x faster`,
      ],
      [
        `PCA fit, ${k} components on ${1.5 * k + 2} crops of 64x64x3 (Gram + eigen)`,
        `${pcaSeconds.toFixed(1)} s`,
        '-',
      ],
    ],
  ),
  '',
  `${machineLine()}, on a machine shared with other jobs. Command: \`npx tsx bench/eval.ts --images ${folder} --size ${size}\``,
].join('\n');
process.stdout.write(`${markdown}\n`);
writeResultsSection('eval-metrics', markdown);
