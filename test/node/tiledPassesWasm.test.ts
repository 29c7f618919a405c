import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, test } from 'vitest';

import { TextureVae } from '../../src/model/textureVae.js';
import { encoderPassBytes, MAX_TEXTURE_SIZE } from '../../src/model/textureVaeConfig.js';
import { useWasmBackend } from '../../src/node/wasmBackend.js';

const TINY = { stride: 4, latentChannels: 3, encoderWidths: [4, 4, 4], decoderWidths: [6, 5, 4] };

beforeAll(async () => {
  await useWasmBackend();
});

test(`a ${MAX_TEXTURE_SIZE} px decode runs on WASM in tiles, keeps the heap bounded, and the backend stays usable`, async () => {
  const vae = TextureVae.create(TINY, { seed: 9 });
  const small = vae.sample({ width: 64, height: 48, seed: 2 });
  const before = await vae.decode(small);
  const tensors = tf.memory().numTensors;

  // In one pass this needed over 4 GiB of activations: the WASM heap's hard limit, whose overflow left the
  // backend broken ('memory access out of bounds' on every later kernel).
  const big = await vae.decode(vae.sample({ width: MAX_TEXTURE_SIZE, height: MAX_TEXTURE_SIZE, seed: 1 }));
  expect(big).toMatchObject({ width: MAX_TEXTURE_SIZE, height: MAX_TEXTURE_SIZE, channels: 3 });
  let min = 255;
  let max = 0;
  for (let i = 0; i < big.data.length; i += 997) {
    min = Math.min(min, big.data[i]);
    max = Math.max(max, big.data[i]);
  }
  expect(max).toBeGreaterThan(min);
  expect(tf.memory().numTensors).toBe(tensors);
  // The heap never shrinks, so its size is the peak: the output (192 MiB) about twice plus one 128 MiB pass.
  const heap = ((tf.backend() as BackendWasm).wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.length;
  expect(heap).toBeLessThan(1024 * 1024 * 1024);

  const after = await vae.decode(small);
  expect(Buffer.from(after.data).equals(Buffer.from(before.data))).toBe(true);
  vae.dispose();
});

test('on WASM too, an encode in tiles equals one pass', () => {
  const vae = TextureVae.create({ ...TINY, tileable: false }, { seed: 4 });
  const images = tf.tidy(() => tf.randomUniform([1, 512, 384, 3], 0, 1, 'float32', 3)) as tf.Tensor4D;
  const whole = vae.encodeTensors(images, { memoryBudget: 1e12 });
  const budget = 2 * 1024 * 1024;
  expect(encoderPassBytes(vae.config, 1, 128, 96)).toBeGreaterThan(10 * budget);
  const tiled = vae.encodeTensors(images, { memoryBudget: budget });
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(whole.mean, tiled.mean))).dataSync()[0]);
  expect(diff).toBeLessThan(1e-5);
  tf.dispose([images, whole.mean, whole.logVar, tiled.mean, tiled.logVar]);
  vae.dispose();
});
