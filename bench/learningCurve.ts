/**
 * Learning curve of the DEFAULT TextureVae config on one exemplar on tfjs's WASM backend: PSNR of
 * encode -> decode (posterior mean) on a held-out region against training wall time. The model trains on
 * the left 3/4 of the image and is evaluated on 64x64 crops of the right 1/4, which it never sees.
 *
 *   npx tsx bench/learningCurve.ts [--texture rock_rock058.png] [--minutes 10] [--every 60] [--lr 0.001]
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';

import type { PixelImage } from '../src/model/pixelImage.js';
import { TextureVae } from '../src/model/textureVae.js';
import { trainTextureVae } from '../src/model/train.js';
import { readPng } from '../src/node/png.js';
import { useWasmBackend } from '../src/node/wasmBackend.js';
import { machineLine, markdownTable, writeResultsSection } from './results.js';

const { values } = parseArgs({
  options: {
    texture: { type: 'string', default: 'rock_rock058.png' },
    minutes: { type: 'string', default: '10' },
    every: { type: 'string', default: '60' },
    lr: { type: 'string', default: '0.001' },
    'batch-size': { type: 'string', default: '16' },
  },
});
const minutes = Number(values.minutes);
const every = Number(values.every);
const learningRate = Number(values.lr);
const batchSize = Number(values['batch-size']);
const image = readPng(join(fileURLToPath(new URL('../assets/textures/', import.meta.url)), values.texture));
const crop = 64;

function columns(source: PixelImage, from: number, to: number): PixelImage {
  const width = to - from;
  const data = new Uint8Array(width * source.height * 3);
  for (let y = 0; y < source.height; y++) {
    data.set(source.data.subarray((y * source.width + from) * 3, (y * source.width + to) * 3), y * width * 3);
  }
  return { data, width, height: source.height, channels: 3 };
}

const split = Math.floor((image.width * 3) / 4 / crop) * crop;
const trainPart = columns(image, 0, split);
const heldOut = columns(image, split, image.width);

await useWasmBackend();

/** Every whole 64x64 crop of the held-out part, as one [N, 64, 64, 3] batch in [0, 1]. */
const evalBatch = tf.tidy(() => {
  const all = tf.tensor3d(
    Float32Array.from(heldOut.data, (v) => v / 255),
    [heldOut.height, heldOut.width, 3],
  );
  const crops: tf.Tensor3D[] = [];
  for (let y = 0; y + crop <= heldOut.height; y += crop) {
    for (let x = 0; x + crop <= heldOut.width; x += crop)
      crops.push(tf.slice(all, [y, x, 0], [crop, crop, 3]));
  }
  return tf.stack(crops) as tf.Tensor4D;
});

function heldOutPsnr(vae: TextureVae): number {
  const mse = tf.tidy(() => {
    const { mean, logVar } = vae.encodeTensors(evalBatch);
    logVar.dispose();
    return tf.mean(tf.squaredDifference(vae.decodeTensors(mean), evalBatch));
  });
  const value = mse.dataSync()[0];
  mse.dispose();
  return -10 * Math.log10(value);
}

const vae = TextureVae.create({}, { seed: 1 });
const rows: (string | number)[][] = [];
const controller = new AbortController();
let trainingSeconds = 0;
let lastTick = performance.now();
let nextEval = 0;
const record = (step: number, trainPsnr: number | null) => {
  const psnr = heldOutPsnr(vae);
  rows.push([
    (trainingSeconds / 60).toFixed(1),
    step,
    trainPsnr === null ? '-' : trainPsnr.toFixed(2),
    psnr.toFixed(2),
  ]);
  process.stderr.write(
    `${(trainingSeconds / 60).toFixed(1)} min, step ${step}: held-out PSNR ${psnr.toFixed(2)} dB\n`,
  );
  nextEval += every;
};
record(0, null);
const trainPsnrs: number[] = [];
lastTick = performance.now();
const result = await trainTextureVae(vae, trainPart, {
  steps: 1_000_000,
  batchSize,
  patchSize: 64,
  learningRate,
  warmupSteps: 200,
  signal: controller.signal,
  onProgress: (p) => {
    trainingSeconds += (performance.now() - lastTick) / 1000;
    trainPsnrs.push(-10 * Math.log10(p.reconstruction));
    if (trainingSeconds >= nextEval || trainingSeconds >= minutes * 60) {
      const recent = trainPsnrs.slice(-20);
      record(p.step, recent.reduce((a, b) => a + b, 0) / recent.length);
    }
    if (trainingSeconds >= minutes * 60) controller.abort();
    lastTick = performance.now();
  },
});
const best = Math.max(...rows.map((r) => Number(r[3])));
evalBatch.dispose();
vae.dispose();

writeResultsSection(
  'learningCurve',
  `## Learning curve (default config, WASM, ${minutes} minutes)

Trains on the left ${split} columns of ${values.texture} (${image.width}x${image.height}), batch ${batchSize}, 64x64
patches, Adam lr ${learningRate}, KL warm-up 200 steps; evaluates encode -> decode (posterior mean) PSNR on
${evalBatch.shape[0]} 64x64 crops of the held-out right ${image.width - split} columns. Training time excludes
evaluation. Train PSNR: mean of the last 20 training batches (sampled latents, so below the held-out mean-latent
figure early on). ${result.step} steps in total; best held-out PSNR ${best.toFixed(2)} dB (target: >= 20 dB within 10
minutes).

${markdownTable(['training minutes', 'step', 'train PSNR (dB)', 'held-out PSNR (dB)'], rows)}

${machineLine()}; single-threaded WASM (SIMD); machine shared with other jobs.
Command: \`npx tsx bench/learningCurve.ts --texture ${values.texture} --minutes ${minutes} --every ${every} --lr ${learningRate} --batch-size ${batchSize}\``,
);
