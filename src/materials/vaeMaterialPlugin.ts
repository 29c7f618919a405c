import { Material } from '@babylonjs/core/Materials/material.js';
import { MaterialDefines } from '@babylonjs/core/Materials/materialDefines.js';
import { MaterialPluginBase } from '@babylonjs/core/Materials/materialPluginBase.js';
import { PBRBaseMaterial } from '@babylonjs/core/Materials/PBR/pbrBaseMaterial.js';
import { ShaderLanguage } from '@babylonjs/core/Materials/shaderLanguage.js';
import { StandardMaterial } from '@babylonjs/core/Materials/standardMaterial.js';
import type { BaseTexture } from '@babylonjs/core/Materials/Textures/baseTexture.js';
import type { UniformBuffer } from '@babylonjs/core/Materials/uniformBuffer.js';
import { serialize } from '@babylonjs/core/Misc/decorators.js';
import type { Observable } from '@babylonjs/core/Misc/observable.js';
import { RegisterClass } from '@babylonjs/core/Misc/typeStore.js';
import type { Scene } from '@babylonjs/core/scene.js';
import type { Nullable } from '@babylonjs/core/types.js';
import type { LatentGrid } from '../latent/latentGrid.js';
import type { Swatch } from '../latent/swatch.js';
import type { TextureVae } from '../model/textureVae.js';
import type { HeightNormalTexture } from './heightNormalTexture.js';
import type { LatentAnimation } from './latentAnimator.js';
import {
  type LatentChangeOptions,
  type MorphOptions,
  VaeMaterialController,
} from './vaeMaterialController.js';
import { addVaeInspectables } from './vaeMaterialInspector.js';
import { VAE_SAMPLERS, VAE_UNIFORMS, vaeFragmentCode } from './vaeMaterialShader.js';
import {
  type BuiltSource,
  buildVaeMaterialSource,
  disposeBuiltSource,
  parseVaeMaterialSource,
  type VaeMaterialSourceOptions,
} from './vaeMaterialSource.js';
import type { VaeMaterialView } from './vaeSwapChain.js';

/** Name under which the plugin registers on a material (`material.pluginManager.getPlugin(...)`). */
export const VAE_MATERIAL_PLUGIN_NAME = 'VaeMaterial';

/** The plugin's defines: whether a VAE texture is bound, and whether its sRGB colours go to linear (PBR). */
export class VaeMaterialDefines extends MaterialDefines {
  VAE_TEXTURE = false;
  VAE_GAMMA = false;
}

/**
 * Samples a VAE texture as the albedo (PBR) or diffuse (Standard) colour of a material, cross-fading from the
 * previous texture to the current one, so a material never shows a frame without a texture while a new decode
 * is computed. The plugin only binds textures; its `controller` (a VaeMaterialController) decides what they
 * show, and the runtime methods here (setLatent, resample, similar, morphTo, animate...) are the controller's.
 *
 * Binding allocates nothing, and on a frozen material whose uniform buffer is in sync it writes no uniforms:
 * a frozen material shows new crossFade, level or uvScale values after `unfreeze()`.
 */
export class VaeMaterialPlugin extends MaterialPluginBase implements VaeMaterialView {
  static {
    serializeProperties(VaeMaterialPlugin, ['crossFade', 'level', 'isEnabled']);
  }

  /** Decides what the material shows: source, latents, morphs, animation, the cross-fade clock. */
  readonly controller: VaeMaterialController;
  /** Weight of the current texture over the previous one, 0..1 (default: 1). */
  crossFade = 1;
  /** How much the VAE colour replaces the material's own colour, 0..1 (default: 1). */
  level = 1;
  /** Texture repeats across the mesh's UV range, U then V (default: 1, 1). */
  readonly uvScale: [number, number] = [1, 1];

  private _texture: Nullable<BaseTexture> = null;
  private _previousTexture: Nullable<BaseTexture> = null;
  private _isEnabled = true;

  /** The texture shown at crossFade 1. */
  get texture(): Nullable<BaseTexture> {
    return this._texture;
  }
  set texture(value: Nullable<BaseTexture>) {
    if (this._texture === value) return;
    this._texture = value;
    this._markAllSubMeshesAsTexturesDirty();
  }

  /** The texture shown at crossFade 0; the current one when null. */
  get previousTexture(): Nullable<BaseTexture> {
    return this._previousTexture;
  }
  set previousTexture(value: Nullable<BaseTexture>) {
    if (this._previousTexture === value) return;
    this._previousTexture = value;
    this._markAllSubMeshesAsTexturesDirty();
  }

  /** Turns the plugin's shader code on or off (default: true). */
  get isEnabled(): boolean {
    return this._isEnabled;
  }
  set isEnabled(value: boolean) {
    if (this._isEnabled === value) return;
    this._isEnabled = value;
    this._markAllSubMeshesAsTexturesDirty();
  }

  /** @internal What Babylon's `@expandToProperty('_markAllSubMeshesAsTexturesDirty')` setters call. */
  _markAllSubMeshesAsTexturesDirty(): void {
    this._enable(this._isEnabled);
    this._material.markAsDirty(Material.TextureDirtyFlag);
  }

  // A getter, not a field: MaterialPluginBase's constructor asks for the custom code before fields are set.
  private get _isPbr(): boolean {
    return this._material instanceof PBRBaseMaterial;
  }

  constructor(material: Material) {
    if (!(material instanceof PBRBaseMaterial) && !(material instanceof StandardMaterial)) {
      throw new Error(
        `VaeMaterialPlugin attaches to a PBRMaterial or a StandardMaterial, got ${material?.getClassName?.() ?? material}`,
      );
    }
    super(material, VAE_MATERIAL_PLUGIN_NAME, 200, new VaeMaterialDefines(), true, true);
    this.controller = new VaeMaterialController(material, this);
    addVaeInspectables(material, this.controller, this);
  }

  /** The plugin attached to a material, if any. */
  static get(material: Material): VaeMaterialPlugin | null {
    return (material.pluginManager?.getPlugin(VAE_MATERIAL_PLUGIN_NAME) as VaeMaterialPlugin | null) ?? null;
  }

  // The controller's runtime API, where users of the plugin look for it (see VaeMaterialController).
  get model(): TextureVae | null {
    return this.controller.model;
  }
  get swatch(): Swatch | null {
    return this.controller.swatch;
  }
  get seed(): number {
    return this.controller.seed;
  }
  get normalTexture(): HeightNormalTexture | null {
    return this.controller.normalTexture;
  }
  get latent(): LatentGrid | null {
    return this.controller.latent;
  }
  set latent(value: LatentGrid) {
    this.controller.latent = value;
  }
  get isMorphing(): boolean {
    return this.controller.isMorphing;
  }
  get isAnimating(): boolean {
    return this.controller.isAnimating;
  }
  get onReadyObservable(): Observable<LatentGrid> {
    return this.controller.onReadyObservable;
  }
  get onErrorObservable(): Observable<Error> {
    return this.controller.onErrorObservable;
  }
  whenReadyAsync(): Promise<void> {
    return this.controller.whenReadyAsync();
  }
  setSource(options: VaeMaterialSourceOptions): Promise<void> {
    return this.controller.setSource(options);
  }
  setLatent(latent: LatentGrid, options?: LatentChangeOptions): Promise<void> {
    return this.controller.setLatent(latent, options);
  }
  resample(options?: { seed?: number; duration?: number }): Promise<void> {
    return this.controller.resample(options);
  }
  similar(amount: number, options?: { seed?: number; duration?: number }): Promise<void> {
    return this.controller.similar(amount, options);
  }
  morphTo(target: Swatch | LatentGrid, options?: MorphOptions): Promise<void> {
    return this.controller.morphTo(target, options);
  }
  animate(animation: LatentAnimation, options?: { fade?: number }): void {
    this.controller.animate(animation, options);
  }
  stopAnimation(): void {
    this.controller.stopAnimation();
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

  // Before attributes: the UV set must be asked for before the material picks its vertex attributes.
  override prepareDefinesBeforeAttributes(defines: VaeMaterialDefines): void {
    const active = this._isEnabled && !!this._texture;
    defines.VAE_TEXTURE = active;
    // PBR works in linear space; Standard lights sRGB colours directly.
    defines.VAE_GAMMA = active && this._isPbr && this._texture?.gammaSpace !== false;
    if (active) {
      defines._needUVs = true;
      defines.MAINUV1 = true;
    }
  }

  override getUniforms(shaderLanguage: ShaderLanguage = ShaderLanguage.GLSL) {
    return {
      ubo: VAE_UNIFORMS.ubo,
      fragment: shaderLanguage === ShaderLanguage.GLSL ? VAE_UNIFORMS.glslFragment : '',
    };
  }

  override getSamplers(samplers: string[]): void {
    samplers.push(...VAE_SAMPLERS);
  }

  override bindForSubMesh(uniformBuffer: UniformBuffer, scene: Scene): void {
    if (!this._isEnabled || !this._texture) return;
    if (!uniformBuffer.useUbo || !this._material.isFrozen || !uniformBuffer.isSync) {
      const fade = Math.min(1, Math.max(0, this.crossFade));
      uniformBuffer.updateFloat4('vaeInfos', fade, this.level, this.uvScale[0], this.uvScale[1]);
    }
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
    return shaderType === 'fragment' ? vaeFragmentCode(this._isPbr, shaderLanguage) : null;
  }

  /** Babylon serialization: the `@serialize` properties, uvScale, and the controller's source as `vae`. */
  // biome-ignore lint/suspicious/noExplicitAny: Babylon's serialization objects are untyped.
  override serialize(): any {
    const o = super.serialize();
    // By value, not as a `@serialize` field: Babylon would hand the same array to the parsed copy.
    o.uvScale = [...this.uvScale];
    const vae = this.controller.serialize();
    if (vae) o.vae = vae;
    return o;
  }

  /**
   * Babylon deserialization. The stored source (`vae`) is checked and its textures built first: a size, latent
   * or model id that does not fit throws an Error before anything changes, and the material keeps its source.
   */
  // biome-ignore lint/suspicious/noExplicitAny: Babylon's serialization objects are untyped.
  override parse(source: any, scene: Scene, rootUrl: string): void {
    const vae = source?.vae;
    const built: BuiltSource | null =
      vae === undefined || vae === null
        ? null
        : buildVaeMaterialSource(this._material, parseVaeMaterialSource(vae));
    try {
      super.parse(source, scene, rootUrl);
    } catch (e) {
      if (built) disposeBuiltSource(built);
      throw e;
    }
    if (Array.isArray(source.uvScale)) {
      this.uvScale[0] = Number(source.uvScale[0]);
      this.uvScale[1] = Number(source.uvScale[1]);
    }
    if (built) {
      this.controller.installSource(built);
      this.whenReadyAsync().catch((e: Error) => this.onErrorObservable.notifyObservers(e));
    }
  }

  override dispose(forceDisposeTextures?: boolean): void {
    const shown = [this._texture, this._previousTexture];
    this.controller.dispose();
    // Textures the controller made are gone; others were set by the caller and follow Babylon's rule.
    if (forceDisposeTextures) for (const t of shown) if (t && !isDisposedVaeTexture(t)) t.dispose();
    this._texture = null;
    this._previousTexture = null;
    super.dispose(forceDisposeTextures);
  }
}

/** Makes the plugin known to Babylon's serializer; safe to call more than once. */
export function registerVaeMaterialPlugin(): void {
  RegisterClass('BABYLON.VaeMaterialPlugin', VaeMaterialPlugin);
}

/**
 * Babylon's `@serialize()` applied to plain properties of `ctor`, in its static block: it writes the same
 * serialization metadata the decorator does, for toolchains that do not lower TC39 decorators (Vite's).
 */
function serializeProperties(ctor: object, names: readonly string[]): void {
  const key = (Symbol as unknown as { metadata: symbol }).metadata;
  const parent = (Object.getPrototypeOf(ctor) as Record<symbol, object | undefined>)[key] ?? null;
  const metadata = Object.create(parent) as DecoratorMetadataObject;
  for (const name of names) serialize()(undefined, { name, metadata });
  Object.defineProperty(ctor, key, { value: metadata, configurable: true, enumerable: true, writable: true });
}

function isDisposedVaeTexture(texture: BaseTexture): boolean {
  return (texture as { isDisposed?: boolean }).isDisposed === true;
}
