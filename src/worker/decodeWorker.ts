/// <reference lib="webworker" />
// The decode worker's entry: a TextureVae on tfjs's WASM backend, answering the page's requests in order.
import { io, tidy } from '@tensorflow/tfjs-core';
import { latentToTensor } from '../latent/latentGrid.js';
import { TextureVae } from '../model/textureVae.js';
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
  const image = tidy(() => current.decodeTensors(latentToTensor(request.latent)));
  try {
    const [, height, width, channels] = image.shape;
    const data = (await image.data()) as Float32Array;
    reply({ type: 'decoded', id: request.id, image: { data, width, height, channels: channels as 3 | 4 } }, [
      data.buffer,
    ]);
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
