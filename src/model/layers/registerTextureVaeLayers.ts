import { serialization } from '@tensorflow/tfjs-core';

import { PaddedConv2D } from './paddedConv2D.js';

/**
 * Registers the model's custom layers with tfjs's serialization registry, so `tf.loadLayersModel` rebuilds a
 * saved TextureVae by itself. Idempotent (it asks the registry, not a flag of its own); TextureVae calls it
 * before building or loading a model.
 */
export function registerTextureVaeLayers(): void {
  if (serialization.SerializationMap.getMap().classNameMap[PaddedConv2D.className]) return;
  serialization.registerClass(PaddedConv2D);
}
