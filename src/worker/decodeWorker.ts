/// <reference lib="webworker" />
// The decode worker's entry: a TextureVae on tfjs's WASM backend, answering the page's requests in order.
import { io, type Tensor4D, tensor4d, tidy } from '@tensorflow/tfjs-core';
import type { DecodedImage } from '../gpu/decodeSource.js';
import { latentToTensor } from '../latent/latentGrid.js';
import { TextureVae } from '../model/textureVae.js';
import { restAfter } from './cpuShare.js';
import type { DecodeWorkerReply, DecodeWorkerRequest } from './decodeProtocol.js';
import { useWasmWorkerBackend } from './wasmWorkerBackend.js';

const scope = self as unknown as DedicatedWorkerGlobalScope;
let model: TextureVae | null = null;
let queue: Promise<void> = Promise.resolve();

function reply(message: DecodeWorkerReply, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

async function handle(request: DecodeWorkerRequest): Promise<void> {
  if (request.type === 'load') {
    const backend = await useWasmWorkerBackend();
    const loaded = await TextureVae.load(io.fromMemory(request.artifacts));
    model?.dispose();
    model = loaded;
    reply({ type: 'loaded', id: request.id, backend });
    return;
  }
  if (!model) throw new Error('the decode worker has no model: send a load request first');
  const current = model;
  if (request.type === 'encode') {
    const { data, width, height, channels } = request.image;
    const mean = tidy(() => {
      const encoded = current.encodeTensors(tensor4d(data, [1, height, width, channels]));
      encoded.logVar.dispose();
      return encoded.mean;
    });
    try {
      const [, rows, columns, depth] = mean.shape;
      const reconstruction = request.reconstruct ? await pixelsOf(current.decodeTensors(mean)) : null;
      const values = (await mean.data()) as Float32Array;
      const latent = { data: values, height: rows, width: columns, channels: depth };
      const transfer = [values.buffer, ...(reconstruction ? [reconstruction.data.buffer] : [])];
      reply({ type: 'encoded', id: request.id, latent, reconstruction }, transfer);
    } finally {
      mean.dispose();
    }
    return;
  }
  const started = performance.now();
  const image = await pixelsOf(tidy(() => current.decodeTensors(latentToTensor(request.latent))));
  const decodeMs = performance.now() - started;
  const restMs = restAfter(decodeMs, request.cpuShare);
  reply({ type: 'decoded', id: request.id, image, decodeMs, restMs }, [image.data.buffer]);
  // Resting leaves the cores to the page: with a software rasteriser, rendering needs the same CPU.
  if (restMs > 0) await new Promise((resolve) => setTimeout(resolve, restMs));
}

/** The pixels of a decoded image tensor, which this disposes. */
async function pixelsOf(image: Tensor4D): Promise<DecodedImage> {
  try {
    const [, height, width, channels] = image.shape;
    const data = (await image.data()) as Float32Array;
    return { data, width, height, channels: channels as 3 | 4 };
  } finally {
    image.dispose();
  }
}

scope.onmessage = (event: MessageEvent<DecodeWorkerRequest>) => {
  const request = event.data;
  queue = queue.then(() =>
    handle(request).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      reply({ type: 'failed', id: request.id, message });
    }),
  );
};

reply({ type: 'ready' });
