import { gaussianKernel } from './filters.js';
import { type EvalImage, type FloatImage, toFloatRgb } from './floatImage.js';

/** Options of {@link ssim}. */
export interface SsimOptions {
  /**
   * 'luminance': SSIM of the BT.601 luma Y = 0.299 R + 0.587 G + 0.114 B, as the reference implementation
   * of Wang et al. is applied to colour images; 'mean': the mean of the SSIM of R, G and B
   * (default: 'luminance').
   */
  channels?: 'luminance' | 'mean';
}

const WINDOW = 11;
const SIGMA = 1.5;
const K1 = 0.01;
const K2 = 0.03;
/** Dynamic range on the [0, 1] scale the metrics use (8-bit images are divided by 255, i.e. L = 255 there). */
const L = 1;

/**
 * Structural similarity (Wang, Bovik, Sheikh, Simoncelli 2004) with the standard constants: an 11x11
 * Gaussian window of sigma 1.5, K1 = 0.01, K2 = 0.03, L = 1 on [0, 1] data. The SSIM map is evaluated at
 * every position where the window fits inside the image ('valid', no padding) and averaged; unlike the
 * authors' MATLAB script, large images are not downsampled first. Images must be at least 11x11.
 */
export function ssim(a: EvalImage, b: EvalImage, options: SsimOptions = {}): number {
  const mode = options.channels ?? 'luminance';
  if (mode !== 'luminance' && mode !== 'mean') {
    throw new Error(`channels must be 'luminance' or 'mean', got ${String(mode)}`);
  }
  const fa = toFloatRgb(a, 'first image');
  const fb = toFloatRgb(b, 'second image');
  if (fa.width !== fb.width || fa.height !== fb.height) {
    throw new Error(
      `images must have the same size, got ${fa.width}x${fa.height} and ${fb.width}x${fb.height}`,
    );
  }
  if (fa.width < WINDOW || fa.height < WINDOW) {
    throw new Error(`SSIM needs images of at least ${WINDOW}x${WINDOW}, got ${fa.width}x${fa.height}`);
  }
  if (mode === 'luminance') return ssimPlane(luma(fa), luma(fb), fa.width, fa.height);
  let sum = 0;
  for (let c = 0; c < 3; c++) sum += ssimPlane(plane(fa, c), plane(fb, c), fa.width, fa.height);
  return sum / 3;
}

function luma(image: FloatImage): Float64Array {
  const n = image.width * image.height;
  const out = new Float64Array(n);
  const d = image.data;
  for (let i = 0; i < n; i++) out[i] = 0.299 * d[3 * i] + 0.587 * d[3 * i + 1] + 0.114 * d[3 * i + 2];
  return out;
}

function plane(image: FloatImage, channel: number): Float64Array {
  const n = image.width * image.height;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = image.data[3 * i + channel];
  return out;
}

/** 'valid' separable filtering of a w x h plane: (w - 10) x (h - 10) output. */
function filterValid(src: Float64Array, w: number, h: number, k: Float64Array): Float64Array {
  const ow = w - WINDOW + 1;
  const oh = h - WINDOW + 1;
  const tmp = new Float64Array(ow * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      const i = y * w + x;
      for (let j = 0; j < WINDOW; j++) s += k[j] * src[i + j];
      tmp[y * ow + x] = s;
    }
  }
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    for (let j = 0; j < WINDOW; j++) {
      const weight = k[j];
      const from = (y + j) * ow;
      const o = y * ow;
      for (let x = 0; x < ow; x++) out[o + x] += weight * tmp[from + x];
    }
  }
  return out;
}

function ssimPlane(x: Float64Array, y: Float64Array, w: number, h: number): number {
  const k = gaussianKernel(WINDOW, SIGMA);
  const n = w * h;
  const xx = new Float64Array(n);
  const yy = new Float64Array(n);
  const xy = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xx[i] = x[i] * x[i];
    yy[i] = y[i] * y[i];
    xy[i] = x[i] * y[i];
  }
  const mx = filterValid(x, w, h, k);
  const my = filterValid(y, w, h, k);
  const sxx = filterValid(xx, w, h, k);
  const syy = filterValid(yy, w, h, k);
  const sxy = filterValid(xy, w, h, k);
  const c1 = (K1 * L) ** 2;
  const c2 = (K2 * L) ** 2;
  let sum = 0;
  for (let i = 0; i < mx.length; i++) {
    const ux = mx[i];
    const uy = my[i];
    const vx = sxx[i] - ux * ux;
    const vy = syy[i] - uy * uy;
    const cxy = sxy[i] - ux * uy;
    sum += ((2 * ux * uy + c1) * (2 * cxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
  }
  return sum / mx.length;
}
