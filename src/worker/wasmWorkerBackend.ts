import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import plainWasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simdWasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threadedSimdWasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { env, getBackend, setBackend } from '@tensorflow/tfjs-core';
import { registerConvGradientKernels } from '../model/ops/convFilterGradient.js';

/** Which build of the WASM backend runs, as tfjs chose it from what the browser supports. */
export interface WasmWorkerBackendInfo {
  /** WebAssembly SIMD is used (about 2-3x faster convolutions than the plain build). */
  readonly simd: boolean;
  /** The threaded build is used: only on cross-origin-isolated pages (SharedArrayBuffer). */
  readonly threads: boolean;
}

let prepared: Promise<WasmWorkerBackendInfo> | undefined;

async function prepare(): Promise<WasmWorkerBackendInfo> {
  // The bundler serves the binaries from the npm package (`?url`): nothing is fetched from a CDN.
  setWasmPaths({
    'tfjs-backend-wasm.wasm': plainWasmUrl,
    'tfjs-backend-wasm-simd.wasm': simdWasmUrl,
    'tfjs-backend-wasm-threaded-simd.wasm': threadedSimdWasmUrl,
  });
  if (!(await setBackend('wasm'))) throw new Error('the tfjs WASM backend failed to initialise');
  // Registered after the backend initialised: the replaced Conv2DBackpropInput serves as the fallback, and
  // training needs the Conv2DBackpropFilter the backend lacks (see model/ops/convFilterGradient.ts).
  registerConvGradientKernels('wasm');
  const [simd, threads] = await Promise.all([
    env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
  ]);
  return Object.freeze({ simd: simd === true, threads: simd === true && threads === true });
}

/**
 * Makes tfjs's WASM backend the active backend of this worker (or page), with the .wasm binaries of
 * `@tensorflow/tfjs-backend-wasm` served by the app's bundler (Vite `?url` imports) and the conv gradient
 * kernels training needs. Idempotent: later calls only switch back to 'wasm' if another backend was made
 * active in between. Rejects with the backend's error when WebAssembly is unavailable or a binary fails to load;
 * a later call then tries again.
 */
export async function useWasmWorkerBackend(): Promise<WasmWorkerBackendInfo> {
  prepared ??= prepare().catch((e: unknown) => {
    prepared = undefined;
    throw e;
  });
  const info = await prepared;
  if (getBackend() !== 'wasm' && !(await setBackend('wasm'))) {
    throw new Error('the tfjs WASM backend failed to initialise');
  }
  return info;
}
