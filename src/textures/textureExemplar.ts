// BaseTexture.readPixels needs ThinEngine._readTexturePixels (WebGPUEngine brings its own).
import '@babylonjs/core/Engines/Extensions/engine.readTexture.js';
import type { BaseTexture } from '@babylonjs/core/Materials/Textures/baseTexture.js';

import { checkExemplarSize } from '../model/exemplars.js';
import type { PixelImage } from '../model/pixelImage.js';

export interface TextureExemplarOptions {
  /** 3 drops alpha, 4 keeps it (default: 3). */
  channels?: 3 | 4;
  /**
   * Reverse the row order so row 0 is the top of the image. GPU memory keeps rows bottom-up for textures
   * loaded with invertY (Babylon's default), so this follows the texture's `invertY` (default: texture.invertY).
   */
  flipY?: boolean;
}

/**
 * Reads a Babylon texture ONCE (one `readPixels`) into 8-bit pixels, row 0 at the top, ready to train on
 * (`trainTextureVae(vae, await textureExemplar(texture))`). The texture must be ready (loaded); float textures
 * are clamped to [0, 1] and rounded.
 */
export async function textureExemplar(
  texture: BaseTexture,
  options: TextureExemplarOptions = {},
): Promise<PixelImage> {
  const channels = options.channels ?? 3;
  if (channels !== 3 && channels !== 4) throw new Error(`channels must be 3 or 4, got ${channels}`);
  if (!texture.isReady()) {
    throw new Error(`texture '${texture.name}' is not ready; wait for it to load (texture.onLoadObservable)`);
  }
  const { width, height } = texture.getSize();
  if (!(width > 0 && height > 0))
    throw new Error(`texture '${texture.name}' has no size (${width} x ${height})`);
  checkExemplarSize(`texture '${texture.name}'`, width, height);
  const flipY = options.flipY ?? (texture as { invertY?: boolean }).invertY ?? false;
  const pending = texture.readPixels(0, 0, null, true, false);
  if (!pending) throw new Error(`texture '${texture.name}' cannot be read back (no GPU texture behind it)`);
  const rgba = await pending;
  if (rgba.byteLength === 0 || !('length' in rgba)) {
    throw new Error(`texture '${texture.name}' returned no pixels`);
  }
  const source = rgba as unknown as ArrayLike<number>;
  const float = !(rgba instanceof Uint8Array || rgba instanceof Uint8ClampedArray);
  if (source.length < width * height * 4) {
    throw new Error(
      `texture '${texture.name}' returned ${source.length} values, ${width * height * 4} needed`,
    );
  }
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const row = flipY ? height - 1 - y : y;
    for (let x = 0; x < width; x++) {
      const from = (row * width + x) * 4;
      const to = (y * width + x) * channels;
      for (let c = 0; c < channels; c++) {
        const v = source[from + c];
        data[to + c] = float ? Math.round(Math.min(1, Math.max(0, v)) * 255) : v;
      }
    }
  }
  return { data, width, height, channels };
}
