import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, expect, test } from 'vitest';

import { TextureVae } from '../../src/model/textureVae.js';

async function decodeOn(backend: 'cpu' | 'webgl', source?: string) {
  expect(await tf.setBackend(backend)).toBe(true);
  const vae = source ? await TextureVae.load(source) : TextureVae.create({}, { seed: 4 });
  const latent = vae.sample({ width: 64, height: 48, seed: 8 });
  const z = tf.tensor4d(latent.data, [1, latent.height, latent.width, latent.channels]);
  const out = vae.decodeTensors(z);
  const values = (await out.data()) as Float32Array;
  tf.dispose([z, out]);
  return { vae, values };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

afterAll(async () => {
  await tf.io.removeModel('indexeddb://bvt-model-webgl').catch(() => undefined);
});

test('the same weights decode on webgl as on cpu within 1e-3', async () => {
  const cpu = await decodeOn('cpu');
  const webgl = await decodeOn('webgl');
  expect(tf.getBackend()).toBe('webgl');
  expect(webgl.values.length).toBe(64 * 48 * 3);
  expect(maxDiff(cpu.values, webgl.values)).toBeLessThan(1e-3);
  await webgl.vae.save('indexeddb://bvt-model-webgl');
  const before = tf.memory().numTensors;
  webgl.vae.dispose();
  expect(tf.memory().numTensors).toBeLessThan(before);
  await tf.setBackend('cpu');
  cpu.vae.dispose();

  const reloaded = await decodeOn('webgl', 'indexeddb://bvt-model-webgl');
  expect(maxDiff(cpu.values, reloaded.values)).toBeLessThan(1e-3);
  expect(maxDiff(webgl.values, reloaded.values)).toBe(0);
  reloaded.vae.dispose();
});
