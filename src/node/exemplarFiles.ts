import { existsSync, readFileSync, statSync } from 'node:fs';

import { checkExemplarSize, MAX_EXEMPLAR_PIXELS } from '../model/exemplars.js';
import type { PixelImage } from '../model/pixelImage.js';
import { jpegSize } from './imageHeader.js';
import { decodePng } from './png.js';

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
    options: { useTArray: true; formatAsRGBA: true; maxResolutionInMP: number },
  ): {
    width: number;
    height: number;
    data: Uint8Array;
  };
}

async function decodeJpeg(path: string, bytes: Uint8Array, channels: 3 | 4): Promise<PixelImage> {
  const declared = jpegSize(bytes, path);
  checkExemplarSize(path, declared.width, declared.height);
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
    rgba = decoder.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      // The header was checked; this also bounds what the decoder itself allocates.
      maxResolutionInMP: Math.ceil(MAX_EXEMPLAR_PIXELS / 1e6),
    });
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
 * alpha (default: 3). JPEG needs the optional 'jpeg-js' package. The size in the file's header is checked
 * before decoding: at most 16384 pixels a side and 4096 x 4096 pixels in all (MAX_EXEMPLAR_SIDE,
 * MAX_EXEMPLAR_PIXELS). Throws an Error naming the file when it is too large, truncated or corrupt.
 */
export async function readExemplarFile(path: string, channels: 3 | 4 = 3): Promise<PixelImage> {
  if (!existsSync(path)) throw new Error(`image file ${path} does not exist`);
  if (!statSync(path).isFile()) throw new Error(`${path} is not a file`);
  const bytes = new Uint8Array(readFileSync(path));
  if (isPng(bytes)) return decodePng(bytes, channels, path);
  if (isJpeg(bytes)) return decodeJpeg(path, bytes, channels);
  throw new Error(`${path} is neither a PNG nor a JPEG image`);
}
