import { existsSync, readFileSync, statSync } from 'node:fs';

import type { PixelImage } from '../model/pixelImage.js';
import { readPng } from './png.js';

/** npm package that decodes JPEG files when it is installed (it is optional). */
const JPEG_DECODER = 'jpeg-js';

function isPng(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47
  );
}

function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

interface JpegDecoder {
  decode(
    data: Uint8Array,
    options: { useTArray: true; formatAsRGBA: true },
  ): {
    width: number;
    height: number;
    data: Uint8Array;
  };
}

async function decodeJpeg(path: string, bytes: Uint8Array, channels: 3 | 4): Promise<PixelImage> {
  let decoder: JpegDecoder;
  try {
    // A variable specifier keeps the optional package out of type checking and bundling.
    const name = JPEG_DECODER;
    const module = (await import(name)) as JpegDecoder & { default?: JpegDecoder };
    decoder = typeof module.decode === 'function' ? module : (module.default as JpegDecoder);
  } catch {
    throw new Error(
      `${path} is a JPEG image; reading JPEG needs the optional package '${JPEG_DECODER}' (npm install ${JPEG_DECODER}), or convert it to PNG`,
    );
  }
  let rgba: { width: number; height: number; data: Uint8Array };
  try {
    rgba = decoder.decode(bytes, { useTArray: true, formatAsRGBA: true });
  } catch (e) {
    throw new Error(`${path} is not a readable JPEG image: ${(e as Error).message}`);
  }
  const { width, height } = rgba;
  const data = new Uint8Array(width * height * channels);
  for (let i = 0, n = width * height; i < n; i++) {
    for (let c = 0; c < channels; c++) data[i * channels + c] = rgba.data[i * 4 + c];
  }
  return { data, width, height, channels };
}

/**
 * Reads a PNG or JPEG file (recognised by its first bytes, not its name) as 8-bit pixels; `channels` 3 drops
 * alpha (default: 3). JPEG needs the optional 'jpeg-js' package.
 */
export async function readExemplarFile(path: string, channels: 3 | 4 = 3): Promise<PixelImage> {
  if (!existsSync(path)) throw new Error(`image file ${path} does not exist`);
  if (!statSync(path).isFile()) throw new Error(`${path} is not a file`);
  const bytes = new Uint8Array(readFileSync(path));
  if (isPng(bytes)) return readPng(bytes, channels);
  if (isJpeg(bytes)) return decodeJpeg(path, bytes, channels);
  throw new Error(`${path} is neither a PNG nor a JPEG image`);
}
