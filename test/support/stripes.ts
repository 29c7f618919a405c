import type { PixelImage } from '../../src/model/pixelImage.js';

/** A `size` x `size` RGB image of diagonal stripes (period 8 px): a texture a tiny model learns in a few steps. */
export function stripes(size = 32): PixelImage {
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = 0.5 + 0.4 * Math.sin(((x + y) * 2 * Math.PI) / 8);
      data.set([v * 255, v * 180, 40], (y * size + x) * 3);
    }
  }
  return { data, width: size, height: size, channels: 3 };
}
