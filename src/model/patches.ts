import { type Tensor4D, tensor4d } from '@tensorflow/tfjs-core';

import { SeededRandom } from '../latent/random.js';
import type { Exemplar } from './exemplars.js';
import { MAX_TEXTURE_SIZE } from './textureVaeConfig.js';

export interface PatchOptions {
  /** Side of the square patches in pixels (default: 64). */
  size?: number;
  /**
   * The exemplars are treated as tileable: crops may cross the image edge and continue on the opposite side,
   * as a tileable model sees its input; without it every crop lies inside the image, which must then be at least `size` on each side
   * (default: true).
   */
  tileable?: boolean;
  /** Random horizontal and vertical flips (default: true). */
  flips?: boolean;
  /** Random 90-degree turns (default: true). */
  turns?: boolean;
}

type ResolvedPatchOptions = Readonly<Required<PatchOptions>>;

/**
 * Random square crops of exemplar images, reproducible for a seed: the same seed and calls give the same
 * batches on every platform and backend, because crops are cut on the CPU from SeededRandom draws.
 * Each patch picks an exemplar uniformly (every image weighs the same, whatever its size), a position, and,
 * when enabled, a flip on each axis and a number of quarter turns.
 */
export class PatchSampler {
  readonly options: ResolvedPatchOptions;
  private readonly _random: SeededRandom;
  private readonly _exemplars: readonly Exemplar[];
  private readonly _channels: 3 | 4;

  constructor(exemplars: readonly Exemplar[], options: PatchOptions = {}, seed = 0) {
    this.options = Object.freeze({
      size: options.size ?? 64,
      tileable: options.tileable ?? true,
      flips: options.flips ?? true,
      turns: options.turns ?? true,
    });
    const { size, tileable } = this.options;
    if (!Number.isInteger(size) || size < 1 || size > MAX_TEXTURE_SIZE) {
      throw new Error(`patch size must be an integer from 1 to ${MAX_TEXTURE_SIZE}, got ${size}`);
    }
    if (!Array.isArray(exemplars) || exemplars.length === 0) {
      throw new Error('at least one exemplar image is needed, got none');
    }
    this._channels = exemplars[0].channels;
    exemplars.forEach((e, i) => {
      if (e.channels !== this._channels) {
        throw new Error(
          `exemplar ${i} has ${e.channels} channels, exemplar 0 has ${this._channels}; all must match`,
        );
      }
      if (e.data.length !== e.width * e.height * e.channels) {
        throw new Error(`exemplar ${i} must hold width*height*channels values, got ${e.data.length}`);
      }
      if (!tileable && (e.width < size || e.height < size)) {
        throw new Error(
          `exemplar ${i} is ${e.width} x ${e.height}, smaller than the ${size}-pixel patches; use a larger image, a smaller patch size, or tileable: true`,
        );
      }
    });
    this._exemplars = exemplars;
    this._random = new SeededRandom(seed);
  }

  get channels(): 3 | 4 {
    return this._channels;
  }

  /** A batch [count, size, size, channels] of floats in [0, 1]; the caller owns (and disposes) it. */
  sample(count: number): Tensor4D {
    if (!Number.isInteger(count) || count < 1 || count > 4096) {
      throw new Error(`patch count must be an integer from 1 to 4096, got ${count}`);
    }
    const { size, tileable, flips, turns } = this.options;
    const c = this._channels;
    const out = new Float32Array(count * size * size * c);
    const random = this._random;
    for (let b = 0; b < count; b++) {
      const image = this._exemplars[random.int(this._exemplars.length)];
      const { width, height, data } = image;
      const x0 = tileable ? random.int(width) : random.int(width - size + 1);
      const y0 = tileable ? random.int(height) : random.int(height - size + 1);
      const flipX = flips && random.next() < 0.5;
      const flipY = flips && random.next() < 0.5;
      const turn = turns ? random.int(4) : 0;
      const base = b * size * size * c;
      for (let i = 0; i < size; i++) {
        for (let j = 0; j < size; j++) {
          // (i, j) is the output pixel; (u, v) its row and column inside the crop.
          let u = i;
          let v = j;
          for (let t = 0; t < turn; t++) {
            const r = v;
            v = size - 1 - u;
            u = r;
          }
          if (flipY) u = size - 1 - u;
          if (flipX) v = size - 1 - v;
          let sy = y0 + u;
          let sx = x0 + v;
          if (sy >= height) sy %= height;
          if (sx >= width) sx %= width;
          const from = (sy * width + sx) * c;
          const to = base + (i * size + j) * c;
          for (let k = 0; k < c; k++) out[to + k] = data[from + k];
        }
      }
    }
    return tensor4d(out, [count, size, size, c]);
  }
}
