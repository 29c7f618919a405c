import type { Material } from '@babylonjs/core/Materials/material.js';
import type { Scene } from '@babylonjs/core/scene.js';
import type { LatentGrid, SerializedLatent } from '../latent/latentGrid.js';
import { parseLatent, serializeLatent } from '../latent/latentGrid.js';
import { checkSeed } from '../latent/random.js';
import type { Swatch } from '../latent/swatch.js';
import type { TextureVae } from '../model/textureVae.js';
import { checkModelAndLook } from '../textures/checkedLatent.js';
import { registeredSwatchName, serializedSource } from '../textures/vaeModelRegistry.js';
import { VaeProceduralTexture, type VaeProceduralTextureOptions } from '../textures/vaeProceduralTexture.js';
import { HeightNormalTexture } from './heightNormalTexture.js';

/**
 * How a VAE material draws its texture: the model, its swatch (the look) or a first latent, and the texture's
 * options. A swatch or a latent is required: the material never falls back to the model's prior.
 */
export interface VaeMaterialSourceOptions {
  /** The model that decodes the material's textures (required; not disposed by the material). */
  model: TextureVae;
  /** Id under which serialized materials find the model again (default: model.config.name). */
  modelId?: string;
  /** Texture size in pixels, a multiple of the model's stride (default: 256). */
  size?: number;
  /**
   * The material's look, made for `model`: the first latent is `swatch.sample({size, seed})`, and `resample`,
   * `similar` and the walk animation draw from it (default: none; then `latent` is required).
   */
  swatch?: Swatch;
  /** The first latent, a grid of model.latentSize(size, size) cells; takes precedence over the swatch's sample (default: none). */
  latent?: LatentGrid;
  /** Seed of the first swatch sample and of `resample()` without a seed, an integer from 0 to 2^32 - 1 (default: 0). */
  seed?: number;
  /** Strength of a normal map derived from the texture's luminance; 0 for none (default: 0). */
  normalStrength?: number;
  /** Babylon texture options passed to both VaeProceduralTextures (format, colour space, mipmaps...). */
  texture?: Omit<VaeProceduralTextureOptions, 'model' | 'modelId' | 'size' | 'latent' | 'seed' | 'swatch'>;
}

/** The options of a source once resolved; `seed` moves with `resample`. */
export interface ResolvedSourceOptions {
  size: number;
  seed: number;
  normalStrength: number;
  texture: NonNullable<VaeMaterialSourceOptions['texture']>;
}

/**
 * A source built and checked, not yet shown: the first texture (its constructor checked and copied the
 * latent, and started its decode) and the optional normal map. Nothing of the material changed yet.
 */
export interface BuiltSource {
  readonly model: TextureVae;
  readonly modelId: string;
  /** The material's look; a morph to a swatch makes that swatch the source's. */
  swatch: Swatch | null;
  readonly front: VaeProceduralTexture;
  readonly normal: HeightNormalTexture | null;
  readonly options: ResolvedSourceOptions;
}

/** The source part (`vae`) of a serialized VAE material. */
export interface SerializedVaeMaterialSource {
  modelId: string;
  /** Name of the swatch registered for the model (registerVaeSwatches); absent otherwise. */
  swatch?: string;
  size: number;
  seed: number;
  normalStrength: number;
  texture: ResolvedSourceOptions['texture'];
  latent: SerializedLatent;
}

/** Checks `options` and builds the first texture of a material's source; throws before the material changes. */
export function buildVaeMaterialSource(material: Material, options: VaeMaterialSourceOptions): BuiltSource {
  const { model, swatch } = checkModelAndLook(
    options,
    'VAE material source needs',
    'the TextureVae given to the VAE material',
  );
  const size = options.size ?? 256;
  const seed = checkSeed(options.seed ?? 0);
  const normalStrength = options.normalStrength ?? 0;
  const scene = material.getScene() as Scene;
  // The texture checks the size and the latent (or samples the swatch) once, for the whole material.
  const front = new VaeProceduralTexture(`${material.name}.vae0`, scene, {
    ...options.texture,
    model,
    modelId: options.modelId,
    size,
    swatch: swatch ?? undefined,
    seed,
    latent: options.latent,
  });
  let normal: HeightNormalTexture | null = null;
  try {
    if (normalStrength > 0) {
      normal = new HeightNormalTexture(`${material.name}.vaeNormal`, size, scene, front, normalStrength);
    }
  } catch (e) {
    front.dispose();
    throw e;
  }
  return {
    model,
    modelId: front.modelId,
    swatch,
    front,
    normal,
    options: { size, seed, normalStrength, texture: { ...options.texture } },
  };
}

/** Releases a built source that will not be shown. */
export function disposeBuiltSource(built: BuiltSource): void {
  built.normal?.dispose();
  built.front.dispose();
}

/** The serialized form of a source showing `latent`; a registered swatch is stored by name. */
export function serializeVaeMaterialSource(
  source: Pick<BuiltSource, 'modelId' | 'swatch' | 'options'>,
  latent: LatentGrid,
): SerializedVaeMaterialSource {
  const swatch = source.swatch ? registeredSwatchName(source.modelId, source.swatch) : null;
  return {
    modelId: source.modelId,
    ...(swatch !== null ? { swatch } : {}),
    size: source.options.size,
    seed: source.options.seed,
    normalStrength: source.options.normalStrength,
    texture: source.options.texture,
    latent: serializeLatent(latent),
  };
}

/**
 * The source options a serialized `vae` object stands for: its model and swatch from the registry, and its
 * latent checked against the grid the stored size gives before any value is copied.
 */
export function parseVaeMaterialSource(vae: unknown): VaeMaterialSourceOptions {
  const stored = vae as SerializedVaeMaterialSource;
  if (typeof vae !== 'object' || vae === null || typeof stored.modelId !== 'string') {
    throw new Error('VaeMaterialPlugin.parse: vae must be the object VaeMaterialPlugin.serialize() wrote');
  }
  const { model, swatch } = serializedSource('VaeMaterialPlugin.parse', stored.modelId, stored.swatch);
  let grid: { height: number; width: number };
  try {
    grid = model.latentSize(stored.size, stored.size);
  } catch (e) {
    throw new Error(`VaeMaterialPlugin.parse: size ${(e as Error).message.replace(/^width /, '')}`);
  }
  return {
    model,
    modelId: stored.modelId,
    swatch,
    size: stored.size,
    seed: stored.seed,
    normalStrength: stored.normalStrength,
    texture: stored.texture,
    latent: parseLatent(stored.latent, { ...grid, channels: model.latentChannels }),
  };
}
