import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { SeededRandom } from '../../src/latent/random.js';
import { PatchDiscriminator } from '../../src/model/discriminator.js';
import {
  adaptiveAdversarialWeight,
  elbo,
  hingeCriticLoss,
  hingeGeneratorLoss,
  MAX_ADAPTIVE_WEIGHT,
  pixelError,
} from '../../src/model/loss.js';
import { TextureVae } from '../../src/model/textureVae.js';
import { DEFAULT_ADVERSARIAL_WEIGHT, trainTextureVae } from '../../src/model/train.js';
import { useWasmBackend } from '../../src/node/wasmBackend.js';
import { stripes } from '../support/stripes.js';

beforeAll(async () => {
  await useWasmBackend();
});

const value = (t: tf.Tensor) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

describe('hinge losses and the adaptive weight', () => {
  test('match a hand computation', () => {
    const real = tf.tensor1d([2, 0.5, -1]);
    const fake = tf.tensor1d([-2, 0, 1.5]);
    // relu(1 - real): 0, 0.5, 2 -> mean 2.5 / 3; relu(1 + fake): 0, 1, 2.5 -> mean 3.5 / 3.
    expect(value(hingeCriticLoss(real, fake))).toBeCloseTo(0.5 * (2.5 / 3 + 3.5 / 3), 6);
    expect(value(hingeGeneratorLoss(fake))).toBeCloseTo(-(-2 + 0 + 1.5) / 3, 6);
    tf.dispose([real, fake]);
  });

  test('the adaptive weight is the ratio of gradient norms, clipped, and 0 when a norm is not finite', () => {
    expect(adaptiveAdversarialWeight(2, 1)).toBeCloseTo(2 / (1 + 1e-4), 9);
    expect(adaptiveAdversarialWeight(1, 0)).toBe(MAX_ADAPTIVE_WEIGHT);
    expect(adaptiveAdversarialWeight(0, 3)).toBe(0);
    expect(adaptiveAdversarialWeight(Number.NaN, 1)).toBe(0);
    expect(adaptiveAdversarialWeight(1, Number.POSITIVE_INFINITY)).toBe(0);
  });
});

describe('PatchDiscriminator', () => {
  test('one score per window, seeded weights, checked inputs, nothing left behind', () => {
    const before = tf.memory().numTensors;
    const d = new PatchDiscriminator({ seed: 3 });
    expect(d.minSide).toBe(38);
    expect(d.weightShapes).toEqual([
      [4, 4, 3, 32],
      [32],
      [4, 4, 32, 64],
      [64],
      [4, 4, 64, 64],
      [64],
      [3, 3, 64, 1],
      [1],
    ]);
    expect(d.variables.length).toBe(8);
    const x = tf.randomUniform([2, 64, 48, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const s = d.scores(x);
    // 64 -> 31 -> 14 -> 6 -> 4 and 48 -> 23 -> 10 -> 4 -> 2.
    expect(s.shape).toEqual([2, 4, 2, 1]);
    const same = new PatchDiscriminator({ seed: 3 });
    const other = new PatchDiscriminator({ seed: 4 });
    const s2 = same.scores(x);
    const s3 = other.scores(x);
    expect(Array.from(s2.dataSync())).toEqual(Array.from(s.dataSync()));
    expect(Array.from(s3.dataSync())).not.toEqual(Array.from(s.dataSync()));
    const short = tf.zeros([1, 37, 64, 3]) as tf.Tensor4D;
    const rgba = tf.zeros([1, 64, 64, 4]) as tf.Tensor4D;
    expect(() => d.scores(short)).toThrow('the discriminator needs images of at least 38x38, got 64x37');
    expect(() => d.scores(rgba)).toThrow('the discriminator takes 3-channel images, got 4 channels');
    tf.dispose([short, rgba]);
    expect(() => new PatchDiscriminator({ widths: [0] })).toThrow(
      'discriminator widths must be 1 to 4 integers from 1 to 256, got [0]',
    );
    const weights = other.getWeights();
    d.setWeights(weights);
    const s4 = d.scores(x);
    expect(Array.from(s4.dataSync())).toEqual(Array.from(s3.dataSync()));
    s4.dispose();
    expect(() => d.setWeights(weights.slice(1))).toThrow('the discriminator has 8 weights, got 7');
    tf.dispose([x, s, s2, s3, ...weights]);
    for (const m of [d, same, other]) m.dispose();
    expect(() => d.scores(x)).toThrow('PatchDiscriminator has been disposed');
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('elbo with the adversarial term', () => {
  test('total adds adversarialWeight * -mean(critic scores), and the decoded batch is kept on request', () => {
    const rng = new SeededRandom(8);
    const images = tf.tensor4d(rng.gaussianArray(8 * 8 * 3, 0.3), [1, 8, 8, 3]);
    const decoded = tf.tensor4d(rng.gaussianArray(8 * 8 * 3, 0.3), [1, 8, 8, 3]);
    const mean = tf.tensor4d(rng.gaussianArray(2 * 2 * 2), [1, 2, 2, 2]);
    const logVar = tf.zeros([1, 2, 2, 2]);
    // A critic that scores each pixel by its red value.
    const critic = (x: tf.Tensor4D) => tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, 1]);
    const t = elbo(images, decoded, mean, logVar, 0.01, {
      pixel: 'l1',
      adversarialWeight: 0.25,
      critic,
      keepDecoded: true,
    });
    const red = tf.tidy(() => tf.mean(critic(decoded)).dataSync()[0]);
    expect(value(t.adversarial)).toBeCloseTo(-red, 6);
    const l1 = value(pixelError(images, decoded, 'l1'));
    expect(value(t.total)).toBeCloseTo(l1 + 0.01 * value(t.kl) + 0.25 * -red, 5);
    expect(t.decoded).toBe(decoded);
    tf.dispose([t.reconstruction, t.patch, t.fourier, t.grid]);
    expect(() => elbo(images, decoded, mean, logVar, 0.01, { adversarialWeight: 1 })).toThrow(
      'adversarialWeight > 0 needs a critic (see PatchDiscriminator.scores)',
    );
    tf.dispose([images, decoded, mean, logVar]);
  });
});

describe('trainTextureVae with the adversarial term', () => {
  const tinyConfig = { stride: 4, encoderWidths: [4, 8, 8], decoderWidths: [8, 8, 4], latentChannels: 2 };

  test('trains the critic every step, turns the term on after adversarialStart, leaks nothing', async () => {
    expect(DEFAULT_ADVERSARIAL_WEIGHT).toBe(0);
    const vae = TextureVae.create(tinyConfig, { seed: 1 });
    const critic = new PatchDiscriminator({ widths: [4, 4], seed: 2 });
    const criticBefore = critic.getWeights();
    const before = tf.memory().numTensors;
    const result = await trainTextureVae(vae, stripes(48), {
      steps: 6,
      batchSize: 2,
      patchSize: 24,
      learningRate: 0.005,
      // With the Fourier and cell-grid terms, whose gradients the adaptive weight measures too.
      fourierWeight: 0.3,
      gridWeight: 0.05,
      adversarialWeight: 0.5,
      adversarialStart: 3,
      discriminator: critic,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.history.length).toBe(6);
    for (const h of result.history) {
      expect(Number.isFinite(h.critic)).toBe(true);
      // The critic starts near 0 scores, so its hinge loss starts near 1.
      expect(h.critic).toBeGreaterThan(0);
      if (h.step <= 3) expect(h.adversarialWeight).toBe(0);
      else expect(h.adversarialWeight).toBeGreaterThan(0);
    }
    // The caller's critic was trained and is still the caller's.
    expect(critic.isDisposed).toBe(false);
    const criticAfter = critic.getWeights();
    expect(Array.from(criticAfter[0].dataSync())).not.toEqual(Array.from(criticBefore[0].dataSync()));
    tf.dispose([...criticBefore, ...criticAfter]);
    critic.dispose();

    // Without a critic of the caller's, training makes and disposes its own.
    const base = tf.memory().numTensors;
    const own = await trainTextureVae(vae, stripes(48), {
      steps: 2,
      batchSize: 2,
      patchSize: 40,
      adversarialWeight: 0.5,
    });
    expect(own.history.every((h) => h.critic !== undefined)).toBe(true);
    expect(tf.memory().numTensors).toBe(base);
    await expect(
      trainTextureVae(vae, stripes(48), { steps: 1, patchSize: 24, adversarialWeight: 1 }),
    ).rejects.toThrow("the adversarial term needs patchSize >= 38 (the critic's window), got 24");
    await expect(trainTextureVae(vae, stripes(48), { steps: 1, adversarialWeight: -1 })).rejects.toThrow(
      'adversarialWeight must be a finite number >= 0, got -1',
    );
    vae.dispose();
  });
});
