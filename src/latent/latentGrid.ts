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
