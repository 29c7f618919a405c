import type { Material } from '@babylonjs/core/Materials/material.js';
import { PBRBaseMaterial } from '@babylonjs/core/Materials/PBR/pbrBaseMaterial.js';
import type { BaseTexture } from '@babylonjs/core/Materials/Textures/baseTexture.js';
import type { Scene } from '@babylonjs/core/scene.js';
import type { Nullable } from '@babylonjs/core/types.js';
import { VaeMaterialPlugin } from './vaeMaterialPlugin.js';

type ColourSlot = 'albedoTexture' | 'diffuseTexture';

/** A Texture's UV scale (the VAE textures are Textures; the plugin types them as BaseTexture). */
type Scaled = BaseTexture & { uScale: number; vScale: number };

interface Swapped {
  material: Material;
  plugin: VaeMaterialPlugin;
  slot: ColourSlot;
  texture: Scaled;
  scale: [number, number];
  kept: [number, number];
}

/**
 * Runs `exportScene` (a glTF, GLB or .babylon export) while every VAE material of `scene` holds its current
 * VAE texture in its own base colour slot (PBR `albedoTexture`, Standard `diffuseTexture`), with the
 * material's UV repeat as the texture's scale; then puts every material back, even when the export fails.
 * Exporters see a plain textured material, read the texture's pixels and write them as an image, so what they
 * write shows what the scene shows. The VAE plugin is switched off meanwhile, so frames drawn during the
 * export look the same.
 *
 * `exportScene` is any function, so the package does not depend on an exporter:
 * `await exportWithVaeTextures(scene, () => GLTF2Export.GLBAsync(scene, 'scene'))`.
 *
 * Throws before changing anything when a VAE material cannot be shown by its colour slot alone: the slot
 * already holds a texture (the plugin multiplies the two), or the plugin's `level` is not 1.
 */
export async function exportWithVaeTextures<T>(scene: Scene, exportScene: () => Promise<T> | T): Promise<T> {
  if (typeof exportScene !== 'function') {
    throw new Error(`exportWithVaeTextures needs an export function, got ${String(exportScene)}`);
  }
  const swapped: Swapped[] = [];
  for (const material of scene.materials) {
    const plugin = VaeMaterialPlugin.get(material);
    if (!plugin?.isEnabled || !plugin.texture) continue;
    const slot: ColourSlot = material instanceof PBRBaseMaterial ? 'albedoTexture' : 'diffuseTexture';
    const slots = material as unknown as Record<ColourSlot, Nullable<BaseTexture>>;
    if (slots[slot]) {
      throw new Error(
        `exportWithVaeTextures: material '${material.name}' has its own ${slot}; a VAE material exports only with an empty ${slot}`,
      );
    }
    if (plugin.level !== 1) {
      throw new Error(
        `exportWithVaeTextures: material '${material.name}' has VAE level ${plugin.level}; only level 1 exports as a texture`,
      );
    }
    const texture = plugin.texture as Scaled;
    swapped.push({
      material,
      plugin,
      slot,
      texture,
      scale: [...plugin.uvScale],
      kept: [texture.uScale, texture.vScale],
    });
  }
  for (const { material, plugin, slot, texture, scale } of swapped) {
    plugin.isEnabled = false;
    texture.uScale = scale[0];
    texture.vScale = scale[1];
    (material as unknown as Record<ColourSlot, Nullable<BaseTexture>>)[slot] = texture;
  }
  try {
    return await exportScene();
  } finally {
    for (const { material, plugin, slot, texture, kept } of swapped) {
      (material as unknown as Record<ColourSlot, Nullable<BaseTexture>>)[slot] = null;
      texture.uScale = kept[0];
      texture.vScale = kept[1];
      plugin.isEnabled = true;
    }
  }
}
