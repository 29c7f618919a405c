import { readFileSync, writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';

import type { PixelImage } from '../model/pixelImage.js';

export type { PixelImage };

/** Decodes a PNG file or buffer; `channels` 3 drops alpha (default: 3). */
export function readPng(source: string | Uint8Array, channels: 3 | 4 = 3): PixelImage {
  const buffer = typeof source === 'string' ? readFileSync(source) : Buffer.from(source);
  let png: PNG;
  try {
    png = PNG.sync.read(buffer);
  } catch (e) {
    const what = typeof source === 'string' ? source : 'buffer';
    throw new Error(`${what} is not a readable PNG image: ${(e as Error).message}`);
  }
  const { width, height } = png;
  const data = new Uint8Array(width * height * channels);
  for (let i = 0, n = width * height; i < n; i++) {
    for (let c = 0; c < channels; c++) data[i * channels + c] = png.data[i * 4 + c];
  }
  return { data, width, height, channels };
}

/** Encodes pixels as an RGBA or RGB PNG. */
export function encodePng(image: PixelImage): Buffer {
  const { width, height, channels, data } = image;
  if (data.length !== width * height * channels) {
    throw new Error(
      `pixel data must hold width*height*channels = ${width * height * channels} values, got ${data.length}`,
    );
  }
  const png = new PNG({ width, height, colorType: channels === 4 ? 6 : 2, inputColorType: 6 });
  for (let i = 0, n = width * height; i < n; i++) {
    png.data[i * 4] = data[i * channels];
    png.data[i * 4 + 1] = data[i * channels + 1];
    png.data[i * 4 + 2] = data[i * channels + 2];
    png.data[i * 4 + 3] = channels === 4 ? data[i * channels + 3] : 255;
  }
  return PNG.sync.write(png, { colorType: channels === 4 ? 6 : 2 });
}

/** Writes pixels to a PNG file. */
export function writePng(path: string, image: PixelImage): void {
  writeFileSync(path, encodePng(image));
}
