import { type Tensor4D, tensor4d } from '@tensorflow/tfjs-core';

/**
 * One spatial latent: row-major [height, width, channels] floats. A model with stride s decodes it to
 * (height * s) x (width * s) pixels.
 */
export interface LatentGrid {
  readonly data: Float32Array;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

/**
 * Throws an Error naming the problem unless `latent` is a well-formed grid (positive integer sizes, data of
 * height * width * channels finite floats) with `channels` channels when given.
 */
export function validateLatent(latent: LatentGrid, channels?: number): void {
  if (latent === null || typeof latent !== 'object') {
    throw new Error(`latent must be a LatentGrid {data, height, width, channels}, got ${latent}`);
  }
  const { data, height, width } = latent;
  for (const [key, value] of [
    ['height', height],
    ['width', width],
    ['channels', latent.channels],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`latent ${key} must be a positive integer, got ${value}`);
    }
  }
  if (channels !== undefined && latent.channels !== channels) {
    throw new Error(
      `latent must have ${channels} channels (the model's latentChannels), got ${latent.channels}`,
    );
  }
  if (!(data instanceof Float32Array)) throw new Error('latent data must be a Float32Array');
  const expected = height * width * latent.channels;
  if (data.length !== expected) {
    throw new Error(
      `latent data must hold height*width*channels = ${height}*${width}*${latent.channels} = ${expected} values, got ${data.length}`,
    );
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new Error(`latent values must be finite numbers, got ${data[i]} at index ${i}`);
    }
  }
}

/** The grid as a [1, height, width, channels] tensor; the caller owns it. */
export function latentToTensor(latent: LatentGrid): Tensor4D {
  validateLatent(latent);
  return tensor4d(latent.data, [1, latent.height, latent.width, latent.channels]);
}

/** A latent grid as JSON: its sizes and its values as a plain array (what `serialize()` methods store). */
export interface SerializedLatent {
  height: number;
  width: number;
  channels: number;
  data: number[];
}

/** The grid as JSON-ready {@link SerializedLatent}. */
export function serializeLatent(latent: LatentGrid): SerializedLatent {
  return {
    height: latent.height,
    width: latent.width,
    channels: latent.channels,
    data: Array.from(latent.data),
  };
}

/**
 * Rebuilds a grid from {@link SerializedLatent} JSON. The declared sizes are checked against `expected` (the grid
 * that the texture size and the model give) and the data length against them before any value is copied, so
 * a malformed or hostile object costs no allocation. Throws an Error that starts with `what`.
 */
export function parseLatent(
  value: unknown,
  expected: { readonly height: number; readonly width: number; readonly channels: number },
  what = 'serialized latent',
): LatentGrid {
  if (value === null || typeof value !== 'object') {
    throw new Error(
      `${what} must be an object {height, width, channels, data}, got ${value === null ? 'null' : typeof value}`,
    );
  }
  const { height, width, channels, data } = value as Record<string, unknown>;
  if (height !== expected.height || width !== expected.width || channels !== expected.channels) {
    const got = [height, width, channels].map((v) => (typeof v === 'number' ? v : typeof v)).join('x');
    throw new Error(
      `${what} must be ${expected.height}x${expected.width}x${expected.channels} (height x width x channels) for this size and model, got ${got}`,
    );
  }
  const length = expected.height * expected.width * expected.channels;
  if (!Array.isArray(data)) {
    throw new Error(
      `${what} data must be an array of ${length} numbers, got ${data === null ? 'null' : typeof data}`,
    );
  }
  if (data.length !== length) {
    throw new Error(`${what} data must hold height*width*channels = ${length} numbers, got ${data.length}`);
  }
  const values = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new Error(
        `${what} values must be finite numbers, got ${JSON.stringify(v) ?? String(v)} at index ${i}`,
      );
    }
    values[i] = v;
  }
  return { data: values, height: expected.height, width: expected.width, channels: expected.channels };
}
