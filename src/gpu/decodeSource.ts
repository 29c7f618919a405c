import type { AbstractEngine } from '@babylonjs/core/Engines/abstractEngine.js';
import { Constants } from '@babylonjs/core/Engines/constants.js';
import type { Engine } from '@babylonjs/core/Engines/engine.js';
// RawTexture.update needs ThinEngine.updateRawTexture (WebGPUEngine brings its own).
import '@babylonjs/core/Engines/Extensions/engine.rawTexture.js';
import type { InternalTexture } from '@babylonjs/core/Materials/Textures/internalTexture.js';
import { RawTexture } from '@babylonjs/core/Materials/Textures/rawTexture.js';
import { ThinTexture } from '@babylonjs/core/Materials/Textures/thinTexture.js';
import { pad, type Tensor4D, tidy } from '@tensorflow/tfjs-core';
import { toBytes } from '../model/pixelImage.js';
import { engineScope } from './engineScope.js';
import { runOnEngine } from './glHandoff.js';
import { getSharedBackend, type SharedBackend, type WeightOwner } from './sharedBackend.js';

/** How a drawn image is laid out in its texture; see handoffShader.ts. */
export interface ImageLayout {
  /** Image size in pixels. */
  readonly width: number;
  readonly height: number;
  /** False: one RGBA texel per pixel. True: flat RGB floats packed four to a texel (width * 3 / 4 per row). */
  readonly packedRgb: boolean;
  /** Set when the texture is a tfjs tensor's own: its layout there (see handoffShader.ts). */
  readonly tensor?: TensorTextureLayout;
}

/** How a tfjs WebGL tensor [1, H, W, C] lies in its texture. */
export interface TensorTextureLayout {
  /** True: 2x2 blocks of (W, C) in RGBA texels; false: one value per texel. */
  readonly packed: boolean;
  readonly channels: 3 | 4;
  /** Texels per row of the texture. */
  readonly columns: number;
}

/** A decoded image on the CPU: row-major pixels (row 0 at the top), `channels` floats per pixel in [0, 1]. */
export interface DecodedImage {
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
  readonly channels: 3 | 4;
}

/**
 * Draws with the decoded image bound as a Babylon texture (NEAREST, CLAMP; image row 0, the top, at texture
 * row 0). The GPU work must be issued before the function returns: the texture is released right after.
 */
export type DrawImage = (texture: ThinTexture, layout: ImageLayout) => void;

/**
 * Where decoded images come from, behind one interface: tfjs's own texture on Babylon's WebGL2 context
 * (`zero-copy`), or one CPU readback uploaded to a float RawTexture (`readback`, any engine and tfjs backend).
 * Callers never branch: both hand the same kind of texture to the same draw function.
 */
export interface DecodeSource {
  readonly kind: 'zero-copy' | 'readback';
  readonly engine: AbstractEngine;
  readonly isDisposed: boolean;
  /**
   * Runs `decode` (synchronous tfjs ops returning a `[1, H, W, 3 | 4]` image in [0, 1]; the source disposes it)
   * on this source's tfjs backend, then calls `draw` once with the image as a texture and releases everything.
   * Resolves when `draw` has run. Rejects when the source was disposed before the image was ready (`draw` is
   * then not called) or when `decode` or `draw` throws.
   */
  present(decode: () => Tensor4D, draw: DrawImage): Promise<void>;
  /**
   * Uploads an image decoded elsewhere (a worker) once and calls `draw` with it, as `present` does. Throws when
   * the source was disposed or the image's sizes do not match its data.
   */
  presentImage(image: DecodedImage, draw: DrawImage): void;
  /** Makes sure `owner`'s weights survive a WebGL context loss (zero-copy only; a no-op otherwise). */
  protectWeights(owner: WeightOwner): void;
  /** Registers a callback for a WebGL context restore, after the shared backend is rebuilt. Returns an unsubscribe. */
  onRestored(callback: () => void): () => void;
  dispose(): void;
}

/** Options of `createDecodeSource`. */
export interface DecodeSourceOptions {
  /** Decode on the tfjs backend that shares the engine's WebGL2 context when the engine allows it (default: true). */
  useSharedContext?: boolean;
}

/**
 * The best source for `engine`: zero-copy on WebGL2 engines (unless `useSharedContext` is false), readback
 * on every other engine (NullEngine, WebGPU, WebGL1).
 */
export function createDecodeSource(engine: AbstractEngine, options: DecodeSourceOptions = {}): DecodeSource {
  const { sharesContext } = engineScope(engine, options);
  return sharesContext ? new ZeroCopySource(engine) : new ReadbackSource(engine);
}

function checkImage(image: Tensor4D): void {
  if (image.rank !== 4 || image.shape[0] !== 1 || (image.shape[3] !== 3 && image.shape[3] !== 4)) {
    throw new Error(`decode must return a [1, H, W, 3 | 4] image, got [${image.shape.join(', ')}]`);
  }
}

/** Whether a 3-channel image of this width can go packed: whole texels per row, and texelFetch to read them. */
function canPackRgb(engine: AbstractEngine, width: number, channels: number): boolean {
  return channels === 3 && (width * 3) % 4 === 0 && hasTexelFetch(engine);
}

/** WebGL2 and WebGPU engines run the pass with texelFetch; WebGL1 engines get RGBA images only. */
export function hasTexelFetch(engine: AbstractEngine): boolean {
  return engine.isWebGPU || ((engine as { webGLVersion?: number }).webGLVersion ?? 1) >= 2;
}

function disposedError(): Error {
  return new Error('DecodeSource has been disposed');
}

class ZeroCopySource implements DecodeSource {
  readonly kind = 'zero-copy';
  readonly engine: AbstractEngine;
  private readonly _shared: SharedBackend;
  private _disposed = false;
  private readonly _unsubscribers: (() => void)[] = [];
  private _uploads: ReadbackSource | null = null;

  constructor(engine: AbstractEngine) {
    this.engine = engine;
    this._shared = getSharedBackend(engine);
  }

  presentImage(image: DecodedImage, draw: DrawImage): void {
    if (this._disposed) throw disposedError();
    this._uploads ??= new ReadbackSource(this.engine);
    this._uploads.presentImage(image, draw);
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  async present(decode: () => Tensor4D, draw: DrawImage): Promise<void> {
    if (this._disposed) throw disposedError();
    const { gpu, layout } = runOnEngine(this.engine, (shared) => {
      let image = tidy(decode);
      let kept = false;
      try {
        checkImage(image);
        const [, height, width, channels] = image.shape;
        // A tensor made from CPU values (no op ran on it yet) has no texture until it is uploaded.
        shared.backend.uploadToGPU(image.dataId);
        // The pass reads the tensor's own texture: no repack. The tensor lives until the pass has run.
        const own = ownTexture(shared, image);
        if (own) {
          kept = true;
          const owned = image;
          return {
            gpu: { texture: own.texture, texShape: own.texShape, tensorRef: owned },
            layout: { width, height, packedRgb: false, tensor: own.layout },
          };
        }
        const packedRgb = canPackRgb(this.engine, width, channels);
        if (channels === 3 && !packedRgb) {
          const rgba = pad(
            image,
            [
              [0, 0],
              [0, 0],
              [0, 0],
              [0, 1],
            ],
            1,
          );
          image.dispose();
          image = rgba;
        }
        shared.backend.uploadToGPU(image.dataId);
        // One GPU repack into a dense RGBA texture, no CPU copy; tfjs keeps ownership through tensorRef.
        const texShape: [number, number] = [height, packedRgb ? (width * 3) / 4 : width];
        return { gpu: image.dataToGPU({ customTexShape: texShape }), layout: { width, height, packedRgb } };
      } finally {
        if (!kept) image.dispose();
      }
    });
    try {
      const [texHeight, texWidth] = gpu.texShape as [number, number];
      const internal = (this.engine as Engine).wrapWebGLTexture(
        gpu.texture as WebGLTexture,
        false,
        Constants.TEXTURE_NEAREST_SAMPLINGMODE,
        texWidth,
        texHeight,
      );
      try {
        draw(asSource(internal), layout);
      } finally {
        // Forget the handle first: disposing the wrapper would otherwise delete a texture tfjs owns.
        internal._hardwareTexture?.reset();
        internal.dispose();
      }
    } finally {
      gpu.tensorRef.dispose();
    }
  }

  protectWeights(owner: WeightOwner): void {
    // Inside the hand-off: the weights may already live on the shared backend, so reading them draws on its GL.
    runOnEngine(this.engine, (shared) => shared.rememberWeights(owner));
  }

  onRestored(callback: () => void): () => void {
    const off = this._shared.onRestored(() => {
      if (this._disposed) return;
      runOnEngine(this.engine, (shared) => shared.reuploadWeights());
      callback();
    });
    this._unsubscribers.push(off);
    return off;
  }

  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    for (const off of this._unsubscribers) off();
    this._unsubscribers.length = 0;
    this._uploads?.dispose();
    this._uploads = null;
  }
}

class ReadbackSource implements DecodeSource {
  readonly kind = 'readback';
  readonly engine: AbstractEngine;
  private _disposed = false;
  private _upload: RawTexture | null = null;
  private readonly _restoreCallbacks = new Set<() => void>();
  private readonly _restoreObserver;

  constructor(engine: AbstractEngine) {
    this.engine = engine;
    this._restoreObserver = engine.onContextRestoredObservable.add(() => {
      for (const callback of [...this._restoreCallbacks]) callback();
    });
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  async present(decode: () => Tensor4D, draw: DrawImage): Promise<void> {
    if (this._disposed) throw disposedError();
    const image = tidy(decode);
    let pixels: Float32Array;
    try {
      checkImage(image);
      pixels = (await image.data()) as Float32Array;
    } finally {
      image.dispose();
    }
    const [, height, width, channels] = image.shape;
    this.presentImage({ data: pixels, width, height, channels: channels as 3 | 4 }, draw);
  }

  presentImage(image: DecodedImage, draw: DrawImage): void {
    if (this._disposed) throw disposedError();
    const { width, height, channels } = image;
    if (
      !Number.isInteger(width) ||
      !Number.isInteger(height) ||
      width < 1 ||
      height < 1 ||
      (channels !== 3 && channels !== 4) ||
      !(image.data instanceof Float32Array) ||
      image.data.length !== width * height * channels
    ) {
      throw new Error(
        `a decoded image needs width * height * channels (3 or 4) floats, got ${width}x${height}x${channels} ` +
          `and ${image.data?.length} values`,
      );
    }
    const packedRgb = canPackRgb(this.engine, width, channels);
    const layout: ImageLayout = { width, height, packedRgb };
    const pixels = channels === 3 && !packedRgb ? expandToRgba(image.data) : image.data;
    const upload = this._uploadTexture(packedRgb ? (width * 3) / 4 : width, height);
    if (upload.textureType === Constants.TEXTURETYPE_FLOAT) {
      upload.update(pixels);
    } else {
      upload.update(toBytes(pixels));
    }
    draw(upload, layout);
  }

  /** One upload texture, reused while the image size stays the same. */
  private _uploadTexture(width: number, height: number): RawTexture {
    const current = this._upload;
    if (current) {
      const size = current.getSize();
      if (size.width === width && size.height === height) return current;
      current.dispose();
    }
    const float = this.engine.getCaps().textureFloat;
    const upload = RawTexture.CreateRGBATexture(
      null,
      width,
      height,
      this.engine,
      false,
      false,
      Constants.TEXTURE_NEAREST_SAMPLINGMODE,
      float ? Constants.TEXTURETYPE_FLOAT : Constants.TEXTURETYPE_UNSIGNED_BYTE,
    );
    upload.wrapU = Constants.TEXTURE_CLAMP_ADDRESSMODE;
    upload.wrapV = Constants.TEXTURE_CLAMP_ADDRESSMODE;
    upload.anisotropicFilteringLevel = 1;
    this._upload = upload;
    return upload;
  }

  protectWeights(): void {}

  onRestored(callback: () => void): () => void {
    this._restoreCallbacks.add(callback);
    return () => this._restoreCallbacks.delete(callback);
  }

  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this._restoreObserver.remove();
    this._restoreCallbacks.clear();
    this._upload?.dispose();
    this._upload = null;
  }
}

function expandToRgba(rgb: Float32Array): Float32Array {
  const rgba = new Float32Array((rgb.length / 3) * 4);
  for (let p = 0, q = 0; p < rgb.length; p += 3, q += 4) {
    rgba[q] = rgb[p] as number;
    rgba[q + 1] = rgb[p + 1] as number;
    rgba[q + 2] = rgb[p + 2] as number;
    rgba[q + 3] = 1;
  }
  return rgba;
}

/** What tfjs's WebGL backend keeps for a tensor (backend_webgl.ts TextureData), the fields read here. */
interface TensorTextureData {
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly isPacked: boolean;
  readonly slice?: unknown;
  readonly texture?: { readonly texture: WebGLTexture; readonly texShape: readonly [number, number] };
}

/**
 * The texture a float32 tfjs WebGL tensor [1, H, W, C] was written to and its layout there, or null when it
 * cannot be read in place (a slice of another tensor's texture, a shape other than the one it was written
 * with, or a texture too small for its values): the caller then repacks it.
 */
function ownTexture(
  shared: SharedBackend,
  image: Tensor4D,
): { texture: WebGLTexture; texShape: [number, number]; layout: TensorTextureLayout } | null {
  const backend = shared.backend as unknown as {
    texData?: { get(dataId: object): TensorTextureData | undefined };
  };
  const data = backend.texData?.get(image.dataId);
  const physical = data?.texture;
  if (!data || !physical || data.slice || data.dtype !== 'float32') return null;
  if (data.shape.length !== 4 || data.shape.some((d, i) => d !== image.shape[i])) return null;
  const [, height, width, channels] = image.shape;
  const [rows, columns] = physical.texShape;
  const texels = data.isPacked
    ? height * Math.ceil(width / 2) * Math.ceil(channels / 2)
    : height * width * channels;
  if (!(columns > 0 && rows * columns >= texels)) return null;
  return {
    texture: physical.texture,
    texShape: [rows, columns],
    layout: { packed: data.isPacked, channels: channels as 3 | 4, columns },
  };
}

function asSource(internal: InternalTexture): ThinTexture {
  const texture = new ThinTexture(internal);
  texture.wrapU = Constants.TEXTURE_CLAMP_ADDRESSMODE;
  texture.wrapV = Constants.TEXTURE_CLAMP_ADDRESSMODE;
  texture.anisotropicFilteringLevel = 1;
  return texture;
}
