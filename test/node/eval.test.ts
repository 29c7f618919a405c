import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { pyramidUp } from '../../src/eval/filters.js';
import {
  cropImage,
  downUpBlur,
  type FloatImage,
  fitCropPca,
  laplacianPyramid,
  meanSquaredError,
  normalisedSwd,
  Pca,
  pcaReconstructionPsnr,
  pcaSamples,
  psnr,
  randomCrop,
  SwdReference,
  seamScore,
  slicedWassersteinDistance,
  ssim,
  toFloatRgb,
} from '../../src/eval/index.js';
import { symmetricEigen } from '../../src/eval/symmetricEigen.js';
import { SeededRandom } from '../../src/latent/random.js';
import type { PixelImage } from '../../src/model/pixelImage.js';

/**
 * A photo-like, non-tileable colour texture: value noise over octaves from 1 to 64 pixels with a 1/f-like
 * spectrum, channels partly correlated, plus a slow gradient.
 */
function valueNoise(width: number, height: number, seed: number): FloatImage {
  const rng = new SeededRandom(seed);
  const out = new Float32Array(width * height * 3);
  for (let cell = 1; cell <= 64; cell *= 2) {
    const gw = Math.ceil(width / cell) + 2;
    const gh = Math.ceil(height / cell) + 2;
    const shared = rng.gaussianArray(gw * gh);
    const amplitude = cell ** 0.6;
    for (let c = 0; c < 3; c++) {
      const own = rng.gaussianArray(gw * gh);
      for (let y = 0; y < height; y++) {
        const fy = y / cell;
        const y0 = Math.floor(fy);
        const ty = fy - y0;
        for (let x = 0; x < width; x++) {
          const fx = x / cell;
          const x0 = Math.floor(fx);
          const tx = fx - x0;
          const g = (i: number, j: number) => 0.7 * shared[j * gw + i] + 0.3 * own[j * gw + i];
          const top = g(x0, y0) * (1 - tx) + g(x0 + 1, y0) * tx;
          const bottom = g(x0, y0 + 1) * (1 - tx) + g(x0 + 1, y0 + 1) * tx;
          out[(y * width + x) * 3 + c] += amplitude * (top * (1 - ty) + bottom * ty);
        }
      }
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) out[(y * width + x) * 3] += (10 * x) / width;
  }
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of out) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] - lo) / (hi - lo);
  return { data: out, width, height, channels: 3 };
}

/**
 * Sum of oblique sines with whole periods across the image in both axes: tiles seamlessly, and every wave
 * crosses the seams at all phases, so seam steps are typical steps.
 */
function periodicPattern(size: number): FloatImage {
  const out = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const u = (2 * Math.PI * x) / size;
      const v = (2 * Math.PI * y) / size;
      const base =
        0.5 +
        0.2 * Math.sin(3 * u + 2 * v + 1) +
        0.15 * Math.cos(5 * u - 3 * v) +
        0.1 * Math.sin(2 * u + 7 * v + 2);
      for (let c = 0; c < 3; c++) out[(y * size + x) * 3 + c] = base * (0.8 + 0.1 * c);
    }
  }
  return { data: out, width: size, height: size, channels: 3 };
}

function constantImage(size: number, value: number): FloatImage {
  return { data: new Float32Array(size * size * 3).fill(value), width: size, height: size, channels: 3 };
}

function randomPixels(width: number, height: number, seed: number): PixelImage {
  const rng = new SeededRandom(seed);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = 20 + rng.int(211);
  return { data, width, height, channels: 3 };
}

describe('psnr', () => {
  it('is infinite for identical images', () => {
    const a = randomPixels(16, 16, 1);
    expect(psnr(a, a)).toBe(Number.POSITIVE_INFINITY);
    expect(meanSquaredError(a, a)).toBe(0);
  });

  it('equals 20 log10(255 / s) for a constant shift of s levels', () => {
    const a = randomPixels(32, 24, 2);
    const b = { ...a, data: a.data.map((v) => v + 10) };
    expect(meanSquaredError(a, b)).toBeCloseTo((10 / 255) ** 2, 9);
    expect(psnr(a, b)).toBeCloseTo(20 * Math.log10(25.5), 6);
  });

  it('reads 8-bit and float images on one [0, 1] scale and ignores alpha', () => {
    const a = randomPixels(8, 8, 3);
    const rgba: PixelImage = {
      data: Uint8Array.from({ length: 64 * 4 }, (_, i) => (i % 4 === 3 ? 7 : a.data[(i >> 2) * 3 + (i % 4)])),
      width: 8,
      height: 8,
      channels: 4,
    };
    const f = toFloatRgb(a);
    expect(psnr(rgba, a)).toBe(Number.POSITIVE_INFINITY);
    const shifted: FloatImage = { ...f, data: f.data.map((v) => v + 0.1) };
    expect(psnr(a, shifted)).toBeCloseTo(20, 4);
  });

  it('rejects images of different sizes', () => {
    expect(() => psnr(randomPixels(8, 8, 1), randomPixels(8, 9, 1))).toThrow(
      'images must have the same size, got 8x8 and 8x9',
    );
  });
});

describe('ssim', () => {
  const c1 = 0.01 ** 2;
  const c2 = 0.03 ** 2;

  it('is 1 for identical images', () => {
    const a = randomPixels(40, 30, 4);
    expect(ssim(a, a)).toBeCloseTo(1, 12);
    expect(ssim(a, a, { channels: 'mean' })).toBeCloseTo(1, 12);
  });

  it('matches the closed form for two constant images', () => {
    const a = constantImage(16, 0.2);
    const b = constantImage(16, 0.6);
    // No variance: SSIM = (2 a b + C1) / (a^2 + b^2 + C1) * C2 / C2.
    const expected = (2 * 0.2 * 0.6 + c1) / (0.2 ** 2 + 0.6 ** 2 + c1);
    expect(ssim(a, b)).toBeCloseTo(expected, 6);
    expect(ssim(a, b, { channels: 'mean' })).toBeCloseTo(expected, 6);
  });

  it('matches a direct evaluation of the formula on one 11x11 window', () => {
    const a = toFloatRgb(randomPixels(11, 11, 5));
    const b = toFloatRgb(randomPixels(11, 11, 6));
    const w: number[] = [];
    let total = 0;
    for (let y = 0; y < 11; y++) {
      for (let x = 0; x < 11; x++) {
        const g = Math.exp(-((x - 5) ** 2 + (y - 5) ** 2) / (2 * 1.5 * 1.5));
        w.push(g);
        total += g;
      }
    }
    const luma = (f: FloatImage, i: number) =>
      0.299 * f.data[3 * i] + 0.587 * f.data[3 * i + 1] + 0.114 * f.data[3 * i + 2];
    let mx = 0;
    let my = 0;
    for (let i = 0; i < 121; i++) {
      mx += (w[i] / total) * luma(a, i);
      my += (w[i] / total) * luma(b, i);
    }
    let vx = 0;
    let vy = 0;
    let cxy = 0;
    for (let i = 0; i < 121; i++) {
      const dx = luma(a, i) - mx;
      const dy = luma(b, i) - my;
      vx += (w[i] / total) * dx * dx;
      vy += (w[i] / total) * dy * dy;
      cxy += (w[i] / total) * dx * dy;
    }
    const expected = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
    expect(ssim(a, b)).toBeCloseTo(expected, 9);
  });

  it('falls as noise is added', () => {
    const clean = valueNoise(48, 48, 7);
    const noisy = (sigma: number) => {
      const rng = new SeededRandom(8);
      return { ...clean, data: clean.data.map((v) => v + sigma * rng.gaussian()) };
    };
    const low = ssim(clean, noisy(0.02));
    const high = ssim(clean, noisy(0.1));
    expect(low).toBeLessThan(1);
    expect(high).toBeLessThan(low - 0.1);
  });

  it('rejects images under 11x11 and unknown channel modes', () => {
    expect(() => ssim(randomPixels(10, 20, 1), randomPixels(10, 20, 2))).toThrow(
      'SSIM needs images of at least 11x11, got 10x20',
    );
    expect(() =>
      ssim(randomPixels(12, 12, 1), randomPixels(12, 12, 1), { channels: 'rgb' as 'mean' }),
    ).toThrow("channels must be 'luminance' or 'mean', got rgb");
  });
});

describe('seamScore', () => {
  it('is about 1 for a pattern with whole periods', () => {
    const score = seamScore(periodicPattern(128));
    expect(score).toBeGreaterThan(0.9);
    expect(score).toBeLessThan(1.1);
  });

  it('is well above 1 for a crop of a non-tileable texture', () => {
    const photo = valueNoise(256, 256, 9);
    const rng = new SeededRandom(10);
    for (let i = 0; i < 3; i++) expect(seamScore(randomCrop(photo, 128, 128, rng))).toBeGreaterThan(3);
  });

  it('is 1 for a constant image and needs 2x2 pixels', () => {
    expect(seamScore(constantImage(4, 0.3))).toBe(1);
    expect(() => seamScore(constantImage(1, 0.3))).toThrow(
      'seam score needs an image of at least 2x2, got 1x1',
    );
  });
});

describe('laplacianPyramid', () => {
  it('has band-pass levels and a residual that sum back to the image', () => {
    const image = valueNoise(37, 29, 11);
    const levels = laplacianPyramid(image, 4);
    expect(levels.map((l) => `${l.width}x${l.height}`)).toEqual(['37x29', '19x15', '10x8', '5x4']);
    let current = levels[3];
    for (let l = 2; l >= 0; l--) {
      const up = pyramidUp(current, levels[l].width, levels[l].height);
      current = { ...up, data: up.data.map((v, i) => v + levels[l].data[i]) };
    }
    let worst = 0;
    for (let i = 0; i < image.data.length; i++)
      worst = Math.max(worst, Math.abs(current.data[i] - image.data[i]));
    expect(worst).toBeLessThan(1e-5);
  });
});

describe('sliced Wasserstein distance', () => {
  const exemplar = valueNoise(256, 256, 12);
  const options = { patches: 2048, referenceCrops: 4 };

  it('is 0 for identical images and positive otherwise', () => {
    const crop = cropImage(exemplar, 0, 0, 128, 128);
    expect(slicedWassersteinDistance(crop, crop, options)).toBe(0);
    expect(slicedWassersteinDistance(cropImage(exemplar, 64, 64, 128, 128), crop, options)).toBeGreaterThan(
      0,
    );
  });

  it('scores a blurred exemplar clearly worse than a crop of it, and is deterministic', () => {
    const reference = SwdReference.fromExemplar(exemplar, options);
    const crop = randomCrop(exemplar, 128, 128, new SeededRandom(13));
    const blurred = cropImage(downUpBlur(exemplar, 4), 64, 64, 128, 128);
    const cropScore = reference.normalised(crop);
    const blurScore = reference.normalised(blurred);
    expect(cropScore).toBeGreaterThan(0.5);
    expect(cropScore).toBeLessThan(1.6);
    expect(blurScore).toBeGreaterThan(2 * cropScore);
    expect(normalisedSwd(blurred, exemplar, options)).toBeCloseTo(blurScore, 10);
    expect(reference.cropBaseline(128, 128)).toBeGreaterThan(0);
  });

  it('gives the same distance with the projections on tfjs, without leaking tensors', async () => {
    await tf.setBackend('cpu');
    const small = { patches: 256, directions: 8, referenceCrops: 1 };
    const crop = cropImage(exemplar, 32, 16, 96, 96);
    const before = tf.memory().numTensors;
    const onTfjs = slicedWassersteinDistance(crop, exemplar, { ...small, projection: 'tfjs' });
    expect(tf.memory().numTensors).toBe(before);
    const inJs = slicedWassersteinDistance(crop, exemplar, small);
    expect(onTfjs).toBeGreaterThan(0);
    expect(Math.abs(onTfjs - inJs) / inJs).toBeLessThan(1e-4);
  });

  it('rejects textures too small for the pyramid or as large as the exemplar', () => {
    const reference = SwdReference.fromExemplar(exemplar, options);
    expect(() => reference.distance(cropImage(exemplar, 0, 0, 48, 64))).toThrow(
      'generated image must be at least 56x56 for 4 pyramid levels with 7x7 patches, got 48x64',
    );
    expect(() => reference.normalised(exemplar)).toThrow(
      'normalised SWD needs textures smaller than the 256x256 exemplar (its crops of the same size are the reference), got 256x256',
    );
    expect(() => SwdReference.fromExemplar(exemplar, { directions: 0 })).toThrow(
      'directions must be an integer from 1 to 4096, got 0',
    );
    expect(() => SwdReference.fromExemplar(exemplar, { projection: 'gpu' as 'js' })).toThrow(
      "projection must be 'js' or 'tfjs', got gpu",
    );
  });
});

describe('symmetricEigen', () => {
  it('finds the eigenpairs of a known 2x2 matrix', () => {
    const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
    expect(values[0]).toBeCloseTo(3, 12);
    expect(values[1]).toBeCloseTo(1, 12);
    expect(Math.abs(vectors[0])).toBeCloseTo(Math.SQRT1_2, 12);
    expect(vectors[0] * vectors[1]).toBeCloseTo(0.5, 12);
  });

  it('satisfies A v = lambda v with orthonormal vectors on a random symmetric matrix', () => {
    const n = 23;
    const rng = new SeededRandom(14);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        const v = rng.gaussian();
        a[i * n + j] = v;
        a[j * n + i] = v;
      }
    }
    const { values, vectors } = symmetricEigen(a, n);
    let worst = 0;
    for (let k = 0; k < n; k++) {
      if (k > 0) expect(values[k]).toBeLessThanOrEqual(values[k - 1]);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += a[i * n + j] * vectors[k * n + j];
        worst = Math.max(worst, Math.abs(s - values[k] * vectors[k * n + i]));
      }
      for (let m = 0; m < n; m++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += vectors[k * n + i] * vectors[m * n + i];
        worst = Math.max(worst, Math.abs(dot - (k === m ? 1 : 0)));
      }
    }
    expect(worst).toBeLessThan(1e-10);
  });
});

describe('Pca', () => {
  /** `count` rows of mean + a combination of `rank` random directions. */
  function lowRank(count: number, dimension: number, rank: number, seed: number) {
    const rng = new SeededRandom(seed);
    const mean = rng.gaussianArray(dimension);
    const basis = Array.from({ length: rank }, () => rng.gaussianArray(dimension));
    const row = () => {
      const out = Float32Array.from(mean);
      for (const b of basis) {
        const c = rng.gaussian();
        for (let d = 0; d < dimension; d++) out[d] += c * b[d];
      }
      return out;
    };
    const data = new Float32Array(count * dimension);
    for (let i = 0; i < count; i++) data.set(row(), i * dimension);
    return { data, row };
  }

  it('reconstructs unseen points exactly when the components equal the data rank', () => {
    const { data, row } = lowRank(40, 300, 6, 15);
    const pca = Pca.fit(data, 40, 300, 6);
    expect(pca.components).toBe(6);
    for (let t = 0; t < 3; t++) {
      const x = row();
      const r = pca.reconstruct(x);
      let err = 0;
      let norm = 0;
      for (let d = 0; d < 300; d++) {
        err = Math.max(err, Math.abs(r[d] - x[d]));
        norm = Math.max(norm, Math.abs(x[d]));
      }
      expect(err / norm).toBeLessThan(1e-4);
    }
  });

  it('keeps no more components than the rank and orthonormal components', () => {
    const { data } = lowRank(30, 50, 4, 16);
    const pca = Pca.fit(data, 30, 50, 10);
    expect(pca.components).toBe(4);
    for (let a = 0; a < 4; a++) {
      for (let b = 0; b < 4; b++) {
        const u = pca.component(a);
        const v = pca.component(b);
        let dot = 0;
        for (let d = 0; d < 50; d++) dot += u[d] * v[d];
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 5);
      }
    }
    expect(pca.variances[0]).toBeGreaterThanOrEqual(pca.variances[1]);
  });

  it('recovers the variances of axis-aligned data', () => {
    const rng = new SeededRandom(17);
    const n = 4000;
    const data = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      data[3 * i] = 3 * rng.gaussian();
      data[3 * i + 1] = rng.gaussian();
      data[3 * i + 2] = 5;
    }
    const pca = Pca.fit(data, n, 3, 3);
    expect(pca.components).toBe(2);
    expect(pca.variances[0]).toBeCloseTo(9, 0);
    expect(pca.variances[1]).toBeCloseTo(1, 1);
    expect(Math.abs(pca.component(0)[0])).toBeCloseTo(1, 3);
    expect(pca.mean[2]).toBeCloseTo(5, 5);
  });

  it('rejects inconsistent sizes', () => {
    expect(() => Pca.fit(new Float32Array(10), 3, 3, 2)).toThrow(
      'data must hold count*dimension = 9 values, got 10',
    );
    expect(() => Pca.fit(new Float32Array(9), 3, 3, 0)).toThrow(
      'components must be a positive integer, got 0',
    );
  });
});

describe('crop PCA baseline', () => {
  it('reconstructs held-out crops better with more components and samples crop-sized textures', () => {
    const exemplar = valueNoise(128, 128, 18);
    const small = fitCropPca(exemplar, { components: 4, cropSize: 16, trainingCrops: 120 });
    const large = fitCropPca(exemplar, { components: 60, cropSize: 16, trainingCrops: 120 });
    const p4 = pcaReconstructionPsnr(small, exemplar, 8, 1);
    const p60 = pcaReconstructionPsnr(large, exemplar, 8, 1);
    expect(p60).toBeGreaterThan(p4 + 3);
    expect(Number.isFinite(p60)).toBe(true);
    const samples = pcaSamples(large, 2, 3);
    expect(samples.map((s) => [s.width, s.height, s.channels])).toEqual([
      [16, 16, 3],
      [16, 16, 3],
    ]);
    for (const v of samples[0].data) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
  });
});
