import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { cellGridRatio } from '../../src/eval/cellGrid.js';
import { SeededRandom } from '../../src/latent/random.js';
import {
  cellGridTerm,
  DEFAULT_PATCH_SWD,
  elbo,
  fourierAmplitude,
  fourierAmplitudeError,
  GRID_EPSILON,
  laplacianPyramid,
  patchSwd,
  pixelError,
  randomPatchDirections,
} from '../../src/model/loss.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const value = (t: tf.Tensor) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

describe('pixelError', () => {
  const a = () => tf.tensor4d([0, 0.5, 1, 0.25], [1, 2, 2, 1]);
  const b = () => tf.tensor4d([0.1, 0.5, 0.6, 0.75], [1, 2, 2, 1]);

  test('mse, l1 and charbonnier match a hand computation', () => {
    // differences: 0.1, 0, 0.4, 0.5
    const x = a();
    const y = b();
    expect(value(pixelError(x, y, 'mse'))).toBeCloseTo((0.01 + 0 + 0.16 + 0.25) / 4, 7);
    expect(value(pixelError(x, y, 'l1'))).toBeCloseTo((0.1 + 0 + 0.4 + 0.5) / 4, 7);
    const eps = 1e-3;
    const ch = [0.1, 0, 0.4, 0.5].map((d) => Math.sqrt(d * d + eps * eps) - eps);
    expect(value(pixelError(x, y, 'charbonnier'))).toBeCloseTo(ch.reduce((s, v) => s + v) / 4, 6);
    tf.dispose([x, y]);
  });

  test('refuses an unknown kind and unequal shapes', () => {
    const x = a();
    const y = tf.zeros([1, 2, 1, 1]);
    expect(() => pixelError(x, x, 'l2' as 'mse')).toThrow(
      'pixel loss must be one of mse, l1, charbonnier, got "l2"',
    );
    expect(() => pixelError(x, y, 'l1')).toThrow(
      'reconstruction needs equal shapes, got [1,2,2,1] and [1,2,1,1]',
    );
    tf.dispose([x, y]);
  });
});

describe('laplacianPyramid', () => {
  test('bands sum back to the image (nearest upsampling of each coarser level)', () => {
    const x = tf.tensor4d(
      Array.from({ length: 16 }, (_, i) => (i * 7) % 5),
      [1, 4, 4, 1],
    );
    const bands = laplacianPyramid(x, 3);
    expect(bands.map((b) => b.shape)).toEqual([
      [1, 4, 4, 1],
      [1, 2, 2, 1],
      [1, 1, 1, 1],
    ]);
    const rebuilt = tf.tidy(() =>
      bands.reduceRight<tf.Tensor4D>(
        (acc, band) =>
          acc ? tf.add(band, tf.image.resizeNearestNeighbor(acc, [band.shape[1], band.shape[2]])) : band,
        null as unknown as tf.Tensor4D,
      ),
    );
    expect(Array.from(rebuilt.dataSync())).toEqual(Array.from(x.dataSync()).map((v) => expect.closeTo(v, 5)));
    tf.dispose([x, rebuilt, ...bands.slice(1), bands[0]]);
  });
});

describe('patchSwd', () => {
  const identityKernels = () => [tf.ones([1, 1, 1, 1]) as tf.Tensor4D];

  test('with one level and a 1x1 unit kernel it is the squared 1D Wasserstein distance of the sorted values', () => {
    // Rows sorted: x = [0, 1, 2, 5], y = [0, 1, 3, 4] -> mean of (0, 0, 1, 1) = 0.5, wherever the values sit.
    const x = tf.tensor4d([5, 0, 2, 1], [1, 2, 2, 1]);
    const y = tf.tensor4d([3, 1, 0, 4], [1, 2, 2, 1]);
    const k = identityKernels();
    expect(value(patchSwd(y, x, k))).toBeCloseTo(0.5, 6);
    // A permutation of the target has distance 0: the term compares distributions, not positions.
    const shuffled = tf.tensor4d([4, 3, 1, 0], [1, 2, 2, 1]);
    expect(value(patchSwd(y, shuffled, k))).toBeCloseTo(0, 6);
    tf.dispose([x, y, shuffled, ...k]);
  });

  test('its gradient moves each value toward the target value of the same rank', () => {
    const x = tf.tensor4d([5, 0, 2, 1], [1, 2, 2, 1]);
    const y = tf.tensor4d([3, 1, 0, 4], [1, 2, 2, 1]);
    const k = identityKernels();
    const g = tf.grad((d: tf.Tensor) => patchSwd(y, d as tf.Tensor4D, k))(x);
    // Matched targets: 5 -> 4, 0 -> 0, 2 -> 3, 1 -> 1; gradient 2 (x - matched) / 4.
    expect(Array.from(g.dataSync())).toEqual([0.5, 0, -0.5, 0].map((v) => expect.closeTo(v, 6)));
    tf.dispose([x, y, g, ...k]);
  });

  test('is zero for identical images, positive for a blurred one, and leaks nothing', () => {
    const rng = new SeededRandom(3);
    const img = tf.tensor4d(rng.gaussianArray(2 * 32 * 32 * 3, 0.2), [2, 32, 32, 3]);
    const blurred = tf.avgPool(
      tf.pad(
        img,
        [
          [0, 0],
          [1, 1],
          [1, 1],
          [0, 0],
        ],
        0,
      ),
      3,
      1,
      'valid',
    ) as tf.Tensor4D;
    const dirs = randomPatchDirections(DEFAULT_PATCH_SWD, 3, (n) => rng.gaussianArray(n));
    expect(dirs.map((d) => d.shape)).toEqual([
      [5, 5, 3, 16],
      [5, 5, 3, 16],
      [5, 5, 3, 16],
    ]);
    const norm = tf.tidy(() => tf.sum(tf.square(tf.slice(dirs[0], [0, 0, 0, 0], [-1, -1, -1, 1]))));
    expect(value(norm)).toBeCloseTo(1, 5);
    const before = tf.memory().numTensors;
    expect(value(patchSwd(img, img, dirs))).toBeCloseTo(0, 6);
    expect(value(patchSwd(img, blurred, dirs))).toBeGreaterThan(0.01);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([img, blurred, ...dirs]);
  });
});

describe('elbo with the new terms', () => {
  test('total = pixel + beta * kl + patchWeight * patch, and reconstruction stays the MSE', () => {
    const rng = new SeededRandom(5);
    const images = tf.tensor4d(rng.gaussianArray(16 * 16 * 3, 0.3), [1, 16, 16, 3]);
    const decoded = tf.tensor4d(rng.gaussianArray(16 * 16 * 3, 0.3), [1, 16, 16, 3]);
    const mean = tf.tensor4d(rng.gaussianArray(2 * 2 * 4), [1, 2, 2, 4]);
    const logVar = tf.zeros([1, 2, 2, 4]);
    const dirs = randomPatchDirections({ levels: 2, patchSize: 3, directions: 4 }, 3, (n) =>
      rng.gaussianArray(n),
    );
    const t = elbo(images, decoded, mean, logVar, 0.01, {
      pixel: 'l1',
      patchWeight: 0.5,
      patchDirections: dirs,
      fourierWeight: 2,
    });
    const l1 = value(pixelError(images, decoded, 'l1'));
    const mse = value(pixelError(images, decoded, 'mse'));
    const kl = value(t.kl);
    const patch = value(t.patch);
    const fourier = value(t.fourier);
    expect(fourier).toBeCloseTo(value(fourierAmplitudeError(images, decoded)), 6);
    expect(fourier).toBeGreaterThan(0);
    expect(value(t.reconstruction)).toBeCloseTo(mse, 6);
    expect(value(t.grid)).toBe(0);
    expect(value(t.total)).toBeCloseTo(l1 + 0.01 * kl + 0.5 * patch + 2 * fourier, 5);
    const withGrid = elbo(images, decoded, mean, logVar, 0.01, { pixel: 'l1', gridWeight: 3, stride: 4 });
    const grid = value(withGrid.grid);
    expect(grid).toBeCloseTo(value(cellGridTerm(images, decoded, 4)), 6);
    expect(grid).toBeGreaterThan(0);
    expect(value(withGrid.total)).toBeCloseTo(l1 + 0.01 * value(withGrid.kl) + 3 * grid, 5);
    tf.dispose([withGrid.reconstruction, withGrid.patch, withGrid.fourier, withGrid.adversarial]);
    expect(() => elbo(images, decoded, mean, logVar, 0.01, { gridWeight: 1 })).toThrow(
      "gridWeight > 0 needs the decoder's stride",
    );
    expect(() => elbo(images, decoded, mean, logVar, 0.01, { gridWeight: Number.POSITIVE_INFINITY })).toThrow(
      'gridWeight must be a finite number >= 0, got Infinity',
    );
    expect(() => elbo(images, decoded, mean, logVar, 0.01, { fourierWeight: Number.NaN })).toThrow(
      'fourierWeight must be a finite number >= 0, got NaN',
    );
    expect(() => elbo(images, decoded, mean, logVar, 0.01, { patchWeight: 1 })).toThrow(
      'patchWeight > 0 needs patchDirections (see randomPatchDirections)',
    );
    expect(() => elbo(images, decoded, mean, logVar, 0.01, { patchWeight: -1 })).toThrow(
      'patchWeight must be a finite number >= 0, got -1',
    );
    tf.dispose([images, decoded, mean, logVar, ...dirs]);
  });
});

/** |DFT| of one H x W channel by the definition, orthonormal: [v][u] (v along the width). */
function bruteAmplitude(m: number[][], h: number, w: number): number[][] {
  const out: number[][] = [];
  for (let v = 0; v < w; v++) {
    const row: number[] = [];
    for (let u = 0; u < h; u++) {
      let re = 0;
      let im = 0;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const a = -2 * Math.PI * ((u * y) / h + (v * x) / w);
          re += m[y][x] * Math.cos(a);
          im += m[y][x] * Math.sin(a);
        }
      }
      row.push(Math.hypot(re, im) / Math.sqrt(h * w));
    }
    out.push(row);
  }
  return out;
}

describe('fourierAmplitude and fourierAmplitudeError', () => {
  const h = 3;
  const w = 4;
  const c = 2;
  const image = (seed: number) => new SeededRandom(seed).gaussianArray(2 * h * w * c, 0.4);
  const channel = (values: Float32Array, b: number, ch: number) =>
    Array.from({ length: h }, (_, y) =>
      Array.from({ length: w }, (_, x) => values[((b * h + y) * w + x) * c + ch]),
    );

  test('match the DFT by its definition on a non-square image, for every image and channel', () => {
    const values = image(3);
    const x = tf.tensor4d(values, [2, h, w, c]);
    const amp = fourierAmplitude(x);
    expect(amp.shape).toEqual([2, c, w, h]);
    const got = amp.arraySync();
    for (let b = 0; b < 2; b++) {
      for (let ch = 0; ch < c; ch++) {
        const want = bruteAmplitude(channel(values, b, ch), h, w);
        for (let v = 0; v < w; v++) {
          for (let u = 0; u < h; u++) expect(got[b][ch][v][u]).toBeCloseTo(want[v][u], 5);
        }
      }
    }
    tf.dispose([x, amp]);
  });

  test('the error is the mean absolute difference of amplitudes, blind to circular shifts', () => {
    const a = image(4);
    const b = image(5);
    const x = tf.tensor4d(a, [2, h, w, c]);
    const y = tf.tensor4d(b, [2, h, w, c]);
    let sum = 0;
    for (let i = 0; i < 2; i++) {
      for (let ch = 0; ch < c; ch++) {
        const ax = bruteAmplitude(channel(a, i, ch), h, w);
        const ay = bruteAmplitude(channel(b, i, ch), h, w);
        for (let v = 0; v < w; v++) for (let u = 0; u < h; u++) sum += Math.abs(ax[v][u] - ay[v][u]);
      }
    }
    const before = tf.memory().numTensors;
    expect(value(fourierAmplitudeError(x, y))).toBeCloseTo(sum / (2 * c * w * h), 5);
    // A circular shift changes every pixel but no amplitude: the term asks for detail, not its position.
    const shifted = tf.tidy(() =>
      tf.concat([tf.slice(x, [0, 1, 0, 0], [2, h - 1, w, c]), tf.slice(x, [0, 0, 0, 0], [2, 1, w, c])], 1),
    );
    expect(value(pixelError(x, shifted, 'l1'))).toBeGreaterThan(0.1);
    expect(value(fourierAmplitudeError(x, shifted as tf.Tensor4D))).toBeCloseTo(0, 5);
    shifted.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => fourierAmplitudeError(x, tf.zeros([2, h, w, 1]) as tf.Tensor4D)).toThrow(
      'Fourier term needs equal shapes, got [2,3,4,2] and [2,3,4,1]',
    );
    tf.dispose([x, y]);
  });

  test('a blurred image has less high-frequency energy, and the gradient restores it', () => {
    const x = tf.tensor4d(image(6), [2, h, w, c]);
    const blurred = tf.tidy(() =>
      tf.add(tf.mul(x, 0.5), tf.mul(tf.mean(x, [1, 2], true), 0.5)),
    ) as tf.Tensor4D;
    const g = tf.grad((d: tf.Tensor) => fourierAmplitudeError(x, d as tf.Tensor4D))(blurred);
    const data = g.dataSync();
    expect(data.every(Number.isFinite)).toBe(true);
    // One gradient step away from the blur lowers the term.
    const stepped = tf.sub(blurred, tf.mul(g, 0.5)) as tf.Tensor4D;
    expect(value(fourierAmplitudeError(x, stepped))).toBeLessThan(value(fourierAmplitudeError(x, blurred)));
    tf.dispose([x, blurred, g, stepped]);
  });
});

describe('cellGridTerm', () => {
  /** Values in [0, 1] for [b, h, w, c], from a seed. */
  const noise = (seed: number, b: number, h: number, w: number, c: number) =>
    Array.from(new SeededRandom(seed).gaussianArray(b * h * w * c, 0.2), (v) =>
      Math.min(1, Math.max(0, 0.5 + v)),
    );
  /** One image of a batch as the RGB EvalImage cellGridRatio reads. */
  const evalImage = (data: ArrayLike<number>, index: number, h: number, w: number) => ({
    width: w,
    height: h,
    channels: 3 as const,
    data: Float32Array.from(data).subarray(index * h * w * 3, (index + 1) * h * w * 3),
  });

  test('each image ratio is cellGridRatio (up to GRID_EPSILON), and the term is the mean |difference|', () => {
    const [b, h, w, c, stride] = [2, 12, 16, 3, 4];
    const a = noise(1, b, h, w, c);
    // Cells drawn into the second image: every other cell, checkerwise, is darkened, so its edges fall on the
    // cell boundaries.
    const d = noise(2, b, h, w, c).map((v, i) => {
      const x = Math.floor(i / c) % w;
      const y = Math.floor(i / (c * w)) % h;
      const odd = (Math.floor(x / stride) + Math.floor(y / stride)) % 2 === 1;
      return odd && i >= h * w * c ? v * 0.3 : v;
    });
    const images = tf.tensor4d(a, [b, h, w, c]);
    const decoded = tf.tensor4d(d, [b, h, w, c]);
    // By hand: ratios from the evaluation code; the epsilon moves them by less than 1e-2 here.
    const ratios = (data: number[]) => [0, 1].map((k) => cellGridRatio(evalImage(data, k, h, w), stride));
    const ra = ratios(a);
    const rd = ratios(d);
    expect(rd[1]).toBeGreaterThan(1.3);
    const hand = (Math.abs(rd[0] - ra[0]) + Math.abs(rd[1] - ra[1])) / 2;
    expect(value(cellGridTerm(images, decoded, stride))).toBeCloseTo(hand, 2);
    // Exactly, with the epsilon: a flat image has ratio 1, so the term is |ratio(a) - 1|.
    const flat = tf.fill([1, h, w, c], 0.5) as tf.Tensor4D;
    const one = tf.slice(images, [0, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
    const boundaryPairs = Math.floor((w - 1) / stride) * h + Math.floor((h - 1) / stride) * w;
    let on = 0;
    let off = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (const [dy, dx] of [
          [0, 1],
          [1, 0],
        ]) {
          if (y + dy >= h || x + dx >= w) continue;
          let sum = 0;
          for (let k = 0; k < c; k++)
            sum += Math.abs(a[((y + dy) * w + x + dx) * c + k] - a[(y * w + x) * c + k]);
          const boundary = dx === 1 ? x % stride === stride - 1 : y % stride === stride - 1;
          if (boundary) on += sum;
          else off += sum;
        }
      }
    }
    const insidePairs = (w - 1) * h + (h - 1) * w - boundaryPairs;
    const exact = (on / boundaryPairs + GRID_EPSILON) / (off / insidePairs + GRID_EPSILON);
    expect(value(cellGridTerm(one, flat, stride))).toBeCloseTo(Math.abs(exact - 1), 5);
    tf.dispose([images, decoded, flat, one]);
  });

  test('a gradient step lowers the term of a decode that draws its cells, and nothing leaks', () => {
    const [h, w, c, stride] = [16, 16, 3, 8];
    const a = noise(3, 1, h, w, c);
    const gridded = a.map((v, i) => {
      const x = Math.floor(i / c) % w;
      return Math.floor(x / stride) % 2 === 1 ? Math.min(1, v + 0.4) : v;
    });
    const images = tf.tensor4d(a, [1, h, w, c]);
    const decoded = tf.tensor4d(gridded, [1, h, w, c]);
    const before = tf.memory().numTensors;
    const g = tf.grad((x: tf.Tensor) => cellGridTerm(images, x as tf.Tensor4D, stride))(decoded);
    expect(g.dataSync().every(Number.isFinite)).toBe(true);
    const stepped = tf.tidy(() => tf.sub(decoded, tf.mul(g, 0.05))) as tf.Tensor4D;
    expect(value(cellGridTerm(images, stepped, stride))).toBeLessThan(
      value(cellGridTerm(images, decoded, stride)),
    );
    tf.dispose([g, stepped]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => cellGridTerm(images, tf.zeros([1, h, w, 1]) as tf.Tensor4D, stride)).toThrow(
      'cell-grid term needs equal shapes, got [1,16,16,3] and [1,16,16,1]',
    );
    expect(() => cellGridTerm(images, decoded, 16)).toThrow(
      'cell-grid term needs an integer stride from 2 to 15, got 16',
    );
    tf.dispose([images, decoded]);
  });
});
