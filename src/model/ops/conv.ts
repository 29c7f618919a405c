import { type Tensor4D, conv2d as tfConv2d } from '@tensorflow/tfjs-core';

/**
 * The one 2D convolution of the model (NHWC, dilation 1): every layer of TextureVae convolves through here,
 * so a backend-specific implementation or a custom gradient can be swapped in at a single place.
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
