import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';

import { TextureVae } from '../../src/model/textureVae.js';
import { useWasmBackend } from '../../src/node/wasmBackend.js';

const CONFIG = { stride: 4, latentChannels: 4, encoderWidths: [8, 12, 16], decoderWidths: [16, 12, 8] };

async function decodeOn(backend: 'cpu' | 'wasm') {
  if (backend === 'wasm') await useWasmBackend();
  else await tf.setBackend('cpu');
  expect(tf.getBackend()).toBe(backend);
  const vae = TextureVae.create(CONFIG, { seed: 21 });
  const latent = vae.sample({ width: 32, height: 24, seed: 5 });
  const z = tf.tensor4d(latent.data, [1, latent.height, latent.width, latent.channels]);
  const out = vae.decodeTensors(z);
  const values = out.dataSync() as Float32Array;
  const pixels = await vae.decode(latent, { width: 40, height: 16 });
  const encoded = await vae.encode(pixels);
  tf.dispose([z, out]);
  vae.dispose();
  return { values, pixels, encoded };
}

test('the same seed decodes to the same texture on the cpu and wasm backends', async () => {
  const cpu = await decodeOn('cpu');
  const wasm = await decodeOn('wasm');
  expect(wasm.values.length).toBe(cpu.values.length);
  let maxDiff = 0;
  for (let i = 0; i < cpu.values.length; i++)
    maxDiff = Math.max(maxDiff, Math.abs(cpu.values[i] - wasm.values[i]));
  expect(maxDiff).toBeLessThan(1e-5);
  let pixelDiff = 0;
  for (let i = 0; i < cpu.pixels.data.length; i++) {
    pixelDiff = Math.max(pixelDiff, Math.abs(cpu.pixels.data[i] - wasm.pixels.data[i]));
  }
  expect(pixelDiff).toBeLessThanOrEqual(1);
  let latentDiff = 0;
  for (let i = 0; i < cpu.encoded.data.length; i++) {
    latentDiff = Math.max(latentDiff, Math.abs(cpu.encoded.data[i] - wasm.encoded.data[i]));
  }
  expect(latentDiff).toBeLessThan(1e-4);
  await tf.setBackend('cpu');
});
