import { describe, expect, test } from 'vitest';

import { cellGridRatio, cellSeamScore } from '../../src/eval/cellGrid.js';
import { maxCrossCorrelation, repetitionScore } from '../../src/eval/correlation.js';
import { fft, fft2d } from '../../src/eval/fft.js';
import type { FloatImage } from '../../src/eval/floatImage.js';
import { SeededRandom } from '../../src/latent/random.js';

/** A grey FloatImage whose luminance is exactly `values` (R = G = B). */
const grey = (values: number[], width: number, height: number): FloatImage => {
  const data = new Float32Array(width * height * 3);
  values.forEach((v, i) => {
    data.fill(v, 3 * i, 3 * i + 3);
  });
  return { data, width, height, channels: 3 };
};

const randomValues = (n: number, seed: number) => {
  const rng = new SeededRandom(seed);
  return Array.from({ length: n }, () => Math.fround(rng.next()));
};

/** sum a(y, x) b(y + dy, x + dx) over the torus, means removed, by plain loops. */
function bruteCorrelation(a: number[], b: number[], w: number, h: number, dx: number, dy: number): number {
  const ma = a.reduce((s, v) => s + v, 0) / a.length;
  const mb = b.reduce((s, v) => s + v, 0) / b.length;
  let s = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) s += (a[y * w + x] - ma) * (b[((y + dy) % h) * w + ((x + dx) % w)] - mb);
  return s;
}

describe('fft', () => {
  test.each([8, 6, 7, 1])('matches the direct DFT for length %i (radix-2 and Bluestein)', (n) => {
    const re = Float64Array.from(randomValues(n, n));
    const im = Float64Array.from(randomValues(n, n + 100));
    const expected = Array.from({ length: n }, (_, k) => {
      let r = 0;
      let i = 0;
      for (let t = 0; t < n; t++) {
        const a = (-2 * Math.PI * k * t) / n;
        r += re[t] * Math.cos(a) - im[t] * Math.sin(a);
        i += re[t] * Math.sin(a) + im[t] * Math.cos(a);
      }
      return [r, i];
    });
    const fr = Float64Array.from(re);
    const fi = Float64Array.from(im);
    fft(fr, fi);
    expected.forEach(([r, i], k) => {
      expect(fr[k]).toBeCloseTo(r, 9);
      expect(fi[k]).toBeCloseTo(i, 9);
    });
    fft(fr, fi, true);
    re.forEach((v, k) => {
      expect(fr[k]).toBeCloseTo(v, 9);
      expect(fi[k]).toBeCloseTo(im[k], 9);
    });
  });

  test('2-D inverse undoes the forward transform on a non-square grid', () => {
    const re = Float64Array.from(randomValues(15, 3));
    const im = new Float64Array(15);
    fft2d(re, im, 5, 3);
    fft2d(re, im, 5, 3, true);
    randomValues(15, 3).forEach((v, k) => {
      expect(re[k]).toBeCloseTo(v, 10);
    });
  });
});

describe('repetitionScore', () => {
  test('equals the brute-force maximum over shifts of at least minShift, normalised by the energy', () => {
    const w = 6;
    const h = 5;
    const values = randomValues(w * h, 11);
    const energy = bruteCorrelation(values, values, w, h, 0, 0);
    let best = Number.NEGATIVE_INFINITY;
    for (let dy = 0; dy < h; dy++)
      for (let dx = 0; dx < w; dx++) {
        if (Math.max(Math.min(dx, w - dx), Math.min(dy, h - dy)) < 2) continue;
        best = Math.max(best, bruteCorrelation(values, values, w, h, dx, dy));
      }
    expect(repetitionScore(grey(values, w, h), { minShift: 2 })).toBeCloseTo(best / energy, 10);
  });

  test('a hand example: columns 1, 0, 1, 0 repeat exactly every 2 px', () => {
    // Luminance (mean 0.5 removed): +-0.5 alternating; the shift by 2 maps it on itself: 1.0. Shift 1 is -1.
    const image = grey([1, 0, 1, 0, 1, 0, 1, 0], 4, 2);
    expect(repetitionScore(image, { minShift: 1 })).toBeCloseTo(1, 12);
  });

  test('a texture tiled twice scores 1, noise scores low, a constant image 0', () => {
    const tile = randomValues(32 * 32, 5);
    const twice: number[] = [];
    for (let y = 0; y < 32; y++) for (let x = 0; x < 64; x++) twice.push(tile[y * 32 + (x % 32)]);
    expect(repetitionScore(grey(twice, 64, 32))).toBeCloseTo(1, 10);
    expect(repetitionScore(grey(randomValues(64 * 64, 6), 64, 64))).toBeLessThan(0.2);
    expect(repetitionScore(grey(new Array(64 * 64).fill(0.3), 64, 64))).toBe(0);
  });

  test('rejects images without shifts that large', () => {
    expect(() => repetitionScore(grey(randomValues(20 * 20, 1), 20, 20))).toThrow(
      /at least 16 px.*at most 10 px/,
    );
  });
});

describe('maxCrossCorrelation', () => {
  test('equals the brute-force maximum over all shifts, normalised', () => {
    const w = 7;
    const h = 4;
    const a = randomValues(w * h, 1);
    const b = randomValues(w * h, 2);
    let best = Number.NEGATIVE_INFINITY;
    for (let dy = 0; dy < h; dy++)
      for (let dx = 0; dx < w; dx++) best = Math.max(best, bruteCorrelation(a, b, w, h, dx, dy));
    const norm = Math.sqrt(bruteCorrelation(a, a, w, h, 0, 0) * bruteCorrelation(b, b, w, h, 0, 0));
    expect(maxCrossCorrelation(grey(a, w, h), grey(b, w, h))).toBeCloseTo(best / norm, 10);
  });

  test('a circular shift of an image scores 1; sizes must match', () => {
    const a = randomValues(16 * 8, 3);
    const shifted = a.map((_, i) => a[(((i >> 4) + 3) % 8) * 16 + (((i & 15) + 5) % 16)]);
    expect(maxCrossCorrelation(grey(a, 16, 8), grey(shifted, 16, 8))).toBeCloseTo(1, 10);
    expect(() => maxCrossCorrelation(grey(a, 16, 8), grey(a, 8, 16))).toThrow(/one size/);
  });
});

describe('cellGridRatio', () => {
  test('a hand example with stride 2', () => {
    // Rows 0, 0, .5, .5 and 0, .5, .5, 1 (grey, so d = 3 |step|): horizontal d = 0, 1.5 (boundary, x = 1),
    // 0 and 1.5, 0 (boundary), 1.5; vertical pairs (y = 0, not a boundary) d = 0, 1.5, 0, 1.5.
    // Boundary mean (1.5 + 0) / 2 = 0.75; elsewhere 6 / 8 = 0.75: ratio 1.
    const image = grey(
      [0, 0, 1, 1, 0, 1, 1, 2].map((v) => v / 2),
      4,
      2,
    );
    expect(cellGridRatio(image, 2)).toBeCloseTo(1, 12);
    // Rows 0, 0.5, 1, 1: horizontal d = 1.5, 1.5 (boundary), 0 per row, vertical d = 0: boundary mean 1.5,
    // elsewhere (1.5 + 0) * 2 / 8 = 0.375, ratio 4. A step only on the boundary makes the ratio infinite.
    expect(cellGridRatio(grey([0, 0.5, 1, 1, 0, 0.5, 1, 1], 4, 2), 2)).toBeCloseTo(4, 12);
    expect(cellGridRatio(grey([0, 0, 1, 1, 0, 0, 1, 1], 4, 2), 2)).toBe(Number.POSITIVE_INFINITY);
    expect(() => cellGridRatio(image, 1)).toThrow(/stride must be an integer from 2/);
  });
});

describe('cellSeamScore', () => {
  test('a hand example with stride 2: the wrap against the interior cell boundaries', () => {
    // 4x4 grey, rows all equal to 0, 0, 0.5, 1 (d = 3 |step|): vertical boundaries d = 0 (interior, y = 1
    // -> 2, every x) and wrap row 3 -> 0 d = 0; horizontal: interior boundary x = 1 -> 2 d = 1.5 per row,
    // wrap x = 3 -> 0 d = 3 per row. Seam = (4 * 3 + 4 * 0) / 8 = 1.5; interior = (4 * 1.5 + 4 * 0) / 8 = 0.75.
    const row = [0, 0, 0.5, 1];
    const image = grey([...row, ...row, ...row, ...row], 4, 4);
    expect(cellSeamScore(image, 2)).toBeCloseTo(2, 12);
    expect(() => cellSeamScore(image, 3)).toThrow(/multiples of stride 3/);
  });
});
