import type { SeededRandom } from '../latent/random.js';
import { cropPixels, type PixelImage, toBytes } from '../model/pixelImage.js';

/**
 * Floating-point pixels for the metrics: row-major, `channels` interleaved values per pixel, row 0 at the
 * top, values in [0, 1]. The metrics read PixelImage (8-bit, divided by 255) or FloatImage alike.
 */
export interface FloatImage {
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

/** What every metric accepts: 8-bit pixels (0..255) or floats in [0, 1]. */
export type EvalImage = PixelImage | FloatImage;

/**
 * The RGB channels of `image` as floats in [0, 1]; an alpha channel is dropped, since the metrics measure
 * colour texture. Returns `image` itself when it is already a 3-channel FloatImage (never written to).
 */
export function toFloatRgb(image: EvalImage, name = 'image'): FloatImage {
  if (image === null || typeof image !== 'object' || !image.data) {
    throw new Error(
      `${name} must be a PixelImage or FloatImage, got ${image === null ? 'null' : typeof image}`,
    );
  }
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`${name} width and height must be positive integers, got ${width}x${height}`);
  }
  if (channels !== 3 && channels !== 4) throw new Error(`${name} channels must be 3 or 4, got ${channels}`);
  if (data.length !== width * height * channels) {
    throw new Error(
      `${name} data must hold width*height*channels = ${width * height * channels} values, got ${data.length}`,
    );
  }
  const isFloat = data instanceof Float32Array;
  if (isFloat && channels === 3) return image as FloatImage;
  const scale = isFloat ? 1 : 1 / 255;
  const n = width * height;
  const out = new Float32Array(n * 3);
  for (let i = 0, s = 0, o = 0; i < n; i++, s += channels, o += 3) {
    out[o] = data[s] * scale;
    out[o + 1] = data[s + 1] * scale;
    out[o + 2] = data[s + 2] * scale;
  }
  return { data: out, width, height, channels: 3 };
}

/** 8-bit pixels from a FloatImage, rounding and clamping to 0..255 (for PNG output). */
export function toPixelImage(image: FloatImage): PixelImage {
  if (image.channels !== 3 && image.channels !== 4) {
    throw new Error(`image channels must be 3 or 4 for a PixelImage, got ${image.channels}`);
  }
  return { data: toBytes(image.data), width: image.width, height: image.height, channels: image.channels };
}

/**
 * A copy of the `width` x `height` rectangle at (`x`, `y`), of the same kind as `image` (8-bit pixels stay
 * 8-bit, floats stay floats); it must lie inside the image.
 */
export function cropImage<T extends EvalImage>(
  image: T,
  x: number,
  y: number,
  width: number,
  height: number,
): T {
  if (
    !Number.isInteger(x) ||
    !Number.isInteger(y) ||
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    x < 0 ||
    y < 0 ||
    width < 1 ||
    height < 1 ||
    x + width > image.width ||
    y + height > image.height
  ) {
    throw new Error(
      `crop ${width}x${height} at (${x}, ${y}) must be integral and lie inside the ${image.width}x${image.height} image`,
    );
  }
  return cropPixels(image, x, y, width, height);
}

/** A uniformly placed `width` x `height` crop, drawn from `rng` (two draws: x, then y). */
export function randomCrop<T extends EvalImage>(
  image: T,
  width: number,
  height: number,
  rng: SeededRandom,
): T {
  if (width > image.width || height > image.height) {
    throw new Error(`crop ${width}x${height} must fit inside the ${image.width}x${image.height} image`);
  }
  const x = rng.int(image.width - width + 1);
  const y = rng.int(image.height - height + 1);
  return cropImage(image, x, y, width, height);
}
