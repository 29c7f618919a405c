import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { elbo, klDivergence, reconstructionError, reparameterize } from '../../src/model/loss.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const value = (t: tf.Tensor) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

describe('klDivergence', () => {
  test('is 0 for the standard normal itself', () => {
    const mean = tf.zeros([2, 2, 2, 3]);
    const logVar = tf.zeros([2, 2, 2, 3]);
    expect(Math.abs(value(klDivergence(mean, logVar)))).toBe(0);
    tf.dispose([mean, logVar]);
  });

  test('matches -0.5 * sum(1 + logVar - mean^2 - exp(logVar)) per item, averaged over the batch', () => {
    // Item 0: (mean 1, logVar 0) -> 0.5; (mean 0, logVar ln 2) -> -0.5(1 + ln2 - 2) = 0.5 - 0.5 ln2.
    // Item 1: (mean -2, logVar 0) -> 2;   (mean 0.5, logVar -1) -> -0.5(1 - 1 - 0.25 - e^-1) = 0.125 + 0.5/e.
    const mean = tf.tensor2d([
      [1, 0],
      [-2, 0.5],
    ]);
    const logVar = tf.tensor2d([
      [0, Math.LN2],
      [0, -1],
    ]);
    const item0 = 0.5 + (0.5 - 0.5 * Math.LN2);
    const item1 = 2 + (0.125 + 0.5 / Math.E);
    expect(value(klDivergence(mean, logVar))).toBeCloseTo((item0 + item1) / 2, 6);
    tf.dispose([mean, logVar]);
  });

  test('has gradient mean / batch with respect to the mean', () => {
    const mean = tf.tensor2d([[0.5, -1]]);
    const logVar = tf.zeros([1, 2]);
    const grad = tf.grad((m: tf.Tensor) => klDivergence(m, logVar))(mean);
    expect(Array.from(grad.dataSync())).toEqual([0.5, -1]);
    tf.dispose([mean, logVar, grad]);
  });
});

describe('reconstructionError', () => {
  test('is the mean squared error over every value', () => {
    const a = tf.tensor4d([0, 0.5, 1, 0.25], [1, 2, 2, 1]);
    const b = tf.tensor4d([0.5, 0.5, 0, 0.75], [1, 2, 2, 1]);
    // (0.25 + 0 + 1 + 0.25) / 4
    expect(value(reconstructionError(a, b))).toBeCloseTo(0.375, 7);
    tf.dispose([a, b]);
  });

  test('rejects different shapes', () => {
    const a = tf.zeros([1, 2, 2, 3]);
    const b = tf.zeros([1, 2, 2, 4]);
    expect(() => reconstructionError(a, b)).toThrow(
      'reconstruction needs equal shapes, got [1,2,2,3] and [1,2,2,4]',
    );
    tf.dispose([a, b]);
  });
});

describe('reparameterize', () => {
  test('is mean + exp(0.5 logVar) * eps', () => {
    const mean = tf.tensor1d([1, -1, 0]);
    const logVar = tf.tensor1d([0, Math.log(4), Math.log(0.25)]);
    const eps = tf.tensor1d([0.5, 1, -2]);
    const z = reparameterize(mean, logVar, eps);
    const got = Array.from(z.dataSync());
    [1.5, 1, -1].forEach((v, i) => {
      expect(got[i]).toBeCloseTo(v, 6);
    });
    tf.dispose([mean, logVar, eps, z]);
  });
});

describe('elbo', () => {
  test('total = mse + beta * KL / (values per image), KL averaged over the batch', () => {
    const images = tf.tensor4d([0, 1, 0, 1, 1, 1, 1, 1], [2, 2, 2, 1]);
    const decoded = tf.fill([2, 2, 2, 1], 0.5);
    const mean = tf.tensor2d([
      [1, 0],
      [0, 0],
    ]);
    const logVar = tf.zeros([2, 2]);
    const terms = elbo(images, decoded, mean, logVar, 0.1);
    const [total, reconstruction, kl] = [terms.total, terms.reconstruction, terms.kl].map(value);
    expect(reconstruction).toBeCloseTo(0.25, 7);
    // KL: item 0 = 0.5, item 1 = 0 -> batch mean 0.25 nats per image; 4 values per image.
    expect(kl).toBeCloseTo(0.25 / 4, 7);
    expect(total).toBeCloseTo(0.25 + 0.1 * (0.25 / 4), 7);
    tf.dispose([images, decoded, mean, logVar]);
  });

  test('rejects a negative or non-finite beta', () => {
    const x = tf.zeros([1, 1, 1, 1]);
    expect(() => elbo(x, x, x, x, -1)).toThrow('beta must be a finite number >= 0, got -1');
    expect(() => elbo(x, x, x, x, Number.NaN)).toThrow('beta must be a finite number >= 0, got NaN');
    x.dispose();
  });
});
