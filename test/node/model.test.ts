import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import type { LatentGrid } from '../../src/latent/latentGrid.js';
import type { PixelImage } from '../../src/model/pixelImage.js';
import { TextureVae } from '../../src/model/textureVae.js';

/** Tiny model: stride 4, a few channels, fast on the CPU backend. */
const TINY = { stride: 4, latentChannels: 4, encoderWidths: [8, 8, 8], decoderWidths: [8, 8, 8] };

let vae: TextureVae;

beforeAll(async () => {
  await tf.setBackend('cpu');
  vae = TextureVae.create(TINY, { seed: 1 });
});

afterAll(() => vae.dispose());

/**
 * Mean |difference| across the wrap (last column vs first, last row vs first) over the largest mean across any
 * other latent-cell boundary (every `stride` pixels): at most about 1 when the wrap is just another cell
 * boundary. Against the largest, not the mean, because a smooth untrained decoder's boundaries vary a lot.
 */
function gradientRatios(img: PixelImage, stride = 8): { x: number; y: number } {
  const { data, width: w, height: h, channels: c } = img;
  const at = (x: number, y: number, k: number) => data[(y * w + x) * c + k];
  const column = (x0: number, x1: number) => {
    let t = 0;
    for (let y = 0; y < h; y++) for (let k = 0; k < c; k++) t += Math.abs(at(x0, y, k) - at(x1, y, k));
    return t;
  };
  const row = (y0: number, y1: number) => {
    let t = 0;
    for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) t += Math.abs(at(x, y0, k) - at(x, y1, k));
    return t;
  };
  let boundaryX = 0;
  for (let x = stride; x < w; x += stride) boundaryX = Math.max(boundaryX, column(x, x - 1));
  let boundaryY = 0;
  for (let y = stride; y < h; y += stride) boundaryY = Math.max(boundaryY, row(y, y - 1));
  return { x: column(0, w - 1) / boundaryX, y: row(0, h - 1) / boundaryY };
}

function randomImages(shape: [number, number, number, number], seed = 0): tf.Tensor4D {
  return tf.randomUniform(shape, 0, 1, 'float32', seed) as tf.Tensor4D;
}

describe('shapes', () => {
  test('decodeTensors makes stride-times larger images, square or not', () => {
    for (const [h, w] of [
      [1, 1],
      [2, 3],
      [5, 2],
    ]) {
      const z = tf.randomNormal([2, h, w, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
      const out = vae.decodeTensors(z);
      expect(out.shape).toEqual([2, h * 4, w * 4, 3]);
      const [lo, hi] = [tf.min(out).dataSync()[0], tf.max(out).dataSync()[0]];
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThanOrEqual(1);
      tf.dispose([z, out]);
    }
  });

  test('encodeTensors gives mean and logVar on the latent grid', () => {
    const x = randomImages([3, 16, 24, 3]);
    const { mean, logVar } = vae.encodeTensors(x);
    expect(mean.shape).toEqual([3, 4, 6, 4]);
    expect(logVar.shape).toEqual([3, 4, 6, 4]);
    tf.dispose([x, mean, logVar]);
  });

  test('encode / decode / sample round through grids and pixels', async () => {
    const z = vae.sample({ width: 24, height: 8, seed: 2 });
    expect([z.height, z.width, z.channels]).toEqual([2, 6, 4]);
    const img = await vae.decode(z);
    expect([img.width, img.height, img.channels, img.data.length]).toEqual([24, 8, 3, 24 * 8 * 3]);
    const back = await vae.encode(img);
    expect([back.height, back.width, back.channels]).toEqual([2, 6, 4]);
    expect(vae.latentSize(32, 12)).toEqual({ width: 8, height: 3 });
  });

  test('decode to another size tiles or crops the latent circularly', async () => {
    const z = vae.sample({ width: 16, height: 8, seed: 3 });
    const base = await vae.decode(z);
    const big = await vae.decode(z, { width: 32, height: 16 });
    expect([big.width, big.height]).toEqual([32, 16]);
    let maxDiff = 0;
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 32; x++) {
        for (let k = 0; k < 3; k++) {
          const d = Math.abs(big.data[(y * 32 + x) * 3 + k] - base.data[((y % 8) * 16 + (x % 16)) * 3 + k]);
          maxDiff = Math.max(maxDiff, d);
        }
      }
    }
    expect(maxDiff).toBeLessThanOrEqual(1);
    const small = await vae.decode(z, { width: 8, height: 4 });
    expect([small.width, small.height, small.data.length]).toEqual([8, 4, 96]);
  });
});

describe('determinism', () => {
  test('the same seed gives the same weights, latents and pixels; another seed does not', async () => {
    const a = TextureVae.create(TINY, { seed: 5 });
    const b = TextureVae.create(TINY, { seed: 5 });
    const c = TextureVae.create(TINY, { seed: 6 });
    const z = a.sample({ width: 16, height: 16, seed: 9 });
    expect(b.sample({ width: 16, height: 16, seed: 9 }).data).toEqual(z.data);
    expect(a.sample({ width: 16, height: 16, seed: 10 }).data).not.toEqual(z.data);
    const [ia, ib, ic] = await Promise.all([a.decode(z), b.decode(z), c.decode(z)]);
    expect(ib.data).toEqual(ia.data);
    expect(ic.data).not.toEqual(ia.data);
    for (const m of [a, b, c]) m.dispose();
  });

  test('lossTensors is seeded by options.seed and otherwise draws fresh noise', () => {
    const x = randomImages([2, 8, 8, 3], 4);
    const value = (seed?: number) =>
      tf.tidy(() => vae.lossTensors(x, seed === undefined ? {} : { seed }).total.dataSync()[0]);
    expect(value(3)).toBe(value(3));
    expect(value(3)).not.toBe(value(4));
    expect(value()).not.toBe(value());
    x.dispose();
  });
});

describe('tileability', () => {
  test('decoded prior samples wrap seamlessly: the wrap differs no more than other cell boundaries (default model)', async () => {
    const ratios = { x: 0, y: 0 };
    const zeroPadded = { x: 0, y: 0 };
    for (const seed of [1, 2]) {
      for (const [tileable, sum] of [
        [true, ratios],
        [false, zeroPadded],
      ] as const) {
        const model = TextureVae.create({ tileable }, { seed });
        const img = await model.decode(model.sample({ width: 128, height: 96, seed }));
        model.dispose();
        const r = gradientRatios(img);
        sum.x += r.x / 2;
        sum.y += r.y / 2;
      }
    }
    expect(ratios.x).toBeLessThanOrEqual(1.1);
    expect(ratios.y).toBeLessThanOrEqual(1.1);
    // The measure does see seams: the same decoder with zero padding fails it.
    expect(Math.max(zeroPadded.x, zeroPadded.y)).toBeGreaterThan(1.3);
  });

  test('rolling the latent by one cell rolls the texture by stride pixels exactly', () => {
    const z = tf.randomNormal([1, 3, 4, 4], 0, 1, 'float32', 7) as tf.Tensor4D;
    const rolled = tf.concat(
      [tf.slice(z, [0, 0, 1, 0], [-1, -1, 3, -1]), tf.slice(z, [0, 0, 0, 0], [-1, -1, 1, -1])],
      2,
    );
    const out = vae.decodeTensors(z);
    const outRolled = vae.decodeTensors(rolled as tf.Tensor4D);
    const expected = tf.concat(
      [tf.slice(out, [0, 0, 4, 0], [-1, -1, 12, -1]), tf.slice(out, [0, 0, 0, 0], [-1, -1, 4, -1])],
      2,
    );
    const diff = tf.max(tf.abs(tf.sub(expected, outRolled))).dataSync()[0];
    expect(diff).toBeLessThan(1e-6);
    tf.dispose([z, rolled, out, outRolled, expected]);
  });
});

describe('training interface', () => {
  test('lossTensors is differentiable w.r.t. trainableVariables and a step lowers the loss', () => {
    const x = randomImages([2, 8, 8, 3], 1);
    const model = TextureVae.create(TINY, { seed: 2 });
    const vars = model.trainableVariables;
    expect(vars.length).toBe(2 * 8);
    const optimizer = tf.train.adam(0.01);
    const loss = () => model.lossTensors(x, { seed: 1 }).total;
    const before = tf.tidy(() => loss().dataSync()[0]);
    for (let i = 0; i < 5; i++) optimizer.minimize(loss, false, vars);
    const after = tf.tidy(() => loss().dataSync()[0]);
    expect(after).toBeLessThan(before);
    const { grads, value } = tf.variableGrads(loss, vars);
    expect(Object.keys(grads).length).toBe(vars.length);
    tf.dispose([value, ...Object.values(grads)]);
    optimizer.dispose();
    model.dispose();
    x.dispose();
  });

  test('getWeights copies and setWeights restores', async () => {
    const model = TextureVae.create(TINY, { seed: 3 });
    const z = model.sample({ width: 8, height: 8 });
    const original = await model.decode(z);
    const snapshot = model.getWeights();
    const other = TextureVae.create(TINY, { seed: 4 });
    const otherWeights = other.getWeights();
    model.setWeights(otherWeights);
    tf.dispose(otherWeights);
    expect((await model.decode(z)).data).toEqual((await other.decode(z)).data);
    model.setWeights(snapshot);
    expect((await model.decode(z)).data).toEqual(original.data);
    expect(() => model.setWeights(snapshot.slice(1))).toThrow(
      'setWeights needs 16 tensors (as from getWeights), got 15',
    );
    const wrong = [tf.zeros([3, 3, 4, 9]), ...snapshot.slice(1)];
    expect(() => model.setWeights(wrong)).toThrow(
      "weight 0 ('decoder_conv_0/kernel') must have shape [3,3,4,8], got [3,3,4,9]",
    );
    wrong[0].dispose();
    tf.dispose(snapshot);
    model.dispose();
    other.dispose();
  });
});

describe('bad input', () => {
  const z = (): LatentGrid => vae.sample({ width: 8, height: 8 });

  test('latents of the wrong shape, channel count or values', async () => {
    await expect(vae.decode({ ...z(), channels: 3, data: new Float32Array(12) })).rejects.toThrow(
      "latent must have 4 channels (the model's latentChannels), got 3",
    );
    await expect(vae.decode({ ...z(), data: new Float32Array(5) })).rejects.toThrow(
      'latent data must hold height*width*channels = 2*2*4 = 16 values, got 5',
    );
    const nan = z();
    nan.data[3] = Number.NaN;
    await expect(vae.decode(nan)).rejects.toThrow('latent values must be finite numbers, got NaN at index 3');
    const inf = z();
    inf.data[0] = Number.NEGATIVE_INFINITY;
    await expect(vae.decode(inf)).rejects.toThrow(
      'latent values must be finite numbers, got -Infinity at index 0',
    );
    const t = tf.zeros([1, 2, 2, 5]) as tf.Tensor4D;
    expect(() => vae.decodeTensors(t)).toThrow(
      "latents must have 4 channels (the model's latentChannels), got 5",
    );
    const r = tf.zeros([2, 2, 4]);
    expect(() => vae.decodeTensors(r as unknown as tf.Tensor4D)).toThrow(
      'latents must be a rank-4 tensor [batch, height, width, 4], got rank 3',
    );
    tf.dispose([t, r]);
    expect(() => vae.similar({ ...z(), channels: 8, data: new Float32Array(32) }, 0.5)).toThrow(
      'latent must have 4 channels',
    );
    expect(() => vae.interpolate(z(), z(), 0.5, { method: 'cubic' as 'lerp' })).toThrow(
      "interpolation method must be 'lerp' or 'slerp', got 'cubic'",
    );
  });

  test('output sizes that are not multiples of the stride, zero or above 4096', async () => {
    await expect(vae.decode(z(), { width: 10 })).rejects.toThrow(
      'width must be a multiple of 4 between 4 and 4096, got 10',
    );
    await expect(vae.decode(z(), { height: 0 })).rejects.toThrow(
      'height must be a multiple of 4 between 4 and 4096, got 0',
    );
    await expect(vae.decode(z(), { width: 4100 })).rejects.toThrow(
      'width must be a multiple of 4 between 4 and 4096, got 4100',
    );
    expect(() => vae.sample({ width: 302 })).toThrow(
      'width must be a multiple of 4 between 4 and 4096, got 302',
    );
    expect(() => vae.latentSize(8192, 8)).toThrow(
      'width must be a multiple of 4 between 4 and 4096, got 8192',
    );
  });

  test('images of the wrong rank, channel count or value range', async () => {
    const rank2 = tf.zeros([8, 8]);
    await expect(vae.encode(rank2 as unknown as tf.Tensor3D)).rejects.toThrow(
      'image must be a PixelImage or a tensor of rank 3 [H, W, C] or 4 [1, H, W, C], got rank 2',
    );
    const oneChannel = tf.zeros([8, 8, 1]) as tf.Tensor3D;
    await expect(vae.encode(oneChannel)).rejects.toThrow(
      "images must have 3 channels (the model's outputChannels), got 1",
    );
    const rgba: PixelImage = { data: new Uint8Array(8 * 8 * 4), width: 8, height: 8, channels: 4 };
    await expect(vae.encode(rgba)).rejects.toThrow(
      "image must have 3 channels (the model's outputChannels), got 4",
    );
    const tooBright = tf.fill([8, 8, 3], 255) as tf.Tensor3D;
    await expect(vae.encode(tooBright)).rejects.toThrow(
      'image values must be in [0, 1] (8-bit pixels divided by 255), got min 255 and max 255',
    );
    const nan = tf.fill([1, 8, 8, 3], Number.NaN) as tf.Tensor4D;
    await expect(vae.encode(nan)).rejects.toThrow('image values must be in [0, 1]');
    const odd = tf.zeros([1, 8, 10, 3]) as tf.Tensor4D;
    await expect(vae.encode(odd)).rejects.toThrow(
      'image width must be a multiple of 4 between 4 and 4096, got 10',
    );
    const batch = tf.zeros([2, 8, 8, 3]) as tf.Tensor4D;
    await expect(vae.encode(batch)).rejects.toThrow('encode takes one image, got a batch of 2');
    const rank5 = tf.zeros([1, 1, 8, 8, 3]);
    expect(() => vae.encodeTensors(rank5 as unknown as tf.Tensor4D)).toThrow(
      'images must be a rank-4 tensor [batch, height, width, 3], got rank 5',
    );
    const short: PixelImage = { data: new Uint8Array(10), width: 8, height: 8, channels: 3 };
    await expect(vae.encode(short)).rejects.toThrow(
      'image data must be a Uint8Array of width*height*channels = 192 values, got 10',
    );
    // The caller's tensors are never disposed, even on error.
    for (const t of [rank2, oneChannel, tooBright, nan, odd, batch, rank5]) expect(t.isDisposed).toBe(false);
    tf.dispose([rank2, oneChannel, tooBright, nan, odd, batch, rank5]);
  });

  test('bad configs and seeds', () => {
    expect(() => TextureVae.create({ stride: 3 })).toThrow(
      'stride must be a power of two from 2 to 32, got 3',
    );
    expect(() => TextureVae.create(TINY, { seed: Number.NaN })).toThrow(
      'seed must be an integer from 0 to 4294967295, got NaN',
    );
  });
});

describe('no tensor leaks', () => {
  test('encode, decode, sample, similar, interpolate, lossTensors in tidy, getWeights', async () => {
    const before = tf.memory().numTensors;
    const z = vae.sample({ width: 16, height: 8, seed: 1 });
    const img = await vae.decode(z, { width: 24, height: 16 });
    await vae.encode(img);
    const t = tf.randomUniform([8, 8, 3]) as tf.Tensor3D;
    await vae.encode(t);
    t.dispose();
    vae.similar(z, 0.3, 2);
    vae.interpolate(z, vae.sample({ width: 16, height: 8, seed: 2 }), 0.5);
    vae.interpolate(z, z, 0.2, { method: 'lerp' });
    const x = randomImages([2, 8, 8, 3]);
    tf.tidy(() => {
      vae.lossTensors(x);
    });
    const terms = vae.lossTensors(x);
    tf.dispose([
      x,
      terms.total,
      terms.reconstruction,
      terms.kl,
      terms.patch,
      terms.fourier,
      terms.grid,
      terms.adversarial,
    ]);
    const w = vae.getWeights();
    tf.dispose(w);
    await expect(vae.decode({ ...z, data: new Float32Array(3) })).rejects.toThrow();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('create and dispose free every weight; dispose twice is harmless; later calls throw', async () => {
    const before = tf.memory().numTensors;
    const model = TextureVae.create(TINY, { seed: 8 });
    const z = model.sample({ width: 8, height: 8 });
    await model.decode(z);
    expect(model.isDisposed).toBe(false);
    model.dispose();
    expect(model.isDisposed).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => model.dispose()).not.toThrow();
    const x = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
    const calls: (() => unknown)[] = [
      () => model.decodeTensors(x),
      () => model.encodeTensors(x),
      () => model.lossTensors(x),
      () => model.sample(),
      () => model.similar(z, 0.5),
      () => model.interpolate(z, z, 0.5),
      () => model.latentSize(8, 8),
      () => model.trainableVariables,
      () => model.getWeights(),
      () => model.setWeights([]),
    ];
    for (const call of calls) expect(call).toThrow('TextureVae has been disposed');
    await expect(model.decode(z)).rejects.toThrow('TextureVae has been disposed');
    await expect(model.encode(x)).rejects.toThrow('TextureVae has been disposed');
    await expect(model.save({ save: async () => ({ modelArtifactsInfo: {} as never }) })).rejects.toThrow(
      'TextureVae has been disposed',
    );
    x.dispose();
  });
});
