import { serialization } from '@tensorflow/tfjs-core';

import { PaddedConv2D } from './paddedConv2D.js';
import { SmoothUpsample2D } from './smoothUpsample2D.js';

/**
 * Registers the model's custom layers with tfjs's serialization registry, so `tf.loadLayersModel` rebuilds a
 * saved TextureVae by itself. Idempotent (it asks the registry, not a flag of its own); TextureVae calls it
 * before building or loading a model.
 */
export function registerTextureVaeLayers(): void {
  const known = serialization.SerializationMap.getMap().classNameMap;
  if (!known[PaddedConv2D.className]) serialization.registerClass(PaddedConv2D);
  if (!known[SmoothUpsample2D.className]) serialization.registerClass(SmoothUpsample2D);
}
