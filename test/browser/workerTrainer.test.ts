import '@tensorflow/tfjs-backend-cpu';
import { type Engine, MeshBuilder, type Scene } from '@babylonjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';

import { loadPretrained } from '../../src/model/pretrained/pretrained.js';
import { TextureVae } from '../../src/model/textureVae.js';
import type { TrainingProgress } from '../../src/model/train.js';
import { type WorkerReconstruction, WorkerTrainer } from '../../src/worker/workerTrainer.js';
import { createOrthoScene, unlitMaterial } from '../support/orthoScene.js';
import { stripes } from '../support/stripes.js';

const tinyConfig = { stride: 4, encoderWidths: [4, 8, 8], decoderWidths: [8, 8, 4], latentChannels: 2 };

/** Every Worker the page starts, and whether it was terminated. */
const started: { worker: Worker; terminated: boolean }[] = [];
const NativeWorker = globalThis.Worker;
class TrackedWorker extends NativeWorker {
  constructor(url: string | URL, options?: WorkerOptions) {
    super(url, options);
    started.push({ worker: this, terminated: false });
  }
  override terminate(): void {
    const entry = started.find((s) => s.worker === this);
    if (entry) entry.terminated = true;
    super.terminate();
  }
}

function running(): number {
  return started.filter((s) => !s.terminated).length;
}

function weightsOf(vae: TextureVae): Float32Array[] {
  const weights = vae.getWeights();
  const values = weights.map((w) => w.dataSync() as Float32Array);
  tf.dispose(weights);
  return values;
}

describe('WorkerTrainer: training in a module Web Worker', () => {
  let engine: Engine;
  let scene: Scene;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    globalThis.Worker = TrackedWorker as typeof Worker;
    ({ engine, scene } = createOrthoScene(32, 32));
    MeshBuilder.CreatePlane('plane', { size: 2 }, scene).material = unlitMaterial(scene, 'plain');
    await scene.whenReadyAsync();
  });

  afterEach(() => {
    engine.stopRenderLoop();
    expect(running()).toBe(0);
  });

  afterAll(() => {
    globalThis.Worker = NativeWorker;
    engine.dispose();
  });

  test('trains on WASM in the worker while frames keep coming, and updates the model in place', async () => {
    const vae = TextureVae.create(tinyConfig, { seed: 1 });
    const before = weightsOf(vae);
    const tensorsBefore = tf.memory().numTensors;
    const trainer = new WorkerTrainer(vae);
    const frames: number[] = [];
    engine.runRenderLoop(() => {
      scene.render();
      frames.push(performance.now());
    });
    const progress: TrainingProgress[] = [];
    const stepTimes: number[] = [];
    const previews: number[] = [];
    trainer.onProgressObservable.add((p) => {
      progress.push(p);
      stepTimes.push(performance.now());
    });
    trainer.onPreviewObservable.add((step) => {
      previews.push(step);
      // A preview is a whole model: every weight is finite and the model decodes.
      expect(weightsOf(vae).every((w) => w.every(Number.isFinite))).toBe(true);
    });
    const result = await trainer.train(stripes(), {
      steps: 30,
      batchSize: 2,
      patchSize: 16,
      learningRate: 0.01,
      previewEvery: 10,
    });
    engine.stopRenderLoop();
    expect(result).toMatchObject({ step: 30, aborted: false, backend: 'wasm', from: 'model' });
    expect(result.history.map((h) => h.step)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(progress.map((p) => p.step)).toEqual(result.history.map((h) => h.step));
    expect(previews).toEqual([10, 20, 30]);
    expect(trainer.isTraining).toBe(false);
    // The model on the page holds the worker's weights: changed, finite, and no tensor left behind.
    const after = weightsOf(vae);
    expect(after.some((w, i) => w.some((v, j) => v !== before[i][j]))).toBe(true);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    // The render loop was never held for a training step: frames all along, with bounded gaps.
    const during = frames.filter((t) => t > stepTimes[0] && t < stepTimes[stepTimes.length - 1]);
    expect(during.length).toBeGreaterThanOrEqual(10);
    const gaps = during.slice(1).map((t, i) => t - during[i]);
    expect(Math.max(...gaps)).toBeLessThan(1000);
    trainer.dispose();
    vae.dispose();
  });

  test('the worker reconstructs the preview image with each preview, as the page model would', async () => {
    const vae = TextureVae.create(tinyConfig, { seed: 4 });
    const trainer = new WorkerTrainer(vae);
    const image = stripes(16);
    const seen: WorkerReconstruction[] = [];
    const previews: number[] = [];
    trainer.onPreviewObservable.add((step) => previews.push(step));
    trainer.onReconstructionObservable.add((r) => {
      // It comes right after the weights it was made with.
      expect(previews.at(-1)).toBe(r.step);
      seen.push(r);
    });
    await trainer.train(stripes(), {
      steps: 4,
      batchSize: 2,
      patchSize: 16,
      learningRate: 0.01,
      previewEvery: 2,
      previewImage: image,
    });
    expect(seen.map((r) => r.step)).toEqual([2, 4]);
    const last = seen[1].image;
    expect([last.width, last.height, last.channels, last.data.length]).toEqual([16, 16, 3, 16 * 16 * 3]);
    // The page's model holds the last weights: its own reconstruction matches the worker's.
    const own = tf.tidy(() => {
      const { mean } = vae.encodeTensors(
        tf.tensor4d(
          Float32Array.from(image.data, (v) => v / 255),
          [1, 16, 16, 3],
        ),
      );
      return vae.decodeTensors(mean);
    });
    const ownPixels = own.dataSync();
    own.dispose();
    const worst = last.data.reduce((m, v, i) => Math.max(m, Math.abs(v - ownPixels[i])), 0);
    expect(worst).toBeLessThan(1e-4);
    // The two steps' reconstructions differ: each preview shows its own weights.
    expect(seen[0].image.data.some((v, i) => v !== last.data[i])).toBe(true);
    await expect(
      trainer.train(stripes(), { steps: 1, patchSize: 16, previewImage: stripes(18) }),
    ).rejects.toThrow(
      "previewImage is 18x18 pixels; its sides must be multiples of the model's stride 4, at most 1024",
    );
    expect(running()).toBe(0);
    trainer.dispose();
    vae.dispose();
  });

  test('fine-tunes the embedded model by default when the config matches; from scratch on request', async () => {
    const embedded = await loadPretrained();
    const vae = TextureVae.create(embedded.config, { seed: 3 });
    const embeddedWeights = weightsOf(embedded);
    const randomWeights = weightsOf(vae);
    const trainer = new WorkerTrainer(vae, { backend: 'wasm' });
    const options = { steps: 1, batchSize: 1, patchSize: 16, learningRate: 1e-6, previewEvery: 0 };
    const tuned = await trainer.train(stripes(), options);
    expect(tuned.from).toBe('embedded');
    const distance = (a: Float32Array[], b: Float32Array[]) =>
      Math.max(...a.map((w, i) => w.reduce((m, v, j) => Math.max(m, Math.abs(v - b[i][j])), 0)));
    expect(distance(weightsOf(vae), embeddedWeights)).toBeLessThan(1e-4);
    const scratch = await trainer.train(stripes(), { ...options, from: 'scratch', seed: 3 });
    expect(scratch.from).toBe('scratch');
    expect(distance(weightsOf(vae), randomWeights)).toBeLessThan(1e-4);
    trainer.dispose();
    vae.dispose();
    embedded.dispose();
  });

  test('trains its own critic for the adversarial term; a page critic is refused', async () => {
    const vae = TextureVae.create(tinyConfig, { seed: 4 });
    const trainer = new WorkerTrainer(vae, { backend: 'wasm' });
    const result = await trainer.train(stripes(48), {
      from: 'scratch',
      steps: 3,
      batchSize: 1,
      patchSize: 40,
      adversarialWeight: 0.5,
      adversarialStart: 1,
      previewEvery: 0,
    });
    expect(result.history.map((h) => h.step)).toEqual([1, 2, 3]);
    for (const h of result.history) expect(Number.isFinite(h.critic)).toBe(true);
    expect(result.history.map((h) => (h.adversarialWeight ?? 0) > 0)).toEqual([false, true, true]);
    await expect(
      trainer.train(stripes(48), { steps: 1, discriminator: {} } as Parameters<typeof trainer.train>[1]),
    ).rejects.toThrow('discriminator is not available when training in a worker');
    trainer.dispose();
    vae.dispose();
  });

  test('abort stops after the step in progress; dispose stops at once; no worker is left', async () => {
    const vae = TextureVae.create(tinyConfig, { seed: 2 });
    const trainer = new WorkerTrainer(vae);
    const controller = new AbortController();
    trainer.onProgressObservable.addOnce(() => controller.abort());
    const aborted = await trainer.train(stripes(), {
      steps: 1000,
      batchSize: 2,
      patchSize: 16,
      signal: controller.signal,
    });
    expect(aborted.aborted).toBe(true);
    expect(aborted.step).toBeLessThan(10);
    expect(running()).toBe(0);

    let steps = 0;
    trainer.onProgressObservable.add(() => {
      steps++;
      if (steps === 2) trainer.dispose();
    });
    await expect(trainer.train(stripes(), { steps: 1000, batchSize: 2, patchSize: 16 })).rejects.toThrow(
      'WorkerTrainer was disposed during training',
    );
    expect(trainer.isTraining).toBe(false);
    expect(running()).toBe(0);
    await expect(trainer.train(stripes())).rejects.toThrow('WorkerTrainer has been disposed');
    trainer.dispose();
    vae.dispose();
  });

  test('a diverged run rejects with the worker message and the model keeps finite weights', async () => {
    const vae = TextureVae.create(tinyConfig, { seed: 1 });
    const trainer = new WorkerTrainer(vae);
    await expect(
      trainer.train(stripes(), { steps: 20, batchSize: 2, patchSize: 16, learningRate: 1e9 }),
    ).rejects.toThrow(/^training diverged at step \d+: the loss is (NaN|-?Infinity);/);
    expect(weightsOf(vae).every((w) => w.every(Number.isFinite))).toBe(true);
    trainer.dispose();
    vae.dispose();
  });

  test('bad input: each a clear error, with no worker left running', async () => {
    const vae = TextureVae.create(tinyConfig, { seed: 1 });
    const tensorsBefore = tf.memory().numTensors;
    const trainer = new WorkerTrainer(vae);
    const notAnImage = new Blob([new TextEncoder().encode('not an image')], { type: 'image/png' });
    await expect(trainer.train(notAnImage, { steps: 2, patchSize: 16 })).rejects.toThrow(
      /^photo \(image\/png, 12 bytes\) could not be decoded as an image: .*; use a PNG, JPEG or WebP file$/,
    );
    await expect(trainer.train(stripes(8), { steps: 2, patchSize: 16 })).rejects.toThrow(
      'photo is 8x8 pixels, smaller than the 16x16 training patches; use a photo at least 16 pixels a side or a smaller patchSize',
    );
    await expect(trainer.train(stripes(), { steps: 2, patchSize: 16, from: 'embedded' })).rejects.toThrow(
      /^from 'embedded' needs a model with the embedded model's config/,
    );
    const controller = new AbortController();
    controller.abort();
    await expect(
      trainer.train(stripes(), { steps: 2, patchSize: 16, signal: controller.signal }),
    ).rejects.toThrow('training was not started: its signal was already aborted');
    await expect(trainer.train(stripes(), { steps: 2, patchSize: 10 })).rejects.toThrow(
      'patchSize must be a multiple of 4 between 4 and 1024, got 10',
    );
    await expect(trainer.train(stripes(), { steps: 2, patchSize: 16, cpuShare: 0 })).rejects.toThrow(
      'cpuShare must be a number from 0.05 to 1, got 0',
    );
    const missing = new WorkerTrainer(vae, { workerUrl: '/no/such/trainWorker.js' });
    await expect(missing.train(stripes(), { steps: 2, patchSize: 16 })).rejects.toThrow(
      /^the training worker \/no\/such\/trainWorker\.js failed to load/,
    );
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    missing.dispose();
    trainer.dispose();
    vae.dispose();
  });
});
