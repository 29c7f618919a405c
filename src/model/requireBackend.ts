import { engine } from '@tensorflow/tfjs-core';

/**
 * Throws an Error that says what to install or call when no tfjs backend is registered, instead of tfjs's bare
 * "No backend found in registry." from inside the first op. `what` names the call that needs the backend.
 */
export function requireBackend(what: string): void {
  if (engine().backendNames().length > 0) return;
  throw new Error(
    `${what} needs a TensorFlow.js backend and none is registered: in Node, first call ` +
      `\`await useWasmBackend()\` from 'babylon-vae-textures/node' (package @tensorflow/tfjs-backend-wasm); ` +
      `in a browser, import '@tensorflow/tfjs-backend-webgl'`,
  );
}
