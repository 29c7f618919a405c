import type {
  AbstractEngine,
  AbstractMesh,
  BaseTexture,
  Material,
  MaterialDefines,
  Nullable,
  Scene,
  SubMesh,
  UniformBuffer,
} from '@babylonjs/core';
import {
  Material as BabylonMaterial,
  MaterialPluginBase,
  PBRBaseMaterial,
  RegisterClass,
  ShaderLanguage,
  StandardMaterial,
} from '@babylonjs/core';

/** Name under which the plugin registers on a material (`material.pluginManager.getPlugin(...)`). */
export const VAE_MATERIAL_PLUGIN_NAME = 'VaeMaterial';

/**
 * Samples a VAE texture as the albedo (PBR) or diffuse (Standard) colour of a material, cross-fading from
 * the previous texture to the current one, so a material never shows a frame without a texture while a
 * new decode is computed.
 *
 * The plugin only binds textures; `VaeMaterial` (see createVaeMaterial) drives it. Binding allocates
 * nothing: the uniform values live in one preallocated vec4.
 */
export class VaeMaterialPlugin extends MaterialPluginBase {
  private _texture: Nullable<BaseTexture> = null;
  private _previousTexture: Nullable<BaseTexture> = null;
  private _isEnabled = true;
  /** Weight of the current texture over the previous one, 0..1 (default: 1). */
  crossFade = 1;
  /** How much the VAE colour replaces the material's own colour, 0..1 (default: 1). */
  level = 1;
  /** Texture repeats across the mesh's UV range, U then V (default: 1, 1). */
  readonly uvScale: [number, number] = [1, 1];

  /** The texture shown at crossFade 1. */
  get texture(): Nullable<BaseTexture> {
    return this._texture;
  }
  set texture(value: Nullable<BaseTexture>) {
    if (this._texture === value) return;
    this._texture = value;
    this._markTexturesDirty();
  }

  /** The texture shown at crossFade 0; the current one when null. */
  get previousTexture(): Nullable<BaseTexture> {
    return this._previousTexture;
  }
  set previousTexture(value: Nullable<BaseTexture>) {
    if (this._previousTexture === value) return;
    this._previousTexture = value;
    this._markTexturesDirty();
  }

  /** Turns the plugin's shader code on or off (default: true). */
  get isEnabled(): boolean {
    return this._isEnabled;
  }
  set isEnabled(value: boolean) {
    if (this._isEnabled === value) return;
    this._isEnabled = value;
    this._markTexturesDirty();
    this._enable(value);
  }

  private readonly _isPbr: boolean;

  constructor(material: Material) {
    if (!(material instanceof PBRBaseMaterial) && !(material instanceof StandardMaterial)) {
      throw new Error(
        `VaeMaterialPlugin attaches to a PBRMaterial or a StandardMaterial, got ${material?.getClassName?.() ?? material}`,
      );
    }
    super(material, VAE_MATERIAL_PLUGIN_NAME, 200, { VAE_TEXTURE: false, VAE_GAMMA: false }, true, true);
    this._isPbr = material instanceof PBRBaseMaterial;
  }

  private _markTexturesDirty(): void {
    this._material.markAsDirty(BabylonMaterial.TextureDirtyFlag);
  }

  override getClassName(): string {
    return 'VaeMaterialPlugin';
  }

  override isCompatible(shaderLanguage: ShaderLanguage): boolean {
    return shaderLanguage === ShaderLanguage.GLSL || shaderLanguage === ShaderLanguage.WGSL;
  }

  override isReadyForSubMesh(): boolean {
    if (!this._isEnabled || !this._texture) return true;
    return this._texture.isReady() && (!this._previousTexture || this._previousTexture.isReady());
  }

  override prepareDefinesBeforeAttributes(
    defines: MaterialDefines,
    _scene: Scene,
    _mesh: AbstractMesh,
  ): void {
    const active = this._isEnabled && !!this._texture;
    defines.VAE_TEXTURE = active;
    // PBR works in linear space; Standard lights sRGB colours directly.
    defines.VAE_GAMMA = active && this._isPbr && this._texture?.gammaSpace !== false;
    if (active) {
      defines._needUVs = true;
      defines.MAINUV1 = true;
    }
  }

  override getUniforms(shaderLanguage: ShaderLanguage = ShaderLanguage.GLSL): {
    ubo: { name: string; size: number; type: string }[];
    fragment?: string;
  } {
    return {
      ubo: [{ name: 'vaeInfos', size: 4, type: 'vec4' }],
      fragment:
        shaderLanguage === ShaderLanguage.GLSL ? '#ifdef VAE_TEXTURE\nuniform vec4 vaeInfos;\n#endif\n' : '',
    };
  }

  override getSamplers(samplers: string[]): void {
    samplers.push('vaeSampler', 'vaePrevSampler');
  }

  override bindForSubMesh(
    uniformBuffer: UniformBuffer,
    scene: Scene,
    _engine: AbstractEngine,
    _subMesh: SubMesh,
  ): void {
    if (!this._isEnabled || !this._texture) return;
    uniformBuffer.updateFloat4(
      'vaeInfos',
      Math.min(1, Math.max(0, this.crossFade)),
      this.level,
      this.uvScale[0],
      this.uvScale[1],
    );
    if (scene.texturesEnabled) {
      uniformBuffer.setTexture('vaeSampler', this._texture);
      uniformBuffer.setTexture('vaePrevSampler', this._previousTexture ?? this._texture);
    }
  }

  override hasTexture(texture: BaseTexture): boolean {
    return texture === this._texture || texture === this._previousTexture;
  }

  override getActiveTextures(activeTextures: BaseTexture[]): void {
    if (this._texture) activeTextures.push(this._texture);
    if (this._previousTexture) activeTextures.push(this._previousTexture);
  }

  override getCustomCode(shaderType: string, shaderLanguage: ShaderLanguage = ShaderLanguage.GLSL) {
    if (shaderType !== 'fragment') return null;
    const wgsl = shaderLanguage === ShaderLanguage.WGSL;
    const uv = wgsl ? 'fragmentInputs.vMainUV1' : 'vMainUV1';
    const apply = this._isPbr
      ? `#ifdef VAE_TEXTURE\nsurfaceAlbedo *= vaeAlbedo(${uv});\n#endif\n`
      : `#ifdef VAE_TEXTURE\nbaseColor = vec4${wgsl ? 'f' : ''}(baseColor.rgb * vaeAlbedo(${uv}), baseColor.a);\n#endif\n`;
    return {
      CUSTOM_FRAGMENT_DEFINITIONS: wgsl ? WGSL_DEFINITIONS : GLSL_DEFINITIONS,
      [this._isPbr ? 'CUSTOM_FRAGMENT_UPDATE_ALBEDO' : 'CUSTOM_FRAGMENT_UPDATE_DIFFUSE']: apply,
    };
  }

  override serialize(): any {
    const o = super.serialize();
    o.crossFade = this.crossFade;
    o.level = this.level;
    o.uvScale = [...this.uvScale];
    o.isEnabled = this._isEnabled;
    return o;
  }

  override parse(source: any, scene: Scene, rootUrl: string): void {
    super.parse(source, scene, rootUrl);
    if (typeof source.crossFade === 'number') this.crossFade = source.crossFade;
    if (typeof source.level === 'number') this.level = source.level;
    if (Array.isArray(source.uvScale)) {
      this.uvScale[0] = Number(source.uvScale[0]);
      this.uvScale[1] = Number(source.uvScale[1]);
    }
    if (typeof source.isEnabled === 'boolean') this.isEnabled = source.isEnabled;
  }

  override dispose(forceDisposeTextures?: boolean): void {
    if (forceDisposeTextures) {
      this._texture?.dispose();
      this._previousTexture?.dispose();
    }
    this._texture = null;
    this._previousTexture = null;
    super.dispose(forceDisposeTextures);
  }

  /** The plugin attached to a material, if any. */
  static get(material: Material): VaeMaterialPlugin | null {
    return (material.pluginManager?.getPlugin(VAE_MATERIAL_PLUGIN_NAME) as VaeMaterialPlugin | null) ?? null;
  }
}

const GLSL_DEFINITIONS = `
#ifdef VAE_TEXTURE
uniform sampler2D vaeSampler;
uniform sampler2D vaePrevSampler;
vec3 vaeAlbedo(vec2 uv) {
  vec2 st = uv * vaeInfos.zw;
  vec3 c = mix(texture2D(vaePrevSampler, st).rgb, texture2D(vaeSampler, st).rgb, vaeInfos.x);
#ifdef VAE_GAMMA
  c = toLinearSpace(c);
#endif
  return mix(vec3(1.0), c, vaeInfos.y);
}
#endif
`;

const WGSL_DEFINITIONS = `
#ifdef VAE_TEXTURE
var vaeSamplerSampler: sampler;
var vaeSampler: texture_2d<f32>;
var vaePrevSamplerSampler: sampler;
var vaePrevSampler: texture_2d<f32>;
fn vaeAlbedo(uv: vec2f) -> vec3f {
  let st = uv * uniforms.vaeInfos.zw;
  let current = textureSample(vaeSampler, vaeSamplerSampler, st).rgb;
  let previous = textureSample(vaePrevSampler, vaePrevSamplerSampler, st).rgb;
  var c = mix(previous, current, uniforms.vaeInfos.x);
#ifdef VAE_GAMMA
  c = toLinearSpaceVec3(c);
#endif
  return mix(vec3f(1.0), c, uniforms.vaeInfos.y);
}
#endif
`;

/** Makes the plugin known to Babylon's serializer; safe to call more than once. */
export function registerVaeMaterialPlugin(): void {
  RegisterClass('BABYLON.VaeMaterialPlugin', VaeMaterialPlugin);
}
