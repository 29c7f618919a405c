import type { Material } from '@babylonjs/core/Materials/material.js';
import type { BaseTexture } from '@babylonjs/core/Materials/Textures/baseTexture.js';
import type { Observer } from '@babylonjs/core/Misc/observable.js';
import type { Scene } from '@babylonjs/core/scene.js';
import type { Nullable } from '@babylonjs/core/types.js';
import type { LatentGrid } from '../latent/latentGrid.js';
import { VaeProceduralTexture } from '../textures/vaeProceduralTexture.js';
import type { BuiltSource } from './vaeMaterialSource.js';

/** What a swap chain drives: the shader plugin's two textures and the weight of the current one. */
export interface VaeMaterialView {
  texture: Nullable<BaseTexture>;
  previousTexture: Nullable<BaseTexture>;
  crossFade: number;
}

/** What a swap chain tells its controller. */
export interface VaeSwapChainEvents {
  /** A latent is fully shown (its cross-fade finished). */
  shown(latent: LatentGrid): void;
  /** The first texture could not be drawn and nobody waited for it. */
  failed(error: Error): void;
  /** A frame on which nothing is under way: the controller may ask for the next latent. */
  idle(): void;
}

interface Waiter {
  version: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * One source's two VAE textures taking turns: one is shown while the next latent decodes into the other, then
 * they swap and the new one cross-fades in on scene frames. It keeps only the latest latent asked for (with a
 * version number, so every earlier request resolves once a later latent is shown); the decodes go through the
 * scene's DecodeScheduler, the one queue.
 */
export class VaeSwapChain {
  private readonly _material: Material;
  private readonly _view: VaeMaterialView;
  private readonly _source: BuiltSource;
  private readonly _events: VaeSwapChainEvents;
  private readonly _textures: [VaeProceduralTexture, VaeProceduralTexture | null];
  private _latent: LatentGrid;
  private _duration = 0;
  private _version = 1;
  private _shownLatent: LatentGrid | null = null;
  private _shownVersion = 0;
  /** The last version shown or failed: nothing is outstanding when it is `_version`. */
  private _doneVersion = 0;
  private _error: Error | null = null;
  private _decoding = true;
  private _fade: { start: number; duration: number; latent: LatentGrid; version: number } | null = null;
  private _waiters: Waiter[] = [];
  private _frameObserver: Nullable<Observer<Scene>>;
  private _disposed = false;

  /** Shows `source` at once: its first texture, then its normal map, once drawn. */
  constructor(material: Material, view: VaeMaterialView, source: BuiltSource, events: VaeSwapChainEvents) {
    this._material = material;
    this._view = view;
    this._source = source;
    this._events = events;
    const { front, normal } = source;
    this._textures = [front, null];
    // The texture's own checked copy: the source's latent was validated and copied once, by the texture.
    this._latent = front._checkedLatent;
    view.texture = front;
    view.previousTexture = null;
    view.crossFade = 1;
    if (normal) (material as unknown as { bumpTexture: BaseTexture | null }).bumpTexture = normal;
    this._frameObserver = material.getScene().onBeforeRenderObservable.add(() => this._onFrame());
    front.whenReadyAsync().then(
      () => {
        if (this._disposed) return;
        normal?.update(front);
        this._decoding = false;
        this._shown(this._latent, 1);
        this._advance();
      },
      (e: Error) => {
        if (this._disposed) return;
        this._decoding = false;
        if (!this._failed(1, e)) this._events.failed(e);
        this._advance();
      },
    );
  }

  /** The latent asked for last (the checked copy: never hand it to callers). */
  get latent(): LatentGrid {
    return this._latent;
  }

  /** The latent fully shown last, or the first one while it decodes. */
  get shownLatent(): LatentGrid {
    return this._shownLatent ?? this._latent;
  }

  /** Whether nothing is outstanding: the latest latent is shown, or its decode failed. */
  get isIdle(): boolean {
    return this._doneVersion === this._version && !this._decoding;
  }

  /** True when the latest latent asked for is fully shown. */
  isReady(): boolean {
    return !this._disposed && this._shownVersion === this._version;
  }

  /** Resolves once the latest latent asked for is fully shown; rejects if its decode failed. */
  whenReadyAsync(): Promise<void> {
    if (this.isReady()) return Promise.resolve();
    if (this._doneVersion === this._version) return Promise.reject(this._error);
    return this._wait(this._version);
  }

  /**
   * Makes `latent` (checked for this source) the one to show, cross-fading over `duration` ms; resolves once it
   * or a later latent is fully shown.
   */
  show(latent: LatentGrid, duration: number): Promise<void> {
    this._latent = latent;
    this._duration = duration;
    const promise = this._wait(++this._version);
    this._advance();
    return promise;
  }

  /** Releases both textures and the normal map; waiting promises reject with `error`. Twice is harmless. */
  dispose(error: Error): void {
    if (this._disposed) return;
    this._disposed = true;
    this._material.getScene().onBeforeRenderObservable.remove(this._frameObserver);
    this._frameObserver = null;
    this._settle(Number.POSITIVE_INFINITY, error);
    this._fade = null;
    const { normal } = this._source;
    if (normal) {
      const material = this._material as unknown as { bumpTexture: BaseTexture | null };
      if (material.bumpTexture === normal) material.bumpTexture = null;
      normal.dispose();
    }
    for (const t of this._textures) t?.dispose();
  }

  private _wait(version: number): Promise<void> {
    return new Promise<void>((resolve, reject) => this._waiters.push({ version, resolve, reject }));
  }

  /** Settles the promises of versions up to `version`; returns whether there were any. */
  private _settle(version: number, error: unknown): boolean {
    const due = this._waiters.filter((w) => w.version <= version);
    this._waiters = this._waiters.filter((w) => w.version > version);
    for (const w of due) {
      if (error) w.reject(error);
      else w.resolve();
    }
    return due.length > 0;
  }

  /** A decode failed: its promises reject, and the chain waits for a newer latent. */
  private _failed(version: number, error: Error): boolean {
    this._doneVersion = version;
    this._error = error;
    return this._settle(version, error);
  }

  private _shown(latent: LatentGrid, version: number): void {
    this._shownLatent = latent;
    this._shownVersion = version;
    this._doneVersion = version;
    this._settle(version, null);
    this._events.shown(latent);
  }

  /** When nothing is under way and a newer latent is asked for: decode it into the hidden texture, swap, fade. */
  private _advance(): void {
    if (this._disposed || this._decoding || this._fade || this._version === this._doneVersion) return;
    const textures = this._textures;
    const latent = this._latent;
    const version = this._version;
    const duration = this._duration;
    this._decoding = true;
    let hidden = textures[1];
    let drawn: Promise<void>;
    if (!hidden) {
      const { model, modelId, options } = this._source;
      hidden = new VaeProceduralTexture(`${this._material.name}.vae1`, this._material.getScene(), {
        ...options.texture,
        // The shown texture's share, which may have been changed since the material was made.
        workerCpuShare: textures[0].workerCpuShare,
        model,
        modelId,
        size: options.size,
        latent,
      });
      textures[1] = hidden;
      drawn = hidden.whenReadyAsync();
    } else {
      hidden.workerCpuShare = textures[0].workerCpuShare;
      drawn = hidden.regenerate(latent);
    }
    const next = hidden;
    drawn.then(
      () => {
        if (this._disposed) return;
        this._decoding = false;
        textures[1] = textures[0];
        textures[0] = next;
        this._view.previousTexture = textures[1];
        this._view.texture = next;
        this._source.normal?.update(next);
        this._view.crossFade = duration > 0 ? 0 : 1;
        this._fade = { start: performance.now(), duration, latent, version };
      },
      (e: Error) => {
        if (this._disposed) return;
        this._decoding = false;
        this._failed(version, e);
        this._advance();
      },
    );
  }

  /** The fade clock; then, when nothing is under way, the controller's turn. */
  private _onFrame(): void {
    const fade = this._fade;
    if (fade) {
      const t = fade.duration <= 0 ? 1 : (performance.now() - fade.start) / fade.duration;
      this._view.crossFade = Math.min(1, t);
      if (t < 1) return;
      this._fade = null;
      this._shown(fade.latent, fade.version);
    }
    if (this.isIdle) this._events.idle();
    this._advance();
  }
}
