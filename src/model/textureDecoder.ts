import type { Tensor4D } from '@tensorflow/tfjs-core';
import type { TextureVaeConfig } from './textureVaeConfig.js';

/**
 * What the rest of the package needs from a model to turn latent grids into pixels: atlas baking, the
 * textures and the GPU bridge take this, not a whole TextureVae. `TextureVae` implements it; a test may pass
 * any object of the same shape. The architecture stays in one place: a TextureVae answers `decodePassBytes`
 * from the layer specs of its config (textureVaeLayerSpecs), so callers never rebuild stage sizes themselves.
 */
export interface TextureDecoder {
  /** The model id (`config.name`), written into atlas manifests and swatches. */
  readonly name: string;
  /** Output pixels per latent cell along each axis; every decoded side is a multiple of it. */
  readonly stride: number;
  /** Channels of a latent cell. */
  readonly latentChannels: number;
  /** 3 for RGB, 4 for RGBA. */
  readonly outputChannels: 3 | 4;
  /** Decoded textures wrap seamlessly on both axes (circular padding in every convolution). */
  readonly tileable: boolean;
  /**
   * The whole architecture, when there is one (a TextureVae): swatches are then checked against the very
   * model they were made with, not only its stride and channels.
   */
  readonly config?: Readonly<TextureVaeConfig>;
  /**
   * [B, h, w, latentChannels] -> [B, h * stride, w * stride, outputChannels] in [0, 1]; the caller owns the
   * result. `memoryBudget` bounds the activations of one decoder pass (a TextureVae splits larger decodes).
   */
  decodeTensors(latents: Tensor4D, options?: { memoryBudget?: number }): Tensor4D;
  /** Estimated peak bytes of one decoder pass over a [batch, height, width] latent grid. */
  decodePassBytes(batch: number, height: number, width: number): number;
}
