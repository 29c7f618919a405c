import { readFileSync, writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';

import { checkExemplarSize } from '../model/exemplars.js';
import type { PixelImage } from '../model/pixelImage.js';
import { pngSize } from './imageHeader.js';

export type { PixelImage };

/**
 * Decodes a PNG file or buffer; `channels` 3 drops alpha (default: 3). The size in the header is checked before
 * decoding: at most 16384 pixels a side and 4096 x 4096 pixels in all (MAX_EXEMPLAR_SIDE, MAX_EXEMPLAR_PIXELS).
 * Throws an Error naming the file when it is too large, truncated or corrupt.
 */
export function readPng(source: string | Uint8Array, channels: 3 | 4 = 3): PixelImage {
  const what = typeof source === 'string' ? source : 'PNG buffer';
  const bytes = typeof source === 'string' ? readFileSync(source) : source;
  return decodePng(bytes, channels, what);
}

/**
 * Decodes PNG bytes named `what` in errors, after `checkSize` accepted the size its header declares
 * (default: the exemplar limits). @internal
 */
export function decodePng(
  bytes: Uint8Array,
  channels: 3 | 4,
  what: string,
  checkSize: (what: string, width: number, height: number) => void = checkExemplarSize,
): PixelImage {
  const declared = pngSize(bytes, what);
  checkSize(what, declared.width, declared.height);
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new Error(
      `${what} is not a readable PNG image: the file is truncated or corrupt (${(e as Error).message})`,
    );
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
