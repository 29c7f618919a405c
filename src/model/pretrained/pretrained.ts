import { io } from '@tensorflow/tfjs-core';
import { Swatch } from '../../latent/swatch.js';
import { textureVaeConfigOf } from '../io.js';
import { requireBackend } from '../requireBackend.js';
import { TextureVae } from '../textureVae.js';

/** Ids of the models shipped inside the package. */
export const PRETRAINED_MODEL_IDS = ['default'] as const;
/** Id of a model shipped inside the package. */
export type PretrainedModelId = (typeof PRETRAINED_MODEL_IDS)[number];

/** Where the files of a shipped model live: bundlers (Vite, webpack 5, Rollup) emit them as assets. */
interface PretrainedFiles {
  readonly model: URL;
  readonly weights: URL;
  readonly swatchIndex: URL;
  readonly swatches: URL;
}

// Spelled out one by one: bundlers only emit assets for literal `new URL('...', import.meta.url)` calls.
const FILES: Record<PretrainedModelId, () => PretrainedFiles> = {
  default: () => ({
    model: new URL('./default/model.json', import.meta.url),
    weights: new URL('./default/weights.bin', import.meta.url),
    swatchIndex: new URL('./default/swatches.json', import.meta.url),
    swatches: new URL('./default/swatches.bin', import.meta.url),
  }),
};

function filesOf(id: string): PretrainedFiles {
  if (!(PRETRAINED_MODEL_IDS as readonly string[]).includes(id)) {
    throw new Error(`unknown pretrained model '${id}'; allowed: ${PRETRAINED_MODEL_IDS.join(', ')}`);
  }
  return FILES[id as PretrainedModelId]();
}

interface NodeFs {
  readFileSync(path: URL): Uint8Array;
}

/** Reads a packaged file: from disk under Node (file: URLs), else with fetch from the page's own origin. */
async function readAsset(url: URL): Promise<ArrayBuffer> {
  if (url.protocol === 'file:') {
    // process.getBuiltinModule keeps node:fs out of browser bundles.
    const fs = (
      globalThis as { process?: { getBuiltinModule?(id: string): unknown } }
    ).process?.getBuiltinModule?.('node:fs') as NodeFs | undefined;
    if (!fs) throw new Error(`cannot read ${url.href}: file URLs need Node.js 20.16 or later`);
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(url);
    } catch (e) {
      throw new Error(`pretrained model file is missing: ${url.href} (${(e as Error).message})`);
    }
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }
  const response = await fetch(url);
  if (!response.ok)
    throw new Error(`pretrained model file ${url.href} could not be loaded: HTTP ${response.status}`);
  return response.arrayBuffer();
}

async function readJson<T>(url: URL): Promise<T> {
  const text = new TextDecoder().decode(await readAsset(url));
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${url.href} is not valid JSON: ${(e as Error).message}`);
  }
}

/** A tf.io handler over a model.json and one weights file at explicit URLs (so hashed asset names work). */
function packagedHandler(files: PretrainedFiles): io.IOHandler {
  return {
    load: async () => {
      const modelJson = await readJson<io.ModelJSON>(files.model);
      return io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const paths = manifest.flatMap((group) => group.paths);
        if (paths.length !== 1) {
          throw new Error(
            `a packaged model has exactly one weights file, its manifest lists ${paths.length}`,
          );
        }
        return [io.getWeightSpecs(manifest), await readAsset(files.weights)];
      });
    },
  };
}

/**
 * Loads a model shipped inside the package, with no network access: the default model was trained on
 * CC0 material photos (see its MODEL_CARD.md). The caller owns the returned model and disposes it.
 */
export async function loadPretrained(id: PretrainedModelId = 'default'): Promise<TextureVae> {
  const files = filesOf(id);
  requireBackend('loadPretrained()');
  return TextureVae.load(packagedHandler(files));
}

/**
 * Names of the swatches shipped with each pretrained model, one per training photo (see its MODEL_CARD.md);
 * `npm run swatches` rebuilds them.
 */
const SWATCH_NAMES: Record<PretrainedModelId, readonly string[]> = {
  default: Object.freeze([
    'bricks',
    'concrete',
    'grass',
    'ground',
    'corrugatedMetal',
    'metal',
    'metalPlate',
    'moss',
    'cliff',
    'rock',
    'stone',
    'rust',
    'sand',
    'facadeTiles',
    'whiteTiles',
    'rosewood',
    'wood',
  ]),
};

/** Names of the swatches shipped with the pretrained model `id`, known without loading anything. */
export function pretrainedSwatchNames(id: PretrainedModelId = 'default'): readonly string[] {
  filesOf(id);
  return SWATCH_NAMES[id];
}

/** Swatches by name, as loadPretrainedSwatches returns them: own keys only, no prototype. */
export type PretrainedSwatches = Readonly<Record<string, Swatch>>;

/** swatches.json: the byte range of each swatch file inside swatches.bin. */
interface SwatchIndex {
  readonly swatches: readonly { readonly name: string; readonly offset: number; readonly length: number }[];
}

/**
 * The swatches shipped with a pretrained model, one per training photo, each made from the whole photo
 * (`swatches.bricks`, `swatches.moss`, ...; names in pretrainedSwatchNames). Each is checked against the
 * model's config, so they decode with `loadPretrained(id)`. The record has no prototype: only the shipped
 * names are keys. Loads no model and needs no tfjs backend.
 */
export async function loadPretrainedSwatches(id: PretrainedModelId = 'default'): Promise<PretrainedSwatches> {
  const files = filesOf(id);
  const [modelJson, index, bin] = await Promise.all([
    readJson<io.ModelJSON>(files.model),
    readJson<SwatchIndex>(files.swatchIndex),
    readAsset(files.swatches),
  ]);
  const model = { config: textureVaeConfigOf(modelJson) };
  const names = SWATCH_NAMES[id];
  const entries = Array.isArray(index?.swatches) ? index.swatches : [];
  if (entries.length !== names.length || entries.some((e, i) => e?.name !== names[i])) {
    throw new Error(
      `swatches.json of model '${id}' must list the swatches ${names.join(', ')}; rebuild them with 'npm run swatches'`,
    );
  }
  const bytes = new Uint8Array(bin);
  const swatches: Record<string, Swatch> = Object.create(null);
  for (const { name, offset, length } of entries) {
    if (
      !Number.isInteger(offset) ||
      !Number.isInteger(length) ||
      offset < 0 ||
      length < 8 ||
      offset + length > bytes.length
    ) {
      throw new Error(
        `swatch '${name}' lies outside swatches.bin (bytes ${offset} to ${offset + length} of ${bytes.length})`,
      );
    }
    try {
      swatches[name] = Swatch.fromBytes(bytes.subarray(offset, offset + length), model);
    } catch (e) {
      throw new Error(
        `swatch '${name}' of model '${id}': ${(e as Error).message} (rebuild the shipped swatches with 'npm run swatches')`,
      );
    }
  }
  return Object.freeze(swatches);
}

/**
 * The swatch `name` of `swatches`, looked up as an own key only (so '__proto__' or 'toString' are unknown
 * names, not Object's members). Throws an Error listing the allowed names.
 */
export function pretrainedSwatch(swatches: PretrainedSwatches, name: string): Swatch {
  if (
    typeof name !== 'string' ||
    swatches === null ||
    typeof swatches !== 'object' ||
    !Object.hasOwn(swatches, name)
  ) {
    const allowed = swatches && typeof swatches === 'object' ? Object.keys(swatches).join(', ') : 'none';
    throw new Error(`unknown swatch '${String(name)}'; allowed: ${allowed}`);
  }
  return swatches[name];
}
