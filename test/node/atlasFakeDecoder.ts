import * as tf from '@tensorflow/tfjs-core';

import type { LatentGrid } from '../../src/latent/latentGrid.js';
import type { TextureDecoder } from '../../src/model/textureDecoder.js';
import { decoderPassBytes } from '../../src/model/textureVaeConfig.js';

const FAKE_WIDTHS: Record<number, number[]> = {
  2: [8, 8],
  4: [8, 8, 8],
  8: [8, 8, 8, 8],
  16: [8, 8, 8, 8, 8],
};

/**
 * A stand-in decoder for atlas tests: each latent cell becomes a stride x stride block of its first
 * `outputChannels` values (nearest upsampling), so tests choose the pixels through the latents. Records the
 * batch shape of every call.
 */
export function fakeDecoder(
  options: { stride?: number; latentChannels?: number; tileable?: boolean; outputChannels?: 3 | 4 } = {},
): TextureDecoder & { calls: number[][]; latents: Float32Array[] } {
  const stride = options.stride ?? 8;
  const latentChannels = options.latentChannels ?? 4;
  const outputChannels = options.outputChannels ?? 3;
  const calls: number[][] = [];
  const latents: Float32Array[] = [];
  return {
    name: 'fake',
    tileable: options.tileable ?? true,
    outputChannels,
    stride,
    latentChannels,
    calls,
    latents,
    // The estimate of a small real decoder of this stride and channel count.
    decodePassBytes: (batch, height, width) =>
      decoderPassBytes(
        { stride, latentChannels, outputChannels, decoderWidths: FAKE_WIDTHS[stride] },
        batch,
        height,
        width,
      ),
    decodeTensors(batch: tf.Tensor4D): tf.Tensor4D {
      calls.push([...batch.shape]);
      latents.push(batch.dataSync() as Float32Array);
      return tf.tidy(() => {
        const [b, h, w] = batch.shape;
        const colours = tf.slice(batch, [0, 0, 0, 0], [b, h, w, outputChannels]);
        return tf.image.resizeNearestNeighbor(colours, [h * stride, w * stride]);
      });
    },
  };
}

/** A latent grid whose every cell holds `colour` in its first channels (zeros elsewhere). */
export function constantLatent(side: number, channels: number, colour: number[]): LatentGrid {
  const data = new Float32Array(side * side * channels);
  for (let i = 0; i < side * side; i++) data.set(colour, i * channels);
  return { data, height: side, width: side, channels };
}
