import { type EvalImage, toFloatRgb } from './floatImage.js';

/**
 * How visible a decoder's latent cells are: the mean neighbour difference (absolute, summed over RGB) across
 * cell boundaries (horizontal pairs (x, x + 1) with x mod stride = stride - 1, and the same vertically) divided
 * by the mean difference of all other neighbour pairs inside the image. A photo scores about 1.0; a decoder
 * that draws its cells scores above (blocky 8-px grids show from about 1.1). A constant image scores 1.
 */
export function cellGridRatio(image: EvalImage, stride: number): number {
  const f = toFloatRgb(image);
  const { width: w, height: h, data } = f;
  if (!Number.isInteger(stride) || stride < 2 || stride >= Math.max(w, h)) {
    throw new Error(
      `stride must be an integer from 2 to ${Math.max(w, h) - 1} (smaller than the ${w}x${h} image), got ${stride}`,
    );
  }
  let boundary = 0;
  let boundaryCount = 0;
  let inside = 0;
  let insideCount = 0;
  const add = (i: number, j: number, onBoundary: boolean) => {
    const d =
      Math.abs(data[i] - data[j]) + Math.abs(data[i + 1] - data[j + 1]) + Math.abs(data[i + 2] - data[j + 2]);
    if (onBoundary) {
      boundary += d;
      boundaryCount++;
    } else {
      inside += d;
      insideCount++;
    }
  };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x + 1 < w; x++) add((y * w + x) * 3, (y * w + x + 1) * 3, x % stride === stride - 1);
  }
  for (let y = 0; y + 1 < h; y++) {
    const onBoundary = y % stride === stride - 1;
    for (let x = 0; x < w; x++) add((y * w + x) * 3, ((y + 1) * w + x) * 3, onBoundary);
  }
  if (boundaryCount === 0 || insideCount === 0) {
    throw new Error(
      `cell grid ratio needs pairs on and off the cell boundaries; a ${w}x${h} image with stride ${stride} lacks one kind`,
    );
  }
  const b = boundary / boundaryCount;
  const n = inside / insideCount;
  if (n === 0) return b === 0 ? 1 : Number.POSITIVE_INFINITY;
  return b / n;
}

/**
 * The seam score of a texture decoded from a latent grid, measured against the decoder's own cell grid: the
 * mean absolute RGB difference across the wrap seam (last column against first, last row against first)
 * divided by the mean across the interior cell boundaries (pairs (x, x + 1) with x mod stride = stride - 1,
 * and the same in y). The wrap of such a texture always lies on a cell boundary, so {@link seamScore} reports
 * the decoder's cell grid there as a seam; this score is 1.0 when the wrap is like any other cell boundary.
 * Width and height must be multiples of stride, at least 2 * stride.
 */
export function cellSeamScore(image: EvalImage, stride: number): number {
  const f = toFloatRgb(image);
  const { width: w, height: h, data } = f;
  if (
    !Number.isInteger(stride) ||
    stride < 1 ||
    w % stride !== 0 ||
    h % stride !== 0 ||
    w < 2 * stride ||
    h < 2 * stride
  ) {
    throw new Error(
      `cell seam score needs width and height that are multiples of stride ${stride}, at least ${2 * stride}, got ${w}x${h}`,
    );
  }
  const d = (i: number, j: number) =>
    Math.abs(data[i] - data[j]) + Math.abs(data[i + 1] - data[j + 1]) + Math.abs(data[i + 2] - data[j + 2]);
  let seam = 0;
  let boundary = 0;
  let boundaryCount = 0;
  for (let y = 0; y < h; y++) {
    for (let x = stride - 1; x < w; x += stride) {
      const i = (y * w + x) * 3;
      if (x === w - 1) seam += d(i, y * w * 3);
      else {
        boundary += d(i, i + 3);
        boundaryCount++;
      }
    }
  }
  for (let y = stride - 1; y < h; y += stride) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      if (y === h - 1) seam += d(i, x * 3);
      else {
        boundary += d(i, i + w * 3);
        boundaryCount++;
      }
    }
  }
  seam /= w + h;
  boundary /= boundaryCount;
  if (boundary === 0) return seam === 0 ? 1 : Number.POSITIVE_INFINITY;
  return seam / boundary;
}
