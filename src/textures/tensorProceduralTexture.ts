import { Constants } from '@babylonjs/core/Engines/constants.js';
// Side effects a ProceduralTexture needs, imported here because the package never imports Babylon's root: the
// GLSL vertex shader it draws with (else a dynamic import at first use), ThinEngine.createRenderTargetTexture
// and setAlphaMode (Engine and NullEngine import these themselves; WebGPUEngine has its own). They sit in the
// modules that use them: package.json says `sideEffects: false`, so bundlers drop a module nothing is used from.
import '@babylonjs/core/Engines/Extensions/engine.alpha.js';
import '@babylonjs/core/Engines/Extensions/engine.renderTarget.js';
import '@babylonjs/core/Shaders/procedural.vertex.js';
import { ProceduralTexture } from '@babylonjs/core/Materials/Textures/Procedurals/proceduralTexture.js';
import { ThinTexture } from '@babylonjs/core/Materials/Textures/thinTexture.js';
import type { Scene } from '@babylonjs/core/scene.js';
import type { Tensor4D } from '@tensorflow/tfjs-core';
import {
  checkDecodePathOption,
  chooseDecodePath,
  type DecodePathChoice,
  type DecodePathOption,
  decodeEnvironment,
} from '../gpu/decodePath.js';
import {
  createDecodeSource,
  type DecodedImage,
  type DecodeSource,
  hasTexelFetch,
  type ImageLayout,
} from '../gpu/decodeSource.js';
import {
  handoffFragmentSource,
  handoffLinearDefine,
  handoffSamplerName,
  handoffTexelFetchDefine,
} from '../gpu/handoffShader.js';

/** Options of a TensorProceduralTexture. */
export interface TensorProceduralTextureOptions {
  /** Width and height in pixels; decoded images must have this size (default: 256). */
  size?: number;
  /** Wrap addressing in both directions, for seamless tiling; clamp otherwise (default: true). */
  tileable?: boolean;
  /** Texel format of the texture: 8-bit or half float (default: 'uint8'). */
  outputFormat?: 'uint8' | 'half-float';
  /**
   * How the texture stores colours. Decoders produce sRGB-encoded values: 'srgb' keeps them (gammaSpace true,
   * as an image file), 'linear' converts them in the shader pass (gammaSpace false) (default: 'srgb').
   */
  colourSpace?: 'srgb' | 'linear';
  /** Build mipmaps after each write (default: true). */
  generateMipMaps?: boolean;
  /** Babylon sampling mode (default: Constants.TEXTURE_TRILINEAR_SAMPLINGMODE, or BILINEAR without mipmaps). */
  samplingMode?: number;
  /**
   * Decode on a tfjs backend sharing the engine's WebGL2 context with no CPU copy; false, or an engine that
   * cannot share (NullEngine, WebGPU, WebGL1), reads the image back once instead (default: true).
   */
  useSharedContext?: boolean;
  /**
   * Where the decoder runs: 'zero-copy' (tfjs on the engine's WebGL2 context), 'worker' (tfjs's WASM backend in
   * a Web Worker; VaeProceduralTexture only), 'readback' (the active tfjs backend, read back once), or 'auto':
   * zero-copy on a hardware GPU, the worker on a software rasteriser or without WebGL2, readback elsewhere. The
   * texture's `decodePath` says which path was taken and why (default: 'auto', or 'readback' when
   * `useSharedContext` is false).
   */
  decodePath?: DecodePathOption;
}

/** Fully resolved TensorProceduralTexture options. */
export type ResolvedTensorProceduralTextureOptions = Readonly<Required<TensorProceduralTextureOptions>>;

/** Resolves and validates options against the engine's limits; `what` names the class in messages. */
export function resolveTensorTextureOptions(
  options: TensorProceduralTextureOptions,
  scene: Scene,
  what = 'TensorProceduralTexture',
): ResolvedTensorProceduralTextureOptions {
  const size = options.size ?? 256;
  const maxSize = scene.getEngine().getCaps().maxTextureSize;
  if (!Number.isInteger(size) || size < 1 || size > maxSize) {
    throw new Error(
      `${what} size must be an integer between 1 and ${maxSize} (the engine's maxTextureSize), got ${size}`,
    );
  }
  const outputFormat = options.outputFormat ?? 'uint8';
  if (outputFormat !== 'uint8' && outputFormat !== 'half-float') {
    throw new Error(`${what} outputFormat must be 'uint8' or 'half-float', got ${String(outputFormat)}`);
  }
  if (outputFormat === 'half-float' && !scene.getEngine().getCaps().textureHalfFloatRender) {
    throw new Error(`${what} outputFormat 'half-float' needs an engine that renders to half-float textures`);
  }
  const colourSpace = options.colourSpace ?? 'srgb';
  if (colourSpace !== 'srgb' && colourSpace !== 'linear') {
    throw new Error(`${what} colourSpace must be 'srgb' or 'linear', got ${String(colourSpace)}`);
  }
  const generateMipMaps = options.generateMipMaps ?? true;
  return Object.freeze({
    size,
    tileable: options.tileable ?? true,
    outputFormat,
    colourSpace,
    generateMipMaps,
    samplingMode:
      options.samplingMode ??
      (generateMipMaps ? Constants.TEXTURE_TRILINEAR_SAMPLINGMODE : Constants.TEXTURE_BILINEAR_SAMPLINGMODE),
    useSharedContext: options.useSharedContext ?? true,
    decodePath: checkDecodePathOption(
      options.decodePath ?? (options.useSharedContext === false ? 'readback' : 'auto'),
    ),
  });
}

/**
 * A Babylon texture whose content is written from tfjs image tensors: each `write` decodes an image on the GPU
 * (or reads it back once where the context cannot be shared) and one shader pass copies it into the texture's
 * own render target, then builds mipmaps. The texture never holds on to tfjs memory between writes.
 *
 * Content changes only through `write`: the scene never redraws it on its own, so `refreshRate` has no effect.
 */
export class TensorProceduralTexture extends ProceduralTexture {
  /** The class name used in error messages raised before construction finishes. */
  static readonly displayName: string = 'TensorProceduralTexture';
  /** Whether the class decodes with a model it can send to a worker (the 'worker' decode path). */
  static readonly decodesInWorker: boolean = false;
  /** The resolved options this texture was made with. */
  readonly options: ResolvedTensorProceduralTextureOptions;
  /** Where decoded images come from (zero-copy or readback; worker images are uploaded through readback). */
  readonly source: DecodeSource;
  /** The decode path this texture uses and why (see the `decodePath` option). */
  readonly decodePath: DecodePathChoice;
  private readonly _placeholder = new ThinTexture(null);
  private _hasContent = false;
  private _isDisposed = false;

  constructor(name: string, scene: Scene, options: TensorProceduralTextureOptions = {}) {
    const resolved = resolveTensorTextureOptions(
      options,
      scene,
      (new.target as typeof TensorProceduralTexture).displayName,
    );
    // Chosen before anything is allocated, so an impossible path costs no render target.
    const target = new.target as typeof TensorProceduralTexture;
    if (resolved.decodePath === 'worker' && !target.decodesInWorker) {
      throw new Error(
        `${target.displayName} decodePath 'worker' needs a VaeProceduralTexture (a model to run in the worker)`,
      );
    }
    const environment = decodeEnvironment(scene.getEngine());
    const decodePath = chooseDecodePath(resolved.decodePath, {
      ...environment,
      hasWorker: environment.hasWorker && target.decodesInWorker,
    });
    super(
      name,
      resolved.size,
      { fragmentSource: handoffFragmentSource },
      scene,
      { samplingMode: resolved.samplingMode },
      resolved.generateMipMaps,
      false,
      resolved.outputFormat === 'half-float'
        ? Constants.TEXTURETYPE_HALF_FLOAT
        : Constants.TEXTURETYPE_UNSIGNED_BYTE,
    );
    this.options = resolved;
    this.refreshRate = 0;
    this.autoClear = false;
    this.gammaSpace = resolved.colourSpace === 'srgb';
    const address = resolved.tileable
      ? Constants.TEXTURE_WRAP_ADDRESSMODE
      : Constants.TEXTURE_CLAMP_ADDRESSMODE;
    this.wrapU = address;
    this.wrapV = address;
    const engine = scene.getEngine();
    this.defines =
      (resolved.colourSpace === 'linear' ? `#define ${handoffLinearDefine}\n` : '') +
      (hasTexelFetch(engine) ? `#define ${handoffTexelFetchDefine}\n` : '');
    // Samplers and uniforms must be declared before the effect is first built.
    this.setTexture(handoffSamplerName, this._placeholder);
    this.setFloat('packedRgb', 0);
    this.setVector3('tensorLayout', { x: 0, y: 0, z: 0 });
    this.setVector2('imageSize', { x: resolved.size, y: resolved.size });
    this.decodePath = decodePath;
    this.source = createDecodeSource(engine, { useSharedContext: this.decodePath.path === 'zero-copy' });
  }

  override getClassName(): string {
    return 'TensorProceduralTexture';
  }

  /** True once the texture holds written content and its shader is ready. */
  override isReady(): boolean {
    return this._hasContent && !this._isDisposed && super.isReady();
  }

  /** Whether `dispose()` was called. */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** @internal The scene never redraws this texture: its source only exists during `write`. */
  override _shouldRender(): boolean {
    return false;
  }

  /**
   * Runs `decode` (synchronous tfjs ops returning a `[1, size, size, 3 | 4]` image in [0, 1], which this method
   * disposes) and writes the image into the texture. Resolves once the new content is in the texture.
   */
  async write(decode: () => Tensor4D): Promise<void> {
    this._throwIfDisposed();
    await this._whenShaderReady();
    this._throwIfDisposed();
    await this.source.present(decode, (texture, layout) => this._drawImage(texture, layout));
    this._hasContent = true;
  }

  /** Writes an image decoded elsewhere (a worker) into the texture: one upload and the same shader pass. */
  async writeImage(image: DecodedImage): Promise<void> {
    this._throwIfDisposed();
    await this._whenShaderReady();
    this._throwIfDisposed();
    this.source.presentImage(image, (texture, layout) => this._drawImage(texture, layout));
    this._hasContent = true;
  }

  private _drawImage(texture: ThinTexture, layout: ImageLayout): void {
    if (layout.width !== this.options.size || layout.height !== this.options.size) {
      throw new Error(
        `${this.getClassName()} '${this.name}' is ${this.options.size}x${this.options.size}, ` +
          `got a ${layout.width}x${layout.height} image`,
      );
    }
    this._drawFrom(texture, layout);
  }

  private _drawFrom(texture: ThinTexture, layout: ImageLayout): void {
    const engine = this.getScene()?.getEngine();
    if (!engine) return;
    this.setFloat('packedRgb', layout.packedRgb ? 1 : 0);
    const tensor = layout.tensor;
    this.setVector3('tensorLayout', {
      x: tensor ? (tensor.packed ? 2 : 1) : 0,
      y: tensor?.channels ?? 0,
      z: tensor?.columns ?? 0,
    });
    engine.setAlphaMode(Constants.ALPHA_DISABLE);
    engine.setColorWrite(true);
    this.setTexture(handoffSamplerName, texture);
    // Set before render(): onGeneratedObservable fires inside it, and its observers may check isReady().
    this._hasContent = true;
    try {
      this.render();
    } finally {
      this.setTexture(handoffSamplerName, this._placeholder);
      (engine as { unbindAllTextures?: () => void }).unbindAllTextures?.();
    }
  }

  /** Resolves once the copy shader is compiled (the effect's own callback); rejects if it fails or the texture goes. */
  private _whenShaderReady(): Promise<void> {
    if (super.isReady()) return Promise.resolve();
    const effect = this.getEffect();
    if (!effect) return Promise.reject(new Error(`${this.getClassName()} '${this.name}' has no shader`));
    return new Promise((resolve, reject) => {
      const settle = (error: Error | null) => {
        failed.remove();
        gone.remove();
        if (error) reject(error);
        else resolve();
      };
      const failed = effect.onErrorObservable.addOnce(() =>
        settle(new Error(`${this.getClassName()} '${this.name}': its shader failed to compile`)),
      );
      const gone = this.onDisposeObservable.addOnce(() => settle(this._disposedError()));
      effect.executeWhenCompiled(() => settle(null));
    });
  }

  protected _disposedError(): Error {
    return new Error(`${this.getClassName()} '${this.name}' has been disposed`);
  }

  protected _throwIfDisposed(): void {
    if (this._isDisposed) throw this._disposedError();
  }

  /** Releases the decode source and the render target. Twice is harmless. */
  override dispose(): void {
    if (this._isDisposed) return;
    this._isDisposed = true;
    this._hasContent = false;
    this.source.dispose();
    this._placeholder.dispose();
    super.dispose();
  }
}
