/**
 * The browser half of bench/decodeThroughput.ts: served by its Vite server as a page module. The page sets the
 * tfjs WebGL flags of its URL (`?flags=NAME:value,...`) before its Babylon engine and the tfjs backend that
 * shares the engine's WebGL2 context exist, loads the embedded model, and exposes `window.decodeBench`.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { Engine, Scene } from '@babylonjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { bakeAtlasTexture } from '../src/atlas/bakeAtlasTexture.ts';
import { runOnEngine } from '../src/gpu/glHandoff.ts';
import { latentToTensor } from '../src/latent/latentGrid.ts';
import { loadPretrained } from '../src/model/pretrained/pretrained.ts';
import type { TextureVae } from '../src/model/textureVae.ts';
import { WorkerDecoder } from '../src/worker/workerDecoder.ts';
import { type DecoderVariant, decodeVariant } from './decoderVariants.ts';

export interface Timing {
  /** Median of the timed runs, ms. */
  ms: number;
  runs: number[];
}

export interface DecodeRun extends Timing {
  size: number;
  variant: DecoderVariant;
  /** The decoded image as 8-bit values (only when asked for). */
  bytes?: number[];
  /** Float values of the decoded image (only when asked for), for the f16 comparison. */
  floats?: number[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const flags = new URLSearchParams(location.search).get('flags');
for (const entry of flags ? flags.split(',') : []) {
  const [name, value] = entry.split(':') as [string, string];
  tf.env().set(name, value === 'true' ? true : value === 'false' ? false : Number(value));
}

await tf.setBackend('cpu');
const canvas = document.createElement('canvas');
canvas.width = 64;
canvas.height = 64;
document.body.appendChild(canvas);
const engine = new Engine(canvas, false, { preserveDrawingBuffer: true, stencil: true });
const scene = new Scene(engine);
const model: TextureVae = await loadPretrained();
const gl = (engine as unknown as { _gl: WebGL2RenderingContext })._gl;
const debugInfo = gl.getExtension('WEBGL_debug_renderer_info');
const renderer = String(
  debugInfo ? gl.getParameter(debugInfo.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER),
);

/** Forces every queued GPU command that `t` depends on to finish: reads one value back. */
function sync(t: tf.Tensor): void {
  runOnEngine(engine, () => tf.tidy(() => tf.slice(tf.reshape(t, [-1]), 0, 1).dataSync()));
}

async function time(repeats: number, warmups: number, once: () => void | Promise<void>): Promise<Timing> {
  for (let i = 0; i < warmups; i++) await once();
  const runs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await once();
    runs.push(performance.now() - start);
  }
  return { ms: median(runs), runs };
}

const decodeBench = {
  renderer,
  flags: flags ?? '',
  /** tfjs flags as the backend sees them. */
  flagValues(names: string[]): Record<string, unknown> {
    return runOnEngine(engine, () => Object.fromEntries(names.map((n) => [n, tf.env().get(n)])));
  },

  /** tf.matMul of two n x n matrices on the shared backend. */
  async matMul(n: number, repeats: number): Promise<Timing> {
    const [a, b] = runOnEngine(engine, () => [tf.randomUniform([n, n]), tf.randomUniform([n, n])]);
    try {
      return await time(repeats, 1, () => {
        const c = runOnEngine(engine, () => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D));
        sync(c);
        runOnEngine(engine, () => c.dispose());
      });
    } finally {
      runOnEngine(engine, () => tf.dispose([a, b]));
    }
  },

  /** One decode of a `size` px prior sample (seed 1) on the shared backend, synced by a 1-value readback. */
  async decode(
    size: number,
    variant: DecoderVariant,
    repeats: number,
    options: { pixels?: boolean; warmups?: number } = {},
  ): Promise<DecodeRun> {
    const latent = model.sample({ width: size, height: size, seed: 1 });
    const z = runOnEngine(engine, () => latentToTensor(latent));
    try {
      const timing = await time(repeats, options.warmups ?? 1, () => {
        const out = runOnEngine(engine, () => decodeVariant(model, z, variant));
        sync(out);
        runOnEngine(engine, () => out.dispose());
      });
      const run: DecodeRun = { ...timing, size, variant };
      if (options.pixels) {
        const out = runOnEngine(engine, () => decodeVariant(model, z, variant));
        const values = runOnEngine(engine, () => out.dataSync());
        runOnEngine(engine, () => out.dispose());
        run.floats = Array.from(values);
        run.bytes = run.floats.map((v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
      }
      return run;
    } finally {
      runOnEngine(engine, () => z.dispose());
    }
  },

  /**
   * Peak memory of one model.decodeTensors of a `size` px sample: tfjs's byte count (tf.profile's peakBytes,
   * weights included) and the GPU texture bytes the backend allocated (its pool included) before and after.
   */
  async decodeMemory(size: number): Promise<{ peakBytes: number; gpuBefore: number; gpuAfter: number }> {
    const latent = model.sample({ width: size, height: size, seed: 1 });
    const gpu = () =>
      runOnEngine(
        engine,
        () => (tf.memory() as { numBytesInGPUAllocated?: number }).numBytesInGPUAllocated ?? 0,
      );
    const gpuBefore = gpu();
    const profile = await tf.profile(() => {
      const out = runOnEngine(engine, () => tf.tidy(() => model.decodeTensors(latentToTensor(latent))));
      sync(out);
      runOnEngine(engine, () => out.dispose());
    });
    return { peakBytes: profile.peakBytes, gpuBefore, gpuAfter: gpu() };
  },

  /** The embedded model decoded by WorkerDecoder (WASM in a module worker), `size` px, latent seed 1. */
  async workerDecode(sizes: number[], repeats: number): Promise<{ size: number; timing: Timing }[]> {
    const worker = new WorkerDecoder(model);
    try {
      const backend = await worker.backend;
      const out: { size: number; timing: Timing; backend?: unknown }[] = [];
      for (const size of sizes) {
        const latent = model.sample({ width: size, height: size, seed: 1 });
        out.push({
          size,
          timing: await time(repeats, 1, async () => {
            await worker.decode(latent);
          }),
          backend,
        });
      }
      return out;
    } finally {
      worker.dispose();
    }
  },

  /** bakeAtlasTexture on the shared backend: `count` prior tiles of `tileSize` px, `batchSize` per decode. */
  async atlas(
    count: number,
    tileSize: number,
    batchSize: number | undefined,
    repeats: number,
  ): Promise<Timing> {
    return time(repeats, 0, async () => {
      const { textures } = await bakeAtlasTexture(scene, model, { count, tileSize, batchSize, seed: 1 });
      // The last page's mipmaps are queued GPU work: wait for it before stopping the clock.
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
      for (const t of textures) t.dispose();
    });
  },

  memory(): { numTensors: number; gpuBytes: number } {
    return runOnEngine(engine, () => ({
      numTensors: tf.memory().numTensors,
      gpuBytes: (tf.memory() as { numBytesInGPU?: number }).numBytesInGPU ?? 0,
    }));
  },
};

declare global {
  interface Window {
    decodeBench?: typeof decodeBench;
  }
}
window.decodeBench = decodeBench;
