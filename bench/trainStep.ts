/**
 * Training step time of the DEFAULT TextureVae config (batch 16, 64x64 patches) on tfjs's WASM backend (with
 * this package's conv gradient kernels) against the pure-JS CPU backend, in one process.
 * The CPU backend is timed for one step only: it takes minutes.
 *
 *   npx tsx bench/trainStep.ts [--wasm-steps 6]
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

import { TextureVae } from '../src/model/textureVae.js';
import { textureVaeParameterCount } from '../src/model/textureVaeConfig.js';
import { trainTextureVae } from '../src/model/train.js';
import { readPng } from '../src/node/png.js';
import { useWasmBackend } from '../src/node/wasmBackend.js';
import { machineLine, markdownTable, writeResultsSection } from './results.js';

const { values } = parseArgs({ options: { 'wasm-steps': { type: 'string', default: '6' } } });
const wasmSteps = Number(values['wasm-steps']);
const texturesDir = fileURLToPath(new URL('../assets/textures/', import.meta.url));
const file = readdirSync(texturesDir).find((f) => f.endsWith('.png'));
if (!file) throw new Error(`no PNG in ${texturesDir}`);
const image = readPng(join(texturesDir, file));
const batchSize = 16;
const patchSize = 64;

/** Seconds per step of `steps` steps after one warm-up step, on the active backend (median). */
async function stepSeconds(steps: number): Promise<number> {
  const vae = TextureVae.create({}, { seed: 1 });
  const times: number[] = [];
  let last = performance.now();
  await trainTextureVae(vae, image, {
    steps: steps + 1,
    batchSize,
    patchSize,
    onProgress: () => {
      const now = performance.now();
      times.push((now - last) / 1000);
      last = now;
    },
  });
  vae.dispose();
  const measured = times.slice(1).sort((a, b) => a - b);
  return measured[Math.floor(measured.length / 2)];
}

await useWasmBackend();
const wasm = await stepSeconds(wasmSteps);
process.stderr.write(`wasm: ${wasm.toFixed(3)} s/step\n`);
await tf.setBackend('cpu');
const cpuStart = performance.now();
const cpuVae = TextureVae.create({}, { seed: 1 });
await trainTextureVae(cpuVae, image, { steps: 1, batchSize, patchSize });
cpuVae.dispose();
const cpu = (performance.now() - cpuStart) / 1000;
process.stderr.write(`cpu: ${cpu.toFixed(1)} s/step\n`);

const table = markdownTable(
  ['backend', 'seconds per step', 'steps per minute', 'speed-up vs CPU'],
  [
    ['tfjs CPU (pure JS), 1 step incl. first-use costs', cpu.toFixed(1), (60 / cpu).toFixed(2), '1x'],
    [
      `tfjs WASM + conv gradient kernels, median of ${wasmSteps}`,
      wasm.toFixed(3),
      (60 / wasm).toFixed(1),
      `${(cpu / wasm).toFixed(0)}x`,
    ],
  ],
);
writeResultsSection(
  'trainStep',
  `## Training step time (default config, batch ${batchSize}, ${patchSize}x${patchSize})

Default TextureVae config (${textureVaeParameterCount().toLocaleString('en-US')} parameters), Adam, one step = sample
patches + forward + backward + update + loss readback, exemplar ${file}.

${table}

${machineLine()}; single-threaded WASM (SIMD); machine shared with other jobs.
Command: \`npx tsx bench/trainStep.ts --wasm-steps ${wasmSteps}\``,
);
