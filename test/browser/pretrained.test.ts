import '@tensorflow/tfjs-backend-cpu';
import { Engine } from '@babylonjs/core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, expect, test } from 'vitest';
import { runOnEngine } from '../../src/gpu/glHandoff.js';
import { loadPretrained, loadPretrainedSwatches } from '../../src/model/pretrained/pretrained.js';
import type { TextureVae } from '../../src/model/textureVae.js';

const canvas = document.createElement('canvas');
const engine = new Engine(canvas, false, { preserveDrawingBuffer: true }, false);
afterAll(() => engine.dispose());

async function decodeValues(model: TextureVae, latent: ReturnType<TextureVae['sample']>, onEngine: boolean) {
  const z = () => tf.tensor4d(latent.data, [1, latent.height, latent.width, latent.channels]);
  const out = onEngine
    ? runOnEngine(engine, () => tf.tidy(() => model.decodeTensors(z())))
    : tf.tidy(() => model.decodeTensors(z()));
  const values = (await out.data()) as Float32Array;
  out.dispose();
  return values;
}

test('the embedded model and its swatches load in the browser and decodes on the shared Babylon backend as on WASM, within 1e-3', async () => {
  setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
  await import('@tensorflow/tfjs-backend-wasm');
  expect(await tf.setBackend('wasm')).toBe(true);
  const model = await loadPretrained();
  const swatches = await loadPretrainedSwatches();
  expect(Object.keys(swatches)).toContain('bricks');
  expect(swatches.bricks.isFor(model)).toBe(true);
  const latent = swatches.bricks.sample({ width: 64, seed: 1 });
  const onWasm = await decodeValues(model, latent, false);
  const shared = await decodeValues(model, latent, true);
  expect(shared.length).toBe(64 * 64 * 3);
  let worst = 0;
  for (let i = 0; i < shared.length; i++) worst = Math.max(worst, Math.abs(shared[i] - onWasm[i]));
  expect(worst).toBeLessThan(1e-3);
  const before = tf.memory().numTensors;
  model.dispose();
  expect(tf.memory().numTensors).toBeLessThan(before);
});
