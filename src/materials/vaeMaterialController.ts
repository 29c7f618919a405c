import type { Material } from '@babylonjs/core/Materials/material.js';
import { Observable } from '@babylonjs/core/Misc/observable.js';
import type { LatentGrid } from '../latent/latentGrid.js';
import { lerpLatent } from '../latent/latentOps.js';
import { checkSeed, offsetSeed } from '../latent/random.js';
import { Swatch } from '../latent/swatch.js';
import type { TextureVae } from '../model/textureVae.js';
import { checkedLatent, copyLatent } from '../textures/checkedLatent.js';
import type { HeightNormalTexture } from './heightNormalTexture.js';
import { type LatentAnimation, LatentAnimator } from './latentAnimator.js';
import {
  type BuiltSource,
  buildVaeMaterialSource,
  type SerializedVaeMaterialSource,
  serializeVaeMaterialSource,
  type VaeMaterialSourceOptions,
} from './vaeMaterialSource.js';
import { type VaeMaterialView, VaeSwapChain } from './vaeSwapChain.js';

/** Options of a latent change. */
export interface LatentChangeOptions {
  /** Milliseconds over which the old texture cross-fades into the new one (default: 0, a cut). */
  duration?: number;
}

/** Options of {@link VaeMaterialController.morphTo}. */
export interface MorphOptions {
  /** Milliseconds from the current look to the target (default: 1000). */
  duration?: number;
  /** Seed of the aligned swatch samples of a morph to a swatch (default: the next seed). */
  seed?: number;
}

/** Longest cross-fade of one step of a morph, in ms: each step fades in while the next one decodes. */
const MORPH_STEP_FADE = 250;

interface Morph {
  from: LatentGrid;
  to: LatentGrid;
  swatch: Swatch;
  start: number;
  duration: number;
  waiter: { resolve: () => void; reject: (e: unknown) => void };
}

/**
 * Decides what a VAE material shows next: its source (model, swatch, textures) and the latent it is asked for
 * (set, resampled, similar, morphed or animated). It holds no queue: its VaeSwapChain keeps the latest latent
 * with a version number and decodes it through the scene's DecodeScheduler, the one queue, then cross-fades.
 * The material is **ready** when it shows the latest latent asked for: `isReady()`, `whenReadyAsync()`, and
 * `onReadyObservable` each time a new latent is fully shown.
 */
export class VaeMaterialController {
  /** Raised with the latent each time the material is ready with a new one (its cross-fade finished). */
  readonly onReadyObservable = new Observable<LatentGrid>();
  /** Raised with errors of latent changes nobody awaited (the `latent` setter, animations, the Inspector). */
  readonly onErrorObservable = new Observable<Error>();

  private readonly _material: Material;
  private readonly _view: VaeMaterialView;
  private _source: BuiltSource | null = null;
  private _chain: VaeSwapChain | null = null;
  private _morph: Morph | null = null;
  private _animator: LatentAnimator | null = null;
  private _animationStart = 0;
  private _animationFade = 300;
  private _seedCounter = 0;

  /** `material` gives the scene, the texture names and the bump slot; `view` shows the textures. */
  constructor(material: Material, view: VaeMaterialView) {
    this._material = material;
    this._view = view;
  }

  /** The model drawing the textures, once a source is set. */
  get model(): TextureVae | null {
    return this._source?.model ?? null;
  }

  /** The swatch the material draws new latents from (its look), or null for a material made from a latent. */
  get swatch(): Swatch | null {
    return this._source?.swatch ?? null;
  }

  /** Seed of the last `resample` or morph (default: the source's seed). */
  get seed(): number {
    return this._source?.options.seed ?? 0;
  }

  /** The normal map derived from the texture, when normalStrength > 0. */
  get normalTexture(): HeightNormalTexture | null {
    return this._source?.normal ?? null;
  }

  /** The latent the material shows, or is changing to (a copy). */
  get latent(): LatentGrid | null {
    return this._chain ? copyLatent(this._chain.latent) : null;
  }
  /** Setting a latent changes the texture with a cut; errors go to `onErrorObservable`. */
  set latent(value: LatentGrid) {
    this._report(this.setLatent(value));
  }

  /** Whether a morph to a swatch runs. */
  get isMorphing(): boolean {
    return this._morph !== null;
  }

  /** Whether an animation runs. */
  get isAnimating(): boolean {
    return this._animator !== null;
  }

  /** True when the material shows the latest latent asked for, fully (no decode or cross-fade under way). */
  isReady(): boolean {
    return this._chain?.isReady() ?? false;
  }

  /** Resolves once the material is ready with the latest latent asked for (at once if it is). */
  whenReadyAsync(): Promise<void> {
    return this._chain?.whenReadyAsync() ?? Promise.reject(noSource());
  }

  /**
   * Shows `options.model`'s textures: two VAE textures take turns, one shown while the next decodes, so there
   * is never a frame without a texture. Resolves once the first texture is drawn. Calling it again replaces the
   * model and textures (the old ones are disposed); when the new options are wrong it throws before anything
   * changes, and the material keeps showing its current source.
   */
  setSource(options: VaeMaterialSourceOptions): Promise<void> {
    this.installSource(buildVaeMaterialSource(this._material, options));
    return this.whenReadyAsync();
  }

  /** @internal Releases the current source and shows a built one (see buildVaeMaterialSource); cannot fail. */
  installSource(source: BuiltSource): void {
    this._release(new Error('the VAE material source was replaced before the change was shown'));
    this._source = source;
    this._chain = new VaeSwapChain(this._material, this._view, source, {
      shown: (latent) => this.onReadyObservable.notifyObservers(latent),
      failed: (error) => this.onErrorObservable.notifyObservers(error),
      idle: () => this._nextStep(),
    });
  }

  /**
   * Changes the latent; resolves once the new texture is fully shown. Rapid calls coalesce: latest wins, and an
   * earlier call resolves once a later latent is shown. Stops a running morph (its promise rejects).
   */
  setLatent(latent: LatentGrid, options: LatentChangeOptions = {}): Promise<void> {
    let checked: LatentGrid;
    let duration: number;
    try {
      const source = this._requireSource();
      duration = checkDuration(options.duration ?? 0);
      checked = checkedLatent(
        source.model,
        source.options.size,
        latent,
        `this ${source.options.size}px material`,
      );
    } catch (e) {
      return Promise.reject(e);
    }
    this._endMorph(new Error('the morph was interrupted by another latent change'));
    return (this._chain as VaeSwapChain).show(checked, duration);
  }

  /** A new sample of the material's swatch (seed default: the next seed), cut or cross-faded in. */
  resample(options: { seed?: number; duration?: number } = {}): Promise<void> {
    let latent: LatentGrid;
    try {
      const swatch = this._requireSwatch('resample');
      const o = (this._source as BuiltSource).options;
      o.seed = this._nextSeed(options.seed, 1);
      latent = swatch.sample({ width: o.size, height: o.size, seed: o.seed });
    } catch (e) {
      return Promise.reject(e);
    }
    return this.setLatent(latent, { duration: options.duration });
  }

  /**
   * A variation of the current latent drawn from the swatch (`swatch.similar`): amount 0 is the same, 1 a new
   * swatch sample; in between, that share of the layout is synthesised anew.
   */
  similar(amount: number, options: { seed?: number; duration?: number } = {}): Promise<void> {
    let latent: LatentGrid;
    try {
      const swatch = this._requireSwatch('similar');
      latent = swatch.similar(
        (this._chain as VaeSwapChain).latent,
        amount,
        this._nextSeed(options.seed, 1000),
      );
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
    let from: LatentGrid;
    let to: LatentGrid;
    try {
      const source = this._requireSource();
      target.checkModel(source.model);
      checkDuration(duration);
      const seed = this._nextSeed(options.seed, 1);
      const { size } = source.options;
      [from, to] = Swatch.sampleAligned([source.swatch ?? target, target], {
        width: size,
        height: size,
        seed,
      });
      source.options.seed = seed;
    } catch (e) {
      return Promise.reject(e);
    }
    this._endMorph(new Error('the morph was interrupted by another morph'));
    this._animator = null;
    return new Promise<void>((resolve, reject) => {
      this._morph = { from, to, swatch: target, start: now(), duration, waiter: { resolve, reject } };
    });
  }

  /**
   * Moves the latent with scene time: a slow random walk or a keyframe loop. Each new decode cross-fades in
   * over `fade` ms; decodes follow as fast as the scene's decode scheduler allows. Replaces any animation.
   */
  animate(animation: LatentAnimation, options: { fade?: number } = {}): void {
    const source = this._requireSource();
    const { size, seed } = source.options;
    let resolved: LatentAnimation = animation;
    if (animation?.mode === 'keyframes' && Array.isArray(animation.keyframes)) {
      const swatches = animation.keyframes.filter((k): k is Swatch => k instanceof Swatch);
      if (swatches.length > 0) {
        for (const k of swatches) k.checkModel(source.model);
        // All swatch keyframes share one layout, so each step of the loop morphs one material into the next.
        const aligned = Swatch.sampleAligned(swatches, { width: size, height: size, seed });
        let next = 0;
        resolved = {
          ...animation,
          keyframes: animation.keyframes.map((k) => (k instanceof Swatch ? aligned[next++] : k)),
        };
      }
    }
    const swatch = source.swatch;
    this._animator = new LatentAnimator(
      (this._chain as VaeSwapChain).latent,
      resolved,
      swatch ? (latent, amount, s) => swatch.similar(latent, amount, s) : undefined,
    );
    this._endMorph(new Error('the morph was interrupted by an animation'));
    this._animationFade = checkDuration(options.fade ?? 300);
    this._animationStart = now();
  }

  /** Stops a running animation; the current latent stays. */
  stopAnimation(): void {
    this._animator = null;
  }

  /** The serialized source showing the latest latent that is fully shown, or null without a source. */
  serialize(): SerializedVaeMaterialSource | null {
    if (!this._source || !this._chain) return null;
    return serializeVaeMaterialSource(this._source, this._chain.shownLatent);
  }

  /** Releases the source (its textures and normal map); pending promises reject. Twice is harmless. */
  dispose(): void {
    this._release(new Error('the VAE material was disposed before the change was shown'));
    this.onReadyObservable.clear();
    this.onErrorObservable.clear();
  }

  /** Sends a promise nobody awaits to onErrorObservable. */
  private _report(promise: Promise<void>): void {
    promise.catch((e: Error) => this.onErrorObservable.notifyObservers(e));
  }

  /** The next morph or animation step, on a frame when the chain has nothing under way. */
  private _nextStep(): void {
    if (this._morph) this._morphStep(this._morph);
    else if (this._animator) {
      const latent = this._animator.latentAt((now() - this._animationStart) / 1000);
      this._report(this._showMade(latent, this._animationFade));
    }
  }

  /** A latent made here (a morph step, an animation frame): checked like any other, then shown. */
  private _showMade(latent: LatentGrid, duration: number): Promise<void> {
    const source = this._source as BuiltSource;
    try {
      const checked = checkedLatent(source.model, source.options.size, latent, 'this material');
      return (this._chain as VaeSwapChain).show(checked, duration);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** One step of a running morph: the latent at this time, or the target at the end. */
  private _morphStep(morph: Morph): void {
    const t = morph.duration <= 0 ? 1 : (now() - morph.start) / morph.duration;
    const fade = Math.min(MORPH_STEP_FADE, morph.duration / 4);
    if (t < 1) {
      this._showMade(lerpLatent(morph.from, morph.to, smoothstep(t)), fade).catch(() => {});
      return;
    }
    this._morph = null;
    (this._source as BuiltSource).swatch = morph.swatch;
    this._showMade(morph.to, fade).then(morph.waiter.resolve, morph.waiter.reject);
  }

  private _endMorph(error: Error): void {
    const morph = this._morph;
    this._morph = null;
    morph?.waiter.reject(error);
  }

  private _requireSource(): BuiltSource {
    if (!this._source) throw noSource();
    if (this._source.model.isDisposed)
      throw new Error('the TextureVae of this VAE material has been disposed');
    return this._source;
  }

  private _requireSwatch(what: string): Swatch {
    const source = this._requireSource();
    if (!source.swatch) {
      throw new Error(
        `${what}() draws from the material's swatch, and this material was made from a latent: give it one with setSource({ swatch }) or morphTo(swatch)`,
      );
    }
    return source.swatch;
  }

  private _nextSeed(seed: number | undefined, salt: number): number {
    if (seed !== undefined) return checkSeed(seed);
    return offsetSeed(this.seed, salt + this._seedCounter++);
  }

  private _release(error: Error): void {
    this._animator = null;
    this._endMorph(new Error('the VAE material source was replaced or disposed before the morph ended'));
    this._chain?.dispose(error);
    this._chain = null;
    this._source = null;
  }
}

function checkDuration(duration: number): number {
  if (!(duration >= 0 && duration <= 600_000)) {
    throw new Error(`duration must be from 0 to 600000 ms, got ${duration}`);
  }
  return duration;
}

function noSource(): Error {
  return new Error('the VAE material has no source: call setSource({ model }) or use createVaeMaterial');
}

function now(): number {
  return performance.now();
}

function smoothstep(t: number): number {
  return t * t * (3 - 2 * t);
}
