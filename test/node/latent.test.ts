import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { type LatentGrid, latentToTensor, validateLatent } from '../../src/latent/latentGrid.js';
import {
  lerpLatent,
  resizeLatent,
  sampleLatent,
  similarLatent,
  slerpLatent,
} from '../../src/latent/latentOps.js';
import { MAX_SEED, SeededRandom } from '../../src/latent/random.js';
import { TextureVae } from '../../src/model/textureVae.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const grid = (values: number[], height: number, width: number, channels: number): LatentGrid => ({
  data: Float32Array.from(values),
  height,
  width,
  channels,
});

const norm = (g: LatentGrid) => Math.sqrt(g.data.reduce((s, v) => s + v * v, 0));

describe('sampleLatent', () => {
  test('is seeded: the same seed gives the same values, another seed others', () => {
    const a = sampleLatent(7, 3, 4, 2);
    expect(a.data.length).toBe(24);
    expect(sampleLatent(7, 3, 4, 2).data).toEqual(a.data);
    expect(sampleLatent(new SeededRandom(7), 3, 4, 2).data).toEqual(a.data);
    expect(sampleLatent(8, 3, 4, 2).data).not.toEqual(a.data);
  });

  test('scales by temperature', () => {
    const a = sampleLatent(3, 4, 4, 4);
    const b = sampleLatent(3, 4, 4, 4, 0.5);
    b.data.forEach((v, i) => {
      expect(v).toBeCloseTo(a.data[i] * 0.5, 6);
    });
  });

  test('draws roughly standard normal values', () => {
    const s = sampleLatent(1, 64, 64, 8);
    const mean = s.data.reduce((a, v) => a + v, 0) / s.data.length;
    const variance = s.data.reduce((a, v) => a + (v - mean) ** 2, 0) / s.data.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(variance).toBeGreaterThan(0.95);
    expect(variance).toBeLessThan(1.05);
  });

  test('rejects bad sizes and temperatures', () => {
    expect(() => sampleLatent(0, 0, 4, 2)).toThrow('latent height must be a positive integer, got 0');
    expect(() => sampleLatent(0, 4, 4, 2, -1)).toThrow('temperature must be a finite number >= 0, got -1');
  });
});

describe('seeds', () => {
  const range = `an integer from 0 to ${MAX_SEED}`;

  test('are integers from 0 to 2^32 - 1 at every public entry point, checked before any work', () => {
    expect(MAX_SEED).toBe(2 ** 32 - 1);
    const latent = sampleLatent(1, 2, 2, 2);
    for (const [seed, shown] of [
      ['7', '"7"'],
      [-1, '-1'],
      [1.5, '1.5'],
      [2 ** 32, '4294967296'],
      [Number.NaN, 'NaN'],
      [null, 'null'],
      [{}, '[object Object] (object)'],
    ] as const) {
      const message = `seed must be ${range}, got ${shown}`;
      expect(() => sampleLatent(seed as unknown as number, 2, 2, 2)).toThrow(message);
      expect(() => similarLatent(latent, 0.5, seed as unknown as number)).toThrow(message);
    }
    const model = TextureVae.create({ stride: 4, encoderWidths: [4, 4, 4], decoderWidths: [4, 4, 4] });
    const before = tf.memory().numTensors;
    expect(() => model.sample({ width: 8, height: 8, seed: '7' as unknown as number })).toThrow(
      `seed must be ${range}, got "7"`,
    );
    const grid8 = model.sample({ width: 8, height: 8, seed: MAX_SEED });
    expect(() => model.similar(grid8, 0.5, -3)).toThrow(`seed must be ${range}, got -3`);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    expect(() => TextureVae.create({}, { seed: Number.NaN })).toThrow(`seed must be ${range}, got NaN`);
  });

  test('SeededRandom folds any safe integer to 32 bits and refuses anything else', () => {
    expect(new SeededRandom(2 ** 32 + 5).next()).toBe(new SeededRandom(5).next());
    expect(new SeededRandom(-1).next()).toBe(new SeededRandom(MAX_SEED).next());
    expect(() => new SeededRandom(0.5)).toThrow(
      'SeededRandom seed must be an integer from -(2^53 - 1) to 2^53 - 1, got 0.5',
    );
    expect(() => new SeededRandom('7' as unknown as number)).toThrow(
      'SeededRandom seed must be an integer from -(2^53 - 1) to 2^53 - 1, got "7"',
    );
  });
});

describe('resizeLatent', () => {
  // 2 x 3 grid, 1 channel: values = 10 * row + column
  const g = grid([0, 1, 2, 10, 11, 12], 2, 3, 1);

  test('tiles circularly when growing', () => {
    const r = resizeLatent(g, 3, 4);
    expect(Array.from(r.data)).toEqual([0, 1, 2, 0, 10, 11, 12, 10, 0, 1, 2, 0]);
    expect([r.height, r.width, r.channels]).toEqual([3, 4, 1]);
  });

  test('crops when shrinking and keeps channels together', () => {
    const two = grid([0, 100, 1, 101, 2, 102, 10, 110, 11, 111, 12, 112], 2, 3, 2);
    expect(Array.from(resizeLatent(two, 1, 2).data)).toEqual([0, 100, 1, 101]);
  });
});

describe('lerpLatent and slerpLatent', () => {
  const a = sampleLatent(1, 4, 4, 8);
  const b = sampleLatent(2, 4, 4, 8);

  test('return the end points at t = 0 and t = 1', () => {
    for (const f of [lerpLatent, slerpLatent]) {
      f(a, b, 0).data.forEach((v, i) => {
        expect(v).toBeCloseTo(a.data[i], 5);
      });
      f(a, b, 1).data.forEach((v, i) => {
        expect(v).toBeCloseTo(b.data[i], 5);
      });
    }
  });

  test('lerp averages; slerp keeps the norm of prior samples at the midpoint', () => {
    const mid = lerpLatent(a, b, 0.5);
    mid.data.forEach((v, i) => {
      expect(v).toBeCloseTo((a.data[i] + b.data[i]) / 2, 6);
    });
    const s = slerpLatent(a, b, 0.5);
    const expected = (norm(a) + norm(b)) / 2;
    expect(Math.abs(norm(s) - expected) / expected).toBeLessThan(0.1);
    expect(norm(mid)).toBeLessThan(0.85 * expected);
  });

  test('reject different grid sizes and t outside [0, 1]', () => {
    expect(() => lerpLatent(a, sampleLatent(1, 4, 2, 8), 0.5)).toThrow(
      'latents must have the same grid size, got 4x4 and 4x2',
    );
    expect(() => slerpLatent(a, sampleLatent(1, 4, 4, 4), 0.5)).toThrow('latent must have 8 channels');
    expect(() => slerpLatent(a, b, 1.5)).toThrow('t must be between 0 and 1, got 1.5');
  });
});

describe('similarLatent', () => {
  const z = sampleLatent(5, 8, 8, 8);

  test('amount 0 is the same latent and amount 1 an independent prior sample', () => {
    expect(similarLatent(z, 0, 9).data).toEqual(z.data);
    expect(similarLatent(z, 1, 9).data).toEqual(sampleLatent(9, 8, 8, 8).data);
  });

  test('small amounts stay close, and the result is seeded', () => {
    const near = similarLatent(z, 0.1, 3);
    let diff = 0;
    near.data.forEach((v, i) => {
      diff += (v - z.data[i]) ** 2;
    });
    expect(Math.sqrt(diff) / norm(z)).toBeLessThan(0.2);
    expect(similarLatent(z, 0.1, 3).data).toEqual(near.data);
    expect(similarLatent(z, 0.1, 4).data).not.toEqual(near.data);
  });

  test('rejects amounts outside [0, 1]', () => {
    expect(() => similarLatent(z, -0.1)).toThrow('amount must be between 0 and 1, got -0.1');
  });
});

describe('validateLatent', () => {
  test('accepts a well-formed grid', () => {
    expect(() => validateLatent(sampleLatent(0, 2, 3, 4), 4)).not.toThrow();
  });

  test('names what is wrong', () => {
    expect(() => validateLatent(sampleLatent(0, 2, 3, 4), 8)).toThrow(
      "latent must have 8 channels (the model's latentChannels), got 4",
    );
    expect(() => validateLatent(grid([1, 2, 3], 2, 2, 1))).toThrow(
      'latent data must hold height*width*channels = 2*2*1 = 4 values, got 3',
    );
    expect(() => validateLatent(grid([0, Number.NaN, 0, 0], 2, 2, 1))).toThrow(
      'latent values must be finite numbers, got NaN at index 1',
    );
    expect(() => validateLatent(grid([0, 0, Number.POSITIVE_INFINITY, 0], 2, 2, 1))).toThrow(
      'latent values must be finite numbers, got Infinity at index 2',
    );
    expect(() => validateLatent(grid([0, 0], 1.5, 2, 1))).toThrow(
      'latent height must be a positive integer, got 1.5',
    );
    expect(() =>
      validateLatent({ data: [0, 0] as unknown as Float32Array, height: 1, width: 2, channels: 1 }),
    ).toThrow('latent data must be a Float32Array');
  });
});

test('latentToTensor makes a [1, h, w, c] tensor owned by the caller', () => {
  const z = sampleLatent(2, 2, 3, 4);
  const t = latentToTensor(z);
  expect(t.shape).toEqual([1, 2, 3, 4]);
  expect(t.dataSync()).toEqual(z.data);
  t.dispose();
});
