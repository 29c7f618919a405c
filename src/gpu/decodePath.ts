import type { AbstractEngine } from '@babylonjs/core/Engines/abstractEngine.js';
import { canShareContext } from './sharedBackend.js';

/**
 * Where a texture's decoder runs and how its image reaches the texture:
 * - `zero-copy`: tfjs's WebGL backend on the engine's own WebGL2 context, no CPU copy (a real GPU);
 * - `worker`: tfjs's WASM backend in a Web Worker, the image uploaded once (software rasterisers, no WebGL2);
 * - `readback`: the active tfjs backend on the main thread, the image read back and uploaded once.
 * Worker and readback images take the same upload and the same shader pass into the texture.
 */
export type DecodePath = 'zero-copy' | 'worker' | 'readback';

/** The `decodePath` option: a path, or `'auto'` to choose the fastest one for the machine. */
export type DecodePathOption = 'auto' | DecodePath;

/** The path a texture decodes on, and why. */
export interface DecodePathChoice {
  readonly path: DecodePath;
  /** Why this path, in words, e.g. "software rasteriser (ANGLE (Google, Vulkan 1.3.0 (SwiftShader ...)))". */
  readonly reason: string;
  /** The WebGL renderer string (unmasked where the browser allows), or null without a WebGL context. */
  readonly renderer: string | null;
}

/** What the choice depends on; `decodeEnvironment` reads it from an engine. */
export interface DecodeEnvironment {
  /** The engine's WebGL version: 0 for engines without WebGL (NullEngine, WebGPU). */
  readonly webGLVersion: number;
  readonly isWebGPU: boolean;
  /** Whether tfjs can share the engine's WebGL2 context (it renders to float textures). */
  readonly canShareContext: boolean;
  readonly renderer: string | null;
  /** Whether module Web Workers can be started here (browsers; not Node). */
  readonly hasWorker: boolean;
}

const softwareRenderers =
  /swiftshader|llvmpipe|softpipe|lavapipe|software rasterizer|microsoft basic render/i;

/** Whether a WebGL renderer string names a software rasteriser (SwiftShader, llvmpipe, lavapipe, WARP, ...). */
export function isSoftwareRenderer(renderer: string | null): boolean {
  return renderer !== null && softwareRenderers.test(renderer);
}

const options: readonly DecodePathOption[] = ['auto', 'zero-copy', 'worker', 'readback'];

/** Throws an Error naming the allowed values unless `value` is a DecodePathOption. */
export function checkDecodePathOption(value: unknown): DecodePathOption {
  if (!options.includes(value as DecodePathOption)) {
    throw new Error(
      `decodePath must be one of ${options.map((o) => `'${o}'`).join(', ')}, got ${String(value)}`,
    );
  }
  return value as DecodePathOption;
}

/**
 * The decode path for `requested` in `environment`. `'auto'` picks zero-copy on a hardware-rendered WebGL2
 * context, the worker on a software rasteriser or without WebGL2 (WASM in a worker is 15-20x faster than WebGL on
 * SwiftShader, and never blocks the render loop), and readback where neither applies (NullEngine, WebGPU, Node).
 * A path asked for by name is kept when the environment allows it; zero-copy falls back to readback on an engine
 * that cannot share its context (the reason says so); the worker throws where Web Workers do not exist.
 */
export function chooseDecodePath(
  requested: DecodePathOption,
  environment: DecodeEnvironment,
): DecodePathChoice {
  const { renderer } = environment;
  const choice = (path: DecodePath, reason: string): DecodePathChoice =>
    Object.freeze({ path, reason, renderer });
  switch (checkDecodePathOption(requested)) {
    case 'zero-copy':
      return environment.canShareContext
        ? choice('zero-copy', 'asked for by the decodePath option')
        : choice('readback', `zero-copy was asked for, but ${cannotShare(environment)}`);
    case 'worker':
      if (!environment.hasWorker) {
        throw new Error(
          "decodePath 'worker' needs module Web Workers (a browser); use 'auto' or 'readback' here",
        );
      }
      return choice('worker', 'asked for by the decodePath option');
    case 'readback':
      return choice('readback', 'asked for by the decodePath option');
  }
  if (environment.isWebGPU) {
    return choice('readback', 'WebGPU engine: decodes on the active tfjs backend and uploads the image');
  }
  if (environment.webGLVersion === 0) {
    return choice('readback', 'engine without WebGL (NullEngine): decodes on the active tfjs backend');
  }
  if (isSoftwareRenderer(renderer) && environment.hasWorker) {
    return choice('worker', `software rasteriser (${renderer}): WASM in a worker is faster than WebGL there`);
  }
  if (environment.webGLVersion < 2 && environment.hasWorker) {
    return choice('worker', 'no WebGL2: WASM in a worker instead of tfjs on a separate context');
  }
  if (environment.canShareContext)
    return choice('zero-copy', `hardware WebGL2 renderer (${renderer ?? 'unknown'})`);
  return choice('readback', cannotShare(environment));
}

function cannotShare(environment: DecodeEnvironment): string {
  if (environment.isWebGPU) return 'the engine is a WebGPU engine';
  if (environment.webGLVersion === 0) return 'the engine has no WebGL context';
  if (environment.webGLVersion < 2) return 'the engine has no WebGL2 context';
  return 'the engine cannot render to float textures (EXT_color_buffer_float)';
}

/** Reads the decode environment of `engine`: its WebGL version and renderer, and whether workers exist. */
export function decodeEnvironment(engine: AbstractEngine): DecodeEnvironment {
  const gl = (engine as AbstractEngine & { _gl?: unknown })._gl;
  const isWebGL =
    !engine.isWebGPU && typeof WebGLRenderingContext !== 'undefined' && gl instanceof WebGLRenderingContext;
  const isWebGL2 =
    !engine.isWebGPU && typeof WebGL2RenderingContext !== 'undefined' && gl instanceof WebGL2RenderingContext;
  return {
    webGLVersion: isWebGL2 ? 2 : isWebGL ? 1 : 0,
    isWebGPU: engine.isWebGPU,
    canShareContext: canShareContext(engine),
    renderer: isWebGL || isWebGL2 ? rendererOf(gl as WebGLRenderingContext) : null,
    hasWorker: typeof Worker !== 'undefined',
  };
}

function rendererOf(gl: WebGLRenderingContext): string {
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
  return typeof renderer === 'string' ? renderer : 'unknown';
}
