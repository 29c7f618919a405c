import type { AbstractEngine } from '@babylonjs/core/Engines/abstractEngine.js';
import { Constants } from '@babylonjs/core/Engines/constants.js';
import type { RenderTargetWrapper } from '@babylonjs/core/Engines/renderTargetWrapper.js';
import type { Effect } from '@babylonjs/core/Materials/effect.js';
import { EffectRenderer } from '@babylonjs/core/Materials/effectRenderer.js';
import { ThinTexture } from '@babylonjs/core/Materials/Textures/thinTexture.js';
// The hand-off pass's vertex shader, and ThinEngine.createRenderTargetTexture (see tensorProceduralTexture.ts).
import '@babylonjs/core/Engines/Extensions/engine.renderTarget.js';
import '@babylonjs/core/Shaders/procedural.vertex.js';
import type { ImageLayout } from './decodeSource.js';
import { hasTexelFetch } from './decodeSource.js';
import {
  handoffFragmentSource,
  handoffImageRowsDefine,
  handoffSamplerName,
  handoffTexelFetchDefine,
} from './handoffShader.js';

/** A rectangle of pixels in an image, row 0 at the top. */
export interface PixelRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * A back buffer that a decoded image is put together in, tile by tile, before it is shown: a `size` x `size`
 * render target that the hand-off pass writes each tile's pixels into, at the tile's rectangle (a viewport), with
 * no flip and no colour conversion. It then has a decoded image's layout (row 0, the top, at texture row 0;
 * RGBA, NEAREST, CLAMP), so the texture's own hand-off pass copies it in as it would a whole decoded image.
 *
 * Texels are 32-bit floats where the engine renders to them (every engine the zero-copy path runs on), so the
 * shown pixels equal those of one whole decode; else half floats, else bytes (before the colour conversion:
 * 'linear' textures can then differ from a whole decode by a step of 1/255).
 */
export class TileBuffer {
  readonly size: number;
  /** The buffer as a decoded image, for the texture's hand-off pass. */
  readonly texture: ThinTexture;
  readonly layout: ImageLayout;
  private readonly _engine: AbstractEngine;
  private readonly _target: RenderTargetWrapper;
  private readonly _effect: Effect;
  private readonly _quad: EffectRenderer;
  private _disposed = false;

  constructor(engine: AbstractEngine, size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new Error(`TileBuffer size must be a positive integer of pixels, got ${size}`);
    }
    this.size = size;
    this.layout = Object.freeze({ width: size, height: size, packedRgb: false });
    this._engine = engine;
    const caps = engine.getCaps();
    this._target = engine.createRenderTargetTexture(
      { width: size, height: size },
      {
        generateMipMaps: false,
        generateDepthBuffer: false,
        generateStencilBuffer: false,
        samplingMode: Constants.TEXTURE_NEAREST_SAMPLINGMODE,
        format: Constants.TEXTUREFORMAT_RGBA,
        type: caps.textureFloatRender
          ? Constants.TEXTURETYPE_FLOAT
          : caps.textureHalfFloatRender
            ? Constants.TEXTURETYPE_HALF_FLOAT
            : Constants.TEXTURETYPE_UNSIGNED_BYTE,
        label: 'VAE tile buffer',
      },
    );
    const texture = new ThinTexture(this._target.texture);
    texture.wrapU = Constants.TEXTURE_CLAMP_ADDRESSMODE;
    texture.wrapV = Constants.TEXTURE_CLAMP_ADDRESSMODE;
    texture.anisotropicFilteringLevel = 1;
    this.texture = texture;
    this._quad = new EffectRenderer(engine);
    this._effect = engine.createEffect(
      { vertex: 'procedural', fragmentSource: handoffFragmentSource },
      {
        attributes: ['position'],
        uniformsNames: ['packedRgb', 'imageSize', 'imageOrigin', 'tensorLayout'],
        samplers: [handoffSamplerName],
        defines:
          `#define ${handoffImageRowsDefine}\n` +
          (hasTexelFetch(engine) ? `#define ${handoffTexelFetchDefine}\n` : ''),
        uniformBuffersNames: [],
        fallbacks: null,
        onCompiled: null,
        onError: null,
        indexParameters: null,
      },
      engine,
    );
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Resolves once the tile pass is compiled; rejects if it fails to compile. */
  whenReadyAsync(): Promise<void> {
    const effect = this._effect;
    if (effect.isReady()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const failed = effect.onErrorObservable.addOnce((_, state) => {
        reject(new Error(`the VAE tile pass failed to compile: ${String(state)}`));
      });
      effect.executeWhenCompiled(() => {
        effect.onErrorObservable.remove(failed);
        resolve();
      });
    });
  }

  /**
   * Writes `image` (a decoded image of `rect`'s size, as DecodeSource hands it over) into the buffer at `rect`.
   * The pass must be ready (whenReadyAsync). Throws an Error when the rectangle leaves the buffer or the image
   * has another size.
   */
  draw(image: ThinTexture, layout: ImageLayout, rect: PixelRect): void {
    if (this._disposed) throw new Error('TileBuffer has been disposed');
    const { x, y, width, height } = rect;
    const inside = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;
    if (
      !inside(x, 0, this.size - 1) ||
      !inside(y, 0, this.size - 1) ||
      !inside(width, 1, this.size - x) ||
      !inside(height, 1, this.size - y)
    ) {
      throw new Error(
        `a tile must be a rectangle of whole pixels inside the ${this.size}x${this.size} texture, ` +
          `got ${width}x${height} at (${x}, ${y})`,
      );
    }
    if (layout.width !== width || layout.height !== height) {
      throw new Error(`a ${width}x${height} tile got a ${layout.width}x${layout.height} image`);
    }
    if (!this._effect.isReady()) throw new Error('the VAE tile pass is not compiled yet');
    const engine = this._engine;
    const effect = this._effect;
    const viewport = engine.currentViewport;
    engine.enableEffect(effect);
    engine.setState(false);
    engine.setAlphaMode(Constants.ALPHA_DISABLE);
    engine.setColorWrite(true);
    effect.setTexture(handoffSamplerName, image);
    effect.setFloat('packedRgb', layout.packedRgb ? 1 : 0);
    const tensor = layout.tensor;
    effect.setFloat3(
      'tensorLayout',
      tensor ? (tensor.packed ? 2 : 1) : 0,
      tensor?.channels ?? 0,
      tensor?.columns ?? 0,
    );
    effect.setFloat2('imageSize', width, height);
    effect.setFloat2('imageOrigin', x, y);
    engine.bindFramebuffer(this._target, 0, undefined, undefined, true);
    // In pixels, past Babylon's cached viewport (normalised, for cameras): buffer row y is image row y.
    engine._viewport(x, y, width, height);
    this._quad.bindBuffers(effect);
    this._quad.draw();
    engine.unBindFramebuffer(this._target, true);
    if (viewport) engine.setViewport(viewport);
    effect.setTexture(handoffSamplerName, null);
    (engine as { unbindAllTextures?: () => void }).unbindAllTextures?.();
  }

  /** Releases the render target, the pass and its quad. Twice is harmless. */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this._quad.dispose();
    this._effect.dispose();
    // The render target owns the texture `texture` wraps.
    this._target.dispose();
  }
}
