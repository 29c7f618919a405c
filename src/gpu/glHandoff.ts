import type { AbstractEngine } from '@babylonjs/core/Engines/abstractEngine.js';
import { setWebGLContext } from '@tensorflow/tfjs-backend-webgl';
import { getBackend, setBackend } from '@tensorflow/tfjs-core';
import { getSharedBackend, type SharedBackend } from './sharedBackend.js';

/**
 * Puts the GL state tfjs's WebGL backend assumes (it sets it once when it creates a context, not per op) back
 * in place after Babylon has drawn with the same context.
 */
export function prepareGlForTfjs(gl: WebGL2RenderingContext): void {
  // Babylon leaves UNPACK_FLIP_Y true after e.g. DynamicTexture.update(): tfjs uploads would come back flipped.
  gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
  gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
  gl.pixelStorei(gl.UNPACK_ROW_LENGTH, 0);
  gl.pixelStorei(gl.UNPACK_SKIP_ROWS, 0);
  gl.pixelStorei(gl.UNPACK_SKIP_PIXELS, 0);
  gl.pixelStorei(gl.PACK_ROW_LENGTH, 0);
  gl.pixelStorei(gl.PACK_SKIP_ROWS, 0);
  gl.pixelStorei(gl.PACK_SKIP_PIXELS, 0);
  // tfjs uploads through client memory and reads back through its own pixel-pack buffers.
  gl.bindBuffer(gl.PIXEL_UNPACK_BUFFER, null);
  gl.bindBuffer(gl.PIXEL_PACK_BUFFER, null);
  // Each of these would drop or blend tfjs's full-screen quad: Babylon's materials leave them as they need.
  gl.disable(gl.DEPTH_TEST);
  gl.disable(gl.STENCIL_TEST);
  gl.disable(gl.BLEND);
  gl.disable(gl.CULL_FACE);
  gl.disable(gl.POLYGON_OFFSET_FILL);
  gl.disable(gl.SAMPLE_ALPHA_TO_COVERAGE);
  gl.disable(gl.SAMPLE_COVERAGE);
  gl.disable(gl.RASTERIZER_DISCARD);
  gl.colorMask(true, true, true, true);
  gl.enable(gl.SCISSOR_TEST);
}

/**
 * Hands the context back to Babylon after tfjs work. All four steps, in this order: unbinding tfjs's vertex
 * array first keeps `wipeCaches` from disabling attributes on it (tfjs reuses it on the next op); the scissor
 * box and framebuffer are tfjs's last output's; `wipeCaches(true)` makes Babylon re-send every cached state.
 */
export function restoreGlForBabylon(engine: AbstractEngine, gl: WebGL2RenderingContext): void {
  gl.bindVertexArray(null);
  gl.disable(gl.SCISSOR_TEST);
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  engine.wipeCaches(true);
}

/**
 * Makes `name` tfjs's active backend synchronously. `tf.setBackend` is async only while a backend initialises:
 * for a backend that is already initialised its body runs to completion before it returns (tfjs-core
 * engine.ts), so the switch has happened when the call returns; this is checked.
 */
export function setBackendSync(name: string): void {
  if (getBackend() === name) return;
  void setBackend(name);
  if (getBackend() !== name) {
    throw new Error(
      `tfjs backend '${name}' could not be activated synchronously; await tf.setBackend('${name}') first`,
    );
  }
}

/**
 * Runs synchronous tfjs work `fn` on the tfjs backend that shares `engine`'s WebGL2 context, with the GL state
 * handed over before and after, and the previously active tfjs backend active again afterwards (when no
 * backend was active before, the engine's backend stays active). `fn` must not be async: Babylon may draw at
 * any `await`. Tensors `fn` creates live on the engine's backend; the caller disposes them.
 * Throws for engines without a usable WebGL2 context (see `getSharedBackend`).
 */
export function runOnEngine<T>(engine: AbstractEngine, fn: (shared: SharedBackend) => T): T {
  const shared = getSharedBackend(engine);
  if (!shared.isContextLive) {
    throw new Error('the WebGL context of this engine is lost; wait for it to be restored');
  }
  guardReads(shared);
  const previous = getBackend() as string | null | undefined;
  setWebGLContext(2, shared.gl);
  prepareGlForTfjs(shared.gl);
  handoffDepth++;
  try {
    setBackendSync(shared.name);
    const result = fn(shared);
    if (result instanceof Promise) {
      throw new Error('runOnEngine needs a synchronous function: Babylon may draw while it awaits');
    }
    return result;
  } finally {
    handoffDepth--;
    if (previous && previous !== shared.name) setBackendSync(previous);
    restoreGlForBabylon(engine, shared.gl);
  }
}

let handoffDepth = 0;
const guardedBackends = new WeakSet<object>();

/**
 * tfjs reads a tensor's data from the backend that holds it whenever another backend needs it (for example
 * the model's weights after a decode on the shared backend, used next on the cpu backend) or when the caller
 * calls data() / dataSync(). Those reads draw on Babylon's context: outside runOnEngine they get the same
 * state hand-off, so they neither read garbage nor leave Babylon's cached state wrong. (The asynchronous
 * `read` only hands over its synchronous start; its later pixel-pack buffer reads touch no state Babylon caches.)
 */
function guardReads(shared: SharedBackend): void {
  const backend = shared.backend as unknown as {
    readSync: (dataId: object) => unknown;
    read: (dataId: object) => Promise<unknown>;
  };
  if (guardedBackends.has(backend)) return;
  guardedBackends.add(backend);
  const guarded = <R>(fn: () => R): R => {
    if (handoffDepth > 0 || !shared.isContextLive) return fn();
    setWebGLContext(2, shared.gl);
    prepareGlForTfjs(shared.gl);
    handoffDepth++;
    try {
      return fn();
    } finally {
      handoffDepth--;
      restoreGlForBabylon(shared.engine, shared.gl);
    }
  };
  const readSync = backend.readSync.bind(backend);
  const read = backend.read.bind(backend);
  backend.readSync = (dataId) => guarded(() => readSync(dataId));
  backend.read = (dataId) => guarded(() => read(dataId));
}
