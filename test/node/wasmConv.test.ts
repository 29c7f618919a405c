import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { SeededRandom } from '../../src/latent/random.js';
import { conv2d } from '../../src/model/ops/conv.js';
import { conv2dFilterGradient, conv2dInputGradient } from '../../src/model/ops/convFilterGradient.js';
import { useWasmBackend } from '../../src/node/wasmBackend.js';

type Shape4 = [number, number, number, number];

function values(seed: number, shape: number[]): Float32Array {
  return new SeededRandom(seed).gaussianArray(shape.reduce((a, b) => a * b, 1));
}

/** max |a - b| / max |b|: the error relative to the gradient's scale. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

/** Circular padding by slicing and concatenating, as the model's tileable convolutions do. */
function wrapPad(x: tf.Tensor4D, before: number, after: number): tf.Tensor4D {
  return tf.tidy(() => {
    let y = x;
    for (const axis of [1, 2] as const) {
      const n = y.shape[axis];
      const begin: Shape4 = [0, 0, 0, 0];
      const size: Shape4 = [-1, -1, -1, -1];
      const parts: tf.Tensor4D[] = [];
      if (before > 0) {
        begin[axis] = n - before;
        size[axis] = before;
        parts.push(tf.slice(y, [...begin], [...size]));
      }
      parts.push(y);
      if (after > 0) {
        begin[axis] = 0;
        size[axis] = after;
        parts.push(tf.slice(y, [...begin], [...size]));
      }
      y = tf.concat(parts, axis);
    }
    return y;
  });
}

interface Case {
  x: Shape4;
  k: number;
  cout: number;
  strides: number;
  pad: 'valid' | 'same' | 'circular';
}

const cases: Case[] = [
  { x: [2, 9, 9, 3], k: 3, cout: 4, strides: 1, pad: 'valid' },
  { x: [2, 9, 9, 3], k: 3, cout: 4, strides: 1, pad: 'same' },
  { x: [3, 10, 10, 4], k: 3, cout: 5, strides: 2, pad: 'valid' },
  { x: [3, 10, 10, 4], k: 3, cout: 5, strides: 2, pad: 'same' },
  { x: [2, 11, 7, 2], k: 4, cout: 3, strides: 2, pad: 'same' },
  { x: [2, 11, 7, 2], k: 4, cout: 3, strides: 2, pad: 'valid' },
  { x: [2, 8, 8, 3], k: 1, cout: 6, strides: 1, pad: 'valid' },
  { x: [2, 12, 12, 3], k: 5, cout: 2, strides: 1, pad: 'same' },
  { x: [2, 8, 8, 5], k: 3, cout: 4, strides: 1, pad: 'circular' },
  { x: [2, 8, 8, 5], k: 3, cout: 4, strides: 2, pad: 'circular' },
  { x: [4, 16, 16, 8], k: 4, cout: 16, strides: 2, pad: 'circular' },
];

/** Gradients of sum(conv(x, w) * r) with respect to x and w on the active backend. */
function gradients(c: Case, seed: number, convolve: typeof conv2d): { dx: Float32Array; dw: Float32Array } {
  const x = tf.tensor4d(values(seed, c.x), c.x);
  const wShape: Shape4 = [c.k, c.k, c.x[3], c.cout];
  const w = tf.tensor4d(values(seed + 1, wShape), wShape);
  const forward = (xi: tf.Tensor4D, wi: tf.Tensor4D) => {
    if (c.pad !== 'circular') return convolve(xi, wi, c.strides, c.pad);
    const before = Math.floor((c.k - 1) / 2);
    return convolve(wrapPad(xi, before, c.k - 1 - before), wi, c.strides, 'valid');
  };
  const outShape = tf.tidy(() => forward(x, w).shape);
  const r = tf.tensor4d(values(seed + 2, outShape), outShape as Shape4);
  const [dx, dw] = tf.grads((xi: tf.Tensor, wi: tf.Tensor) =>
    tf.sum(tf.mul(forward(xi as tf.Tensor4D, wi as tf.Tensor4D), r)),
  )([x, w]);
  const result = { dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  tf.dispose([x, w, r, dx, dw]);
  return result;
}

describe('conv2d filter gradient on the WASM backend', () => {
  beforeAll(async () => {
    await useWasmBackend();
  });
  afterAll(async () => {
    await useWasmBackend();
  });

  test('useWasmBackend is idempotent and registers the kernel', async () => {
    await useWasmBackend();
    await useWasmBackend();
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    await tf.setBackend('cpu');
    await useWasmBackend();
    expect(tf.getBackend()).toBe('wasm');
  });

  test.each(cases)('matches the CPU backend: x $x, k $k, stride $strides, pad $pad', async (c) => {
    await useWasmBackend();
    const tensorsBefore = tf.memory().numTensors;
    const buffersBefore = tf.backend().numDataIds();
    const wasm = gradients(c, 7, tf.conv2d);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(tf.backend().numDataIds()).toBe(buffersBefore);
    await tf.setBackend('cpu');
    const cpu = gradients(c, 7, tf.conv2d);
    await useWasmBackend();
    expect(relativeError(wasm.dw, cpu.dw)).toBeLessThanOrEqual(1e-4);
    expect(relativeError(wasm.dx, cpu.dx)).toBeLessThanOrEqual(1e-4);
  });

  test("tf.grads through the model's conv op match the CPU backend", async () => {
    const c: Case = { x: [2, 16, 16, 6], k: 3, cout: 8, strides: 2, pad: 'circular' };
    await useWasmBackend();
    const wasm = gradients(c, 11, conv2d);
    await tf.setBackend('cpu');
    const cpu = gradients(c, 11, conv2d);
    await useWasmBackend();
    expect(relativeError(wasm.dw, cpu.dw)).toBeLessThanOrEqual(1e-4);
    expect(relativeError(wasm.dx, cpu.dx)).toBeLessThanOrEqual(1e-4);
  });

  test('the op form equals tfjs own filter gradient on the CPU backend', async () => {
    await tf.setBackend('cpu');
    for (const c of cases.filter((k) => k.pad !== 'circular')) {
      const x = tf.tensor4d(values(3, c.x), c.x);
      const wShape: Shape4 = [c.k, c.k, c.x[3], c.cout];
      const w = tf.tensor4d(values(4, wShape), wShape);
      const pad = c.pad as 'valid' | 'same';
      const y = tf.conv2d(x, w, c.strides, pad);
      const dy = tf.tensor4d(values(5, y.shape), y.shape);
      const expected = tf.grad((wi: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(x, wi as tf.Tensor4D, c.strides, pad), dy)),
      )(w);
      const before = tf.memory().numTensors;
      const got = conv2dFilterGradient(x, dy, wShape, c.strides, pad);
      expect(tf.memory().numTensors).toBe(before + 1);
      expect(got.shape).toEqual(wShape);
      expect(relativeError(got.dataSync(), expected.dataSync())).toBeLessThanOrEqual(1e-5);
      tf.dispose([x, w, y, dy, expected, got]);
    }
    await useWasmBackend();
  });

  test('the op form of the input gradient equals tfjs own on the CPU backend', async () => {
    await tf.setBackend('cpu');
    for (const c of cases.filter((k) => k.pad !== 'circular')) {
      const x = tf.tensor4d(values(3, c.x), c.x);
      const wShape: Shape4 = [c.k, c.k, c.x[3], c.cout];
      const w = tf.tensor4d(values(4, wShape), wShape);
      const pad = c.pad as 'valid' | 'same';
      const y = tf.conv2d(x, w, c.strides, pad);
      const dy = tf.tensor4d(values(5, y.shape), y.shape);
      const expected = tf.grad((xi: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(xi as tf.Tensor4D, w, c.strides, pad), dy)),
      )(x);
      const before = tf.memory().numTensors;
      const got = conv2dInputGradient(c.x, dy, w, c.strides, pad);
      expect(tf.memory().numTensors).toBe(before + 1);
      expect(got.shape).toEqual(c.x);
      expect(relativeError(got.dataSync(), expected.dataSync())).toBeLessThanOrEqual(1e-5);
      tf.dispose([x, w, y, dy, expected, got]);
    }
    await useWasmBackend();
  });

  test('large explicit padding falls back to the backend own input-gradient kernel', async () => {
    await useWasmBackend();
    const x = tf.tensor4d(values(1, [1, 5, 5, 2]), [1, 5, 5, 2]);
    const w = tf.tensor4d(values(2, [2, 2, 2, 3]), [2, 2, 2, 3]);
    const forward = (xi: tf.Tensor) => tf.sum(tf.conv2d(xi as tf.Tensor4D, w, 1, 3));
    const wasm = tf.grad(forward)(x);
    const got = wasm.dataSync().slice();
    await tf.setBackend('cpu');
    const cpu = tf.grad(forward)(x);
    expect(relativeError(got, cpu.dataSync())).toBeLessThanOrEqual(1e-5);
    tf.dispose([x, w, wasm, cpu]);
    await useWasmBackend();
  });

  test('rejects NCHW data', async () => {
    await useWasmBackend();
    const x = tf.zeros([1, 2, 4, 4]);
    const dy = tf.zeros([1, 3, 2, 2]);
    const kernel = tf.getKernel('Conv2DBackpropFilter', 'wasm');
    expect(() =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
        strides: 1,
        pad: 'valid',
        dataFormat: 'NCHW',
        filterShape: [3, 3, 2, 3],
      } as unknown as tf.NamedAttrMap),
    ).toThrow("conv2d gradient kernels support dataFormat 'NHWC' only, got 'NCHW'");
    expect(kernel).toBeDefined();
    tf.dispose([x, dy]);
  });
});
