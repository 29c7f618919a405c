import { PBRMaterial } from '@babylonjs/core/Materials/PBR/pbrMaterial.js';
import { StandardMaterial } from '@babylonjs/core/Materials/standardMaterial.js';
import type { Scene } from '@babylonjs/core/scene.js';
import type { Swatch } from '../latent/swatch.js';
import { type PretrainedSwatches, pretrainedSwatch } from '../model/pretrained/pretrained.js';
import { VaeMaterialPlugin } from './vaeMaterialPlugin.js';
import type { VaeMaterialSourceOptions } from './vaeMaterialSource.js';

/** Options of createVaeMaterial. */
export interface CreateVaeMaterialOptions extends Omit<VaeMaterialSourceOptions, 'swatch'> {
  /** Babylon material type (default: 'pbr'). */
  type?: 'pbr' | 'standard';
  /** Material name (default: 'vaeMaterial'). */
  name?: string;
  /**
   * The material's look: a Swatch made for `model`, or the name of one in `swatches` ('bricks', 'moss', ...).
   * A swatch or a `latent` is required; there is no default look (default: none).
   */
  swatch?: Swatch | string;
  /** Swatches to pick a `swatch` name from: `await loadPretrainedSwatches()` for the embedded model's (default: none). */
  swatches?: PretrainedSwatches;
  /** PBR roughness / metallic, or Standard specular strength (defaults: 0.85, 0, 0.1). */
  roughness?: number;
  metallic?: number;
}

/**
 * A ready VAE material in one line: a PBRMaterial (or StandardMaterial) whose albedo is decoded by `model`.
 * Reach its runtime controls with `VaeMaterialPlugin.get(material)` (resample, similar, morphTo, animate).
 * The first texture appears as soon as it is decoded; `VaeMaterialPlugin.get(material).whenReadyAsync()`
 * resolves then (its errors go to the plugin's onErrorObservable).
 */
export function createVaeMaterial(
  scene: Scene,
  options: CreateVaeMaterialOptions,
): PBRMaterial | StandardMaterial {
  const type = options?.type ?? 'pbr';
  if (type !== 'pbr' && type !== 'standard')
    throw new Error(`type must be 'pbr' or 'standard', got ${String(type)}`);
  const swatch = typeof options.swatch === 'string' ? namedSwatch(options) : options.swatch;
  const name = options.name ?? 'vaeMaterial';
  const material = type === 'pbr' ? new PBRMaterial(name, scene) : new StandardMaterial(name, scene);
  if (material instanceof PBRMaterial) {
    material.roughness = options.roughness ?? 0.85;
    material.metallic = options.metallic ?? 0;
  } else {
    material.specularColor.setAll(0.1);
  }
  const plugin = new VaeMaterialPlugin(material);
  let drawn: Promise<void>;
  try {
    drawn = plugin.setSource({ ...options, swatch });
  } catch (e) {
    material.dispose();
    throw e;
  }
  drawn.catch((e: Error) => plugin.onErrorObservable.notifyObservers(e));
  return material;
}

function namedSwatch(options: CreateVaeMaterialOptions): Swatch {
  const name = options.swatch as string;
  if (!options.swatches) {
    throw new Error(
      `swatch '${name}' is a name: pass options.swatches (await loadPretrainedSwatches()) to pick it from, or a Swatch`,
    );
  }
  return pretrainedSwatch(options.swatches, name);
}
