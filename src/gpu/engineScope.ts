import type { AbstractEngine } from '@babylonjs/core/Engines/abstractEngine.js';
import { runOnEngine } from './glHandoff.js';
import { canShareContext } from './sharedBackend.js';

/** Where synchronous tfjs work for one Babylon engine runs; see {@link engineScope}. */
export interface EngineScope {
  /** True when `run` uses the tfjs backend on the engine's own WebGL2 context (tensors stay on the GPU). */
  readonly sharesContext: boolean;
  /**
   * Runs synchronous tfjs work: on the backend that shares the engine's context, with the GL state handed over
   * before and after (see runOnEngine), or else as is on the active tfjs backend. `work` must not be async.
   * Tensors it creates live on that backend; the caller disposes them.
   */
  readonly run: <T>(work: () => T) => T;
}

/**
 * The one place that decides between the engine's shared context and any other tfjs backend: a WebGL2 engine
 * that can render to float textures shares its context (unless `useSharedContext` is false); NullEngine,
 * WebGPU and WebGL1 engines leave tfjs work on the active backend. Pass `run` as `trainTextureVae`'s `scope`
 * to train where the scene draws.
 */
export function engineScope(
  engine: AbstractEngine,
  options: { useSharedContext?: boolean } = {},
): EngineScope {
  const sharesContext = (options.useSharedContext ?? true) && canShareContext(engine);
  const run = <T>(work: () => T): T => (sharesContext ? runOnEngine(engine, () => work()) : work());
  return Object.freeze({ sharesContext, run });
}
