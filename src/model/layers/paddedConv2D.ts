import {
  pad as padTensor,
  type serialization,
  type Tensor,
  type Tensor1D,
  type Tensor4D,
  tidy,
} from '@tensorflow/tfjs-core';
import { initializers, type LayerVariable, layers } from '@tensorflow/tfjs-layers';

import { circularPad } from '../ops/circularPad.js';
import { conv2dBiasActivation } from '../ops/conv.js';

/** Activations that every tfjs backend (cpu, wasm, webgl) runs natively, forward and backward. */
export type PaddedConv2DActivation = 'linear' | 'relu' | 'leakyRelu' | 'sigmoid';
export type PaddedConv2DPadding = 'circular' | 'zeros';

type LayerArgs = NonNullable<ConstructorParameters<typeof layers.Layer>[0]>;

export interface PaddedConv2DArgs extends LayerArgs {
  filters: number;
  /** Square kernel side (default: 3). */
  kernelSize?: number;
  /** (default: 1) */
  strides?: number;
  /** 'circular' wraps the borders, making the layer equivariant to circular shifts (default: 'circular'). */
  padding?: PaddedConv2DPadding;
  /** (default: 'linear'); 'leakyRelu' uses slope 0.2. */
  activation?: PaddedConv2DActivation;
}

const LEAKY_SLOPE = 0.2;

/**
 * A square 2D convolution with bias and activation that pads explicitly, then convolves 'valid' with bias and
 * activation fused into the convolution (`conv2dBiasActivation`: one pass instead of three on the WebGL backend). With 'circular' padding the output of a stack of these layers wraps seamlessly on
 * both axes, which is what makes decoded textures tileable. Output size: ceil(input / strides).
 */
export class PaddedConv2D extends layers.Layer {
  static className = 'PaddedConv2D';

  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: PaddedConv2DPadding;
  readonly activation: PaddedConv2DActivation;
  private _kernel: LayerVariable | null = null;
  private _bias: LayerVariable | null = null;

  constructor(args: PaddedConv2DArgs) {
    super(args);
    this.filters = args.filters;
    this.kernelSize = args.kernelSize ?? 3;
    this.strides = args.strides ?? 1;
    this.padding = args.padding ?? 'circular';
    this.activation = args.activation ?? 'linear';
    for (const [key, value] of [
      ['filters', this.filters],
      ['kernelSize', this.kernelSize],
      ['strides', this.strides],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new Error(`PaddedConv2D ${key} must be a positive integer, got ${value}`);
      }
    }
    if (this.padding !== 'circular' && this.padding !== 'zeros') {
      throw new Error(`PaddedConv2D padding must be 'circular' or 'zeros', got '${this.padding}'`);
    }
    if (!['linear', 'relu', 'leakyRelu', 'sigmoid'].includes(this.activation)) {
      throw new Error(
        `PaddedConv2D activation must be 'linear', 'relu', 'leakyRelu' or 'sigmoid', got '${this.activation}'`,
      );
    }
  }

  override build(inputShape: (number | null)[] | (number | null)[][]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as (number | null)[];
    const inChannels = shape[shape.length - 1];
    if (inChannels == null) throw new Error('PaddedConv2D needs a known channel count in its input shape');
    const k = this.kernelSize;
    this._kernel = this.addWeight(
      'kernel',
      [k, k, inChannels, this.filters],
      'float32',
      initializers.heNormal({}),
    );
    this._bias = this.addWeight('bias', [this.filters], 'float32', initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: (number | null)[] | (number | null)[][]): (number | null)[] {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as (number | null)[];
    const side = (n: number | null) => (n == null ? null : Math.ceil(n / this.strides));
    return [shape[0], side(shape[1]), side(shape[2]), this.filters];
  }

  override call(inputs: Tensor | Tensor[], _kwargs: Record<string, unknown>): Tensor {
    return tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as Tensor4D;
      if (!this._kernel || !this._bias) throw new Error('PaddedConv2D was called before it was built');
      // The total padding k - 1 keeps 'same' sizes; for even kernels the extra cell goes after, as in TF.
      const before = Math.floor((this.kernelSize - 1) / 2);
      const after = this.kernelSize - 1 - before;
      const padded =
        this.padding === 'circular'
          ? circularPad(x, before, after)
          : padTensor(x, [
              [0, 0],
              [before, after],
              [before, after],
              [0, 0],
            ]);
      return conv2dBiasActivation(
        padded,
        this._kernel.read() as Tensor4D,
        this._bias.read() as Tensor1D,
        this.strides,
        'valid',
        this.activation,
        LEAKY_SLOPE,
      );
    });
  }

  override getConfig(): serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      activation: this.activation,
    };
  }
}
