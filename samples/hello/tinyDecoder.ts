import {
  conv2d,
  image,
  keep,
  relu,
  sigmoid,
  type Tensor,
  type Tensor4D,
  tanh,
  tensor4d,
  tidy,
} from '@tensorflow/tfjs-core';
import { SeededRandom } from '../../src/index.js';

/** Latent grid of the tiny decoder: 8x8 cells of 8 channels. */
export const tinyLatentShape = [8, 8, 8] as const;

/** Output size of the tiny decoder: 8x8 cells, 32 pixels each way. */
export const tinyOutputSize = 256;

/**
 * A small fixed decoder with seeded random weights, standing in for a trained VAE decoder: latent grid ->
 * 3x3 conv -> x4 bilinear upsample -> 3x3 conv -> x8 upsample -> 1x1 conv -> sigmoid RGB.
 * The caller owns the tensors `decode` returns; weights are made on first use, on the backend active then.
 */
export class TinyDecoder {
  private readonly _seed: number;
  private _weights: Tensor4D[] | null = null;

  constructor(seed = 1) {
    this._seed = seed;
  }

  /** A seeded standard-normal latent of shape `tinyLatentShape`. */
  static latent(seed: number): Float32Array {
    const [h, w, c] = tinyLatentShape;
    return Float32Array.from(new SeededRandom(seed).gaussianArray(h * w * c));
  }

  /** Decodes one latent to a `[1, 256, 256, 3]` image in [0, 1]; synchronous tfjs ops only. */
  decode(latent: Float32Array): Tensor4D {
    const [k1, k2, k3] = this._ensureWeights();
    return tidy(() => {
      const [h, w, c] = tinyLatentShape;
      let x: Tensor4D = tensor4d(latent, [1, h, w, c]);
      x = relu(conv2d(x, k1 as Tensor4D, 1, 'same'));
      x = image.resizeBilinear(x, [h * 4, w * 4]);
      x = tanh(conv2d(x, k2 as Tensor4D, 1, 'same'));
      x = image.resizeBilinear(x, [tinyOutputSize, tinyOutputSize]);
      return sigmoid(conv2d(x, k3 as Tensor4D, 1, 'same'));
    });
  }

  private _ensureWeights(): Tensor4D[] {
    if (this._weights) return this._weights;
    const rng = new SeededRandom(this._seed);
    const kernel = (size: number, inC: number, outC: number, scale: number) =>
      // Kept: the first decode may run inside the caller's tidy.
      keep(tensor4d(rng.gaussianArray(size * size * inC * outC, scale), [size, size, inC, outC]));
    this._weights = [kernel(3, 8, 16, 0.35), kernel(3, 16, 16, 0.3), kernel(1, 16, 3, 0.7)];
    return this._weights;
  }

  dispose(): void {
    for (const t of (this._weights ?? []) as Tensor[]) t.dispose();
    this._weights = null;
  }
}
