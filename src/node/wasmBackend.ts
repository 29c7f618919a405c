import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

import { registerConvGradientKernels } from '../model/ops/convFilterGradient.js';

const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';

let prepared: Promise<void> | undefined;

/**
 * Imports the backend package (which registers 'wasm' with tfjs) on first use, so the rest of the Node entry
 * (PNG files, model files) works without it, and a missing install says what to run.
 */
async function importWasmPackage(): Promise<typeof import('@tensorflow/tfjs-backend-wasm')> {
  try {
    return await import('@tensorflow/tfjs-backend-wasm');
  } catch (e) {
    const { code, message } = e as { code?: string; message?: string };
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message?.includes(WASM_PACKAGE)) {
      throw new Error(
        `useWasmBackend() needs the package ${WASM_PACKAGE}, which is not installed; ` +
          `install the version of your @tensorflow/tfjs-core: npm install ${WASM_PACKAGE}@${tf.version_core}`,
        { cause: e },
      );
    }
    throw e;
  }
}

async function prepare(): Promise<void> {
  const { setWasmPaths } = await importWasmPackage();
  // The paths can only be set before the backend first initialises.
  if (!tf.findBackend('wasm')) {
    const require = createRequire(import.meta.url);
    setWasmPaths(`${dirname(require.resolve(WASM_PACKAGE))}/`);
  }
  // Initialise first: the backend runs the setup of the kernels registered at that moment, which the
  // replaced Conv2DBackpropInput needs to serve as the fallback.
  if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs WASM backend failed to initialise');
  registerConvGradientKernels('wasm');
}

/**
 * Makes tfjs's WASM backend (the .wasm binaries inside `@tensorflow/tfjs-backend-wasm`) the active backend, with
 * the conv gradient kernels that let models train there at the speed of its forward convolution: the
 * `Conv2DBackpropFilter` it lacks and a faster `Conv2DBackpropInput` (see model/ops/convFilterGradient.ts).
 * Idempotent: later calls only switch back to 'wasm' if another backend was made active in between.
 *
 * The backend's heap is one WebAssembly memory of at most 4 GiB that never shrinks. A kernel whose tensors do
 * not fit traps ('memory access out of bounds') and leaves the heap corrupt: every later kernel of the process
 * traps too, and so does `tf.removeBackend('wasm')` (tfjs-backend-wasm 4.22). So nothing may get there:
 * `TextureVae.encodeTensors` and `decodeTensors` keep each pass within a memory budget (DEFAULT_MEMORY_BUDGET),
 * and `decodeTensors` checks its output size before any kernel runs.
 */
export async function useWasmBackend(): Promise<void> {
  prepared ??= prepare().catch((e: unknown) => {
    prepared = undefined;
    throw e;
  });
  await prepared;
  if (tf.getBackend() === 'wasm') return;
  if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs WASM backend failed to initialise');
}
