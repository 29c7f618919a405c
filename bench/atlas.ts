/**
 * Atlas baking: 64 tiles of 128x128 decoded in batches (one decodeTensors call per batch, placement on the
 * backend, one readback per page) against a per-tile loop (one decode and one readback per tile, placed on the
 * CPU), in one Node process on the WASM backend, default model config with random weights.
 *
 *   npx tsx bench/atlas.ts
 */
import { bakeAtlas } from '../src/atlas/bakeAtlas.js';
import { TextureVae } from '../src/model/textureVae.js';
import { useWasmBackend } from '../src/node/wasmBackend.js';
import { machineLine, markdownTable, writeResultsSection } from './results.js';

const count = 64;
const tileSize = 128;
const padding = 8;
const seed = 1;
const repeats = 3;

await useWasmBackend();
const model = TextureVae.create({}, { seed: 7 });

/** One decode per tile through the high-level API, then the tile copied into the page row by row. */
async function perTileLoop(): Promise<number> {
  const cell = tileSize + 2 * padding;
  const columns = Math.ceil(Math.sqrt(count));
  const rows = Math.ceil(count / columns);
  const width = columns * cell;
  const page = new Uint8Array(width * rows * cell * 3);
  for (let i = 0; i < count; i++) {
    const tile = await model.decode(model.sample({ width: tileSize, height: tileSize, seed: seed + i }));
    const x0 = (i % columns) * cell + padding;
    const y0 = Math.floor(i / columns) * cell + padding;
    for (let y = 0; y < tileSize; y++) {
      page.set(tile.data.subarray(y * tileSize * 3, (y + 1) * tileSize * 3), ((y0 + y) * width + x0) * 3);
    }
  }
  return page.length;
}

async function time(run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

// Warm-up: kernels compiled, weights resident.
await bakeAtlas(model, { count: 2, tileSize, padding, seed });

const batched = await time(() => bakeAtlas(model, { count, tileSize, padding, seed }));
const oneByOne = await time(() => bakeAtlas(model, { count, tileSize, padding, seed, batchSize: 1 }));
const loop = await time(perTileLoop);
model.dispose();

const ms = (v: number) => `${v.toFixed(0)} ms`;
const rows = [
  ['bakeAtlas, batched (default batch size)', ms(batched), '1.00'],
  ['bakeAtlas, batchSize 1 (one decode per tile)', ms(oneByOne), (oneByOne / batched).toFixed(2)],
  ['per-tile loop: model.decode + CPU copy per tile', ms(loop), (loop / batched).toFixed(2)],
];
const table = markdownTable(
  ['64 tiles of 128x128, padding 8, WASM', `median of ${repeats}`, 'time / batched'],
  rows,
);
writeResultsSection(
  'atlas',
  `## Atlas baking (batched vs per tile)\n\n${table}\n\n${machineLine()}, default TextureVae config, random weights.\n\n` +
    '`npx tsx bench/atlas.ts`',
);
process.stdout.write(`${table}\n`);
