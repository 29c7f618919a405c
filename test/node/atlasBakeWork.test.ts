import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, test } from 'vitest';

import { bakeAtlasTensors } from '../../src/atlas/bakeAtlas.js';
import { useWasmBackend } from '../../src/node/wasmBackend.js';
import { fakeDecoder } from './atlasFakeDecoder.js';

beforeAll(async () => {
  await useWasmBackend();
});

/**
 * The work of one bake of `count` tiles in ONE batch, on the WASM backend: kernels run, tensors made, and bytes
 * the kernels copy out of the WASM heap (its Slice copies its whole input each time, so a batch cut into one
 * slice per tile costs the square of the batch).
 */
async function bakeWork(count: number) {
  const backend = tf.backend() as BackendWasm;
  const readSync = backend.readSync;
  let bytes = 0;
  backend.readSync = function (this: BackendWasm, ...args: Parameters<BackendWasm['readSync']>) {
    const values = readSync.apply(this, args);
    bytes += (values as Float32Array).byteLength;
    return values;
  };
  const firstId = tf.tensor([0]);
  firstId.dispose();
  try {
    let pages: tf.Tensor4D[] = [];
    const profile = await tf.profile(async () => {
      ({ pages } = await bakeAtlasTensors(fakeDecoder({ stride: 4, latentChannels: 3 }), {
        count,
        tileSize: 8,
        padding: 4,
        batchSize: count,
      }));
    });
    tf.dispose(pages);
    const lastId = tf.tensor([0]);
    lastId.dispose();
    return { kernels: profile.kernels.length, tensors: lastId.id - firstId.id, bytesPerTile: bytes / count };
  } finally {
    backend.readSync = readSync;
  }
}

test('bake work per tile does not grow with the batch: a batch stays whole until its page is assembled', async () => {
  const small = await bakeWork(64);
  const large = await bakeWork(1024);
  // The same kernels and tensors whatever the tile count: none per tile.
  expect(large.kernels).toBe(small.kernels);
  expect(large.tensors).toBe(small.tensors);
  // Bytes copied per tile stay flat (one slice per tile would make them 16 times larger).
  expect(large.bytesPerTile).toBeLessThan(1.2 * small.bytesPerTile);
});
