import type { BaseTexture } from '@babylonjs/core';
import type { PixelImage } from '../../src/model/pixelImage.js';

/** RGBA bytes of a square texture's render target, flipped so row 0 is the image top. */
export async function texturePixels(texture: BaseTexture): Promise<Uint8Array> {
  const size = texture.getSize().width;
  const raw = new Uint8Array(((await texture.readPixels()) as Uint8Array).buffer.slice(0));
  const out = new Uint8Array(raw.length);
  for (let y = 0; y < size; y++)
    out.set(raw.subarray((size - 1 - y) * size * 4, (size - y) * size * 4), y * size * 4);
  return out;
}

/** The largest difference over RGB between RGBA bytes and an image of the same size, in [0, 1]. */
export function maxError(rgba: Uint8Array, image: PixelImage): number {
  let worst = 0;
  for (let p = 0; p < image.width * image.height; p++) {
    for (let c = 0; c < 3; c++) {
      const a = rgba[p * 4 + c] as number;
      const b = image.data[p * image.channels + c] as number;
      worst = Math.max(worst, Math.abs(a - b) / 255);
    }
  }
  return worst;
}
