import type { TextureVae } from '../model/textureVae.js';

const models = new Map<string, TextureVae>();

/**
 * Makes `model` findable by `id`, so serialized scenes that reference it can be loaded again
 * (`VaeProceduralTexture.Parse`). VaeProceduralTexture uses model.config.name as the id unless told otherwise.
 * Registering another model under the same id replaces it.
 */
export function registerVaeModel(id: string, model: TextureVae): void {
  if (typeof id !== 'string' || id.length === 0)
    throw new Error(`VAE model id must be a non-empty string, got ${id}`);
  models.set(id, model);
}

/** The model registered under `id`, or undefined. Disposed models are forgotten. */
export function getVaeModel(id: string): TextureVae | undefined {
  const model = models.get(id);
  if (model?.isDisposed) {
    models.delete(id);
    return undefined;
  }
  return model;
}

/** Forgets the model registered under `id`. */
export function unregisterVaeModel(id: string): void {
  models.delete(id);
}
