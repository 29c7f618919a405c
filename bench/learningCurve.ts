/**
 * Learning curve on one photo: training from scratch against fine-tuning the embedded model, PSNR and normalised
 * SWD of held-out crops against minutes of training.
 *
 * Every run trains with the default recipe (trainTextureVae's defaults), or the loss terms its start names, on
 * the left part of the photo and are evaluated on the 128x128 crops of its right 128 columns, which neither run
 * sees: encode -> decode of the posterior mean, PSNR, normalised SWD against the held-out strip (1.0 = as close
 * as a real crop) and the cell-grid ratio. Pass a photo that is not one of the embedded model's 17, or the
 * fine-tuned run has seen the held-out strip. The runs train in one process, a step each in turn, and each is
 * charged only the time of its own steps (evaluation excluded), so a busy machine slows all alike.
 *
 *   npx tsx bench/learningCurve.ts --image PHOTO.png [--minutes 5] [--every 30] [--batch-size 8]
 *     [--starts scratch,fine-tune,fine-tune-plain,fine-tune-grid,fine-tune-low-kl,fine-tune-fourier,fine-tune-gan]
 *     [--ema 0.98] [--results]
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';

import { cellGridRatio, cropImage, psnr, SwdReference } from '../src/eval/index.js';
import type { PixelImage } from '../src/model/pixelImage.js';
import { loadPretrained } from '../src/model/pretrained/pretrained.js';
import { TextureVae } from '../src/model/textureVae.js';
import {
  DEFAULT_FOURIER_WEIGHT,
  DEFAULT_GRID_WEIGHT,
  DEFAULT_PATCH_WEIGHT,
  DEFAULT_PIXEL_LOSS,
  type TrainOptions,
  trainTextureVae,
} from '../src/model/train.js';
import { readExemplarFile } from '../src/node/exemplarFiles.js';
import { useWasmBackend } from '../src/node/wasmBackend.js';
import { machineLine, markdownTable, writeResultsSection } from './results.js';

const { values } = parseArgs({
  options: {
    image: { type: 'string' },
    minutes: { type: 'string', default: '5' },
    every: { type: 'string', default: '30' },
    'batch-size': { type: 'string', default: '8' },
    starts: { type: 'string', default: 'scratch,fine-tune' },
    ema: { type: 'string' },
    results: { type: 'boolean', default: false },
  },
});
if (!values.image)
  throw new Error('--image <photo.png|jpg> is required (a photo the embedded model never saw)');
const budgetMs = Number(values.minutes) * 60_000;
const everyMs = Number(values.every) * 1000;
const batchSize = Number(values['batch-size']);
/** With --ema D, every point is also evaluated on an exponential moving average of the weights (decay D). */
const emaDecay = values.ema === undefined ? undefined : Number(values.ema);
if (emaDecay !== undefined && !(emaDecay > 0 && emaDecay < 1))
  throw new Error(`--ema must be a decay between 0 and 1 (exclusive), got ${values.ema}`);
const CROP = 128;

await useWasmBackend();
const photo = await readExemplarFile(values.image);

const split = photo.width - CROP;
const trainPart = cropImage(photo, 0, 0, split, photo.height);
const heldOut = cropImage(photo, split, 0, CROP, photo.height);
const crops: PixelImage[] = [];
for (let y = 0; y + CROP <= heldOut.height; y += CROP) crops.push(cropImage(heldOut, 0, y, CROP, CROP));
const reference = SwdReference.fromExemplar(heldOut, {
  patches: 4096,
  directions: 128,
  referenceCrops: 4,
  projection: 'tfjs',
});

interface Start {
  readonly id: string;
  readonly what: string;
  readonly vae: TextureVae;
  readonly learningRate: number;
  readonly warmupSteps: number;
  /** The loss terms, in place of the default recipe's (none: the default recipe). */
  readonly recipe?: Pick<
    TrainOptions,
    'fourierWeight' | 'gridWeight' | 'adversarialWeight' | 'adversarialStart'
  >;
  readonly points: {
    minutes: number;
    step: number;
    psnr: number;
    swd: number;
    grid: number;
    ema?: Scores;
  }[];
  /** The moving average of the weights (with --ema). */
  ema?: tf.Tensor[];
  spentMs: number;
  nextEvalMs: number;
  step: number;
  readonly abort: AbortController;
}

interface Scores {
  readonly psnr: number;
  readonly swd: number;
  readonly grid: number;
}

async function scores(vae: TextureVae): Promise<Scores> {
  const psnrs: number[] = [];
  const swds: number[] = [];
  const grids: number[] = [];
  for (const crop of crops) {
    const decoded = await vae.decode(await vae.encode(crop));
    psnrs.push(psnr(decoded, crop));
    swds.push(reference.normalised(decoded));
    grids.push(cellGridRatio(decoded, vae.stride));
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { psnr: mean(psnrs), swd: mean(swds), grid: mean(grids) };
}

/** Scores the model's weights, then (with --ema) its averaged weights, swapped in and back out. */
async function evaluate(start: Start): Promise<void> {
  const point = { minutes: start.spentMs / 60_000, step: start.step, ...(await scores(start.vae)) };
  const text = (x: Scores) =>
    `PSNR ${x.psnr.toFixed(2)} dB, SWD ${x.swd.toFixed(2)}, grid ${x.grid.toFixed(3)}`;
  let line = `${start.id}: ${point.minutes.toFixed(1)} min, step ${point.step}: ${text(point)}`;
  if (start.ema) {
    const raw = start.vae.getWeights();
    start.vae.setWeights(start.ema);
    const ema = await scores(start.vae);
    start.vae.setWeights(raw);
    tf.dispose(raw);
    Object.assign(point, { ema });
    line += `; EMA: ${text(ema)}`;
  }
  start.points.push(point);
  process.stdout.write(`${line}\n`);
  start.nextEvalMs += everyMs;
}

/** ema <- decay * ema + (1 - decay) * weights, after each step. */
function updateEma(start: Start, decay: number): void {
  const previous = start.ema;
  if (!previous) return;
  start.ema = tf.tidy(() =>
    start.vae.trainableVariables.map((v, i) => tf.add(tf.mul(previous[i], decay), tf.mul(v, 1 - decay))),
  );
  tf.dispose(previous);
}

const embedded = await loadPretrained();

/** The embedded model's weights in a model whose KL weight is `beta` (`train --from default --beta`). */
function embeddedWithBeta(beta: number): TextureVae {
  const vae = TextureVae.create({ ...embedded.config, beta }, { seed: 1 });
  const weights = embedded.getWeights();
  vae.setWeights(weights);
  tf.dispose(weights);
  return vae;
}

/**
 * A fine-tune of the embedded model at lr 0.0005, no warm-up, with the loss terms `recipe` names in place of
 * the default recipe's: the terms it leaves out are off, whatever the defaults are.
 */
function fineTuneWith(terms: string, recipe: NonNullable<Start['recipe']>) {
  return () => ({
    what: `the embedded model with ${terms}, lr 0.0005, no warm-up`,
    vae: embeddedWithBeta(embedded.config.beta),
    learningRate: 0.0005,
    warmupSteps: 0,
    recipe: { fourierWeight: 0, gridWeight: 0, adversarialWeight: 0, ...recipe },
  });
}

const variants = {
  scratch: () => ({
    what: 'fresh weights (seed 1), lr 0.001, KL warm-up 200 steps',
    vae: TextureVae.create(embedded.config, { seed: 1 }),
    learningRate: 0.001,
    warmupSteps: 200,
  }),
  'fine-tune': () => ({
    what: 'the embedded model (`train --from default`), lr 0.0005, no warm-up',
    vae: embeddedWithBeta(embedded.config.beta),
    learningRate: 0.0005,
    warmupSteps: 0,
  }),
  'fine-tune-low-kl': () => ({
    what: 'the embedded model with KL weight 0.0005 (`train --from default --beta 0.0005`), lr 0.001, no warm-up',
    vae: embeddedWithBeta(0.0005),
    learningRate: 0.001,
    warmupSteps: 0,
  }),
  'fine-tune-plain': fineTuneWith(
    'the Charbonnier pixel term alone (`--fourier-weight 0 --grid-weight 0`)',
    {},
  ),
  'fine-tune-fourier': fineTuneWith(
    'the Fourier-amplitude term at weight 1 (`--fourier-weight 1 --grid-weight 0`)',
    {
      fourierWeight: 1,
    },
  ),
  'fine-tune-fourier-0.3': fineTuneWith(
    'the Fourier-amplitude term at weight 0.3 (`--fourier-weight 0.3 --grid-weight 0`)',
    {
      fourierWeight: 0.3,
    },
  ),
  'fine-tune-grid': fineTuneWith(
    'the cell-grid term at weight 0.05 (`--fourier-weight 0 --grid-weight 0.05`)',
    {
      gridWeight: 0.05,
    },
  ),
  'fine-tune-gan': fineTuneWith(
    'the adversarial term at weight 0.5 after 30 steps (`--adversarial-weight 0.5 --adversarial-start 30 --fourier-weight 0 --grid-weight 0`)',
    { adversarialWeight: 0.5, adversarialStart: 30 },
  ),
};
const ids = values.starts.split(',');
for (const id of ids) {
  if (!(id in variants))
    throw new Error(`unknown start '${id}'; allowed: ${Object.keys(variants).join(', ')}`);
}
const starts: Start[] = ids.map((id) => ({
  id,
  ...variants[id as keyof typeof variants](),
  points: [],
  spentMs: 0,
  nextEvalMs: 0,
  step: 0,
  abort: new AbortController(),
}));
if (emaDecay !== undefined) for (const start of starts) start.ema = start.vae.getWeights();
embedded.dispose();

for (const start of starts) await evaluate(start);
const started = Date.now();
await Promise.all(
  starts.map((start) =>
    trainTextureVae(start.vae, trainPart, {
      steps: 1_000_000,
      batchSize,
      learningRate: start.learningRate,
      warmupSteps: start.warmupSteps,
      ...start.recipe,
      seed: 1,
      signal: start.abort.signal,
      scope: <T>(work: () => T): T => {
        const t0 = performance.now();
        try {
          return work();
        } finally {
          start.spentMs += performance.now() - t0;
        }
      },
      onProgress: async (p) => {
        start.step = p.step;
        if (emaDecay !== undefined) updateEma(start, emaDecay);
        if (start.spentMs >= start.nextEvalMs || start.spentMs >= budgetMs) await evaluate(start);
        if (start.spentMs >= budgetMs) start.abort.abort();
      },
    }),
  ),
);
const wallMinutes = (Date.now() - started) / 60_000;
for (const start of starts) {
  start.vae.dispose();
  if (start.ema) tf.dispose(start.ema);
}

const firstBelow = (start: Start, swd: number) => start.points.find((p) => p.swd <= swd);
const summary = starts
  .map((start) => {
    const last = start.points[start.points.length - 1];
    const reached = firstBelow(start, 1.5);
    return `${start.id}: ${last.psnr.toFixed(2)} dB / SWD ${last.swd.toFixed(2)} after ${last.minutes.toFixed(1)} min (${last.step} steps); SWD <= 1.5 ${reached ? `first at ${reached.minutes.toFixed(1)} min` : 'not reached'}`;
  })
  .join('\n- ');
const rows = starts.flatMap((start) =>
  start.points.map((p) => [
    start.id,
    p.minutes.toFixed(1),
    p.step,
    p.psnr.toFixed(2),
    p.swd.toFixed(2),
    p.grid.toFixed(3),
    ...(p.ema ? [p.ema.psnr.toFixed(2), p.ema.swd.toFixed(2), p.ema.grid.toFixed(3)] : []),
  ]),
);
const emaHeader = emaDecay === undefined ? [] : ['EMA PSNR', 'EMA SWD', 'EMA grid'];
const markdown = `## Learning curve: fine-tuning the embedded model against training from scratch

${basename(values.image)} (${photo.width}x${photo.height}, not one of the embedded model's photos). All runs use the
default recipe (${DEFAULT_PIXEL_LOSS} pixel term, patch weight ${DEFAULT_PATCH_WEIGHT}, Fourier weight ${DEFAULT_FOURIER_WEIGHT}, cell-grid weight ${DEFAULT_GRID_WEIGHT}) or the terms their line names, batch ${batchSize}, 64x64
patches of the left ${split} columns, and are evaluated on the ${crops.length} 128x128 crops of the right ${CROP}
columns, which neither sees: PSNR of encode -> decode, normalised SWD against the held-out strip (1.0 = a real
crop; target <= 1.5 within 5 minutes), cell-grid ratio. Minutes are each run's own step time (evaluation
excluded); they ran in one process, a step each in turn (${wallMinutes.toFixed(0)} min wall time).

${starts.map((start) => `- ${start.id}: ${start.what}`).join('\n')}
- ${summary}

${emaDecay === undefined ? '' : `The EMA columns score the same run's exponential moving average of the weights (decay ${emaDecay}, updated after every step, starting from the start's weights).\n\n`}${markdownTable(['start', 'minutes', 'step', 'PSNR (dB)', 'norm. SWD', 'cell grid', ...emaHeader], rows)}

${machineLine()}, WASM backend, 2 cores shared with other jobs.
Command: \`npx tsx bench/learningCurve.ts --image ${values.image} --minutes ${values.minutes} --every ${values.every} --batch-size ${batchSize} --starts ${values.starts}${emaDecay === undefined ? '' : ` --ema ${emaDecay}`} --results\``;
if (values.results) writeResultsSection('learningCurve', markdown);
process.stdout.write(`${markdown}\n`);
tf.disposeVariables();
