import * as tf from '@tensorflow/tfjs-core';

import type { AtlasDecoder } from '../../src/atlas/bakeAtlas.js';
import type { LatentGrid } from '../../src/latent/latentGrid.js';

/**
 * A stand-in decoder for atlas tests: each latent cell becomes a stride x stride block of its first
 * `outputChannels` values (nearest upsampling), so tests choose the pixels through the latents. Records the
 * batch shape of every call.
 */
export function fakeDecoder(
  options: { stride?: number; latentChannels?: number; tileable?: boolean; outputChannels?: 3 | 4 } = {},
): AtlasDecoder & { calls: number[][]; latents: Float32Array[] } {
  const stride = options.stride ?? 8;
  const latentChannels = options.latentChannels ?? 4;
  const outputChannels = options.outputChannels ?? 3;
  const calls: number[][] = [];
  const latents: Float32Array[] = [];
  return {
    config: { name: 'fake', tileable: options.tileable ?? true, decoderWidths: [8, 8, 8, 8], outputChannels },
    stride,
    latentChannels,
    calls,
    latents,
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
