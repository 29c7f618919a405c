import { fused, type Tensor1D, type Tensor4D, conv2d as tfConv2d } from '@tensorflow/tfjs-core';

/**
 * The plain 2D convolution of the model (NHWC, dilation 1): every convolution of TextureVae goes through this
 * file (this, or {@link conv2dBiasActivation} for the layers), so a backend-specific implementation or a custom
 * gradient can be swapped in at a single place.
 * The model always pads explicitly (circularly or with zeros) and calls this with `pad` 'valid'.
 * The caller owns the result.
 */
export function conv2d(
  x: Tensor4D,
  filter: Tensor4D,
  strides: [number, number] | number,
  pad: 'valid' | 'same' | number,
): Tensor4D {
  return tfConv2d(x, filter, strides, pad);
}

/** Activations {@link conv2dBiasActivation} applies. */
export type ConvActivation = 'linear' | 'relu' | 'leakyRelu' | 'sigmoid';

/**
 * activation(conv2d(x, filter) + bias) as tfjs's fused convolution: one kernel on backends that fuse (WebGL,
 * WASM, CPU) instead of three passes over the output. While gradients are recorded tfjs fuses only the linear
 * case and otherwise runs conv2d, add and the activation as separate ops (tfjs-core's shouldFuse), so training
 * gets the same gradients as from the unfused ops. `leakySlope` is the leaky ReLU's negative slope.
 * The caller owns the result.
 */
export function conv2dBiasActivation(
  x: Tensor4D,
  filter: Tensor4D,
  bias: Tensor1D,
  strides: [number, number] | number,
  pad: 'valid' | 'same' | number,
  activation: ConvActivation,
  leakySlope: number,
): Tensor4D {
  return fused.conv2d({
    x,
    filter,
    strides,
    pad,
    bias,
    activation: activation === 'leakyRelu' ? 'leakyrelu' : activation,
    leakyreluAlpha: leakySlope,
  });
}
