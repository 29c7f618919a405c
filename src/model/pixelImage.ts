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

/** Row-major pixels of any value type, `channels` values per pixel (a PixelImage, or float pixels). */
export interface ImageRows {
  readonly data: Uint8Array | Uint8ClampedArray | Float32Array;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

/**
 * A copy of the `width` x `height` rectangle at (`x`, `y`), with values of the same type as `image`'s. The
 * rectangle must lie inside the image (callers check it; eval's cropImage does for strangers' input).
 */
export function cropPixels<T extends ImageRows>(
  image: T,
  x: number,
  y: number,
  width: number,
  height: number,
): T {
  const c = image.channels;
  const out = new (image.data.constructor as new (length: number) => T['data'])(width * height * c);
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * image.width + x) * c;
    out.set(image.data.subarray(from, from + width * c), row * width * c);
  }
  return { data: out, width, height, channels: c } as T;
}

/** The centre crop of `image` whose sides are multiples of `stride` (the image itself when they already are). */
export function centreCrop<T extends ImageRows>(image: T, stride: number): T {
  const width = image.width - (image.width % stride);
  const height = image.height - (image.height % stride);
  if (width === image.width && height === image.height) return image;
  return cropPixels(
    image,
    Math.floor((image.width - width) / 2),
    Math.floor((image.height - height) / 2),
    width,
    height,
  );
}
