import { type EvalImage, toFloatRgb } from './floatImage.js';

/**
 * How visible the wrap-around seam of a texture is when it is tiled: the mean absolute RGB difference across
 * the seam (last column against first column, last row against first row, all pairs pooled) divided by the
 * mean absolute difference between horizontally and vertically neighbouring pixels inside the image.
 * 1.0 means the seam is no stronger than any other pixel step (seamless); a photo crop scores well above 1.
 * A constant image scores 1. The image must be at least 2x2.
 */
export function seamScore(image: EvalImage): number {
  const f = toFloatRgb(image);
  const { width: w, height: h, data } = f;
  if (w < 2 || h < 2) throw new Error(`seam score needs an image of at least 2x2, got ${w}x${h}`);
  const stride = w * 3;
  let seam = 0;
  for (let y = 0; y < h; y++) {
    const first = y * stride;
    const last = first + (w - 1) * 3;
    for (let c = 0; c < 3; c++) seam += Math.abs(data[last + c] - data[first + c]);
  }
  const lastRow = (h - 1) * stride;
  for (let i = 0; i < stride; i++) seam += Math.abs(data[lastRow + i] - data[i]);
  seam /= 3 * (w + h);

  let interior = 0;
  for (let y = 0; y < h; y++) {
    const row = y * stride;
    for (let i = row; i < row + stride - 3; i++) interior += Math.abs(data[i + 3] - data[i]);
  }
  for (let i = 0; i < lastRow; i++) interior += Math.abs(data[i + stride] - data[i]);
  interior /= 3 * ((w - 1) * h + w * (h - 1));

  if (interior === 0) return seam === 0 ? 1 : Number.POSITIVE_INFINITY;
  return seam / interior;
}
