/**
 * The module Web Worker WorkerTrainer starts (`new Worker(new URL('./trainWorker.js', import.meta.url),
 * { type: 'module' })`): it trains a copy of the page's model with trainTextureVae on its own tfjs backend and
 * sends the weights back, so the page's render loop never waits for a training step.
 */
import { getBackend, setBackend, tensor4d, tidy } from '@tensorflow/tfjs-core';
import { textureVaeConfigHash } from '../model/configHash.js';
import type { Exemplar } from '../model/exemplars.js';
import { loadPretrained } from '../model/pretrained/pretrained.js';
import { TextureVae } from '../model/textureVae.js';
import { trainTextureVae } from '../model/train.js';
import { restAfter } from './cpuShare.js';
import { packWeights, unpackWeights } from './packedWeights.js';
import type {
  FromWorker,
  PackedWeights,
  StartMessage,
  ToWorker,
  TrainingStart,
  WorkerBackend,
} from './trainWorkerProtocol.js';
import { useWasmWorkerBackend } from './wasmWorkerBackend.js';

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
};

function post(message: FromWorker): void {
  const transfer: Transferable[] = [];
  if ('weights' in message && message.weights) transfer.push((message.weights as PackedWeights).buffer);
  if ('reconstruction' in message && message.reconstruction)
    transfer.push(message.reconstruction.data.buffer);
  scope.postMessage(message, transfer);
}

/** Software rasterisers: WebGL there is many times slower than WASM for training. */
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render|mesa offscreen/i;

/** The renderer of a throw-away WebGL2 context on an OffscreenCanvas ('' when there is none). */
function probeRenderer(): string {
  if (typeof OffscreenCanvas === 'undefined') return '';
  const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
  if (!gl) return '';
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return renderer;
}

async function useBackend(wanted: WorkerBackend | 'auto', renderer: string): Promise<WorkerBackend> {
  const backend: WorkerBackend =
    wanted === 'auto' ? (renderer && !SOFTWARE_RENDERER.test(renderer) ? 'webgl' : 'wasm') : wanted;
  if (backend === 'wasm') {
    await useWasmWorkerBackend();
    return backend;
  }
  if (!renderer) {
    throw new Error(
      "backend 'webgl' needs WebGL2 on an OffscreenCanvas in a worker, which this browser lacks",
    );
  }
  await import('@tensorflow/tfjs-backend-webgl');
  if (!(await setBackend('webgl')) || getBackend() !== 'webgl') {
    throw new Error('the tfjs WebGL backend failed to initialise in the training worker');
  }
  return backend;
}

/** The model to train, with the weights training starts from. */
async function buildModel(start: StartMessage): Promise<{ model: TextureVae; from: TrainingStart }> {
  if (start.from === 'embedded' || start.from === 'auto') {
    const embedded = await loadPretrained();
    if (textureVaeConfigHash(embedded.config) === textureVaeConfigHash(start.config)) {
      return { model: embedded, from: 'embedded' };
    }
    embedded.dispose();
    if (start.from === 'embedded') {
      throw new Error(
        `from 'embedded' needs a model with the embedded model's config ${JSON.stringify(embedded.config)}, got ${JSON.stringify(start.config)}; pass from 'model' or 'scratch'`,
      );
    }
  }
  const model = TextureVae.create(start.config, { seed: start.options.seed });
  if (start.from === 'scratch') return { model, from: 'scratch' };
  if (!start.weights) throw new Error(`from '${start.from}' needs the model's weights, none were sent`);
  const weights = unpackWeights(start.weights);
  try {
    model.setWeights(weights);
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    for (const w of weights) w.dispose();
  }
  return { model, from: 'model' };
}

function currentWeights(model: TextureVae): PackedWeights {
  const weights = model.getWeights();
  try {
    return packWeights(weights);
  } finally {
    for (const w of weights) w.dispose();
  }
}

/** decode(mean of encode(image)) with the model's current weights, or null when no image was asked for. */
function reconstruct(model: TextureVae, image: Exemplar | null): Exemplar | null {
  if (!image) return null;
  const { width, height, channels } = image;
  const decoded = tidy(() => {
    const { mean, logVar } = model.encodeTensors(tensor4d(image.data, [1, height, width, channels]));
    logVar.dispose();
    return model.decodeTensors(mean);
  });
  try {
    return { data: decoded.dataSync() as Float32Array, width, height, channels: model.outputChannels };
  } finally {
    decoded.dispose();
  }
}

let controller: AbortController | null = null;

async function run(start: StartMessage): Promise<void> {
  let model: TextureVae | null = null;
  let stepped = false;
  try {
    const renderer = probeRenderer();
    const backend = await useBackend(start.backend, renderer);
    const built = await buildModel(start);
    model = built.model;
    post({ type: 'ready', backend, from: built.from, renderer });
    const trained = model;
    let stepStarted = performance.now();
    const result = await trainTextureVae(trained, start.exemplars, {
      ...start.options,
      signal: controller?.signal,
      onProgress: (progress) => {
        stepped = true;
        const stepMs = performance.now() - stepStarted;
        post({ type: 'progress', progress });
        if (
          start.previewEvery > 0 &&
          progress.step % start.previewEvery === 0 &&
          progress.step < progress.steps
        ) {
          post({
            type: 'weights',
            step: progress.step,
            weights: currentWeights(trained),
            reconstruction: reconstruct(trained, start.previewImage),
          });
        }
        if (start.cpuShare >= 1) {
          stepStarted = performance.now();
          return;
        }
        // Resting leaves the cores to the page: with a software rasteriser, rendering needs the same CPU.
        const rest = restAfter(stepMs, start.cpuShare);
        return new Promise<void>((resolve) =>
          setTimeout(() => {
            stepStarted = performance.now();
            resolve();
          }, rest),
        );
      },
    });
    post({
      type: 'done',
      result,
      weights: currentWeights(trained),
      reconstruction: reconstruct(trained, start.previewImage),
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // After the NaN guard the model holds the last weights with a finite loss: the page gets them too.
    const weights = stepped && model && !model.isDisposed ? currentWeights(model) : null;
    post({ type: 'error', message, weights });
  } finally {
    model?.dispose();
  }
}

scope.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === 'abort') {
    controller?.abort();
  } else if (message.type === 'start' && !controller) {
    controller = new AbortController();
    void run(message);
  }
};
