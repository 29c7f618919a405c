import { SerializationHelper } from '@babylonjs/core/Misc/decorators.serialization.js';
import { Observable } from '@babylonjs/core/Misc/observable.js';
import { RegisterClass } from '@babylonjs/core/Misc/typeStore.js';
import type { Scene } from '@babylonjs/core/scene.js';
import { decodeEnvironment } from '../gpu/decodePath.js';
import {
  type LatentGrid,
  latentToTensor,
  parseLatent,
  type SerializedLatent,
  serializeLatent,
} from '../latent/latentGrid.js';
import type { Swatch } from '../latent/swatch.js';
import type { TextureVae } from '../model/textureVae.js';
import { decoderHaloCells } from '../model/textureVaeConfig.js';
import { checkCpuShare } from '../worker/cpuShare.js';
import { acquireWorkerDecoder, type WorkerDecoderLease } from '../worker/workerDecoder.js';
import { checkedLatent, checkModelAndLook, copyLatent } from './checkedLatent.js';
import { DecodeScheduler, type DecodeStep } from './decodeScheduler.js';
import {
  type DecodeTile,
  type DecodeTileSizeOption,
  decodeTile,
  planDecodeTiles,
  resolveDecodeTileSize,
} from './decodeTiles.js';
import { TensorProceduralTexture, type TensorProceduralTextureOptions } from './tensorProceduralTexture.js';
import {
  registeredSwatchName,
  resolveVaeModel,
  resolveVaeSwatch,
  serializedSource,
} from './vaeModelRegistry.js';

/** Options of a VaeProceduralTexture. */
export interface VaeProceduralTextureOptions extends TensorProceduralTextureOptions {
  /** The model whose decoder draws the texture (required). The texture never disposes it. */
  model: TextureVae;
  /**
   * Id the model is found under when a serialized scene is loaded again, see `registerVaeModel`
   * (default: model.config.name).
   */
  modelId?: string;
  /**
   * The texture's look, made for `model`: without a `latent`, the texture shows `swatch.sample({size, seed})`
   * (default: none; a swatch or a latent is required).
   */
  swatch?: Swatch;
  /**
   * The latent to decode: a grid of model.latentSize(size, size) cells with model.latentChannels channels
   * (default: the swatch's sample).
   */
  latent?: LatentGrid;
  /** Seed of the swatch sample used when no latent is given (default: 0). */
  seed?: number;
  /** Wrap addressing for seamless tiling (default: model.config.tileable). */
  tileable?: boolean;
  /**
   * Decode in tiles of at most this many pixels a side, one tile per scene frame (the scene's DecodeScheduler
   * turn), on the zero-copy and readback paths, so no regeneration holds a frame up for a whole texture's
   * decode. The tiles go into a back buffer, and the texture shows the new content only once every tile is there,
   * with the same pixels as one decode (each tile is decoded with a halo of latent cells around it, the
   * decoder's receptive field). A multiple of the model's stride up to 4096, or 0 to decode the whole texture at
   * once; 'auto' tiles textures of 512 pixels and more in 256-pixel tiles on the zero-copy path only. Tiles are
   * near-equal in size, so the actual side may be smaller. The back buffer takes 16 bytes a pixel (RGBA floats:
   * 4 MiB at 512 px) from the first tiled decode until dispose(). The worker path and NullEngine decode whole
   * (default: 'auto').
   */
  decodeTileSize?: DecodeTileSizeOption;
  /**
   * On the worker path, the share of the time the decode worker may compute for this texture, from 0.05 to 1:
   * after each of its decodes the worker rests before the next request, leaving the cores to rendering (with a
   * software rasteriser such as SwiftShader, the page's frames are drawn on the same cores). Lower values give
   * steadier frames and slower regenerations. The model's textures share one worker, so its rest after this
   * texture's decode also delays theirs. Other paths ignore it. The texture's `workerCpuShare` property changes
   * it later (default: 1, never rests).
   */
  workerCpuShare?: number;
}

/** What `serialize()` stores besides Babylon's texture fields. */
export interface SerializedVae {
  modelId: string;
  /** Name the texture's swatch is registered under for the model (registerVaeSwatches); absent otherwise. */
  swatch?: string;
  size: number;
  latent: SerializedLatent;
  tileable: boolean;
  outputFormat: 'uint8' | 'half-float';
  colourSpace: 'srgb' | 'linear';
  generateMipMaps: boolean;
  samplingMode: number;
  useSharedContext: boolean;
  /** The decodePath option (absent in scenes saved before it existed: 'auto'). */
  decodePath?: 'auto' | 'zero-copy' | 'worker' | 'readback';
  /** The decodeTileSize option (absent in scenes saved before it existed: 'auto'). */
  decodeTileSize?: DecodeTileSizeOption;
  /** The workerCpuShare option (absent in scenes saved before it existed: 1). */
  workerCpuShare?: number;
}

/** The object `serialize()` returns: Babylon's texture fields, `customType` and the VAE part. */
export interface SerializedVaeProceduralTexture {
  name: string;
  customType: string;
  vae: SerializedVae;
  [field: string]: unknown;
}

const customType = 'BABYLON.VaeProceduralTexture';

/**
 * A Babylon procedural texture drawn by a TextureVae decoder. On WebGL2 engines the decoder runs on Babylon's
 * own context and its output reaches the texture with no CPU copy; elsewhere (NullEngine, WebGPU, or
 * `useSharedContext: false`) it is read back once. Changing `latent` or calling `regenerate` redraws it
 * through the scene's DecodeScheduler: requests coalesce, latest wins. `isReady()` is true once content is
 * drawn, `whenReadyAsync()` waits for that, and `onGeneratedObservable` is raised each time new content is
 * drawn. After a WebGL context loss the texture is drawn again from its latent.
 *
 * Serializable (`serialize` / `VaeProceduralTexture.Parse`) once `registerVaeProceduralTexture()` ran and the
 * model is registered with `registerVaeModel`.
 */
export class VaeProceduralTexture extends TensorProceduralTexture {
  static override readonly displayName: string = 'VaeProceduralTexture';
  static override readonly decodesInWorker: boolean = true;
  /** The model that draws this texture (not owned). */
  readonly model: TextureVae;
  /** The swatch the first latent was sampled from, or null for a texture made from a latent. */
  readonly swatch: Swatch | null;
  /** Id of the model in the registry, stored by `serialize()`. */
  readonly modelId: string;
  /** Raised with the error of a regeneration nobody awaited (a `latent` change, a context restore). */
  readonly onGenerationErrorObservable = new Observable<Error>();
  /** The decodeTileSize option this texture was made with. */
  readonly decodeTileSizeOption: DecodeTileSizeOption;
  /** The tiles a regeneration decodes, one per scheduler turn, row by row; empty when it decodes in one piece. */
  readonly decodeTiles: readonly DecodeTile[];
  private _latent: LatentGrid;
  private _workerCpuShare: number;
  private _scheduler: DecodeScheduler | null = null;
  private readonly _stopRestore: () => void;
  private readonly _worker: WorkerDecoderLease | null;

  constructor(name: string, scene: Scene, options: VaeProceduralTextureOptions) {
    const size = options?.size ?? 256;
    const { model, swatch } = checkModelAndLook(
      options,
      'VaeProceduralTexture needs',
      'the TextureVae given to VaeProceduralTexture',
      (m) => gridFor(m, size),
    );
    // Checked before the copy, so a malformed latent costs no allocation.
    const latent = options.latent
      ? checkLatent(model, size, options.latent)
      : (swatch as Swatch).sample({ width: size, height: size, seed: options.seed ?? 0 });
    const tileOption = options.decodeTileSize ?? 'auto';
    // Checked before anything is allocated; whether 'auto' tiles depends on the path, chosen by the base class.
    resolveDecodeTileSize(tileOption, size, model.stride, false);
    const workerCpuShare = checkCpuShare(options.workerCpuShare ?? 1, 'workerCpuShare');
    super(name, scene, { ...options, size, tileable: options.tileable ?? model.config.tileable });
    this.model = model;
    this.swatch = swatch;
    this.modelId = options.modelId ?? model.config.name;
    this._latent = latent;
    this.decodeTileSizeOption = tileOption;
    this._workerCpuShare = workerCpuShare;
    const path = this.decodePath.path;
    // A NullEngine draws nothing: its textures decode whole.
    const { isWebGPU, webGLVersion } = decodeEnvironment(scene.getEngine());
    const tileSize =
      path === 'worker' || (!isWebGPU && webGLVersion === 0)
        ? 0
        : resolveDecodeTileSize(tileOption, size, model.stride, path === 'zero-copy');
    this.decodeTiles = Object.freeze(
      tileSize === 0
        ? []
        : planDecodeTiles(size / model.stride, size / model.stride, tileSize / model.stride, {
            stride: model.stride,
            halo: decoderHaloCells(model.config),
            tileable: model.config.tileable,
          }),
    );
    this._worker = path === 'worker' ? acquireWorkerDecoder(model) : null;
    this.source.protectWeights(model);
    this._stopRestore = this.source.onRestored(() => this._regenerateQuietly(this._latent));
    this._regenerateQuietly(latent);
  }

  /**
   * Like the constructor, but `options.model` may also name a model: a registered id or a pretrained id
   * (`'default'`, loaded once and shared). Resolves once the texture holds its first content.
   */
  static async CreateAsync(
    name: string,
    scene: Scene,
    options: Omit<VaeProceduralTextureOptions, 'model' | 'swatch'> & {
      model: TextureVae | string;
      swatch?: Swatch | string;
    },
  ): Promise<VaeProceduralTexture> {
    const model = await resolveVaeModel(options.model);
    const modelId = options.modelId ?? (typeof options.model === 'string' ? options.model : undefined);
    const swatch =
      options.swatch === undefined
        ? undefined
        : await resolveVaeSwatch(modelId ?? model.config.name, options.swatch);
    const texture = new VaeProceduralTexture(name, scene, { ...options, model, modelId, swatch });
    await texture.whenReadyAsync();
    return texture;
  }

  /** Resolves once the texture is ready, i.e. holds content (at once if it does); rejects if that first decode fails. */
  whenReadyAsync(): Promise<void> {
    if (this.isReady()) return Promise.resolve();
    if (this.isDisposed) return Promise.reject(this._disposedError());
    return new Promise((resolve, reject) => {
      const settle = (error: Error | null) => {
        drawn.remove();
        failed.remove();
        gone.remove();
        if (error) reject(error);
        else resolve();
      };
      const drawn = this.onGeneratedObservable.addOnce(() => settle(null));
      const failed = this.onGenerationErrorObservable.addOnce((error) => settle(error));
      const gone = this.onDisposeObservable.addOnce(() => settle(this._disposedError()));
    });
  }

  override getClassName(): string {
    return 'VaeProceduralTexture';
  }

  /** @internal The texture's own checked copy of its latent, for the material that drives it; never changed. */
  get _checkedLatent(): LatentGrid {
    return this._latent;
  }

  /** A copy of the latent the texture shows (or is about to show). Setting it regenerates the texture. */
  get latent(): LatentGrid {
    return copyLatent(this._latent);
  }

  set latent(value: LatentGrid) {
    this._throwIfDisposed();
    this._latent = checkLatent(this.model, this.options.size, value);
    this._regenerateQuietly(this._latent);
  }

  /**
   * Draws the texture again, from `latent` when given (it becomes the texture's latent) or from the current
   * one. Resolves once content at least this new is in the texture; rapid calls coalesce (latest wins).
   * Rejects with an Error when the latent is malformed, the model or the texture is disposed.
   */
  regenerate(latent?: LatentGrid): Promise<void> {
    try {
      this._throwIfDisposed();
      if (latent) this._latent = checkLatent(this.model, this.options.size, latent);
      this._throwIfModelDisposed();
    } catch (error) {
      return Promise.reject(error);
    }
    return this._request(this._latent);
  }

  private _regenerateQuietly(latent: LatentGrid): void {
    this._request(latent).catch((error: Error) => {
      if (!this.isDisposed) this.onGenerationErrorObservable.notifyObservers(error);
    });
  }

  /**
   * The scene's DecodeScheduler is the one queue: it keeps the latest request of this texture and shares the
   * scene's per-frame decode budget among its VAE textures (visible ones first).
   */
  private _request(latent: LatentGrid): Promise<void> {
    if (this._worker) {
      // A worker decode costs the render loop only its upload and one pass, so it takes no share of the scene's
      // frame budget: the texture's own scheduler only keeps its latest request and one decode in flight.
      this._scheduler ??= new DecodeScheduler();
      return this._scheduler.request(this, () => this._decodeInWorker(latent));
    }
    const scene = this.getScene();
    if (!scene) return this._decode(latent);
    const run: DecodeStep =
      this.decodeTiles.length > 1 ? () => this._decodeTile(latent, 0) : () => this._decode(latent);
    this._scheduler ??= DecodeScheduler.forScene(scene);
    return this._scheduler.request(this, run, () => this._visibility(scene));
  }

  private _visibility(scene: Scene): number {
    const planes = scene.frustumPlanes;
    for (const mesh of scene.meshes) {
      if (!mesh.material?.hasTexture(this) || !mesh.isEnabled() || !mesh.isVisible) continue;
      if (!planes || mesh.isInFrustum(planes)) return 1;
    }
    return 0;
  }

  private async _decode(latent: LatentGrid): Promise<void> {
    this._throwIfDisposed();
    this._throwIfModelDisposed();
    try {
      await this.write(() => this.model.decodeTensors(latentToTensor(latent)));
    } catch (error) {
      // Disposal during a decode surfaces as the source's error; name the texture instead.
      if (this.isDisposed) throw this._disposedError();
      throw error;
    }
  }

  /**
   * One tile into the back buffer; the last one also shows the buffer. Returns the next tile's step, which the
   * scheduler runs at a later turn unless a newer request or dispose() drops it.
   */
  private async _decodeTile(latent: LatentGrid, index: number): Promise<DecodeStep | undefined> {
    this._throwIfDisposed();
    this._throwIfModelDisposed();
    const tile = this.decodeTiles[index] as DecodeTile;
    try {
      await this.writeTile(() => decodeTile(this.model, latent, tile), tile.rect);
      if (index + 1 < this.decodeTiles.length) return () => this._decodeTile(latent, index + 1);
      this.showTiles();
      return undefined;
    } catch (error) {
      if (this.isDisposed) throw this._disposedError();
      throw error;
    }
  }

  private async _decodeInWorker(latent: LatentGrid): Promise<void> {
    this._throwIfDisposed();
    this._throwIfModelDisposed();
    try {
      const image = await (this._worker as WorkerDecoderLease).decoder.decode(latent, {
        cpuShare: this._workerCpuShare,
      });
      this._throwIfDisposed();
      await this.writeImage(image);
    } catch (error) {
      if (this.isDisposed) throw this._disposedError();
      throw error;
    }
  }

  private _throwIfModelDisposed(): void {
    if (this.model.isDisposed) {
      throw new Error(`the TextureVae of VaeProceduralTexture '${this.name}' has been disposed`);
    }
  }

  /**
   * On the worker path, the share of the time the decode worker computes for this texture's decodes, from 0.05
   * to 1 (the workerCpuShare option); a new value applies from the next decode. Throws on other values.
   */
  get workerCpuShare(): number {
    return this._workerCpuShare;
  }

  set workerCpuShare(value: number) {
    this._workerCpuShare = checkCpuShare(value, 'workerCpuShare');
  }

  /** Babylon serialization: the texture fields plus model id, latent, size and options. */
  override serialize(): SerializedVaeProceduralTexture {
    const serialized = super.serialize();
    serialized.customType = customType;
    const swatchName = this.swatch ? registeredSwatchName(this.modelId, this.swatch) : null;
    const vae: SerializedVae = {
      modelId: this.modelId,
      ...(swatchName !== null ? { swatch: swatchName } : {}),
      size: this.options.size,
      latent: serializeLatent(this._latent),
      tileable: this.options.tileable,
      outputFormat: this.options.outputFormat,
      colourSpace: this.options.colourSpace,
      generateMipMaps: this.options.generateMipMaps,
      samplingMode: this.options.samplingMode,
      useSharedContext: this.options.useSharedContext,
      decodePath: this.options.decodePath,
      decodeTileSize: this.decodeTileSizeOption,
      workerCpuShare: this._workerCpuShare,
    };
    serialized.vae = vae;
    return serialized;
  }

  /**
   * Rebuilds a serialized texture; its model must be registered under the stored id (`registerVaeModel`).
   * Throws an Error naming the missing id otherwise, and one naming the field when the stored size or latent
   * does not fit the model (checked before any latent value is copied).
   */
  static override Parse(
    parsed: SerializedVaeProceduralTexture,
    scene: Scene,
    rootUrl = '',
  ): VaeProceduralTexture {
    const vae = parsed?.vae;
    if (!vae || typeof vae.modelId !== 'string') {
      throw new Error(
        'VaeProceduralTexture.Parse needs the object VaeProceduralTexture.serialize() returned',
      );
    }
    const { model, swatch } = serializedSource('VaeProceduralTexture.Parse', vae.modelId, vae.swatch);
    const grid = gridFor(model, vae.size);
    const latent = parseLatent(vae.latent, { ...grid, channels: model.latentChannels });
    const texture = new VaeProceduralTexture(parsed.name, scene, {
      model,
      swatch,
      modelId: vae.modelId,
      size: vae.size,
      latent,
      tileable: vae.tileable,
      outputFormat: vae.outputFormat,
      colourSpace: vae.colourSpace,
      generateMipMaps: vae.generateMipMaps,
      samplingMode: vae.samplingMode,
      useSharedContext: vae.useSharedContext,
      decodePath: vae.decodePath,
      decodeTileSize: vae.decodeTileSize,
      workerCpuShare: vae.workerCpuShare,
    });
    return SerializationHelper.Parse(() => texture, parsed, scene, rootUrl);
  }

  /**
   * Stops regenerating (a waiting request rejects, a running one finishes quietly with no leak), clears the
   * observables, releases the decode source and the render target. The model is not disposed. Twice is harmless.
   */
  override dispose(): void {
    if (this.isDisposed) return;
    this._scheduler?.cancel(
      this,
      new Error(`VaeProceduralTexture '${this.name}' was disposed before the regeneration ran`),
    );
    this._stopRestore();
    // The worker path's scheduler is the texture's own; the scene's stays with the scene.
    if (this._worker) this._scheduler?.dispose();
    this._worker?.release();
    this.onGenerationErrorObservable.clear();
    super.dispose();
  }
}

/** The latent grid of a `size` texture; throws an Error naming the allowed sizes. */
function gridFor(model: TextureVae, size: number): { height: number; width: number } {
  try {
    return model.latentSize(size, size);
  } catch (error) {
    throw new Error(`VaeProceduralTexture size: ${(error as Error).message.replace(/^width /, '')}`);
  }
}

function checkLatent(model: TextureVae, size: number, latent: LatentGrid): LatentGrid {
  return checkedLatent(model, size, latent, `a ${size}px texture (stride ${model.stride})`);
}

let registered = false;

/** Lets Babylon's scene loader rebuild VaeProceduralTextures (RegisterClass). Idempotent. */
export function registerVaeProceduralTexture(): void {
  if (registered) return;
  registered = true;
  RegisterClass(customType, VaeProceduralTexture);
}
