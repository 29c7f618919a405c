import { PBRMaterial } from '@babylonjs/core/Materials/PBR/pbrMaterial.js';
import { StandardMaterial } from '@babylonjs/core/Materials/standardMaterial.js';
import type { Scene } from '@babylonjs/core/scene.js';
import type { LatentGrid } from '../latent/latentGrid.js';
import { resizeLatent } from '../latent/latentOps.js';
import { type MaterialLatents, materialLatent } from '../model/pretrained/pretrained.js';
import { VaeMaterialPlugin, type VaeMaterialSourceOptions } from './vaeMaterialPlugin.js';

/** Options of createVaeMaterial. */
export interface CreateVaeMaterialOptions extends VaeMaterialSourceOptions {
  /** Babylon material type (default: 'pbr'). */
  type?: 'pbr' | 'standard';
  /** Material name (default: 'vaeMaterial'). */
  name?: string;
  /**
   * A named material: a key of `materials` (from loadPretrainedLatents), resized to the texture's latent grid.
   * Takes precedence over `seed`; `latent` takes precedence over both.
   */
  material?: string;
  /** Named latents to pick `material` from. */
  materials?: MaterialLatents;
  /** PBR roughness / metallic, or Standard specular strength (defaults: 0.85, 0, 0.1). */
  roughness?: number;
  metallic?: number;
}

/**
 * A ready VAE material in one line: a PBRMaterial (or StandardMaterial) whose albedo is decoded by `model`.
 * Reach its runtime controls with `VaeMaterialPlugin.get(material)` (resample, similar, morphTo, animate).
 * The first texture appears as soon as it is decoded; `VaeMaterialPlugin.get(material).whenReady` resolves then.
 */
export function createVaeMaterial(
  scene: Scene,
  options: CreateVaeMaterialOptions,
): PBRMaterial | StandardMaterial {
  const type = options?.type ?? 'pbr';
  if (type !== 'pbr' && type !== 'standard')
    throw new Error(`type must be 'pbr' or 'standard', got ${String(type)}`);
  const latent = options.latent ?? namedLatent(options);
  const name = options.name ?? 'vaeMaterial';
  const material = type === 'pbr' ? new PBRMaterial(name, scene) : new StandardMaterial(name, scene);
  if (material instanceof PBRMaterial) {
    material.roughness = options.roughness ?? 0.85;
    material.metallic = options.metallic ?? 0;
  } else {
    material.specularColor.setAll(0.1);
  }
  const plugin = new VaeMaterialPlugin(material);
  try {
    plugin.whenReady = plugin.setSource({ ...options, latent });
  } catch (e) {
    material.dispose();
    throw e;
  }
  plugin.whenReady.catch((e: Error) => plugin.onErrorObservable.notifyObservers(e));
  return material;
}

function namedLatent(options: CreateVaeMaterialOptions): LatentGrid | undefined {
  if (options.material === undefined) return undefined;
  if (!options.materials) {
    throw new Error(`unknown material '${options.material}'; allowed: none (pass options.materials)`);
  }
  const found = materialLatent(options.materials, options.material);
  const size = options.size ?? 256;
  const grid = options.model.latentSize(size, size);
  return resizeLatent(found, grid.height, grid.width);
}
