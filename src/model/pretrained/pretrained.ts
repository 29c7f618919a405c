import { io } from '@tensorflow/tfjs-core';
import type { LatentGrid } from '../../latent/latentGrid.js';
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
  readonly materials: URL;
  readonly materialLatents: URL;
}

// Spelled out one by one: bundlers only emit assets for literal `new URL('...', import.meta.url)` calls.
const FILES: Record<PretrainedModelId, () => PretrainedFiles> = {
  default: () => ({
    model: new URL('./default/model.json', import.meta.url),
    weights: new URL('./default/weights.bin', import.meta.url),
    materials: new URL('./default/materials.json', import.meta.url),
    materialLatents: new URL('./default/materials.bin', import.meta.url),
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

/** Index of the named material latents shipped with a model. */
interface MaterialsIndex {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly materials: readonly { readonly name: string; readonly source: string }[];
}

/** Named material latents: each training exemplar encoded once, keyed by a short material name. */
export type MaterialLatents = Readonly<Record<string, LatentGrid>>;

/**
 * The named material latents shipped with a pretrained model (`latents.bricks`, `latents.moss`, ...):
 * each is the encoding of one training photo, a grid that decodes to a texture of that material.
 */
export async function loadPretrainedLatents(id: PretrainedModelId = 'default'): Promise<MaterialLatents> {
  const files = filesOf(id);
  const index = await readJson<MaterialsIndex>(files.materials);
  const floats = new Float32Array(await readAsset(files.materialLatents));
  const size = index.height * index.width * index.channels;
  if (floats.length !== size * index.materials.length) {
    throw new Error(
      `materials.bin must hold ${index.materials.length} latents of ${size} floats, got ${floats.length} floats`,
    );
  }
  // No prototype: a material named '__proto__' or 'toString' is an ordinary key.
  const latents: Record<string, LatentGrid> = Object.create(null);
  index.materials.forEach((m, i) => {
    latents[m.name] = Object.freeze({
      data: floats.slice(i * size, (i + 1) * size),
      height: index.height,
      width: index.width,
      channels: index.channels,
    });
  });
  return Object.freeze(latents);
}

/**
 * The latent of the material `name` in `materials`, looked up as an own key only (so '__proto__' or
 * 'toString' are unknown names, not Object's members). Throws an Error listing the allowed names.
 */
export function materialLatent(materials: MaterialLatents, name: string): LatentGrid {
  if (typeof name !== 'string' || !Object.hasOwn(materials, name)) {
    throw new Error(`unknown material '${String(name)}'; allowed: ${Object.keys(materials).join(', ')}`);
  }
  return materials[name];
}
