import { fft2d } from './fft.js';
import { type EvalImage, toFloatRgb } from './floatImage.js';

/** Luminance (0.299 R + 0.587 G + 0.114 B) with its mean removed, as float64 for the transforms. */
function centredLuminance(
  image: EvalImage,
  name: string,
): { values: Float64Array; width: number; height: number } {
  const f = toFloatRgb(image, name);
  const n = f.width * f.height;
  const values = new Float64Array(n);
  let sum = 0;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const l = 0.299 * f.data[o] + 0.587 * f.data[o + 1] + 0.114 * f.data[o + 2];
    values[i] = l;
    sum += l;
  }
  const mean = sum / n;
  for (let i = 0; i < n; i++) values[i] -= mean;
  return { values, width: f.width, height: f.height };
}

function energy(values: Float64Array): number {
  let e = 0;
  for (let i = 0; i < values.length; i++) e += values[i] * values[i];
  return e;
}

/**
 * c(dy, dx) = sum over pixels of a(y, x) * b(y + dy, x + dx), indices wrapped, for every shift at once:
 * inverse DFT of conj(A) * B. Returned row-major, shift (dy, dx) at index dy * width + dx.
 */
function circularCrossCorrelation(
  a: Float64Array,
  b: Float64Array,
  width: number,
  height: number,
): Float64Array {
  const ar = Float64Array.from(a);
  const ai = new Float64Array(a.length);
  fft2d(ar, ai, width, height);
  let br: Float64Array;
  let bi: Float64Array;
  if (a === b) {
    br = ar;
    bi = ai;
  } else {
    br = Float64Array.from(b);
    bi = new Float64Array(b.length);
    fft2d(br, bi, width, height);
  }
  const re = new Float64Array(a.length);
  const im = new Float64Array(a.length);
  for (let k = 0; k < a.length; k++) {
    re[k] = ar[k] * br[k] + ai[k] * bi[k];
    im[k] = ar[k] * bi[k] - ai[k] * br[k];
  }
  fft2d(re, im, width, height, true);
  return re;
}

/** Options of {@link repetitionScore}. */
export interface RepetitionOptions {
  /**
   * Smallest circular shift, in pixels along x or y, that counts as a repeat; smaller shifts only measure how
   * smooth the texture is (default: 16).
   */
  minShift?: number;
}

/**
 * How strongly a texture repeats itself: the largest normalised circular autocorrelation of its luminance
 * (mean removed) over every shift (dx, dy) with max(|dx|, |dy|) >= minShift, circular distances. 1.0 for a
 * texture that is an exact repeat of a tile (a latent tiled twice), near 0 for noise; photos of irregular
 * materials score about 0.15-0.4, regular tiles 0.8 and more. A constant image scores 0.
 */
export function repetitionScore(image: EvalImage, options: RepetitionOptions = {}): number {
  const minShift = options.minShift ?? 16;
  const { values, width, height } = centredLuminance(image, 'image');
  if (!Number.isInteger(minShift) || minShift < 1) {
    throw new Error(`minShift must be a positive integer, got ${minShift}`);
  }
  const maxShift = Math.max(Math.floor(width / 2), Math.floor(height / 2));
  if (minShift > maxShift) {
    throw new Error(
      `repetition needs shifts of at least ${minShift} px, but a ${width}x${height} image has circular shifts of at most ${maxShift} px`,
    );
  }
  const e = energy(values);
  if (e === 0) return 0;
  const c = circularCrossCorrelation(values, values, width, height);
  let best = Number.NEGATIVE_INFINITY;
  for (let dy = 0; dy < height; dy++) {
    const ry = Math.min(dy, height - dy);
    for (let dx = 0; dx < width; dx++) {
      if (Math.max(ry, Math.min(dx, width - dx)) < minShift) continue;
      const v = c[dy * width + dx];
      if (v > best) best = v;
    }
  }
  return best / e;
}

/**
 * How alike two same-size textures are, whatever their alignment: the largest normalised circular
 * cross-correlation of their luminances (each with its mean removed) over all shifts, in [-1, 1]. 1.0 when one
 * is a circular shift of the other; two independent textures of an irregular material score about 0.05-0.2.
 * Used as the diversity measure of swatch samples (lower is more diverse). 0 when either image is constant.
 */
export function maxCrossCorrelation(a: EvalImage, b: EvalImage): number {
  const la = centredLuminance(a, 'first image');
  const lb = centredLuminance(b, 'second image');
  if (la.width !== lb.width || la.height !== lb.height) {
    throw new Error(
      `cross-correlation needs two images of one size, got ${la.width}x${la.height} and ${lb.width}x${lb.height}`,
    );
  }
  const norm = Math.sqrt(energy(la.values) * energy(lb.values));
  if (norm === 0) return 0;
  const c = circularCrossCorrelation(la.values, lb.values, la.width, la.height);
  let best = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < c.length; k++) if (c[k] > best) best = c[k];
  return best / norm;
}
