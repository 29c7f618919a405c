import {
  add,
  dispose,
  leakyRelu,
  mul,
  type Tensor,
  type Tensor1D,
  type Tensor4D,
  tensor1d,
  tensor4d,
  tidy,
  type Variable,
  variable,
} from '@tensorflow/tfjs-core';

import { SeededRandom } from '../latent/random.js';
import { conv2d } from './ops/conv.js';

/**
 * A small PatchGAN critic for the adversarial term of training (see `adversarialWeight` in TrainOptions): it
 * scores every overlapping window of an image as photo-like (high) or decoded (low), so the decoder is asked
 * for detail that looks like the photos' rather than their blurred average. Not part of a saved TextureVae: it
 * exists only while training (the command line keeps it in the checkpoint folder so a resumed run continues
 * with it).
 *
 * Layers: per entry of `widths`, a 4x4 convolution of stride 2 with a leaky ReLU (slope 0.2), then a 3x3
 * convolution to one score per window; no padding, no normalisation. With the default widths [32, 64, 64] a
 * score sees a 38x38-pixel window and a 64x64 patch costs about 14 MMAC. Pixels in [0, 1] are mapped to
 * [-1, 1] first.
 */
export interface PatchDiscriminatorOptions {
  /** Widths of the strided layers, 1 to 4 entries from 1 to 256 (default: [32, 64, 64]). */
  readonly widths?: readonly number[];
  /** Image channels: 3 or 4 (default: 3). */
  readonly channels?: number;
  /** Seed of the initial weights, an integer from 0 to 2^32 - 1 (default: 0). */
  readonly seed?: number;
}

export const DEFAULT_DISCRIMINATOR_WIDTHS: readonly number[] = Object.freeze([32, 64, 64]);

const LEAKY_SLOPE = 0.2;

interface Layer {
  readonly kernel: Variable;
  readonly bias: Variable;
  readonly stride: number;
}

export class PatchDiscriminator {
  readonly widths: readonly number[];
  readonly channels: number;
  private readonly layers: Layer[];
  private disposed = false;

  constructor(options: PatchDiscriminatorOptions = {}) {
    const widths = options.widths ?? DEFAULT_DISCRIMINATOR_WIDTHS;
    if (
      !Array.isArray(widths) ||
      widths.length < 1 ||
      widths.length > 4 ||
      !widths.every((w) => Number.isInteger(w) && w >= 1 && w <= 256)
    ) {
      throw new Error(
        `discriminator widths must be 1 to 4 integers from 1 to 256, got ${JSON.stringify(widths)}`,
      );
    }
    const channels = options.channels ?? 3;
    if (channels !== 3 && channels !== 4) {
      throw new Error(`discriminator channels must be 3 or 4, got ${channels}`);
    }
    const rng = new SeededRandom(options.seed ?? 0);
    this.widths = Object.freeze([...widths]);
    this.channels = channels;
    const shapes = PatchDiscriminator.kernelShapes(this.widths, channels);
    this.layers = shapes.map((shape, i) => {
      const [k, , cin, cout] = shape;
      // He initialisation for the leaky ReLU layers, a small one for the score.
      const scale = i < shapes.length - 1 ? Math.sqrt(2 / (k * k * cin)) : 0.01;
      // Inside tidy, so the initial tensors go once the variables hold their values.
      return {
        kernel: tidy(() => variable(tensor4d(rng.gaussianArray(k * k * cin * cout, scale), shape), true)),
        bias: tidy(() => variable(tensor1d(new Float32Array(cout)), true)),
        stride: i < shapes.length - 1 ? 2 : 1,
      };
    });
  }

  /** Kernel shapes [k, k, in, out] of every layer, in order. */
  static kernelShapes(widths: readonly number[], channels: number): [number, number, number, number][] {
    const shapes: [number, number, number, number][] = [];
    let cin = channels;
    for (const w of widths) {
      shapes.push([4, 4, cin, w]);
      cin = w;
    }
    shapes.push([3, 3, cin, 1]);
    return shapes;
  }

  /** Smallest image side that leaves at least one score, for a critic of `depth` strided layers. */
  static minSideFor(depth: number): number {
    let side = 3;
    for (let i = 0; i < depth; i++) side = 2 * side + 2;
    return side;
  }

  /** Smallest image side that leaves at least one score. */
  get minSide(): number {
    return PatchDiscriminator.minSideFor(this.widths.length);
  }

  /** The trainable variables: kernel then bias of every layer, in order. */
  get variables(): Variable[] {
    this.assertLive();
    return this.layers.flatMap((l) => [l.kernel, l.bias]);
  }

  /** One score per window, [B, h, w, 1], of images [B, H, W, channels] in [0, 1]. The caller owns the result. */
  scores(images: Tensor4D): Tensor4D {
    this.assertLive();
    const [, h, w, c] = images.shape;
    if (c !== this.channels) {
      throw new Error(`the discriminator takes ${this.channels}-channel images, got ${c} channels`);
    }
    if (h < this.minSide || w < this.minSide) {
      throw new Error(
        `the discriminator needs images of at least ${this.minSide}x${this.minSide}, got ${w}x${h}`,
      );
    }
    return tidy(() => {
      let x = add(mul(images, 2), -1) as Tensor4D;
      this.layers.forEach((layer, i) => {
        x = add(
          conv2d(x, layer.kernel as Tensor4D, layer.stride, 'valid'),
          layer.bias as Tensor1D,
        ) as Tensor4D;
        if (i < this.layers.length - 1) x = leakyRelu(x, LEAKY_SLOPE);
      });
      return x;
    });
  }

  /** The shape of every weight, in `variables` (and getWeights) order: a file of weights can be checked first. */
  get weightShapes(): number[][] {
    return this.variables.map((v) => [...v.shape]);
  }

  /** Copies of every variable, in `variables` order; the caller owns them. */
  getWeights(): Tensor[] {
    return this.variables.map((v) => v.clone());
  }

  /** Replaces every variable with copies of `weights` (same order and shapes as getWeights). */
  setWeights(weights: readonly Tensor[]): void {
    const vars = this.variables;
    if (weights.length !== vars.length) {
      throw new Error(`the discriminator has ${vars.length} weights, got ${weights.length}`);
    }
    vars.forEach((v, i) => {
      if (weights[i].shape.join() !== v.shape.join()) {
        throw new Error(`discriminator weight ${i} must have shape [${v.shape}], got [${weights[i].shape}]`);
      }
    });
    vars.forEach((v, i) => {
      v.assign(weights[i]);
    });
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    dispose(this.layers.flatMap((l) => [l.kernel, l.bias]));
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('PatchDiscriminator has been disposed');
  }
}
