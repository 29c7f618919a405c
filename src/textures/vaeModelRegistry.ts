import { Swatch } from '../latent/swatch.js';
import {
  loadPretrained,
  loadPretrainedSwatches,
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

/** Model id -> swatch name -> swatch; null prototypes, so only registered names are keys. */
const swatches = new Map<string, Record<string, Swatch>>();

/**
 * Makes swatches findable by model id and name, so a serialized VaeProceduralTexture or VAE material that
 * was drawn from one of them is bound to it again when loaded (`registerVaeSwatches('default', await
 * loadPretrainedSwatches())`). Adds to, and replaces by name, what was registered for `modelId` before.
 */
export function registerVaeSwatches(modelId: string, named: Readonly<Record<string, Swatch>>): void {
  if (typeof modelId !== 'string' || modelId.length === 0)
    throw new Error(`VAE model id must be a non-empty string, got ${modelId}`);
  if (named === null || typeof named !== 'object') {
    throw new Error(`swatches must be an object of name -> Swatch, got ${named}`);
  }
  const entries = Object.keys(named).map((name) => [name, named[name]] as const);
  for (const [name, swatch] of entries) {
    if (!(swatch instanceof Swatch)) throw new Error(`swatches.${name} must be a Swatch, got ${swatch}`);
  }
  const record = swatches.get(modelId) ?? (Object.create(null) as Record<string, Swatch>);
  for (const [name, swatch] of entries) record[name] = swatch;
  swatches.set(modelId, record);
}

/** The swatch registered as `name` for the model `modelId` (own keys only), or undefined. */
export function getVaeSwatch(modelId: string, name: string): Swatch | undefined {
  const record = swatches.get(modelId);
  return record && typeof name === 'string' && Object.hasOwn(record, name) ? record[name] : undefined;
}

/** The name under which `swatch` is registered for `modelId`, or null. */
export function registeredSwatchName(modelId: string, swatch: Swatch): string | null {
  const record = swatches.get(modelId);
  if (!record) return null;
  for (const name of Object.keys(record)) if (record[name] === swatch) return name;
  return null;
}

const loadingSwatches = new Map<string, Promise<void>>();

/**
 * The swatch an option names: a Swatch as is; a string as the swatch registered under that name for
 * `modelId`, else, for a pretrained model id, the swatches shipped with it (loaded once and registered).
 */
export async function resolveVaeSwatch(modelId: string, swatch: Swatch | string): Promise<Swatch> {
  if (typeof swatch !== 'string') return swatch;
  const registered = getVaeSwatch(modelId, swatch);
  if (registered) return registered;
  if ((PRETRAINED_MODEL_IDS as readonly string[]).includes(modelId)) {
    // Loaded and registered once, however many textures ask at the same time.
    let shipped = loadingSwatches.get(modelId);
    if (!shipped) {
      shipped = loadPretrainedSwatches(modelId as PretrainedModelId).then((loaded) => {
        for (const name of Object.keys(loaded)) {
          if (!getVaeSwatch(modelId, name)) registerVaeSwatches(modelId, { [name]: loaded[name] });
        }
      });
      shipped.catch(() => loadingSwatches.delete(modelId));
      loadingSwatches.set(modelId, shipped);
    }
    await shipped;
    const found = getVaeSwatch(modelId, swatch);
    if (found) return found;
  }
  const known = Object.keys(swatches.get(modelId) ?? {});
  throw new Error(
    `no swatch '${swatch}' for model '${modelId}'; known: ${known.length > 0 ? known.join(', ') : 'none'} (registerVaeSwatches)`,
  );
}

/**
 * The model and swatch a serialized texture or material names, looked up in the registries; `where` names the
 * caller in the errors. Throws when either is not registered, or the swatch is not a name.
 */
export function serializedSource(
  where: string,
  modelId: string,
  swatchName: unknown,
): { model: TextureVae; swatch: Swatch | undefined } {
  const model = getVaeModel(modelId);
  if (!model) {
    throw new Error(
      `no TextureVae registered under '${modelId}': call registerVaeModel('${modelId}', model) before loading`,
    );
  }
  if (swatchName === undefined) return { model, swatch: undefined };
  if (typeof swatchName !== 'string') {
    throw new Error(`${where}: swatch must be a swatch name, got ${JSON.stringify(swatchName)}`);
  }
  const swatch = getVaeSwatch(modelId, swatchName);
  if (!swatch) {
    throw new Error(
      `no swatch '${swatchName}' registered for model '${modelId}': call registerVaeSwatches('${modelId}', swatches) before loading`,
    );
  }
  return { model, swatch };
}
