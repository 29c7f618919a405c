import type { Material } from '@babylonjs/core/Materials/material.js';
import type { MaterialDefines } from '@babylonjs/core/Materials/materialDefines.js';
import { MaterialPluginBase } from '@babylonjs/core/Materials/materialPluginBase.js';
import { ShaderLanguage } from '@babylonjs/core/Materials/shaderLanguage.js';
import type { AbstractMesh } from '@babylonjs/core/Meshes/abstractMesh.js';
import { RegisterClass } from '@babylonjs/core/Misc/typeStore.js';
import type { Scene } from '@babylonjs/core/scene.js';

/** Name under which the plugin registers on a material (`material.pluginManager.getPlugin(...)`). */
export const ATLAS_UV_PLUGIN_NAME = 'AtlasUv';

/** Thin instance buffer kind the plugin reads: vec4 (u0, v0, u1 - u0, v1 - v0) per instance. */
export const ATLAS_RECT_KIND = 'atlasRect';

/**
 * Remaps a mesh's first UV set per instance into an atlas tile: `uv' = atlasRect.xy + uv * atlasRect.zw`,
 * with `atlasRect` a per-instance vertex attribute (thin instance buffer 'atlasRect', 4 floats), so thin
 * instances sharing one material each show their own tile. The remap runs in the vertex shader (it is affine,
 * so it interpolates exactly) before the texture matrices, and so applies to every texture of the material that
 * uses UV1. Meshes without the buffer render unchanged. Works with Standard and PBR materials, GLSL and WGSL.
 */
export class AtlasUvMaterialPlugin extends MaterialPluginBase {
  private _isEnabled = true;

  /** Turns the remap on or off (default: true). */
  get isEnabled(): boolean {
    return this._isEnabled;
  }
  set isEnabled(value: boolean) {
    if (this._isEnabled === value) return;
    this._isEnabled = value;
    this.markAllDefinesAsDirty();
  }

  constructor(material: Material) {
    super(material, ATLAS_UV_PLUGIN_NAME, 150, { ATLASUV: false });
    this._enable(true);
  }

  private _appliesTo(mesh: AbstractMesh): boolean {
    return this._isEnabled && mesh.isVerticesDataPresent(ATLAS_RECT_KIND);
  }

  override isCompatible(shaderLanguage: ShaderLanguage): boolean {
    return shaderLanguage === ShaderLanguage.GLSL || shaderLanguage === ShaderLanguage.WGSL;
  }

  override prepareDefines(defines: MaterialDefines, _scene: Scene, mesh: AbstractMesh): void {
    defines.ATLASUV = this._appliesTo(mesh);
  }

  override getAttributes(attributes: string[], _scene: Scene, mesh: AbstractMesh): void {
    if (this._appliesTo(mesh)) attributes.push(ATLAS_RECT_KIND);
  }

  override getClassName(): string {
    return 'AtlasUvMaterialPlugin';
  }

  override getCustomCode(
    shaderType: string,
    shaderLanguage: ShaderLanguage = ShaderLanguage.GLSL,
  ): Record<string, string> | null {
    if (shaderType !== 'vertex') return null;
    if (shaderLanguage === ShaderLanguage.WGSL) {
      return {
        CUSTOM_VERTEX_DEFINITIONS: `#ifdef ATLASUV\nattribute ${ATLAS_RECT_KIND}: vec4f;\n#endif\n`,
        CUSTOM_VERTEX_UPDATE_POSITION: `#if defined(ATLASUV) && defined(UV1)\nuvUpdated = vertexInputs.${ATLAS_RECT_KIND}.xy + uvUpdated * vertexInputs.${ATLAS_RECT_KIND}.zw;\n#endif\n`,
      };
    }
    return {
      CUSTOM_VERTEX_DEFINITIONS: `#ifdef ATLASUV\nattribute vec4 ${ATLAS_RECT_KIND};\n#endif\n`,
      CUSTOM_VERTEX_UPDATE_POSITION: `#if defined(ATLASUV) && defined(UV1)\nuvUpdated = ${ATLAS_RECT_KIND}.xy + uvUpdated * ${ATLAS_RECT_KIND}.zw;\n#endif\n`,
    };
  }
}

/** Registers the class for Babylon's serializer; idempotent. */
export function registerAtlasUvMaterialPlugin(): void {
  RegisterClass('BABYLON.AtlasUvMaterialPlugin', AtlasUvMaterialPlugin);
}
