import { Observable } from '@babylonjs/core/Misc/observable.js';
import { dispose } from '@tensorflow/tfjs-core';

import { type Exemplar, type ExemplarSource, toExemplars } from '../model/exemplars.js';
import type { TextureVae } from '../model/textureVae.js';
import {
  resolveTrainOptions,
  type TrainingProgress,
  type TrainingResult,
  type TrainOptions,
} from '../model/train.js';
import { checkCpuShare } from './cpuShare.js';
import { packWeights, unpackWeights } from './packedWeights.js';
import type {
  FromWorker,
  PackedWeights,
  StartMessage,
  ToWorker,
  TrainingStart,
  WorkerBackend,
} from './trainWorkerProtocol.js';

export type { TrainingStart, WorkerBackend } from './trainWorkerProtocol.js';

/** A photo to train on: what trainTextureVae takes, or an image file (Blob) decoded here first. */
export type WorkerExemplarSource = ExemplarSource | Blob;

/** The worker trains its own critic (a PatchDiscriminator holds tensors of the page's backend). */
export interface WorkerTrainingOptions extends Omit<TrainOptions, 'scope' | 'discriminator'> {
  /**
   * The weights training starts from: 'embedded' (the package's embedded model: fine-tuning, which needs the
   * model's config to be the embedded model's), 'model' (the model's own weights, to resume), 'scratch' (fresh
   * weights from `seed`) (default: 'embedded' when the model has the embedded model's config and startStep is
   * 0, else 'model').
   */
  from?: TrainingStart;
  /**
   * The model gets the worker's weights every this many steps (a live preview), 0 for only at the end
   * (default: 10).
   */
  previewEvery?: number;
  /**
   * The share of the time the worker computes, from 0.05 to 1: after each step it rests so that its steps take
   * no more than this share of the wall time, leaving the CPU to the page (with a software rasteriser such as
   * SwiftShader, rendering runs on the same cores) (default: 1, never rests).
   */
  cpuShare?: number;
  /**
   * An image (for example a crop of the photo) the worker reconstructs, decode of its encoding's mean, with
   * every preview and at the end, on its own backend: `onReconstructionObservable` gets the pixels, so showing
   * how training goes costs the page one upload, not a decode on its render thread. Sides are multiples of the
   * model's stride, at most MAX_PREVIEW_SIDE (default: none).
   */
  previewImage?: WorkerExemplarSource;
}

/** Largest side of a WorkerTrainingOptions.previewImage, in pixels. */
export const MAX_PREVIEW_SIDE = 1024;

/** A reconstruction of the preview image, with the weights of `step`. */
export interface WorkerReconstruction {
  readonly step: number;
  /** Float pixels in [0, 1], row 0 at the top: what TensorProceduralTexture.writeImage draws. */
  readonly image: Exemplar;
}

/** What `train` resolves with: trainTextureVae's result, and how the worker trained. */
export interface WorkerTrainingResult extends TrainingResult {
  /** The tfjs backend the worker trained on. */
  readonly backend: WorkerBackend;
  /** The weights training started from. */
  readonly from: TrainingStart;
}

export interface WorkerTrainerOptions {
  /**
   * The worker's tfjs backend: 'wasm', 'webgl' (on an OffscreenCanvas), or 'auto': WebGL where the GPU is
   * real, WASM on a software rasteriser such as SwiftShader or without WebGL2 in workers (default: 'auto').
   */
  backend?: WorkerBackend | 'auto';
  /**
   * The worker module, for apps that serve it themselves (default: trainWorker.js beside this module, which
   * Vite and other bundlers emit from `new Worker(new URL('./trainWorker.js', import.meta.url))`).
   */
  workerUrl?: string | URL;
}

/** The bundled worker module's name, for messages (bundlers rename the file they emit). */
const WORKER_MODULE = './trainWorker.js';

const BACKENDS = ['auto', 'wasm', 'webgl'] as const;
const STARTS = ['embedded', 'model', 'scratch'] as const;

/** Blobs decoded to bitmaps (an Error naming the blob if it is no image); the rest unchanged. */
async function decodeBlobs(sources: readonly WorkerExemplarSource[]): Promise<ExemplarSource[]> {
  const out: ExemplarSource[] = [];
  for (let i = 0; i < sources.length; i++) {
    const source = sources[i];
    if (typeof Blob === 'undefined' || !(source instanceof Blob)) {
      out.push(source as ExemplarSource);
      continue;
    }
    try {
      out.push(await createImageBitmap(source));
    } catch (e) {
      const what = sources.length > 1 ? `photo ${i}` : 'photo';
      const name = source instanceof File ? ` '${source.name}'` : '';
      throw new Error(
        `${what}${name} (${source.type || 'unknown type'}, ${source.size} bytes) could not be decoded as an image: ${(e as Error).message}; use a PNG, JPEG or WebP file`,
      );
    }
  }
  return out;
}

/**
 * Trains a TextureVae in a module Web Worker, so the scene keeps rendering at its own pace: the page's model
 * is updated in place with the worker's weights every `previewEvery` steps and at the end. The worker runs
 * trainTextureVae on tfjs's WASM backend (with the package's conv gradient kernels) or, where the GPU is real,
 * on WebGL on an OffscreenCanvas; see WorkerTrainerOptions.backend.
 *
 * - Progress: `onProgressObservable`, and the `onProgress` / `progressObservable` options, after every step.
 * - Preview: `onPreviewObservable` (the step) right after the model got new weights: regenerate textures there.
 *   A weight update is one synchronous swap, so no frame ever shows a half-updated model. With `previewImage`,
 *   `onReconstructionObservable` then gets the worker's reconstruction of it with the same weights.
 * - Abort: the `signal` stops the worker after the step in progress; the model gets that step's weights and
 *   the promise resolves with `aborted: true`. `dispose()` stops the worker at once and rejects a running
 *   `train`; the model keeps its last preview.
 * - Errors: an error in the worker rejects with its message (a diverged run first gives the model the last
 *   weights with a finite loss, as trainTextureVae does); a worker that fails to load rejects naming its URL.
 *   Either way the worker is terminated: none is left running after a train call settles.
 * - The `onProgress` callback is not awaited: the worker does not wait for the page.
 */
export class WorkerTrainer {
  /** Every finished step of the worker. */
  readonly onProgressObservable = new Observable<TrainingProgress>();
  /** The step whose weights the model just got (a preview, or the last step at the end). */
  readonly onPreviewObservable = new Observable<number>();
  /** The worker's reconstruction of the `previewImage` option, right after each onPreviewObservable. */
  readonly onReconstructionObservable = new Observable<WorkerReconstruction>();
  readonly model: TextureVae;
  private readonly _backend: WorkerBackend | 'auto';
  private readonly _workerUrl: string | URL | undefined;
  private _worker: Worker | null = null;
  private _fail: ((error: Error) => void) | null = null;
  private _disposed = false;

  constructor(model: TextureVae, options: WorkerTrainerOptions = {}) {
    if (!model || typeof model.getWeights !== 'function') throw new Error('WorkerTrainer needs a TextureVae');
    const backend = options.backend ?? 'auto';
    if (!(BACKENDS as readonly string[]).includes(backend)) {
      throw new Error(`backend must be one of ${BACKENDS.join(', ')}, got ${JSON.stringify(backend)}`);
    }
    if (typeof Worker === 'undefined') {
      throw new Error('WorkerTrainer needs Web Workers (a browser); in Node call trainTextureVae on WASM');
    }
    this.model = model;
    this._backend = backend;
    this._workerUrl = options.workerUrl;
  }

  /** True while a train call runs (its worker is alive). */
  get isTraining(): boolean {
    return this._worker !== null;
  }

  /**
   * Trains the model on `exemplars` in a worker; resolves once the model holds the weights of the last step.
   * Checks everything before starting the worker: the options (as trainTextureVae), a signal already aborted,
   * photos that do not decode, photos smaller than a patch.
   */
  async train(
    exemplars: WorkerExemplarSource | readonly WorkerExemplarSource[],
    options: WorkerTrainingOptions = {},
  ): Promise<WorkerTrainingResult> {
    if (this._disposed) throw new Error('WorkerTrainer has been disposed');
    if (this._worker) throw new Error('WorkerTrainer is already training; await it or abort it first');
    const vae = this.model;
    if (vae.isDisposed) throw new Error('TextureVae has been disposed');
    if ((options as TrainOptions).scope !== undefined) {
      throw new Error('scope is not available when training in a worker (the worker has its own backend)');
    }
    if ((options as TrainOptions).discriminator !== undefined) {
      throw new Error(
        'discriminator is not available when training in a worker (the worker trains its own critic)',
      );
    }
    const o = resolveTrainOptions(vae, options);
    const previewEvery = options.previewEvery ?? 10;
    if (!Number.isInteger(previewEvery) || previewEvery < 0) {
      throw new Error(`previewEvery must be an integer >= 0, got ${previewEvery}`);
    }
    const cpuShare = checkCpuShare(options.cpuShare ?? 1);
    const from = options.from;
    if (from !== undefined && !(STARTS as readonly string[]).includes(from)) {
      throw new Error(`from must be one of ${STARTS.join(', ')}, got ${JSON.stringify(from)}`);
    }
    if (o.signal?.aborted) throw new Error('training was not started: its signal was already aborted');
    const list = Array.isArray(exemplars)
      ? (exemplars as readonly WorkerExemplarSource[])
      : [exemplars as WorkerExemplarSource];
    const decoded = await decodeBlobs(list);
    const images = await toExemplars(decoded, { channels: vae.outputChannels });
    images.forEach((image, i) => {
      if (image.width < o.patchSize || image.height < o.patchSize) {
        const what = images.length > 1 ? `photo ${i}` : 'photo';
        throw new Error(
          `${what} is ${image.width}x${image.height} pixels, smaller than the ${o.patchSize}x${o.patchSize} training patches; use a photo at least ${o.patchSize} pixels a side or a smaller patchSize`,
        );
      }
    });
    const previewImage = await this._previewImage(options.previewImage);
    if (o.signal?.aborted) throw new Error('training was not started: its signal was already aborted');
    if (this._disposed) throw new Error('WorkerTrainer has been disposed');
    const start: StartMessage['from'] = from ?? (o.startStep > 0 ? 'model' : 'auto');
    let weights: PackedWeights | null = null;
    if (start !== 'embedded' && start !== 'scratch') {
      const current = vae.getWeights();
      try {
        weights = packWeights(current);
      } finally {
        dispose(current);
      }
    }
    const message: StartMessage = {
      type: 'start',
      config: vae.config,
      from: start,
      weights,
      exemplars: images,
      options: {
        steps: o.steps,
        startStep: o.startStep,
        batchSize: o.batchSize,
        patchSize: o.patchSize,
        learningRate: o.learningRate,
        warmupSteps: o.warmupSteps,
        seed: o.seed,
        pixelLoss: o.pixelLoss,
        patchWeight: o.patchWeight,
        fourierWeight: o.fourierWeight,
        gridWeight: o.gridWeight,
        adversarialWeight: o.adversarialWeight,
        adversarialStart: o.adversarialStart,
        augment: o.augment,
      },
      previewEvery,
      cpuShare,
      backend: this._backend,
      previewImage,
    };
    const transfer: Transferable[] = images.map((image) => image.data.buffer as ArrayBuffer);
    if (previewImage) transfer.push(previewImage.data.buffer as ArrayBuffer);
    if (weights) transfer.push(weights.buffer);
    return this._run(message, transfer, o);
  }

  /** The previewImage option as an exemplar of the model's channels, checked before it is copied. */
  private async _previewImage(source: WorkerExemplarSource | undefined): Promise<Exemplar | null> {
    if (source === undefined) return null;
    const stride = this.model.stride;
    const side = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n > 0 && n % stride === 0;
    const sized = source as { width?: unknown; height?: unknown };
    const fits = (w: unknown, h: unknown) =>
      side(w) && side(h) && (w as number) <= MAX_PREVIEW_SIDE && (h as number) <= MAX_PREVIEW_SIDE;
    const problem = (w: unknown, h: unknown) =>
      new Error(
        `previewImage is ${w}x${h} pixels; its sides must be multiples of the model's stride ${stride}, at most ${MAX_PREVIEW_SIDE}`,
      );
    // Sizes an image declares are checked before its pixels are read or copied.
    if (sized.width !== undefined && sized.height !== undefined && !fits(sized.width, sized.height)) {
      throw problem(sized.width, sized.height);
    }
    const [decoded] = await decodeBlobs([source]);
    const [image] = await toExemplars(decoded, { channels: this.model.outputChannels });
    if (!fits(image.width, image.height)) throw problem(image.width, image.height);
    return image;
  }

  private _startWorker(): { worker: Worker; url: string } {
    if (this._workerUrl !== undefined) {
      return { worker: new Worker(this._workerUrl, { type: 'module' }), url: String(this._workerUrl) };
    }
    // The literal form bundlers recognise: they bundle the worker module and rewrite the URL.
    const worker = new Worker(new URL('./trainWorker.js', import.meta.url), { type: 'module' });
    return { worker, url: new URL(WORKER_MODULE, import.meta.url).href };
  }

  private _apply(packed: PackedWeights, step: number, reconstruction: Exemplar | null = null): void {
    if (this.model.isDisposed) return;
    const tensors = unpackWeights(packed);
    try {
      this.model.setWeights(tensors);
    } finally {
      dispose(tensors);
    }
    this.onPreviewObservable.notifyObservers(step);
    if (reconstruction) this.onReconstructionObservable.notifyObservers({ step, image: reconstruction });
  }

  private _run(
    message: StartMessage,
    transfer: Transferable[],
    o: ReturnType<typeof resolveTrainOptions>,
  ): Promise<WorkerTrainingResult> {
    const { worker, url } = this._startWorker();
    this._worker = worker;
    return new Promise<WorkerTrainingResult>((resolve, reject) => {
      let ready: { backend: WorkerBackend; from: TrainingStart } | null = null;
      let lastStep = o.startStep;
      const onAbort = () => worker.postMessage({ type: 'abort' } satisfies ToWorker);
      const settle = (finish: () => void) => {
        o.signal?.removeEventListener('abort', onAbort);
        worker.onmessage = null;
        worker.onerror = null;
        worker.onmessageerror = null;
        worker.terminate();
        if (this._worker === worker) this._worker = null;
        this._fail = null;
        finish();
      };
      const fail = (error: Error) => settle(() => reject(error));
      this._fail = fail;
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        const detail = event.message ? `: ${event.message}` : '';
        fail(
          new Error(
            ready
              ? `the training worker failed${detail}`
              : `the training worker ${url} failed to load${detail} (is the module served, with its .wasm files?)`,
          ),
        );
      };
      worker.onmessageerror = () => fail(new Error('a message from the training worker could not be read'));
      worker.onmessage = (event: MessageEvent<FromWorker>) => {
        const data = event.data;
        try {
          switch (data.type) {
            case 'ready':
              ready = { backend: data.backend, from: data.from };
              break;
            case 'progress':
              lastStep = data.progress.step;
              this.onProgressObservable.notifyObservers(data.progress);
              o.progressObservable?.notifyObservers(data.progress);
              void o.onProgress?.(data.progress);
              break;
            case 'weights':
              this._apply(data.weights, data.step, data.reconstruction);
              break;
            case 'done': {
              const result = data.result;
              this._apply(data.weights, result.step, data.reconstruction);
              const how = ready ?? { backend: 'wasm' as const, from: 'model' as const };
              settle(() => resolve({ ...result, ...how }));
              break;
            }
            case 'error':
              if (data.weights) this._apply(data.weights, lastStep);
              fail(new Error(data.message));
              break;
          }
        } catch (e) {
          fail(e instanceof Error ? e : new Error(String(e)));
        }
      };
      o.signal?.addEventListener('abort', onAbort, { once: true });
      worker.postMessage(message, transfer);
    });
  }

  /**
   * Stops a running training at once (its promise rejects; the model keeps its last preview), terminates the
   * worker and clears the observables. Disposing twice is harmless; the model is the caller's and stays.
   */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this._fail?.(new Error('WorkerTrainer was disposed during training'));
    this.onProgressObservable.clear();
    this.onPreviewObservable.clear();
    this.onReconstructionObservable.clear();
  }
}
