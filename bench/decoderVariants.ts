/**
 * The embedded decoder run layer by layer with other op choices than its layers make, for
 * bench/decodeThroughput.ts: the unfused ops PaddedConv2D used before (conv2d, then bias and activation as
 * two more passes), circular padding as one gather per axis, and zero padding inside the convolution (not
 * tileable: the cost of a decoder with no padding op at all, a bound on what any padding change can win).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { layers } from '@tensorflow/tfjs-layers';
import { PaddedConv2D } from '../src/model/layers/paddedConv2D.ts';
import { circularPad } from '../src/model/ops/circularPad.ts';
import { conv2dBiasActivation } from '../src/model/ops/conv.ts';
import type { TextureVae } from '../src/model/textureVae.ts';

export const decoderVariants = ['model', 'unfused', 'gatherPad', 'convZeroPad'] as const;
export type DecoderVariant = (typeof decoderVariants)[number];

export const variantLabels: Record<DecoderVariant, string> = {
  model: "the model's layers: circular padding as slices + concats, fused conv2d + bias + activation",
  unfused: 'slices + concats, conv2d, add bias, activation (the layers before fusing)',
  gatherPad: 'circular padding as one gather per axis, fused conv2d',
  convZeroPad: "zero padding inside the fused conv2d ('same'; not tileable: padding cost bound only)",
};

/** Circular padding as one gather per axis (forward only: its gradient needs a kernel WASM lacks). */
function gatherPad(x: tf.Tensor4D, before: number, after: number): tf.Tensor4D {
  let y = x;
  for (const axis of [1, 2] as const) {
    const size = y.shape[axis];
    const indices = Int32Array.from({ length: size + before + after }, (_, i) => (i - before + size) % size);
    y = tf.gather(y, tf.tensor1d(indices, 'int32'), axis) as tf.Tensor4D;
  }
  return y;
}

function activate(y: tf.Tensor4D, activation: string): tf.Tensor4D {
  switch (activation) {
    case 'relu':
      return tf.relu(y);
    case 'leakyRelu':
      return tf.leakyRelu(y, 0.2);
    case 'sigmoid':
      return tf.sigmoid(y);
    default:
      return y;
  }
}

function conv(layer: PaddedConv2D, x: tf.Tensor4D, variant: DecoderVariant): tf.Tensor4D {
  const [kernel, bias] = layer.getWeights() as [tf.Tensor4D, tf.Tensor1D];
  const before = Math.floor((layer.kernelSize - 1) / 2);
  const after = layer.kernelSize - 1 - before;
  const fused = (padded: tf.Tensor4D, pad: 'valid' | 'same') =>
    conv2dBiasActivation(padded, kernel, bias, layer.strides, pad, layer.activation, 0.2);
  switch (variant) {
    case 'unfused':
      return activate(
        tf.add(tf.conv2d(circularPad(x, before, after), kernel, layer.strides, 'valid'), bias),
        layer.activation,
      );
    case 'gatherPad':
      return fused(gatherPad(x, before, after), 'valid');
    case 'convZeroPad':
      return fused(x, 'same');
    default:
      return fused(circularPad(x, before, after), 'valid');
  }
}

/** Decodes latents [B, h, w, C] in one pass with the op choices of `variant`. The caller owns the result. */
export function decodeVariant(model: TextureVae, z: tf.Tensor4D, variant: DecoderVariant): tf.Tensor4D {
  return tf.tidy(() => {
    if (variant === 'model') return model.decodeTensors(z);
    const decoder = (model as unknown as { _decoder: { layers: layers.Layer[] } })._decoder;
    let x = z;
    for (const layer of decoder.layers) {
      if (layer.getClassName() === 'InputLayer') continue;
      x = layer instanceof PaddedConv2D ? conv(layer, x, variant) : (layer.apply(x) as tf.Tensor4D);
    }
    return x;
  });
}
