import { MAX_TEXTURE_SIZE } from '../model/textureVaeConfig.js';
import { FLOAT16_MAX, fromFloat16Bits, toFloat16Bits } from './float16.js';
import type { LatentGrid } from './latentGrid.js';

/**
 * The swatch file: 4 magic bytes 'BVTS', the byte length of the header as a little-endian uint32, the header
 * as UTF-8 JSON, then the exemplar's latent grid as little-endian float16 values, row-major
 * [height, width, channels]. A 512-px photo with the default model is 64x64x8 cells: 64 KiB plus the header.
 */
export const SWATCH_MAGIC = 'BVTS';
/** The `format` field of the header. */
export const SWATCH_FORMAT = 'babylon-vae-textures swatch';
/** Version of the layout; bumped when the meaning of a field changes. */
export const SWATCH_VERSION = 1;
/** Longest header accepted, so a corrupt length cannot make a reader allocate or parse much. */
export const MAX_SWATCH_HEADER_BYTES = 64 * 1024;

/** Synthesis settings saved with a swatch, so a file samples the same grids whatever the defaults become. */
export interface SwatchSynthesis {
  readonly method: 'quilt';
  /** Patch side in latent cells, overlap included. */
  readonly patchSize: number;
  /** Random candidate patches tried per block. */
  readonly candidates: number;
}

/** Everything a swatch file holds. */
export interface SwatchContents {
  /** The model the swatch was made with: its config.name and textureVaeConfigHash(config). */
  readonly model: { readonly name: string; readonly configHash: string };
  readonly stride: number;
  /** The exemplar's latent grid (values representable in float16). */
  readonly latent: LatentGrid;
  /** The exemplar wraps seamlessly, so patches may wrap around its edges. */
  readonly tileable: boolean;
  /** Size in pixels of the exemplar image as given. */
  readonly source: { readonly width: number; readonly height: number };
  readonly synthesis: SwatchSynthesis;
  /** A short name ('bricks'), or null. */
  readonly name: string | null;
}

/** Allowed ranges, shared by the reader and the Swatch class. */
export const SWATCH_LIMITS = Object.freeze({
  strides: Object.freeze([2, 4, 8, 16, 32]),
  maxChannels: 64,
  minPatchSize: 2,
  maxPatchSize: 64,
  maxCandidates: 4096,
  maxNameLength: 64,
});

function fail(what: string): never {
  throw new Error(`not a valid swatch file: ${what}`);
}

function integerIn(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function objectField(header: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = header[key];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail(`header field '${key}' must be an object, got ${JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

/** Bytes of a swatch file for `contents` (header + float16 grid). */
export function encodeSwatch(contents: SwatchContents): Uint8Array {
  const { latent } = contents;
  const header = {
    format: SWATCH_FORMAT,
    version: SWATCH_VERSION,
    name: contents.name,
    model: { name: contents.model.name, configHash: contents.model.configHash },
    stride: contents.stride,
    grid: { height: latent.height, width: latent.width, channels: latent.channels },
    dtype: 'float16',
    tileable: contents.tileable,
    source: { width: contents.source.width, height: contents.source.height },
    synthesis: { ...contents.synthesis },
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const bytes = new Uint8Array(8 + json.length + latent.data.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 4; i++) bytes[i] = SWATCH_MAGIC.charCodeAt(i);
  view.setUint32(4, json.length, true);
  bytes.set(json, 8);
  for (let i = 0, o = 8 + json.length; i < latent.data.length; i++, o += 2) {
    const v = latent.data[i];
    if (!Number.isFinite(v) || Math.abs(v) > FLOAT16_MAX) {
      throw new Error(
        `swatch latent values must be finite and within +-${FLOAT16_MAX}, got ${v} at index ${i}`,
      );
    }
    view.setUint16(o, toFloat16Bits(v), true);
  }
  return bytes;
}

/**
 * Reads and validates a swatch file: the magic, the header length against the byte count, every header field
 * against its allowed range, and the byte count the grid needs, all before the grid is allocated. Throws an
 * Error that names what is wrong and what is allowed.
 */
export function decodeSwatch(bytes: Uint8Array): SwatchContents {
  if (!(bytes instanceof Uint8Array)) fail('expected bytes (a Uint8Array)');
  if (bytes.length < 8) fail(`it holds ${bytes.length} bytes, fewer than the 8 of its fixed start`);
  const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (magic !== SWATCH_MAGIC)
    fail(`it must start with '${SWATCH_MAGIC}', starts with ${JSON.stringify(magic)}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(4, true);
  if (headerLength < 2 || headerLength > MAX_SWATCH_HEADER_BYTES) {
    fail(`header length must be from 2 to ${MAX_SWATCH_HEADER_BYTES} bytes, got ${headerLength}`);
  }
  if (8 + headerLength > bytes.length) {
    fail(`truncated: the header needs ${headerLength} bytes, only ${bytes.length - 8} follow`);
  }
  let header: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)),
    );
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not an object');
    header = parsed as Record<string, unknown>;
  } catch (e) {
    fail(`its header is not a JSON object (${(e as Error).message})`);
  }
  if (header.format !== SWATCH_FORMAT) {
    fail(`header format must be '${SWATCH_FORMAT}', got ${JSON.stringify(header.format)}`);
  }
  if (header.version !== SWATCH_VERSION) {
    fail(`version must be ${SWATCH_VERSION} (this package's), got ${JSON.stringify(header.version)}`);
  }
  const name = header.name ?? null;
  if (
    name !== null &&
    (typeof name !== 'string' || name.length < 1 || name.length > SWATCH_LIMITS.maxNameLength)
  ) {
    fail(
      `name must be null or a string of 1 to ${SWATCH_LIMITS.maxNameLength} characters, got ${JSON.stringify(name)}`,
    );
  }
  const model = objectField(header, 'model');
  if (typeof model.name !== 'string' || model.name.length < 1 || model.name.length > 64) {
    fail(`model.name must be a string of 1 to 64 characters, got ${JSON.stringify(model.name)}`);
  }
  if (typeof model.configHash !== 'string' || !/^[0-9a-f]{16}$/.test(model.configHash)) {
    fail(`model.configHash must be 16 lowercase hex digits, got ${JSON.stringify(model.configHash)}`);
  }
  const stride = header.stride;
  if (typeof stride !== 'number' || !SWATCH_LIMITS.strides.includes(stride)) {
    fail(`stride must be one of ${SWATCH_LIMITS.strides.join(', ')}, got ${JSON.stringify(stride)}`);
  }
  const grid = objectField(header, 'grid');
  const maxCells = MAX_TEXTURE_SIZE / stride;
  const height = integerIn(grid.height, 'grid.height', 1, maxCells);
  const width = integerIn(grid.width, 'grid.width', 1, maxCells);
  const channels = integerIn(grid.channels, 'grid.channels', 1, SWATCH_LIMITS.maxChannels);
  if (header.dtype !== 'float16') fail(`dtype must be 'float16', got ${JSON.stringify(header.dtype)}`);
  if (typeof header.tileable !== 'boolean')
    fail(`tileable must be true or false, got ${JSON.stringify(header.tileable)}`);
  const source = objectField(header, 'source');
  const sourceWidth = integerIn(source.width, 'source.width', 1, MAX_TEXTURE_SIZE);
  const sourceHeight = integerIn(source.height, 'source.height', 1, MAX_TEXTURE_SIZE);
  const synthesis = objectField(header, 'synthesis');
  if (synthesis.method !== 'quilt')
    fail(`synthesis.method must be 'quilt', got ${JSON.stringify(synthesis.method)}`);
  const patchSize = integerIn(
    synthesis.patchSize,
    'synthesis.patchSize',
    SWATCH_LIMITS.minPatchSize,
    SWATCH_LIMITS.maxPatchSize,
  );
  const candidates = integerIn(synthesis.candidates, 'synthesis.candidates', 1, SWATCH_LIMITS.maxCandidates);

  const values = height * width * channels;
  const expected = 8 + headerLength + values * 2;
  if (bytes.length !== expected) {
    const why = bytes.length < expected ? 'truncated' : 'longer than its header says';
    fail(
      `${why}: a ${height}x${width}x${channels} float16 grid after a ${headerLength}-byte header makes ${expected} bytes, got ${bytes.length}`,
    );
  }
  const data = new Float32Array(values);
  for (let i = 0, o = 8 + headerLength; i < values; i++, o += 2) {
    const v = fromFloat16Bits(view.getUint16(o, true));
    if (!Number.isFinite(v)) fail(`latent value ${i} is ${v}; values must be finite`);
    data[i] = v;
  }
  return {
    model: { name: model.name, configHash: model.configHash },
    stride,
    latent: { data, height, width, channels },
    tileable: header.tileable,
    source: { width: sourceWidth, height: sourceHeight },
    synthesis: { method: 'quilt', patchSize, candidates },
    name: name as string | null,
  };
}
