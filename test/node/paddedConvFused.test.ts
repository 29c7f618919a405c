import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';

import { SeededRandom } from '../../src/latent/random.js';
import {
  PaddedConv2D,
  type PaddedConv2DActivation,
  type PaddedConv2DPadding,
} from '../../src/model/layers/paddedConv2D.js';
import { useWasmBackend } from '../../src/node/wasmBackend.js';

/**
 * PaddedConv2D convolves with bias and activation fused into one op; these compare it with the ops it used
 * before (circular padding as slices and concats, or zeros; conv2d; add bias; activation) on tiny tensors.
 */

/** Circular padding as the layer did it before, written out with tf.concat. */
function wrapReference(x: tf.Tensor4D, before: number, after: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  const rows = tf.concat(
    [
      ...(before > 0 ? [tf.slice(x, [0, h - before, 0, 0], [-1, before, -1, -1])] : []),
      x,
      ...(after > 0 ? [tf.slice(x, [0, 0, 0, 0], [-1, after, -1, -1])] : []),
    ],
    1,
  );
  return tf.concat(
    [
      ...(before > 0 ? [tf.slice(rows, [0, 0, w - before, 0], [-1, -1, before, -1])] : []),
      rows,
      ...(after > 0 ? [tf.slice(rows, [0, 0, 0, 0], [-1, -1, after, -1])] : []),
    ],
    2,
  );
}

function reference(
  x: tf.Tensor4D,
  kernel: tf.Tensor4D,
  bias: tf.Tensor1D,
  o: {
    kernelSize: number;
    strides: number;
    padding: PaddedConv2DPadding;
    activation: PaddedConv2DActivation;
  },
): tf.Tensor4D {
  const before = Math.floor((o.kernelSize - 1) / 2);
  const after = o.kernelSize - 1 - before;
  const padded =
    o.padding === 'circular'
      ? wrapReference(x, before, after)
      : tf.pad(x, [
          [0, 0],
          [before, after],
          [before, after],
          [0, 0],
        ]);
  const y = tf.add(tf.conv2d(padded, kernel, o.strides, 'valid'), bias) as tf.Tensor4D;
  if (o.activation === 'relu') return tf.relu(y);
  if (o.activation === 'leakyRelu') return tf.leakyRelu(y, 0.2);
  if (o.activation === 'sigmoid') return tf.sigmoid(y);
  return y;
}

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

const cases: { kernelSize: number; strides: number; padding: PaddedConv2DPadding }[] = [
  { kernelSize: 3, strides: 1, padding: 'circular' },
  { kernelSize: 3, strides: 2, padding: 'circular' },
  { kernelSize: 4, strides: 1, padding: 'circular' },
  { kernelSize: 3, strides: 1, padding: 'zeros' },
  { kernelSize: 2, strides: 2, padding: 'zeros' },
];
const activations: PaddedConv2DActivation[] = ['linear', 'relu', 'leakyRelu', 'sigmoid'];

describe.each(['cpu', 'wasm'] as const)('PaddedConv2D with fused bias and activation (%s)', (backend) => {
  test('gives the outputs of pad, conv2d, add and activation on every padding, stride and activation', async () => {
    if (backend === 'wasm') await useWasmBackend();
    else await tf.setBackend('cpu');
    const tensors = tf.memory().numTensors;
    const rng = new SeededRandom(5);
    let checked = 0;
    for (const c of cases) {
      for (const activation of activations) {
        const layer = new PaddedConv2D({ filters: 3, ...c, activation });
        const x = tf.tensor4d(rng.gaussianArray(2 * 6 * 5 * 2), [2, 6, 5, 2]);
        const y = layer.apply(x) as tf.Tensor4D;
        // Non-zero biases, so a missing or doubled bias shows.
        const [kernel] = layer.getWeights() as [tf.Tensor4D];
        const bias = tf.tensor1d(rng.gaussianArray(3));
        layer.setWeights([kernel, bias]);
        const yBiased = layer.apply(x) as tf.Tensor4D;
        const want = tf.tidy(() => reference(x, kernel, bias, { ...c, activation }));
        expect(yBiased.shape).toEqual(want.shape);
        expect(y.shape).toEqual([2, Math.ceil(6 / c.strides), Math.ceil(5 / c.strides), 3]);
        expect(maxDiff(yBiased, want), `${JSON.stringify(c)} ${activation}`).toBeLessThan(1e-5);
        expect(maxDiff(y, yBiased)).toBeGreaterThan(1e-3);
        tf.dispose([x, y, yBiased, want, bias]);
        layer.dispose();
        checked++;
      }
    }
    expect(checked).toBe(cases.length * activations.length);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  test('gives the gradients of the unfused ops (leaky ReLU unfused while recording, linear fused)', async () => {
    if (backend === 'wasm') await useWasmBackend();
    else await tf.setBackend('cpu');
    const rng = new SeededRandom(9);
    for (const activation of ['leakyRelu', 'linear'] as const) {
      const layer = new PaddedConv2D({ filters: 2, kernelSize: 3, strides: 1, activation });
      const x = tf.tensor4d(rng.gaussianArray(1 * 4 * 4 * 2), [1, 4, 4, 2]);
      tf.dispose(layer.apply(x) as tf.Tensor);
      const [k0] = layer.getWeights() as [tf.Tensor4D];
      const bias = tf.tensor1d(rng.gaussianArray(2));
      layer.setWeights([k0, bias]);
      const [kernel, biasVar] = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      const weights = tf.tensor4d(rng.gaussianArray(1 * 4 * 4 * 2), [1, 4, 4, 2]);
      const ours = tf.variableGrads(
        () => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, weights)),
        [kernel, biasVar],
      );
      const theirs = tf.variableGrads(
        () =>
          tf.sum(
            tf.mul(
              reference(x, kernel as unknown as tf.Tensor4D, biasVar as unknown as tf.Tensor1D, {
                kernelSize: 3,
                strides: 1,
                padding: 'circular',
                activation,
              }),
              weights,
            ),
          ),
        [kernel, biasVar],
      );
      expect(Math.abs(ours.value.dataSync()[0] - theirs.value.dataSync()[0])).toBeLessThan(1e-4);
      for (const v of [kernel, biasVar]) {
        const g = ours.grads[v.name] as tf.Tensor;
        expect(maxDiff(g, theirs.grads[v.name] as tf.Tensor), `${activation} ${v.name}`).toBeLessThan(1e-4);
        expect(tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0])).toBeGreaterThan(1e-3);
      }
      tf.dispose([x, bias, weights, ours.value, theirs.value]);
      tf.dispose(Object.values(ours.grads));
      tf.dispose(Object.values(theirs.grads));
      layer.dispose();
    }
  });
});
