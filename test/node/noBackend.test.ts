// No tfjs backend is imported here: what a Node script gets when it forgets useWasmBackend().
import { expect, test } from 'vitest';
import { loadPretrained } from '../../src/index.js';

test('loadPretrained without a backend names the call and the package to use', async () => {
  await expect(loadPretrained()).rejects.toThrow(
    /loadPretrained\(\) needs a TensorFlow\.js backend .*useWasmBackend\(\).*@tensorflow\/tfjs-backend-wasm/,
  );
});
