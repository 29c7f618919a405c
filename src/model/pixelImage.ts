/**
 * 8-bit pixels in memory, row-major, `channels` values per pixel, row 0 at the top of the image.
 * The one CPU-side image type of the package: PNG files, exemplars, decoded textures and atlases use it.
 */
export interface PixelImage {
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
  readonly channels: 3 | 4;
}

/** 8-bit values of floats in [0, 1]: clamped, then rounded (x * 255); a missing value (`undefined`) is 0. */
export function toBytes(values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++)
    bytes[i] = Math.round(Math.min(1, Math.max(0, values[i] ?? 0)) * 255);
  return bytes;
}
