import {
  loadPretrained,
  PRETRAINED_MODEL_IDS,
  type PretrainedModelId,
} from '../model/pretrained/pretrained.js';
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

const loading = new Map<string, Promise<TextureVae>>();

/**
 * The model an option names: a TextureVae as is; a string as the model registered under that id, else the
 * pretrained model of that id (`'default'`), loaded once, registered under its id and shared afterwards.
 * Rejects with the registered and pretrained ids when the string names neither.
 */
export function resolveVaeModel(model: TextureVae | string): Promise<TextureVae> {
  if (typeof model !== 'string') return Promise.resolve(model);
  const registered = getVaeModel(model);
  if (registered) return Promise.resolve(registered);
  if (!(PRETRAINED_MODEL_IDS as readonly string[]).includes(model)) {
    const known = [...new Set([...models.keys(), ...PRETRAINED_MODEL_IDS])].join(', ');
    return Promise.reject(new Error(`no VAE model '${model}'; registered or pretrained ids: ${known}`));
  }
  let pending = loading.get(model);
  if (!pending) {
    pending = loadPretrained(model as PretrainedModelId).then(
      (loaded) => {
        loading.delete(model);
        registerVaeModel(model, loaded);
        return loaded;
      },
      (error: unknown) => {
        loading.delete(model);
        throw error;
      },
    );
    loading.set(model, pending);
  }
  return pending;
}
