import '@tensorflow/tfjs-backend-cpu';
import type { Engine, Scene } from '@babylonjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { LatentGrid } from '../../src/latent/latentGrid.js';
import { TextureVae } from '../../src/model/textureVae.js';
import { VaeProceduralTexture } from '../../src/textures/vaeProceduralTexture.js';
import { acquireWorkerDecoder, liveDecodeWorkers, WorkerDecoder } from '../../src/worker/workerDecoder.js';
import { createOrthoScene } from '../support/orthoScene.js';
import { maxError, texturePixels } from '../support/texturePixels.js';

const size = 32;
const tiny = { latentChannels: 4, stride: 4, encoderWidths: [8, 8, 8], decoderWidths: [8, 8, 8] };

describe('decoding in a Web Worker on the WASM backend (Chromium, SwiftShader)', () => {
  let engine: Engine;
  let scene: Scene;
  let model: TextureVae;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    ({ engine, scene } = createOrthoScene(size, size));
    model = TextureVae.create({ ...tiny, name: 'tiny-worker' }, { seed: 11 });
  });

  afterAll(() => {
    engine.dispose();
    model.dispose();
  });

  test("'auto' picks the worker on this software rasteriser, draws the model's decode and leaves no worker", async () => {
    const tensors = tf.memory().numTensors;
    const workers = liveDecodeWorkers();
    const latent = model.sample({ width: size, height: size, seed: 3 });
    const texture = new VaeProceduralTexture('auto', scene, { model, size, latent });
    expect(texture.decodePath.path).toBe('worker');
    expect(texture.decodePath.reason).toMatch(/^software rasteriser \(.*SwiftShader.*\)/);
    expect(texture.decodePath.renderer).toMatch(/SwiftShader/);
    expect(texture.source.kind).toBe('readback');
    expect(liveDecodeWorkers()).toBe(workers + 1);
    await texture.whenReadyAsync();
    const reference = await model.decode(latent);
    expect(maxError(await texturePixels(texture), reference)).toBeLessThanOrEqual(2 / 255);

    // A new latent, and new weights: the worker gets the weights again before decoding.
    const next = model.sample({ width: size, height: size, seed: 4 });
    await texture.regenerate(next);
    expect(maxError(await texturePixels(texture), await model.decode(next))).toBeLessThanOrEqual(2 / 255);
    const fresh = TextureVae.create({ ...tiny, name: 'tiny-worker' }, { seed: 12 });
    const weights = fresh.getWeights();
    model.setWeights(weights);
    for (const w of weights) w.dispose();
    fresh.dispose();
    await texture.regenerate();
    expect(maxError(await texturePixels(texture), await model.decode(next))).toBeLessThanOrEqual(2 / 255);

    texture.dispose();
    expect(liveDecodeWorkers()).toBe(workers);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  test("textures of one model share one worker; 'zero-copy' overrides the machine's choice", async () => {
    const workers = liveDecodeWorkers();
    const latent = (seed: number) => model.sample({ width: size, height: size, seed });
    const a = new VaeProceduralTexture('a', scene, { model, size, latent: latent(1) });
    const b = new VaeProceduralTexture('b', scene, { model, size, latent: latent(2) });
    const gpu = new VaeProceduralTexture('gpu', scene, {
      model,
      size,
      latent: latent(1),
      decodePath: 'zero-copy',
    });
    expect(liveDecodeWorkers()).toBe(workers + 1);
    expect(gpu.decodePath).toMatchObject({ path: 'zero-copy', reason: 'asked for by the decodePath option' });
    expect(gpu.source.kind).toBe('zero-copy');
    await Promise.all([a.whenReadyAsync(), b.whenReadyAsync(), gpu.whenReadyAsync()]);
    const fromWorker = await texturePixels(a);
    const fromGpu = await texturePixels(gpu);
    expect(
      maxError(fromWorker, { data: fromGpu, width: size, height: size, channels: 4 }),
    ).toBeLessThanOrEqual(2 / 255);
    a.dispose();
    expect(liveDecodeWorkers()).toBe(workers + 1);
    b.dispose();
    gpu.dispose();
    expect(liveDecodeWorkers()).toBe(workers);
  });

  test("a worker error rejects with the worker's message; dispose rejects waiting decodes", async () => {
    const decoder = new WorkerDecoder(model);
    const wrong: LatentGrid = { data: new Float32Array(8 * 8 * 3), height: 8, width: 8, channels: 3 };
    let mainThread = '';
    try {
      tf.tidy(() => model.decodeTensors(tf.tensor4d(wrong.data, [1, 8, 8, 3])));
    } catch (error) {
      mainThread = (error as Error).message;
    }
    expect(mainThread).not.toBe('');
    await expect(decoder.decode(wrong)).rejects.toThrow(mainThread);
    const image = await decoder.decode(model.sample({ width: size, height: size, seed: 5 }));
    expect([image.width, image.height, image.channels, image.data.length]).toEqual([
      size,
      size,
      3,
      size * size * 3,
    ]);
    const waiting = decoder.decode(model.sample({ width: size, height: size, seed: 6 }));
    decoder.dispose();
    await expect(waiting).rejects.toThrow('WorkerDecoder has been disposed');
    await expect(decoder.decode(wrong)).rejects.toThrow('WorkerDecoder has been disposed');
  });

  test("encode runs in the worker: the model's posterior mean and its decode, of the image's centre crop", async () => {
    const tensors = tf.memory().numTensors;
    const decoder = new WorkerDecoder(model);
    // 34x30 px: the centre 32x28 crop (multiples of the stride 4) is what gets encoded.
    const image = {
      data: Uint8Array.from({ length: 30 * 34 * 3 }, (_, i) => (i * 29) % 251),
      width: 34,
      height: 30,
      channels: 3 as const,
    };
    const { latent, reconstruction } = await decoder.encode(image, { reconstruct: true });
    const crop = new Float32Array(28 * 32 * 3);
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 32; x++) {
        for (let c = 0; c < 3; c++)
          crop[(y * 32 + x) * 3 + c] = image.data[((y + 1) * 34 + x + 1) * 3 + c] / 255;
      }
    }
    const own = tf.tidy(() => {
      const { mean } = model.encodeTensors(tf.tensor4d(crop, [1, 28, 32, 3]));
      return [mean, model.decodeTensors(mean)] as const;
    });
    const [mean, decoded] = [own[0].dataSync(), own[1].dataSync()];
    tf.dispose([...own]);
    expect([latent.height, latent.width, latent.channels]).toEqual([7, 8, 4]);
    expect(latent.data.reduce((m, v, i) => Math.max(m, Math.abs(v - mean[i])), 0)).toBeLessThan(1e-4);
    expect(reconstruction && [reconstruction.width, reconstruction.height, reconstruction.channels]).toEqual([
      32, 28, 3,
    ]);
    const pixels = reconstruction?.data ?? new Float32Array();
    expect(pixels.reduce((m, v, i) => Math.max(m, Math.abs(v - decoded[i])), 0)).toBeLessThan(1e-4);
    // The caller's image is untouched; without reconstruct only the grid comes back.
    expect(image.data.length).toBe(30 * 34 * 3);
    expect((await decoder.encode(image)).reconstruction).toBeNull();
    await expect(
      decoder.encode({ ...image, data: image.data.subarray(0, 9), width: 3, height: 1 }),
    ).rejects.toThrow("an image to encode must be at least the model's stride (4 px) a side, got 3x1");
    decoder.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
  });

  test('cpuShare: the worker rests after a decode so that the decode is that share of the time', async () => {
    const decoder = new WorkerDecoder(model);
    const latent = model.sample({ width: size, height: size, seed: 7 });
    expect(decoder.lastDecode).toBeNull();
    await decoder.decode(latent);
    expect(decoder.lastDecode?.decodeMs).toBeGreaterThan(0);
    expect(decoder.lastDecode?.restMs).toBe(0);
    await decoder.decode(latent, { cpuShare: 0.25 });
    const timing = decoder.lastDecode as { decodeMs: number; restMs: number };
    expect(timing.restMs).toBeCloseTo(timing.decodeMs * 3, 6);
    for (const cpuShare of [0, 0.04, 1.5, Number.NaN]) {
      await expect(decoder.decode(latent, { cpuShare })).rejects.toThrow(
        `cpuShare must be a number from 0.05 to 1, got ${cpuShare}`,
      );
    }
    decoder.dispose();

    // A texture's workerCpuShare reaches the shared decoder's requests.
    const lease = acquireWorkerDecoder(model);
    const texture = new VaeProceduralTexture('resting', scene, { model, size, latent, workerCpuShare: 0.5 });
    expect(texture.workerCpuShare).toBe(0.5);
    await texture.whenReadyAsync();
    const last = lease.decoder.lastDecode as { decodeMs: number; restMs: number };
    expect(last.restMs).toBeCloseTo(last.decodeMs, 6);
    texture.workerCpuShare = 1;
    await texture.regenerate();
    expect(lease.decoder.lastDecode?.restMs).toBe(0);
    expect(() => {
      texture.workerCpuShare = 0;
    }).toThrow('workerCpuShare must be a number from 0.05 to 1, got 0');
    expect(texture.workerCpuShare).toBe(1);
    texture.dispose();
    lease.release();
    expect(() => new VaeProceduralTexture('bad', scene, { model, size, latent, workerCpuShare: 2 })).toThrow(
      'workerCpuShare must be a number from 0.05 to 1, got 2',
    );
  });

  test('a worker that fails to load rejects naming its URL', async () => {
    const url = new URL('/no/such/decodeWorker.js', location.href);
    const decoder = new WorkerDecoder(model, { workerUrl: url });
    await expect(decoder.decode(model.sample({ width: size, height: size, seed: 1 }))).rejects.toThrow(
      `the decode worker failed to load from ${url.href}`,
    );
    decoder.dispose();
  });
});
