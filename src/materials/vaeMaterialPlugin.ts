import type { AbstractEngine } from '@babylonjs/core/Engines/abstractEngine.js';
import { Material as BabylonMaterial, type Material } from '@babylonjs/core/Materials/material.js';
import type { MaterialDefines } from '@babylonjs/core/Materials/materialDefines.js';
import { MaterialPluginBase } from '@babylonjs/core/Materials/materialPluginBase.js';
import { PBRBaseMaterial } from '@babylonjs/core/Materials/PBR/pbrBaseMaterial.js';
import { ShaderLanguage } from '@babylonjs/core/Materials/shaderLanguage.js';
import { StandardMaterial } from '@babylonjs/core/Materials/standardMaterial.js';
import type { BaseTexture } from '@babylonjs/core/Materials/Textures/baseTexture.js';
import type { UniformBuffer } from '@babylonjs/core/Materials/uniformBuffer.js';
import type { AbstractMesh } from '@babylonjs/core/Meshes/abstractMesh.js';
import type { SubMesh } from '@babylonjs/core/Meshes/subMesh.js';
import { type IInspectable, InspectableType } from '@babylonjs/core/Misc/iInspectable.js';
import { Observable, type Observer } from '@babylonjs/core/Misc/observable.js';
import { RegisterClass } from '@babylonjs/core/Misc/typeStore.js';
import type { Scene } from '@babylonjs/core/scene.js';
import type { Nullable } from '@babylonjs/core/types.js';
import type { LatentGrid } from '../latent/latentGrid.js';
import { parseLatent, serializeLatent, validateLatent } from '../latent/latentGrid.js';
import { lerpLatent } from '../latent/latentOps.js';
import { checkSeed, offsetSeed } from '../latent/random.js';
import { Swatch } from '../latent/swatch.js';
import type { TextureVae } from '../model/textureVae.js';
import { registeredSwatchName, serializedSource } from '../textures/vaeModelRegistry.js';
import { VaeProceduralTexture, type VaeProceduralTextureOptions } from '../textures/vaeProceduralTexture.js';
import { HeightNormalTexture } from './heightNormalTexture.js';
import { type LatentAnimation, LatentAnimator } from './latentAnimator.js';

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

/** Options of a latent change. */
export interface LatentChangeOptions {
  /** Milliseconds over which the old texture cross-fades into the new one (default: 0, a cut). */
  duration?: number;
}

/** Options of {@link VaeMaterialPlugin.morphTo}. */
export interface MorphOptions {
  /** Milliseconds from the current look to the target (default: 1000). */
  duration?: number;
  /** Seed of the aligned swatch samples of a morph to a swatch (default: the next seed). */
  seed?: number;
}

/** Longest cross-fade of one step of a morph, in ms: each step fades in while the next one decodes. */
const MORPH_STEP_FADE = 250;

type ResolvedSourceOptions = Required<
  Omit<VaeMaterialSourceOptions, 'latent' | 'modelId' | 'model' | 'swatch'>
>;

/** A source built and checked, not yet shown: what setSource swaps in once nothing can fail any more. */
interface BuiltSource {
  model: TextureVae;
  swatch: Swatch | null;
  front: VaeProceduralTexture;
  normal: HeightNormalTexture | null;
  options: ResolvedSourceOptions;
}

interface PendingChange {
  latent: LatentGrid;
  duration: number;
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

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

  // A getter, not a field: MaterialPluginBase's constructor asks for the custom code before fields are set.
  private get _isPbr(): boolean {
    return this._material instanceof PBRBaseMaterial;
  }

  private _model: TextureVae | null = null;
  private _modelId = '';
  private _textures: [VaeProceduralTexture, VaeProceduralTexture | null] | null = null;
  private _sourceOptions: ResolvedSourceOptions | null = null;
  private _latent: LatentGrid | null = null;
  private _shownLatent: LatentGrid | null = null;
  private _normal: HeightNormalTexture | null = null;
  private _pending: PendingChange | null = null;
  private _changing = false;
  private _fade: { start: number; duration: number; done: () => void } | null = null;
  private _animator: LatentAnimator | null = null;
  private _swatch: Swatch | null = null;
  private _morph: {
    from: LatentGrid;
    to: LatentGrid;
    swatch: Swatch | null;
    start: number;
    duration: number;
    waiters: { resolve: () => void; reject: (e: unknown) => void }[];
  } | null = null;
  private _animationStart = 0;
  private _frameObserver: Nullable<Observer<Scene>> = null;
  private _seedCounter = 0;
  /** Resolves once the first texture of the current source is drawn (set by setSource's caller helpers). */
  whenReady: Promise<void> = Promise.resolve();
  /** Raised after a new latent is on screen (its cross-fade finished). */
  readonly onLatentShownObservable = new Observable<LatentGrid>();
  /** Raised with errors of latent changes nobody awaited (animations). */
  readonly onErrorObservable = new Observable<Error>();

  constructor(material: Material) {
    if (!(material instanceof PBRBaseMaterial) && !(material instanceof StandardMaterial)) {
      throw new Error(
        `VaeMaterialPlugin attaches to a PBRMaterial or a StandardMaterial, got ${material?.getClassName?.() ?? material}`,
      );
    }
    super(material, VAE_MATERIAL_PLUGIN_NAME, 200, { VAE_TEXTURE: false, VAE_GAMMA: false }, true, true);
    material.inspectableCustomProperties = [
      ...(material.inspectableCustomProperties ?? []),
      ...this._inspectables(),
    ];
  }

  /** The model drawing the textures, once `setSource` ran. */
  get model(): TextureVae | null {
    return this._model;
  }

  /** The latent the material shows, or is changing to (a copy). */
  get latent(): LatentGrid | null {
    return this._latent ? copyLatent(this._latent) : null;
  }
  /** Setting a latent changes the texture with a cut; use `morphTo` for a cross-fade. */
  set latent(value: LatentGrid) {
    this.setLatent(value).catch((e: Error) => this.onErrorObservable.notifyObservers(e));
  }

  /** Seed of the last `resample` (default: the source's seed). */
  get seed(): number {
    return this._sourceOptions?.seed ?? 0;
  }

  /** The swatch the material draws new latents from (its look), or null for a material made from a latent. */
  get swatch(): Swatch | null {
    return this._swatch;
  }

  /** The normal map derived from the texture, when normalStrength > 0. */
  get normalTexture(): HeightNormalTexture | null {
    return this._normal;
  }

  /**
   * Makes the material draw its albedo from `options.model`: two VAE textures take turns, one shown while the
   * next decodes, so there is never a frame without a texture. Resolves once the first texture is drawn.
   * Calling it again replaces the model and textures (the old textures are disposed); when the new options are
   * wrong it throws before anything changes, and the material keeps showing its current source.
   */
  setSource(options: VaeMaterialSourceOptions): Promise<void> {
    this._installSource(this._buildSource(options));
    return this.whenReady;
  }

  /** Checks the options and builds the new textures; the material is not touched. */
  private _buildSource(options: VaeMaterialSourceOptions): BuiltSource {
    const model = options?.model;
    if (!model || typeof model.decodeTensors !== 'function') {
      throw new Error('VAE material source needs options.model, a TextureVae');
    }
    if (model.isDisposed) throw new Error('the TextureVae given to the VAE material has been disposed');
    const size = options.size ?? 256;
    const seed = checkSeed(options.seed ?? 0);
    const normalStrength = options.normalStrength ?? 0;
    const swatch = options.swatch ?? null;
    if (swatch !== null) {
      if (!(swatch instanceof Swatch)) throw new Error(`swatch must be a Swatch, got ${String(swatch)}`);
      swatch.checkModel(model);
    } else if (!options.latent) {
      throw new Error(
        'VAE material source needs options.swatch (a Swatch, e.g. from loadPretrainedSwatches()) or options.latent (a LatentGrid)',
      );
    }
    const latent = options.latent ?? (swatch as Swatch).sample({ width: size, height: size, seed });
    const scene = this._material.getScene();
    const front = new VaeProceduralTexture(`${this._material.name}.vae0`, scene, {
      ...options.texture,
      model,
      modelId: options.modelId,
      size,
      latent,
    });
    let normal: HeightNormalTexture | null = null;
    try {
      if (normalStrength > 0) {
        normal = new HeightNormalTexture(
          `${this._material.name}.vaeNormal`,
          front.getSize().width,
          scene,
          front,
          normalStrength,
        );
      }
    } catch (e) {
      front.dispose();
      throw e;
    }
    return {
      model,
      swatch,
      front,
      normal,
      options: { size, seed, normalStrength, texture: { ...options.texture } },
    };
  }

  /** Releases the current source and shows a built one; nothing in here can fail. */
  private _installSource(source: BuiltSource): void {
    this._releaseSource();
    const { front, normal } = source;
    this._model = source.model;
    this._swatch = source.swatch;
    this._modelId = front.modelId;
    this._sourceOptions = source.options;
    this._textures = [front, null];
    this._latent = front.latent;
    this._shownLatent = this._latent;
    this.texture = front;
    this.previousTexture = null;
    this.crossFade = 1;
    if (normal) {
      this._normal = normal;
      (this._material as unknown as { bumpTexture: BaseTexture | null }).bumpTexture = normal;
    }
    this._frameObserver = this._material.getScene().onBeforeRenderObservable.add(() => this._onFrame());
    // A normal map replaced before the first draw is disposed; only the one still shown follows its texture.
    this.whenReady = front.whenDrawn().then(() => {
      if (normal && this._normal === normal) normal.update(front);
    });
  }

  /**
   * Changes the latent; resolves once the new texture is fully shown. Rapid calls coalesce: latest wins. Stops a
   * running morph (its promise rejects).
   */
  setLatent(latent: LatentGrid, options: LatentChangeOptions = {}): Promise<void> {
    this._endMorph(new Error('the morph was interrupted by another latent change'));
    return this._change(latent, options);
  }

  private _change(latent: LatentGrid, options: LatentChangeOptions): Promise<void> {
    const model = this._requireSource();
    const duration = options.duration ?? 0;
    if (!(duration >= 0 && duration <= 600_000)) {
      return Promise.reject(new Error(`duration must be from 0 to 600000 ms, got ${duration}`));
    }
    try {
      validateLatent(latent, model.latentChannels);
      const grid = model.latentSize(this._sourceOptions?.size ?? 256, this._sourceOptions?.size ?? 256);
      if (latent.height !== grid.height || latent.width !== grid.width) {
        throw new Error(
          `latent must be ${grid.height}x${grid.width} cells for this ${this._sourceOptions?.size}px material, got ${latent.height}x${latent.width}`,
        );
      }
    } catch (e) {
      return Promise.reject(e);
    }
    const copy = copyLatent(latent);
    this._latent = copy;
    const waiters = this._pending?.waiters ?? [];
    this._pending = { latent: copy, duration, waiters };
    const promise = new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
    void this._pump();
    return promise;
  }

  /** A new sample of the material's swatch (seed default: the next seed), cut or cross-faded in. */
  resample(options: { seed?: number; duration?: number } = {}): Promise<void> {
    let swatch: Swatch;
    let seed: number;
    try {
      swatch = this._requireSwatch('resample');
      seed = this._nextSeed(options.seed, 1);
    } catch (e) {
      return Promise.reject(e);
    }
    const o = this._sourceOptions as ResolvedSourceOptions;
    o.seed = seed;
    return this.setLatent(swatch.sample({ width: o.size, height: o.size, seed }), {
      duration: options.duration,
    });
  }

  /**
   * A variation of the current latent drawn from the swatch (`swatch.similar`): amount 0 is the same, 1 a new
   * swatch sample; in between, that share of the layout is synthesised anew.
   */
  similar(amount: number, options: { seed?: number; duration?: number } = {}): Promise<void> {
    let latent: LatentGrid;
    try {
      const swatch = this._requireSwatch('similar');
      latent = swatch.similar(this._latent as LatentGrid, amount, this._nextSeed(options.seed, 1000));
    } catch (e) {
      return Promise.reject(e);
    }
    return this.setLatent(latent, { duration: options.duration });
  }

  /**
   * Moves to `target` over `duration` ms (default: 1000). A latent is cross-faded in. A swatch (made for this
   * material's model) is sampled together with the current swatch with one shared layout
   * (`Swatch.sampleAligned`), and the latent travels from the current swatch's sample to the target's,
   * decoding as fast as the scene's decode scheduler allows and cross-fading each step, so the material
   * changes in place instead of ghosting two layouts; the target then is the material's swatch. Resolves when
   * the target is fully shown; a later latent change or morph interrupts it (its promise rejects).
   */
  morphTo(target: Swatch | LatentGrid, options: MorphOptions = {}): Promise<void> {
    const duration = options.duration ?? 1000;
    if (!(target instanceof Swatch)) return this.setLatent(target, { duration });
    let aligned: LatentGrid[];
    try {
      const model = this._requireSource();
      target.checkModel(model);
      if (!(duration >= 0 && duration <= 600_000)) {
        throw new Error(`duration must be from 0 to 600000 ms, got ${duration}`);
      }
      const seed = this._nextSeed(options.seed, 1);
      const o = this._sourceOptions as ResolvedSourceOptions;
      aligned = Swatch.sampleAligned([this._swatch ?? target, target], {
        width: o.size,
        height: o.size,
        seed,
      });
      o.seed = seed;
    } catch (e) {
      return Promise.reject(e);
    }
    this._endMorph(new Error('the morph was interrupted by another morph'));
    this._animator = null;
    const [from, to] = aligned;
    return new Promise<void>((resolve, reject) => {
      this._morph = {
        from,
        to,
        swatch: target,
        start: performance.now(),
        duration,
        waiters: [{ resolve, reject }],
      };
    });
  }

  /** Whether a morph to a swatch runs. */
  get isMorphing(): boolean {
    return this._morph !== null;
  }

  private _endMorph(error: Error | null): void {
    const morph = this._morph;
    if (!morph) return;
    this._morph = null;
    if (error) for (const w of morph.waiters) w.reject(error);
  }

  /** One step of a running morph, when no change is under way: the latent at this time, or the target. */
  private _morphStep(): void {
    const morph = this._morph as NonNullable<typeof this._morph>;
    const t = morph.duration <= 0 ? 1 : (performance.now() - morph.start) / morph.duration;
    const fade = Math.min(MORPH_STEP_FADE, morph.duration / 4);
    if (t < 1) {
      this._change(lerpLatent(morph.from, morph.to, smoothstep(t)), { duration: fade }).catch(() => {});
      return;
    }
    this._morph = null;
    if (morph.swatch) this._swatch = morph.swatch;
    this._change(morph.to, { duration: fade }).then(
      () => {
        for (const w of morph.waiters) w.resolve();
      },
      (e) => {
        for (const w of morph.waiters) w.reject(e);
      },
    );
  }

  private _requireSwatch(what: string): Swatch {
    this._requireSource();
    if (!this._swatch) {
      throw new Error(
        `${what}() draws from the material's swatch, and this material was made from a latent: give it one with setSource({ swatch }) or morphTo(swatch)`,
      );
    }
    return this._swatch;
  }

  private _nextSeed(seed: number | undefined, salt: number): number {
    if (seed !== undefined) return checkSeed(seed);
    return offsetSeed(this._sourceOptions?.seed ?? 0, salt + this._seedCounter++);
  }

  /**
   * Moves the latent with scene time: a slow random walk or a keyframe loop. Each new decode cross-fades in
   * over `fade` ms; decodes follow as fast as the scene's decode scheduler allows. Replaces any animation.
   */
  animate(animation: LatentAnimation, options: { fade?: number } = {}): void {
    this._requireSource();
    const o = this._sourceOptions as ResolvedSourceOptions;
    const swatch = this._swatch;
    let resolved: LatentAnimation = animation;
    if (animation?.mode === 'keyframes' && Array.isArray(animation.keyframes)) {
      const swatches = animation.keyframes.filter((k): k is Swatch => k instanceof Swatch);
      if (swatches.length > 0) {
        for (const k of swatches) k.checkModel(this._model as TextureVae);
        // All swatch keyframes share one layout, so each step of the loop morphs one material into the next.
        const aligned = Swatch.sampleAligned(swatches, { width: o.size, height: o.size, seed: o.seed });
        let next = 0;
        resolved = {
          ...animation,
          keyframes: animation.keyframes.map((k) => (k instanceof Swatch ? aligned[next++] : k)),
        };
      }
    }
    this._animator = new LatentAnimator(
      this._latent as LatentGrid,
      resolved,
      swatch ? (latent, amount, seed) => swatch.similar(latent, amount, seed) : undefined,
    );
    this._endMorph(new Error('the morph was interrupted by an animation'));
    this._animationFade = options.fade ?? 300;
    this._animationStart = performance.now();
  }

  private _animationFade = 300;

  /** Stops a running animation; the current latent stays. */
  stopAnimation(): void {
    this._animator = null;
  }

  /** Whether an animation runs. */
  get isAnimating(): boolean {
    return this._animator !== null;
  }

  private _requireSource(): TextureVae {
    if (!this._model || !this._textures) {
      throw new Error('the VAE material has no source: call setSource({ model }) or use createVaeMaterial');
    }
    if (this._model.isDisposed) throw new Error('the TextureVae of this VAE material has been disposed');
    return this._model;
  }

  private _onFrame(): void {
    if (this._fade) {
      const t = this._fade.duration <= 0 ? 1 : (performance.now() - this._fade.start) / this._fade.duration;
      this.crossFade = Math.min(1, t);
      if (t >= 1) {
        const done = this._fade.done;
        this._fade = null;
        done();
      }
    }
    if (this._morph && !this._changing && !this._pending) {
      this._morphStep();
    } else if (this._animator && !this._changing && !this._pending) {
      const latent = this._animator.latentAt((performance.now() - this._animationStart) / 1000);
      this._change(latent, { duration: this._animationFade }).catch((e: Error) =>
        this.onErrorObservable.notifyObservers(e),
      );
    }
  }

  /** Runs one change at a time: decode into the hidden texture, swap, cross-fade; then the latest pending. */
  private async _pump(): Promise<void> {
    if (this._changing || !this._pending || !this._textures) return;
    this._changing = true;
    const change = this._pending;
    this._pending = null;
    try {
      const textures = this._textures;
      const scene = this._material.getScene();
      let back = textures[1];
      if (!back) {
        back = new VaeProceduralTexture(`${this._material.name}.vae1`, scene, {
          ...this._sourceOptions?.texture,
          model: this._model as TextureVae,
          modelId: this._modelId,
          size: this._sourceOptions?.size,
          latent: change.latent,
        });
        textures[1] = back;
        await back.whenDrawn();
      } else {
        // The texture's decode goes through the scene's DecodeScheduler.
        await back.regenerate(change.latent);
      }
      if (this._textures !== textures)
        throw new Error('the VAE material source was replaced during the change');
      const front = textures[0];
      textures[0] = back;
      textures[1] = front;
      this.previousTexture = front;
      this.texture = back;
      this._normal?.update(back);
      this.crossFade = change.duration > 0 ? 0 : 1;
      await new Promise<void>((done) => {
        this._fade = { start: performance.now(), duration: change.duration, done };
      });
      this._shownLatent = change.latent;
      for (const w of change.waiters) w.resolve();
      this.onLatentShownObservable.notifyObservers(change.latent);
    } catch (e) {
      for (const w of change.waiters) w.reject(e);
    } finally {
      this._changing = false;
    }
    void this._pump();
  }

  private _inspectables(): IInspectable[] {
    const target = this._material as unknown as Record<string, unknown>;
    const props: IInspectable[] = [];
    for (let c = 0; c < 4; c++) {
      const propertyName = `vaeLatentChannel${c}`;
      Object.defineProperty(target, propertyName, {
        configurable: true,
        get: () => (this._latent ? channelMean(this._latent, c) : 0),
        set: (v: number) => {
          if (!this._latent || c >= this._latent.channels) return;
          this.latent = shiftChannel(this._latent, c, v - channelMean(this._latent, c));
        },
      });
      props.push({
        label: `VAE latent channel ${c}`,
        propertyName,
        type: InspectableType.Slider,
        min: -3,
        max: 3,
        step: 0.05,
      });
    }
    Object.defineProperty(target, 'vaeSeed', {
      configurable: true,
      get: () => this.seed,
      set: (v: number) => {
        if (this._swatch)
          this.resample({ seed: Math.round(v) }).catch((e: Error) =>
            this.onErrorObservable.notifyObservers(e),
          );
      },
    });
    Object.defineProperty(target, 'vaeCrossFade', {
      configurable: true,
      get: () => this.crossFade,
      set: (v: number) => {
        this.crossFade = v;
      },
    });
    props.push(
      {
        label: 'VAE seed',
        propertyName: 'vaeSeed',
        type: InspectableType.Slider,
        min: 0,
        max: 1000,
        step: 1,
      },
      {
        label: 'VAE cross-fade',
        propertyName: 'vaeCrossFade',
        type: InspectableType.Slider,
        min: 0,
        max: 1,
        step: 0.01,
      },
      {
        label: 'VAE resample',
        propertyName: 'vaeResample',
        type: InspectableType.Button,
        callback: () => {
          if (this._swatch)
            this.resample({ duration: 500 }).catch((e: Error) => this.onErrorObservable.notifyObservers(e));
        },
      },
    );
    return props;
  }

  private _releaseSource(): void {
    if (this._frameObserver) this._material.getScene().onBeforeRenderObservable.remove(this._frameObserver);
    this._frameObserver = null;
    this._animator = null;
    this._endMorph(new Error('the VAE material source was replaced or disposed before the morph ended'));
    this._swatch = null;
    const error = new Error('the VAE material source was replaced or disposed before the change ran');
    if (this._pending) for (const w of this._pending.waiters) w.reject(error);
    this._pending = null;
    if (this._fade) {
      this._fade.done();
      this._fade = null;
    }
    if (this._normal) {
      const material = this._material as unknown as { bumpTexture: BaseTexture | null };
      if (material.bumpTexture === this._normal) material.bumpTexture = null;
      this._normal.dispose();
      this._normal = null;
    }
    if (this._textures) for (const t of this._textures) t?.dispose();
    this._textures = null;
    this._model = null;
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

  // biome-ignore lint/suspicious/noExplicitAny: Babylon's serialization objects are untyped.
  override serialize(): any {
    const o = super.serialize();
    o.crossFade = this.crossFade;
    o.level = this.level;
    o.uvScale = [...this.uvScale];
    o.isEnabled = this._isEnabled;
    if (this._textures && this._sourceOptions) {
      const latent = this._shownLatent ?? (this._latent as LatentGrid);
      // A registered swatch is stored by name (registerVaeSwatches), so parse binds the material to it again.
      const swatch = this._swatch ? registeredSwatchName(this._modelId, this._swatch) : null;
      o.vae = {
        modelId: this._modelId,
        ...(swatch !== null ? { swatch } : {}),
        size: this._sourceOptions.size,
        seed: this._sourceOptions.seed,
        normalStrength: this._sourceOptions.normalStrength,
        texture: this._sourceOptions.texture,
        latent: serializeLatent(latent),
      };
    }
    return o;
  }

  /**
   * Babylon deserialization. The stored source (`vae`) is checked and its textures built first: a size, latent
   * or model id that does not fit throws an Error before anything changes, and the material keeps its source.
   */
  // biome-ignore lint/suspicious/noExplicitAny: Babylon's serialization objects are untyped.
  override parse(source: any, scene: Scene, rootUrl: string): void {
    const vae = source?.vae;
    let built: BuiltSource | null = null;
    if (vae !== undefined && vae !== null) {
      if (typeof vae !== 'object' || typeof vae.modelId !== 'string') {
        throw new Error(
          'VaeMaterialPlugin.parse: vae must be the object VaeMaterialPlugin.serialize() wrote',
        );
      }
      const { model, swatch } = serializedSource('VaeMaterialPlugin.parse', vae.modelId, vae.swatch);
      let grid: { height: number; width: number };
      try {
        grid = model.latentSize(vae.size, vae.size);
      } catch (e) {
        throw new Error(`VaeMaterialPlugin.parse: size ${(e as Error).message.replace(/^width /, '')}`);
      }
      built = this._buildSource({
        model,
        modelId: vae.modelId,
        swatch,
        size: vae.size,
        seed: vae.seed,
        normalStrength: vae.normalStrength,
        texture: vae.texture,
        latent: parseLatent(vae.latent, { ...grid, channels: model.latentChannels }),
      });
    }
    try {
      super.parse(source, scene, rootUrl);
    } catch (e) {
      built?.front.dispose();
      built?.normal?.dispose();
      throw e;
    }
    if (typeof source.crossFade === 'number') this.crossFade = source.crossFade;
    if (typeof source.level === 'number') this.level = source.level;
    if (Array.isArray(source.uvScale)) {
      this.uvScale[0] = Number(source.uvScale[0]);
      this.uvScale[1] = Number(source.uvScale[1]);
    }
    if (typeof source.isEnabled === 'boolean') this.isEnabled = source.isEnabled;
    if (built) {
      this._installSource(built);
      this.whenReady.catch((e: Error) => this.onErrorObservable.notifyObservers(e));
    }
  }

  override dispose(forceDisposeTextures?: boolean): void {
    const owned = this._textures;
    this._releaseSource();
    if (forceDisposeTextures) {
      if (!owned?.includes(this._texture as VaeProceduralTexture)) this._texture?.dispose();
      if (!owned?.includes(this._previousTexture as VaeProceduralTexture)) this._previousTexture?.dispose();
    }
    this.onLatentShownObservable.clear();
    this.onErrorObservable.clear();
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

function smoothstep(t: number): number {
  return t * t * (3 - 2 * t);
}

function copyLatent(latent: LatentGrid): LatentGrid {
  return Object.freeze({
    data: Float32Array.from(latent.data),
    height: latent.height,
    width: latent.width,
    channels: latent.channels,
  });
}

function channelMean(latent: LatentGrid, channel: number): number {
  if (channel >= latent.channels) return 0;
  let sum = 0;
  for (let i = channel; i < latent.data.length; i += latent.channels) sum += latent.data[i];
  return sum / (latent.height * latent.width);
}

function shiftChannel(latent: LatentGrid, channel: number, delta: number): LatentGrid {
  const data = Float32Array.from(latent.data);
  for (let i = channel; i < data.length; i += latent.channels) data[i] += delta;
  return { data, height: latent.height, width: latent.width, channels: latent.channels };
}
