import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import type { PixelImage } from '../../src/model/pixelImage.js';
import { TextureVae } from '../../src/model/textureVae.js';
import {
  DEFAULT_ADVERSARIAL_WEIGHT,
  DEFAULT_FOURIER_WEIGHT,
  DEFAULT_GRID_WEIGHT,
  DEFAULT_LOSS_RECIPE,
  DEFAULT_PATCH_WEIGHT,
  DEFAULT_PIXEL_LOSS,
  type TrainingProgress,
  type TrainOptions,
  trainTextureVae,
  warmupBeta,
} from '../../src/model/train.js';
import { useWasmBackend } from '../../src/node/wasmBackend.js';

const tinyConfig = { stride: 4, encoderWidths: [4, 8, 8], decoderWidths: [8, 8, 4], latentChannels: 2 };

/** Soft diagonal stripes: easy to learn, so a few steps visibly lower the loss. */
function stripes(size = 48): PixelImage {
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = 0.5 + 0.4 * Math.sin(((x + y) * 2 * Math.PI) / 12);
      data.set([v * 255, v * 200, 60], (y * size + x) * 3);
    }
  }
  return { data, width: size, height: size, channels: 3 };
}

async function values(weights: tf.Tensor[]): Promise<Float32Array[]> {
  return Promise.all(weights.map(async (w) => (await w.data()) as Float32Array));
}

beforeAll(async () => {
  await useWasmBackend();
});

describe('trainTextureVae', () => {
  test('the loss falls, progress is reported every step, and no tensor is left behind', async () => {
    const vae = TextureVae.create(tinyConfig, { seed: 1 });
    const before = tf.memory().numTensors;
    const reports: TrainingProgress[] = [];
    const observed: number[] = [];
    const result = await trainTextureVae(vae, stripes(), {
      steps: 40,
      batchSize: 4,
      patchSize: 16,
      learningRate: 0.01,
      warmupSteps: 10,
      // MSE alone, without the patch, Fourier and cell-grid terms, so that the loss is exactly
      // reconstruction + beta * kl.
      pixelLoss: 'mse',
      patchWeight: 0,
      fourierWeight: 0,
      gridWeight: 0,
      onProgress: (p) => {
        reports.push(p);
      },
      progressObservable: { notifyObservers: (p) => observed.push(p.step) },
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.aborted).toBe(false);
    expect(result.step).toBe(40);
    expect(result.history.map((h) => h.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(observed).toEqual(result.history.map((h) => h.step));
    const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    const first = mean(result.history.slice(0, 5).map((h) => h.reconstruction));
    const last = mean(result.history.slice(-5).map((h) => h.reconstruction));
    expect(last).toBeLessThan(first * 0.7);
    for (const h of result.history) {
      expect(h.loss).toBeCloseTo(h.reconstruction + h.beta * h.kl, 6);
      expect(h.beta).toBeCloseTo(warmupBeta(h.step, vae.config.beta, 10), 12);
    }
    expect(reports[0].beta).toBeCloseTo(vae.config.beta / 10, 12);
    expect(reports[39].beta).toBe(vae.config.beta);
    expect(reports[39].etaSeconds).toBe(0);
    expect(reports.every((p) => p.steps === 40 && p.stepsPerSecond > 0)).toBe(true);
    vae.dispose();
  });

  test('the default recipe: Charbonnier, the Fourier term at 0.3 and the cell-grid term at 0.05, no patch term', async () => {
    expect([DEFAULT_PIXEL_LOSS, DEFAULT_PATCH_WEIGHT, DEFAULT_FOURIER_WEIGHT, DEFAULT_GRID_WEIGHT]).toEqual([
      'charbonnier',
      0,
      0.3,
      0.05,
    ]);
    expect(DEFAULT_ADVERSARIAL_WEIGHT).toBe(0);
    expect(DEFAULT_LOSS_RECIPE).toEqual({
      pixelLoss: 'charbonnier',
      patchWeight: 0,
      fourierWeight: 0.3,
      gridWeight: 0.05,
      adversarialWeight: 0,
    });
    expect(Object.isFrozen(DEFAULT_LOSS_RECIPE)).toBe(true);
    const history = async (options: TrainOptions) => {
      const vae = TextureVae.create(tinyConfig, { seed: 5 });
      const result = await trainTextureVae(vae, stripes(), {
        steps: 2,
        batchSize: 2,
        patchSize: 16,
        ...options,
      });
      vae.dispose();
      return result.history.map(({ step, loss, reconstruction, kl, beta }) => ({
        step,
        loss,
        reconstruction,
        kl,
        beta,
      }));
    };
    const recipe: TrainOptions = { ...DEFAULT_LOSS_RECIPE };
    const byDefault = await history({});
    expect(byDefault).toEqual(await history(recipe));
    expect(byDefault).not.toEqual(await history({ ...recipe, pixelLoss: 'mse' }));
    expect(byDefault).not.toEqual(await history({ ...recipe, patchWeight: 30 }));
    expect(byDefault).not.toEqual(await history({ ...recipe, fourierWeight: 0 }));
    expect(byDefault).not.toEqual(await history({ ...recipe, gridWeight: 0 }));
    // Charbonnier is larger than the squared error on small differences: the loss is not the MSE's.
    for (const h of byDefault) expect(h.loss).toBeGreaterThan(h.reconstruction + h.beta * h.kl);
  });

  test('the same seed gives the same history; resuming continues the step count', async () => {
    const run = async (options: { steps: number; startStep?: number }) => {
      const vae = TextureVae.create(tinyConfig, { seed: 2 });
      const r = await trainTextureVae(vae, stripes(), {
        batchSize: 2,
        patchSize: 8,
        seed: 9,
        warmupSteps: 4,
        ...options,
      });
      vae.dispose();
      return r;
    };
    const a = await run({ steps: 3 });
    const b = await run({ steps: 3 });
    expect(b.history).toEqual(a.history);
    let scoped = 0;
    const vae = TextureVae.create(tinyConfig, { seed: 2 });
    const inScope = await trainTextureVae(vae, stripes(), {
      steps: 3,
      batchSize: 2,
      patchSize: 8,
      seed: 9,
      warmupSteps: 4,
      scope: (work) => {
        scoped++;
        return work();
      },
    });
    vae.dispose();
    expect(inScope.history).toEqual(a.history);
    // Two per measured batch (3 steps + the check of the last weights), one per update, once to clean up.
    expect(scoped).toBe(2 * (3 + 1) + 3 + 1);
    const resumed = await run({ steps: 6, startStep: 4 });
    expect(resumed.history.map((h) => h.step)).toEqual([5, 6]);
    expect(resumed.history[0].beta).toBe(TextureVae.create(tinyConfig).config.beta);
  });

  test('abort keeps the weights of the last finished step and resolves with the history so far', async () => {
    const vae = TextureVae.create(tinyConfig, { seed: 3 });
    const controller = new AbortController();
    const before = tf.memory().numTensors;
    let atAbort: Float32Array[] = [];
    const result = await trainTextureVae(vae, stripes(), {
      steps: 50,
      batchSize: 2,
      patchSize: 16,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.step === 3) {
          const w = vae.getWeights();
          atAbort = w.map((t) => t.dataSync() as Float32Array);
          tf.dispose(w);
          controller.abort();
        }
      },
    });
    expect(result.aborted).toBe(true);
    expect(result.step).toBe(3);
    expect(result.history.length).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
    const now = vae.getWeights();
    expect(await values(now)).toEqual(atAbort);
    tf.dispose(now);

    const early = new AbortController();
    early.abort();
    const none = await trainTextureVae(vae, stripes(), { steps: 5, patchSize: 16, signal: early.signal });
    expect(none).toMatchObject({ aborted: true, step: 0, history: [] });
    vae.dispose();
  });

  test('a diverging loss stops with an Error naming the step and restores the last finite weights', async () => {
    const vae = TextureVae.create(tinyConfig, { seed: 4 });
    const initial = vae.getWeights();
    const after: Float32Array[][] = [await values(initial)];
    tf.dispose(initial);
    const before = tf.memory().numTensors;
    const error = await trainTextureVae(vae, stripes(), {
      steps: 20,
      batchSize: 2,
      patchSize: 16,
      learningRate: 1e6,
      warmupSteps: 0,
      onProgress: () => {
        const w = vae.getWeights();
        after.push(w.map((t) => t.dataSync().slice() as Float32Array));
        tf.dispose(w);
      },
    }).then(
      () => null,
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(Error);
    const match = /^training diverged at step (\d+): the loss is (NaN|-?Infinity);/.exec(
      error?.message ?? '',
    );
    expect(match).not.toBeNull();
    const step = Number(match?.[1]);
    expect(step).toBeGreaterThanOrEqual(1);
    // Steps before `step` were reported; the weights step left gave a non-finite loss and were never reported.
    expect(after.length).toBe(step);
    expect(error?.message).toContain(`the last weights with a finite loss (step ${step - 1}) were restored`);
    const restored = vae.getWeights();
    expect(await values(restored)).toEqual(after[step - 1]);
    tf.dispose(restored);
    expect(tf.memory().numTensors).toBe(before);
    vae.dispose();
  });

  test('the last step is checked too: a diverging final step or an abort after it never keeps its weights', async () => {
    const vae = TextureVae.create(tinyConfig, { seed: 4 });
    const initial = vae.getWeights();
    const start = await values(initial);
    tf.dispose(initial);
    const before = tf.memory().numTensors;
    const reports: number[] = [];
    const controller = new AbortController();
    const options = {
      batchSize: 2,
      patchSize: 16,
      learningRate: 1e9,
      warmupSteps: 0,
      onProgress: (p: TrainingProgress) => {
        reports.push(p.step);
        controller.abort();
      },
    };
    const message =
      /^training diverged at step 1: the loss is (NaN|-?Infinity); the last weights with a finite loss \(step 0\) were restored \(lower the learningRate, now 1000000000\)$/;
    // One step only: before, its update was never checked and the NaN weights were kept.
    await expect(trainTextureVae(vae, stripes(), { ...options, steps: 1 })).rejects.toThrow(message);
    // An abort right after the diverging step: that step is not reported, so nothing can save its weights.
    await expect(
      trainTextureVae(vae, stripes(), { ...options, steps: 20, signal: controller.signal }),
    ).rejects.toThrow(message);
    expect(reports).toEqual([]);
    const now = vae.getWeights();
    expect(await values(now)).toEqual(start);
    tf.dispose(now);
    expect(tf.memory().numTensors).toBe(before);

    // A model whose weights already give a non-finite loss is not trained at all.
    const weights = vae.getWeights();
    const broken = weights.map((w) => tf.fill(w.shape, Number.NaN));
    vae.setWeights(broken);
    tf.dispose([...weights, ...broken]);
    const tensors = tf.memory().numTensors;
    await expect(trainTextureVae(vae, stripes(), { steps: 2, batchSize: 2, patchSize: 16 })).rejects.toThrow(
      "the model's loss is NaN before training step 1: its weights cannot be trained; they were not changed",
    );
    expect(tf.memory().numTensors).toBe(tensors);
    vae.dispose();
  });

  test('validates its options', async () => {
    const vae = TextureVae.create(tinyConfig);
    const image = stripes();
    await expect(trainTextureVae(vae, image, { patchSize: 10 })).rejects.toThrow(
      'patchSize must be a multiple of 4 between 4 and 1024, got 10',
    );
    await expect(trainTextureVae(vae, image, { steps: 0 })).rejects.toThrow(
      'steps must be a positive integer, got 0',
    );
    await expect(trainTextureVae(vae, image, { learningRate: -1 })).rejects.toThrow(
      'learningRate must be a finite number > 0, got -1',
    );
    await expect(trainTextureVae(vae, image, { batchSize: 1000 })).rejects.toThrow(
      'batchSize must be an integer from 1 to 256, got 1000',
    );
    await expect(trainTextureVae(vae, image, { steps: 5, startStep: 6 })).rejects.toThrow(
      'startStep must be an integer from 0 to steps (5), got 6',
    );
    await expect(trainTextureVae(vae, [], {})).rejects.toThrow(
      'at least one exemplar image is needed, got none',
    );
    vae.dispose();
    await expect(trainTextureVae(vae, image)).rejects.toThrow('TextureVae has been disposed');
  });

  test('warmupBeta ramps linearly to beta', () => {
    expect([0, 5, 10, 20].map((s) => warmupBeta(s, 0.2, 10))).toEqual([0, 0.1, 0.2, 0.2]);
    expect(warmupBeta(1, 0.2, 0)).toBe(0.2);
  });
});
