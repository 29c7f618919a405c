import { type EvalImage, toFloatRgb } from './floatImage.js';

function checkSameSize(a: { width: number; height: number }, b: { width: number; height: number }): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`images must have the same size, got ${a.width}x${a.height} and ${b.width}x${b.height}`);
  }
}

/**
 * Mean squared error over the RGB channels (alpha ignored), on the [0, 1] scale: 8-bit images are divided
 * by 255 first.
 */
export function meanSquaredError(a: EvalImage, b: EvalImage): number {
  const fa = toFloatRgb(a, 'first image');
  const fb = toFloatRgb(b, 'second image');
  checkSameSize(fa, fb);
  let sum = 0;
  for (let i = 0; i < fa.data.length; i++) {
    const d = fa.data[i] - fb.data[i];
    sum += d * d;
  }
  return sum / fa.data.length;
}

/**
 * Peak signal-to-noise ratio in dB over the RGB channels: 10 log10(L^2 / MSE) with L = 1 on the [0, 1]
 * scale, the same number as L = 255 on 8-bit data. Identical images give Infinity.
 */
export function psnr(a: EvalImage, b: EvalImage): number {
  const mse = meanSquaredError(a, b);
  return mse === 0 ? Number.POSITIVE_INFINITY : -10 * Math.log10(mse);
}
