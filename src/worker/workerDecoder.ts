import { io, type TensorInfo } from '@tensorflow/tfjs-core';
import type { DecodedImage } from '../gpu/decodeSource.js';
import type { LatentGrid } from '../latent/latentGrid.js';
import { type Exemplar, toExemplars } from '../model/exemplars.js';
import { centreCrop, type PixelImage } from '../model/pixelImage.js';
import type { TextureVae } from '../model/textureVae.js';
import { checkCpuShare } from './cpuShare.js';
import type { DecodeWorkerReply, DecodeWorkerRequest } from './decodeProtocol.js';
import type { WasmWorkerBackendInfo } from './wasmWorkerBackend.js';

/** Options of a WorkerDecoder. */
export interface WorkerDecoderOptions {
  /** URL of the worker module (default: the package's decodeWorker, which the app's bundler builds). */
  workerUrl?: string | URL;
}

/** Options of one WorkerDecoder decode. */
export interface WorkerDecodeOptions {
  /**
   * The share of the time the worker computes, from 0.05 to 1: after this decode it rests before its next
   * request so that the decode takes no more than this share of the wall time, leaving the CPU to the page (with
   * a software rasteriser such as SwiftShader, rendering runs on the same cores) (default: 1, never rests).
   */
  cpuShare?: number;
}

/** Timing of the worker's last decode. */
export interface WorkerDecodeTiming {
  /** Milliseconds the decode took in the worker, its pixels read back included. */
  readonly decodeMs: number;
  /** Milliseconds the worker rested after it (0 at cpuShare 1). */
  readonly restMs: number;
}

interface Waiter {
  resolve: (value: never) => void;
  reject: (error: Error) => void;
}

let liveWorkers = 0;

/** How many decode workers run now (started and not yet terminated), for leak checks. */
export function liveDecodeWorkers(): number {
  return liveWorkers;
}

/**
 * Decodes latents of one model on tfjs's WASM backend in a module Web Worker, so decoding never blocks the page.
 * The model's weights are sent to the worker before the first decode, and again before a decode that follows a
 * change of weights (training, setWeights). Requests run one at a time, in order.
 *
 * A worker error rejects the request with the worker's message; a worker that fails to load rejects every
 * request with an Error naming its URL. `dispose` terminates the worker and rejects what is still waiting.
 */
export class WorkerDecoder {
  readonly model: TextureVae;
  /** The worker module's URL. */
  readonly workerUrl: string;
  private readonly _worker: Worker;
  private readonly _waiters = new Map<number, Waiter>();
  private _nextId = 1;
  private _loadError: Error | null = null;
  private _isReady = false;
  private _disposed = false;
  private _sentWeights: readonly object[] | null = null;
  private _backend: Promise<WasmWorkerBackendInfo> | null = null;
  private _lastDecode: WorkerDecodeTiming | null = null;

  constructor(model: TextureVae, options: WorkerDecoderOptions = {}) {
    if (model.isDisposed) throw new Error('the TextureVae given to WorkerDecoder has been disposed');
    if (typeof Worker === 'undefined') throw new Error('WorkerDecoder needs module Web Workers (a browser)');
    this.model = model;
    // Written out in full for the default so bundlers (Vite) find the worker module and build it.
    this._worker =
      options.workerUrl === undefined
        ? new Worker(new URL('./decodeWorker.js', import.meta.url), { type: 'module' })
        : new Worker(options.workerUrl, { type: 'module' });
    this.workerUrl = String(options.workerUrl ?? new URL('./decodeWorker.js', import.meta.url));
    liveWorkers++;
    this._worker.onmessage = (event: MessageEvent<DecodeWorkerReply>) => this._receive(event.data);
    // Before 'ready' an error event means the module did not load (wrong URL, a failed import, a syntax error).
    this._worker.onerror = (event: ErrorEvent) => {
      event.preventDefault?.();
      const detail = event.message ? `: ${event.message}` : '';
      this._fail(
        this._isReady
          ? new Error(`decode worker error${detail}`)
          : new Error(`the decode worker failed to load from ${this.workerUrl}${detail}`),
      );
    };
    this._worker.onmessageerror = () => this._fail(new Error('a decode worker message could not be read'));
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Which WASM build the worker runs; resolves once the worker holds the model. */
  get backend(): Promise<WasmWorkerBackendInfo> {
    return this._backend ?? this._syncWeights();
  }

  /** How long the worker's last decode took and rested, or null before the first decode. */
  get lastDecode(): WorkerDecodeTiming | null {
    return this._lastDecode;
  }

  /** Decodes `latent` in the worker. Resolves with the image (the caller owns it). */
  async decode(latent: LatentGrid, options: WorkerDecodeOptions = {}): Promise<DecodedImage> {
    this._throwIfUnusable();
    const cpuShare = checkCpuShare(options.cpuShare ?? 1);
    if (this.model.isDisposed) throw new Error('the TextureVae of this WorkerDecoder has been disposed');
    await this._syncWeights();
    const data = Float32Array.from(latent.data);
    const copy = { data, height: latent.height, width: latent.width, channels: latent.channels };
    return this._request<DecodedImage>({ type: 'decode', id: this._nextId++, latent: copy, cpuShare }, [
      data.buffer,
    ]);
  }

  /**
   * Encodes `image` in the worker: the posterior mean grid of its centre crop whose sides are multiples of the
   * model's stride (what `TextureVae.encode` returns, and `Swatch.fromLatent` takes), and with `reconstruct`
   * also the decode of that grid. The image is checked and copied here; the caller keeps it.
   */
  async encode(
    image: PixelImage | Exemplar,
    options: { reconstruct?: boolean } = {},
  ): Promise<{ latent: LatentGrid; reconstruction: DecodedImage | null }> {
    this._throwIfUnusable();
    if (this.model.isDisposed) throw new Error('the TextureVae of this WorkerDecoder has been disposed');
    const [exemplar] = await toExemplars(image, { channels: this.model.outputChannels });
    const stride = this.model.stride;
    if (exemplar.width < stride || exemplar.height < stride) {
      throw new Error(
        `an image to encode must be at least the model's stride (${stride} px) a side, got ${exemplar.width}x${exemplar.height}`,
      );
    }
    const crop = centreCrop(exemplar, stride);
    await this._syncWeights();
    const reply = await this._request<{ latent: LatentGrid; reconstruction: DecodedImage | null }>(
      { type: 'encode', id: this._nextId++, image: crop, reconstruct: options.reconstruct === true },
      [crop.data.buffer],
    );
    return { latent: reply.latent, reconstruction: reply.reconstruction };
  }

  /** Sends the model's weights when the worker does not have these ones yet. */
  private _syncWeights(): Promise<WasmWorkerBackendInfo> {
    const ids = this.model.trainableVariables.map((v) => (v as TensorInfo).dataId);
    const sent = this._sentWeights;
    if (this._backend && sent && sent.length === ids.length && ids.every((id, i) => id === sent[i])) {
      return this._backend;
    }
    this._sentWeights = ids;
    const loaded = this._load();
    this._backend = loaded;
    loaded.catch(() => {
      if (this._backend === loaded) this._sentWeights = null;
    });
    return loaded;
  }

  private async _load(): Promise<WasmWorkerBackendInfo> {
    let artifacts: io.ModelArtifacts | null = null;
    await this.model.save(
      io.withSaveHandler(async (saved) => {
        artifacts = saved;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const saved = artifacts as io.ModelArtifacts | null;
    if (!saved) throw new Error('the model could not be saved for the decode worker');
    const transfer = saved.weightData instanceof ArrayBuffer ? [saved.weightData] : [];
    return this._request<WasmWorkerBackendInfo>(
      { type: 'load', id: this._nextId++, artifacts: saved },
      transfer,
    ).then((reply) => reply);
  }

  private _request<T>(request: DecodeWorkerRequest, transfer: Transferable[]): Promise<T> {
    this._throwIfUnusable();
    return new Promise<T>((resolve, reject) => {
      this._waiters.set(request.id, { resolve: resolve as (value: never) => void, reject });
      this._worker.postMessage(request, transfer);
    });
  }

  private _receive(reply: DecodeWorkerReply): void {
    if (reply.type === 'ready') {
      this._isReady = true;
      return;
    }
    const waiter = this._waiters.get(reply.id);
    if (!waiter) return;
    this._waiters.delete(reply.id);
    if (reply.type === 'failed') waiter.reject(new Error(reply.message));
    else if (reply.type === 'loaded') waiter.resolve(reply.backend as never);
    else if (reply.type === 'encoded') waiter.resolve(reply as never);
    else {
      this._lastDecode = Object.freeze({ decodeMs: reply.decodeMs, restMs: reply.restMs });
      waiter.resolve(reply.image as never);
    }
  }

  private _fail(error: Error): void {
    if (!this._isReady) this._loadError = error;
    const waiters = [...this._waiters.values()];
    this._waiters.clear();
    for (const waiter of waiters) waiter.reject(error);
  }

  private _throwIfUnusable(): void {
    if (this._disposed) throw new Error('WorkerDecoder has been disposed');
    if (this._loadError) throw this._loadError;
  }

  /** Terminates the worker; requests still waiting reject. Twice is harmless. */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this._worker.terminate();
    liveWorkers--;
    this._fail(new Error('WorkerDecoder has been disposed'));
  }
}

/** A share of a model's WorkerDecoder; `release` once, when done (the last release terminates the worker). */
export interface WorkerDecoderLease {
  readonly decoder: WorkerDecoder;
  release(): void;
}

const shared = new WeakMap<TextureVae, { decoder: WorkerDecoder; holders: number }>();

/**
 * The WorkerDecoder of `model`, shared by every texture of that model: one worker holds the model's weights
 * once, and its decodes run one after the other (the machine's other cores render).
 */
export function acquireWorkerDecoder(model: TextureVae): WorkerDecoderLease {
  let entry = shared.get(model);
  if (!entry || entry.decoder.isDisposed) {
    entry = { decoder: new WorkerDecoder(model), holders: 0 };
    shared.set(model, entry);
  }
  const held = entry;
  held.holders++;
  let released = false;
  return {
    decoder: held.decoder,
    release: () => {
      if (released) return;
      released = true;
      held.holders--;
      if (held.holders === 0) {
        held.decoder.dispose();
        if (shared.get(model) === held) shared.delete(model);
      }
    },
  };
}
