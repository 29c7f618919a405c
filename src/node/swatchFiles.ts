import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';

import { Swatch, type SwatchModel } from '../latent/swatch.js';
import { MAX_SWATCH_HEADER_BYTES } from '../latent/swatchFormat.js';
import { MAX_TEXTURE_SIZE } from '../model/textureVaeConfig.js';

/** Largest swatch file accepted: the header plus a 4096-px exemplar of 64 channels at stride 2, as float16. */
const MAX_SWATCH_FILE_BYTES = 8 + MAX_SWATCH_HEADER_BYTES + (MAX_TEXTURE_SIZE / 2) ** 2 * 64 * 2;

/**
 * Reads a swatch file written by writeSwatchFile (or `babylon-vae-textures swatch`) and checks it was made for
 * `model`; every size in it is checked against the file's length before the grid is allocated.
 */
export function readSwatchFile(path: string, model: SwatchModel): Swatch {
  if (!existsSync(path)) throw new Error(`swatch file ${path} does not exist`);
  const stat = statSync(path);
  if (!stat.isFile()) throw new Error(`${path} is not a file`);
  if (stat.size > MAX_SWATCH_FILE_BYTES) {
    throw new Error(`${path} holds ${stat.size} bytes; a swatch file has at most ${MAX_SWATCH_FILE_BYTES}`);
  }
  try {
    return Swatch.fromBytes(new Uint8Array(readFileSync(path)), model);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

/** Writes a swatch file (JSON header + float16 grid, see Swatch.toBytes); overwrites `path`. */
export function writeSwatchFile(path: string, swatch: Swatch): void {
  writeFileSync(path, swatch.toBytes());
}
