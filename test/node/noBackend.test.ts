// No tfjs backend is imported here: what a Node script gets when it forgets useWasmBackend().
import { expect, test } from 'vitest';
import { loadPretrained, TextureVae } from '../../src/index.js';

test('loadPretrained without a backend names the call and the package to use', async () => {
  await expect(loadPretrained()).rejects.toThrow(
    /loadPretrained\(\) needs a TensorFlow\.js backend .*useWasmBackend\(\).*@tensorflow\/tfjs-backend-wasm/,
  );
});

test('TextureVae.create and TextureVae.load without a backend name the call to make', async () => {
  expect(() => TextureVae.create()).toThrow(
    /TextureVae\.create\(\) needs a TensorFlow\.js backend .*useWasmBackend\(\)/,
  );
  await expect(TextureVae.load('indexeddb://nothing')).rejects.toThrow(
    /TextureVae\.load\(\) needs a TensorFlow\.js backend .*tfjs-backend-webgl/,
  );
});
