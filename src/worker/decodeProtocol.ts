import type { io } from '@tensorflow/tfjs-core';
import type { DecodedImage } from '../gpu/decodeSource.js';
import type { LatentGrid } from '../latent/latentGrid.js';
import type { Exemplar } from '../model/exemplars.js';
import type { WasmWorkerBackendInfo } from './wasmWorkerBackend.js';

/** Messages the page sends to the decode worker; the worker handles them one at a time, in order. */
export type DecodeWorkerRequest =
  /** Replaces the worker's model with the one saved in `artifacts` (as `TextureVae.save` writes them). */
  | { readonly type: 'load'; readonly id: number; readonly artifacts: io.ModelArtifacts }
  /**
   * Decodes `latent`; with `cpuShare` below 1 the worker then rests before its next request, so that this decode
   * and the rest take decodeMs / cpuShare of wall time.
   */
  | { readonly type: 'decode'; readonly id: number; readonly latent: LatentGrid; readonly cpuShare: number }
  /** Encodes `image` (float pixels in [0, 1], sides multiples of the stride); with `reconstruct`, decodes it too. */
  | { readonly type: 'encode'; readonly id: number; readonly image: Exemplar; readonly reconstruct: boolean };

/** Messages the decode worker sends back: `ready` once its module loaded, then one answer per request. */
export type DecodeWorkerReply =
  | { readonly type: 'ready' }
  | { readonly type: 'loaded'; readonly id: number; readonly backend: WasmWorkerBackendInfo }
  | {
      readonly type: 'decoded';
      readonly id: number;
      readonly image: DecodedImage;
      /** Milliseconds the decode took in the worker (pixels read back included). */
      readonly decodeMs: number;
      /** Milliseconds the worker rests after it, before its next request (0 at cpuShare 1). */
      readonly restMs: number;
    }
  | {
      readonly type: 'encoded';
      readonly id: number;
      /** The posterior mean grid. */
      readonly latent: LatentGrid;
      /** Its decode, when asked for. */
      readonly reconstruction: DecodedImage | null;
    }
  | { readonly type: 'failed'; readonly id: number; readonly message: string };
