/**
 * Decode throughput of the embedded model, in one run:
 *  1. GFLOP/s of the decoder (FLOP from decoderFlopsPerPixel) at 256 px against tf.matMul 1024^3, on the tfjs
 *     WebGL backend that shares a Babylon engine's WebGL2 context, for the tfjs WebGL flags (one page each, the
 *     flags set before the backend exists) and for op choices of the decoder (bench/decoderVariants.ts), with
 *     the pixels of each compared to the default path's;
 *  2. bakeAtlasTexture of 64 tiles of 128 px on that backend, batched (several batch sizes) vs one decode a tile;
 *  3. decode time and GFLOP/s at 256, 512 and 1024 px on the shared WebGL backend, WASM in a module worker
 *     (WorkerDecoder), WASM in Node and the tfjs CPU backend in Node, and peak memory at 1024 px.
 * Browser parts run in headless Chromium (WebGL2 on SwiftShader here, a software rasteriser), then the Node parts.
 *
 *   nice -n 15 npx tsx bench/decodeThroughput.ts [--quick] [--from-json FILE (a saved run's measurements)]
 *   nice -n 15 npx tsx bench/decodeThroughput.ts --atlas-only FILE (the atlas batch sizes again, into a saved run)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { Browser, Page } from 'playwright';
import { createServer, type Plugin } from 'vite';
import { launchChromium } from '../scripts/samplesHarness.ts';
import { atlasBatchSize } from '../src/atlas/bakeAtlas.ts';
import { latentToTensor } from '../src/latent/latentGrid.ts';
import { loadPretrained } from '../src/model/pretrained/pretrained.ts';
import { decoderFlopsPerPixel } from '../src/model/textureVaeConfig.ts';
import { useWasmBackend } from '../src/node/wasmBackend.ts';
import { type DecoderVariant, decoderVariants, variantLabels } from './decoderVariants.ts';
import type { DecodeRun as PageRun, Timing } from './decodeThroughputPage.ts';
import { machineLine, markdownTable, writeResultsSection } from './results.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
const repeats = quick ? 2 : 3;
const sizes = [256, 512, 1024];
const atlasCount = 64;
const atlasTile = 128;
const allAtlasBatches: (number | undefined)[] = [undefined, 1, 4, 16, 64];
const atlasBatches = quick ? allAtlasBatches.slice(0, 2) : allAtlasBatches;
/** CPU backend decodes whose estimated time passes this are skipped. */
const cpuCapMs = quick ? 60_000 : 240_000;

/** Flag sets, one page each; the first is tfjs's defaults. */
const flagSets: { name: string; flags: string }[] = [
  { name: 'defaults (WEBGL_PACK, WEBGL_CONV_IM2COL on; float32 textures)', flags: '' },
  { name: 'WEBGL_CONV_IM2COL off', flags: 'WEBGL_CONV_IM2COL:false' },
  {
    name: 'WEBGL_FORCE_F16_TEXTURES (half-float textures)',
    flags: 'WEBGL_FORCE_F16_TEXTURES:true,WEBGL_RENDER_FLOAT32_ENABLED:false',
  },
  {
    name: 'WEBGL_PACK off (unpacked textures, no im2col)',
    flags: 'WEBGL_PACK:false,WEBGL_CONV_IM2COL:false',
  },
  ...(quick ? [] : [{ name: 'WEBGL_EXP_CONV (experimental conv)', flags: 'WEBGL_EXP_CONV:true' }]),
];

/** A decode of the page, with its pixels compared (levels: 8-bit levels vs the default row, levelsWasm: vs WASM). */
interface DecodeRun extends PageRun {
  diff?: { levels: number; levelsWasm: number; float: number };
}

interface FlagResult {
  name: string;
  flags: string;
  matMul?: Timing;
  decode?: DecodeRun;
  /** Why the page failed, for a flag set the backend does not run. */
  error?: string;
}

interface Results {
  renderer: string;
  chromium: string;
  load: string;
  flopsPerPixel: number;
  flags: FlagResult[];
  variants: DecodeRun[];
  webgl: { size: number; timing: Timing }[];
  webglMemory: { peakBytes: number; gpuBefore: number; gpuAfter: number };
  worker: { size: number; timing: Timing }[];
  atlas: { batchSize: number | undefined; timing: Timing }[];
  wasm: { size: number; timing: Timing }[];
  wasmPeakBytes: number;
  cpu: { size: number; timing: Timing | null; estimateMs?: number }[];
  cpuPeakBytes: number | null;
  reference: number[];
  atlasDefaultBatch: number;
  quick: boolean;
  repeats: number;
  cpuCapMs: number;
  /** Where the atlas rows come from when not from the main run (`--atlas-only`). */
  atlasRun?: string;
}

function pagePlugin(): Plugin {
  return {
    name: 'decode-throughput-page',
    configureServer(server) {
      server.middlewares.use(async (req, res, next) => {
        if (!req.url?.startsWith('/decode.html')) return next();
        const html = await server.transformIndexHtml(
          req.url,
          '<!doctype html><html><body><script type="module" src="/bench/decodeThroughputPage.ts"></script></body></html>',
        );
        res.setHeader('Content-Type', 'text/html');
        res.end(html);
      });
    },
  };
}

function log(what: string, value: unknown): void {
  console.log(`${what} ${JSON.stringify(value)}`);
}

async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  page.on('framenavigated', (frame) => console.error(`page navigated: ${frame.url()}`));
  await page.goto(url, { waitUntil: 'load', timeout: 600_000 });
  await page.waitForFunction(() => window.decodeBench !== undefined, null, { timeout: 600_000 });
  return page;
}

/** matMul and the 256 px decode (with its pixels) on a page with the flags of `set`. */
async function flagPage(
  browser: Browser,
  port: number,
  set: { name: string; flags: string },
): Promise<FlagResult> {
  const page = await openPage(browser, `http://127.0.0.1:${port}/decode.html?flags=${set.flags}`);
  try {
    const matMul = (await page.evaluate((r) => window.decodeBench?.matMul(1024, r), repeats)) as Timing;
    const decode = (await page.evaluate(
      (r) => window.decodeBench?.decode(256, 'model', r, { pixels: true }),
      repeats,
    )) as DecodeRun;
    log('flags', { ...set, matMul, decode: { ...decode, bytes: undefined, floats: undefined } });
    return { ...set, matMul, decode };
  } finally {
    await page.close();
  }
}

/** Decoder variants and the decode sizes on a page with tfjs's default flags. */
async function defaultPage(browser: Browser, port: number, results: Partial<Results>): Promise<void> {
  const page = await openPage(browser, `http://127.0.0.1:${port}/decode.html`);
  try {
    results.renderer = await page.evaluate(() => window.decodeBench?.renderer ?? '');
    const matMul = (await page.evaluate((r) => window.decodeBench?.matMul(1024, r), repeats)) as Timing;
    const decode = (await page.evaluate(
      (r) => window.decodeBench?.decode(256, 'model', r, { pixels: true }),
      repeats,
    )) as DecodeRun;
    const defaults = { ...(flagSets[0] as { name: string; flags: string }), matMul, decode };
    log('flags', { ...defaults, decode: { ...decode, bytes: undefined, floats: undefined } });
    results.flags = [defaults];
    results.variants = [decode];
    for (const variant of decoderVariants.filter((v) => v !== 'model')) {
      const run = (await page.evaluate(
        ([v, r]) => window.decodeBench?.decode(256, v as DecoderVariant, r as number, { pixels: true }),
        [variant, repeats] as const,
      )) as DecodeRun;
      log('variant', { ...run, bytes: undefined, floats: undefined });
      results.variants.push(run);
    }
    results.webgl = [{ size: 256, timing: decode }];
    for (const size of sizes.slice(1)) {
      const run = (await page.evaluate(
        ([s, r]) => window.decodeBench?.decode(s, 'model', r),
        [size, size === 1024 ? 1 : repeats],
      )) as DecodeRun;
      log('webgl', run);
      results.webgl.push({ size, timing: run });
    }
  } finally {
    await page.close();
  }
}

/** Memory at 1024 px on a fresh page (an empty texture pool), then the worker decodes and the atlas bakes. */
async function memoryPage(browser: Browser, port: number, results: Partial<Results>): Promise<void> {
  const page = await openPage(browser, `http://127.0.0.1:${port}/decode.html`);
  try {
    results.webglMemory = (await page.evaluate(() =>
      window.decodeBench?.decodeMemory(1024),
    )) as Results['webglMemory'];
    log('webglMemory', results.webglMemory);
    results.worker = (await page.evaluate(([s, r]) => window.decodeBench?.workerDecode(s, r), [
      sizes,
      repeats,
    ] as const)) as Results['worker'];
    log('worker', results.worker);
    await atlasBakes(page, results, atlasBatches);
  } finally {
    await page.close();
  }
}

/** bakeAtlasTexture once for each batch size in `batches`. */
async function atlasBakes(
  page: Page,
  results: Partial<Results>,
  batches: (number | undefined)[],
): Promise<void> {
  results.atlas = [];
  for (const batchSize of batches) {
    const timing = (await page.evaluate(
      ([c, t, b, r]) => window.decodeBench?.atlas(c, t, b ?? undefined, r),
      [atlasCount, atlasTile, batchSize ?? null, 1] as const,
    )) as Timing;
    log('atlas', { batchSize, timing });
    results.atlas.push({ batchSize, timing });
  }
}

async function browserPart(results: Partial<Results>, atlasOnly = false): Promise<void> {
  const server = await createServer({
    root,
    configFile: false,
    logLevel: 'error',
    server: { host: '127.0.0.1', port: 0, hmr: false, watch: null },
    plugins: [pagePlugin()],
    // The page and the worker crawled up front: a dependency found later re-bundles and reloads the page.
    optimizeDeps: {
      entries: ['bench/decodeThroughputPage.ts', 'src/worker/decodeWorker.ts'],
      include: [
        '@babylonjs/core',
        '@tensorflow/tfjs-core',
        '@tensorflow/tfjs-layers',
        '@tensorflow/tfjs-backend-cpu',
        '@tensorflow/tfjs-backend-webgl',
        '@tensorflow/tfjs-backend-wasm',
      ],
    },
  });
  await server.listen();
  const address = server.httpServer?.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const chromium = await launchChromium();
  results.chromium = chromium.browser.version();
  try {
    if (atlasOnly) {
      const page = await openPage(chromium.browser, `http://127.0.0.1:${port}/decode.html`);
      await atlasBakes(page, results, allAtlasBatches);
      await page.close();
      return;
    }
    await defaultPage(chromium.browser, port, results);
    await memoryPage(chromium.browser, port, results);
    for (const set of flagSets.slice(1)) {
      // A flag set the backend fails on is a row with its error, not the end of the run.
      try {
        results.flags?.push(await flagPage(chromium.browser, port, set));
      } catch (error) {
        const message = (error as Error).message.split('\n')[0] as string;
        console.error(`${set.name}: ${message}`);
        results.flags?.push({ ...set, error: message });
      }
    }
  } finally {
    await chromium.close();
    await server.close();
  }
}

async function nodeDecode(
  size: number,
  runs: number,
  model: Awaited<ReturnType<typeof loadPretrained>>,
): Promise<Timing> {
  const latent = model.sample({ width: size, height: size, seed: 1 });
  const z = latentToTensor(latent);
  const times: number[] = [];
  try {
    for (let i = 0; i < runs + 1; i++) {
      const start = performance.now();
      const out = model.decodeTensors(z);
      await out.data();
      out.dispose();
      if (i > 0 || runs === 0) times.push(performance.now() - start);
    }
  } finally {
    z.dispose();
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)] as number, runs: times };
}

async function peakBytes(model: Awaited<ReturnType<typeof loadPretrained>>, size: number): Promise<number> {
  const latent = model.sample({ width: size, height: size, seed: 1 });
  const profile = await tf.profile(() => {
    const out = tf.tidy(() => model.decodeTensors(latentToTensor(latent)));
    out.dispose();
  });
  return profile.peakBytes;
}

async function nodePart(results: Partial<Results>): Promise<void> {
  await useWasmBackend();
  let model = await loadPretrained();
  const reference = model.decodeTensors(latentToTensor(model.sample({ width: 256, height: 256, seed: 1 })));
  results.reference = Array.from(await reference.data()).map((v) =>
    Math.round(Math.min(1, Math.max(0, v)) * 255),
  );
  reference.dispose();
  results.wasm = [];
  for (const size of sizes) {
    results.wasm.push({ size, timing: await nodeDecode(size, size === 1024 ? 1 : repeats, model) });
    log('wasm', results.wasm.at(-1));
  }
  results.wasmPeakBytes = await peakBytes(model, 1024);
  results.atlasDefaultBatch = atlasBatchSize(model, atlasTile);
  model.dispose();
  await tf.setBackend('cpu');
  model = await loadPretrained();
  results.cpu = [];
  results.cpuPeakBytes = null;
  let last: { size: number; ms: number } | null = null;
  for (const size of sizes) {
    const estimateMs = last ? last.ms * (size / last.size) ** 2 : 0;
    if (estimateMs > cpuCapMs) {
      results.cpu.push({ size, timing: null, estimateMs });
      continue;
    }
    // One timed run after a warm-up at 256 only: the larger sizes take long on this backend.
    const timing = await nodeDecode(size, size === 256 ? 1 : 0, model);
    results.cpu.push({ size, timing });
    log('cpu', results.cpu.at(-1));
    last = { size, ms: timing.ms };
    if (size === 1024) results.cpuPeakBytes = await peakBytes(model, 1024);
  }
  model.dispose();
}

function loadLine(): string {
  const loadavg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  return `load average ${loadavg} on 2 cores (a training job shares them)`;
}

const f1 = (v: number) => v.toFixed(1);
const f2 = (v: number) => v.toFixed(2);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Largest absolute difference of two 8-bit images, in levels. */
function maxLevels(a: readonly number[], b: readonly number[]): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

function maxFloat(a: readonly number[], b: readonly number[]): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

/** Compares every 256 px decode with the default row's and with WASM's pixels, then drops the pixels. */
function attachDiffs(r: Results): void {
  const base = r.flags[0]?.decode as DecodeRun;
  const baseBytes = base.bytes as number[];
  const baseFloats = base.floats as number[];
  for (const run of [...r.flags.map((f) => f.decode), ...r.variants]) {
    if (!run?.bytes || !run.floats) continue;
    run.diff = {
      levels: maxLevels(run.bytes, baseBytes),
      levelsWasm: maxLevels(run.bytes, r.reference),
      float: maxFloat(run.floats, baseFloats),
    };
  }
  for (const run of [...r.flags.map((f) => f.decode), ...r.variants]) {
    if (run) {
      run.bytes = undefined;
      run.floats = undefined;
    }
  }
  r.reference = [];
}

function report(r: Results): string {
  const gflops = (size: number, ms: number) => (r.flopsPerPixel * size * size) / (ms * 1e6);
  const matMulGflops = (t: Timing) => (2 * 1024 ** 3) / (t.ms * 1e6);
  const base = r.flags[0] as Required<Omit<FlagResult, 'error'>>;
  const ratioOf = (f: { decode: DecodeRun; matMul: Timing }) =>
    gflops(256, f.decode.ms) / matMulGflops(f.matMul);
  const met = (ok: boolean) => (ok ? 'met' : 'not met');
  const sw = 'WebGL2 on SwiftShader, a software rasteriser';

  const flagRows = r.flags.map((f) => {
    const { matMul, decode } = f;
    if (!matMul || !decode) return [f.name, `failed: ${f.error}`, '', '', '', ''];
    return [
      f.name,
      `${f1(matMul.ms)} ms, ${f2(matMulGflops(matMul))}`,
      `${f1(decode.ms)} ms, ${f2(gflops(256, decode.ms))}`,
      f2(ratioOf({ matMul, decode })),
      `${decode.diff?.levels} / ${decode.diff?.levelsWasm}`,
      (decode.diff?.float ?? Number.NaN).toExponential(1),
    ];
  });
  const variantRows = r.variants.map((v) => [
    variantLabels[v.variant],
    `${f1(v.ms)} ms`,
    f2(gflops(256, v.ms)),
    f2(gflops(256, v.ms) / matMulGflops(base.matMul)),
    `${v.diff?.levels} / ${v.diff?.levelsWasm}`,
  ]);
  const variant = (name: DecoderVariant) => r.variants.find((v) => v.variant === name) as DecodeRun;
  const [fusedRun, unfused, gathered, zeroPad] = (
    ['model', 'unfused', 'gatherPad', 'convZeroPad'] as const
  ).map(variant) as [DecodeRun, DecodeRun, DecodeRun, DecodeRun];
  const paddingShare = 1 - zeroPad.ms / fusedRun.ms;
  const boundRatio = gflops(256, zeroPad.ms) / matMulGflops(base.matMul);
  const fasterFlags = r.flags
    .slice(1)
    .filter((f) => f.decode && f.decode.ms < 0.95 * base.decode.ms && (f.decode.diff?.levels ?? 99) <= 1);
  const notes = [
    `Measured reasons: the fused convolution (PaddedConv2D's default now) decodes in ${f1(fusedRun.ms)} ms against ${f1(unfused.ms)} ms ` +
      `for the unfused ops (${f2(unfused.ms / fusedRun.ms)}x; their pixels differ by ${unfused.diff?.levels} level(s) at most). ` +
      `Circular padding as slices + concats is ${(100 * paddingShare).toFixed(0)}% of the decode: a decoder with no padding op at all ` +
      `(zero padding inside the convolution) takes ${f1(zeroPad.ms)} ms, decoder / matMul ${f2(boundRatio)}, so no padding op, a one-pass wrap-around kernel included, can reach 0.5 here; ` +
      `one gather per axis is slower than the slices (${f1(gathered.ms)} ms) and stays out. ` +
      (fasterFlags.length > 0
        ? fasterFlags
            .map((f) => {
              const d = f.decode as DecodeRun;
              const m = f.matMul as Timing;
              return (
                `${f.name} decodes ${f2(base.decode.ms / d.ms)}x faster than the defaults within ${d.diff?.levels} level ` +
                `(largest float difference ${(d.diff?.float ?? Number.NaN).toExponential(1)}) while its matMul runs ${f2(m.ms / base.matMul.ms)}x the defaults' time`
              );
            })
            .join('; ') +
          ". Not made the default: tfjs flags are global, so they would change every tfjs WebGL backend of the page (the app's own " +
          'included) and training on the shared backend (trainTextureVae with an engine scope) as well, for a win measured in one run ' +
          'on a software rasteriser only.'
        : "No flag set decodes more than 5% faster than tfjs's defaults within 1 level, so the defaults stay."),
  ].join(' ');
  const ratio = ratioOf(base);
  const spreads = [
    ...r.flags.flatMap((f) => (f.decode && f.matMul ? [f.decode, f.matMul] : [])),
    ...r.variants,
    ...r.worker.map((w) => w.timing),
  ]
    .filter((t) => t.runs.length > 1)
    .map((t) => Math.max(...t.runs) / Math.min(...t.runs));
  const spread = Math.max(...spreads);
  const atlasBase = r.atlas.find((a) => a.batchSize === 1) as { timing: Timing };
  const atlasDefault = r.atlas.find((a) => a.batchSize === undefined) as { timing: Timing };
  const best = [...r.atlas].sort((a, b) => a.timing.ms - b.timing.ms)[0] as Results['atlas'][number];
  const batched = atlasBase.timing.ms / atlasDefault.timing.ms;
  const decodeCell = (size: number, t: Timing | null | undefined, note = '') =>
    t ? `${t.ms.toFixed(0)} ms, ${f2(gflops(size, t.ms))} GFLOP/s${note}` : 'skipped';
  const cpuCell = (size: number) => {
    const c = r.cpu.find((x) => x.size === size);
    if (!c?.timing)
      return `skipped (estimated ${((c?.estimateMs ?? 0) / 1000).toFixed(0)} s from the last size measured, cap ${r.cpuCapMs / 1000} s)`;
    return decodeCell(size, c.timing, size > 256 ? ' (one run)' : '');
  };

  return [
    '## Decode throughput of the embedded model: WebGL (shared context), WASM, CPU',
    '',
    `Command: \`nice -n 15 npx tsx bench/decodeThroughput.ts${r.quick ? ' --quick' : ''}\`. One run: headless Chromium ${r.chromium} (${sw}: every WebGL figure here is CPU work, ` +
      `${r.renderer}), then Node. ${r.load}: absolute times are of this loaded machine, only ratios within the run count. ` +
      `Decoder FLOP from decoderFlopsPerPixel (${r.flopsPerPixel.toFixed(0)} FLOP per output pixel), matMul 2 * 1024^3 FLOP; ` +
      `medians of ${r.repeats} after a warm-up, each ended by a one-value readback.`,
    '',
    '### Decoder vs matMul on the shared WebGL backend (SwiftShader), tfjs WebGL flags',
    '',
    'One page per row, its flags set before the backend exists. Pixel difference: largest difference in 8-bit levels of the 256 px decode ' +
      'from the default row / from WASM in Node; float difference: largest absolute difference from the default row.',
    '',
    markdownTable(
      [
        'flags',
        'matMul 1024^3, GFLOP/s',
        'decoder 256 px, GFLOP/s',
        'decoder / matMul',
        'pixel diff (levels)',
        'float diff',
      ],
      flagRows,
    ),
    '',
    '### Decoder op choices on the shared WebGL backend (SwiftShader), default flags',
    '',
    markdownTable(
      ['decoder ops', '256 px', 'GFLOP/s', 'decoder / matMul', 'pixel diff (levels) vs default / WASM'],
      variantRows,
    ),
    '',
    `decoder / matMul throughput on the shared WebGL backend: ${f2(ratio)}`,
    '',
    `(target >= 0.5: ${met(ratio >= 0.5)}; ${sw})`,
    '',
    notes,
    '',
    `### Atlas bake on the shared WebGL backend (SwiftShader): ${atlasCount} tiles of ${atlasTile} px`,
    '',
    'bakeAtlasTexture (decode, gutters, placement, texture write and mipmaps) with the batch size of each row, one bake each' +
      (r.atlasRun ? `, in ${r.atlasRun}; ` : '; ') +
      `default: atlasBatchSize (memoryBudget 128 MiB) = ${r.atlasDefaultBatch} tiles a decode for this model.`,
    '',
    markdownTable(
      ['batchSize', 'time', 'per-tile time / this'],
      r.atlas.map((a) => [
        a.batchSize === undefined ? 'default (atlasBatchSize)' : String(a.batchSize),
        `${(a.timing.ms / 1000).toFixed(1)} s`,
        `${f2(atlasBase.timing.ms / a.timing.ms)}x`,
      ]),
    ),
    '',
    `batched vs per-tile on the shared WebGL backend: ${f2(batched)}x`,
    '',
    `(target >= 3x: ${met(batched >= 3)}; fastest batch size here: ${best.batchSize ?? `the default, ${r.atlasDefaultBatch}`}; ${sw})`,
    '',
    'Measured reason: SwiftShader runs the shaders on the same CPU cores as everything else, so a batch saves only the per-call ' +
      'work (draw calls, small textures, the scheduling between decodes): ' +
      (atlasDefault.timing.ms < atlasBase.timing.ms
        ? `${f1((atlasBase.timing.ms - atlasDefault.timing.ms) / 1000)} s of ${f1(atlasBase.timing.ms / 1000)} s here with the default batch. `
        : `here the default batch was slower than one decode per tile (${f1(atlasDefault.timing.ms / 1000)} s against ${f1(atlasBase.timing.ms / 1000)} s). `) +
      (best.batchSize !== undefined && best.timing.ms < atlasDefault.timing.ms
        ? `Batch size ${best.batchSize} beat the default (${r.atlasDefaultBatch}) by ${f2(atlasDefault.timing.ms / best.timing.ms)}x in one bake each, ` +
          (atlasDefault.timing.ms / best.timing.ms < spread
            ? `less than the ${f2(spread)}x spread of repeats on this machine, so the default stays. `
            : 'more than the spread of repeats on this machine: a smaller memoryBudget (or batchSize) bakes faster here. ')
        : 'The default batch size was the fastest measured. ') +
      "The batch size is bakeAtlas's `batchSize` option (default atlasBatchSize, src/atlas/bakeAtlas.ts).",
    '',
    '### Decode time by backend',
    '',
    `The repeats of one measurement differ by up to ${f2(spread)}x on this loaded machine (largest max / min of the rows with two or more runs); ` +
      'single runs (1024 px, CPU) carry that noise in full.',
    '',
    markdownTable(
      ['backend', '256 px', '512 px', '1024 px', 'peak memory at 1024 px'],
      [
        [
          `WebGL, shared Babylon context (browser; ${sw})`,
          ...sizes.map((s) =>
            decodeCell(s, r.webgl.find((w) => w.size === s)?.timing, s === 1024 ? ' (one run)' : ''),
          ),
          `tfjs peak ${mib(r.webglMemory.peakBytes)} (weights included); GPU textures allocated ${mib(r.webglMemory.gpuBefore)} -> ${mib(r.webglMemory.gpuAfter)}`,
        ],
        [
          'WASM in a module worker, WorkerDecoder (browser; latent in, float pixels out)',
          ...sizes.map((s) => decodeCell(s, r.worker.find((w) => w.size === s)?.timing)),
          'not measured (in the worker)',
        ],
        [
          'WASM in Node',
          ...sizes.map((s) =>
            decodeCell(s, r.wasm.find((w) => w.size === s)?.timing, s === 1024 ? ' (one run)' : ''),
          ),
          `tfjs peak ${mib(r.wasmPeakBytes)}`,
        ],
        [
          'tfjs CPU backend in Node',
          ...sizes.map((s) => cpuCell(s)),
          r.cpuPeakBytes === null ? 'not measured (1024 skipped)' : `tfjs peak ${mib(r.cpuPeakBytes)}`,
        ],
      ],
    ),
    '',
    machineLine(),
  ].join('\n');
}

/** Every measurement of a run, so `--from-json` can write the section again without measuring. */
const savePath = join(tmpdir(), 'decodeThroughput.json');

async function main(): Promise<void> {
  const fromJson = process.argv.indexOf('--from-json');
  if (fromJson >= 0) {
    const saved = JSON.parse(readFileSync(process.argv[fromJson + 1] as string, 'utf8')) as Results;
    const markdown = report(saved);
    writeResultsSection('decodeThroughput', markdown);
    console.log(markdown);
    return;
  }
  const atlasOnly = process.argv.indexOf('--atlas-only');
  if (atlasOnly >= 0) {
    const file = process.argv[atlasOnly + 1] as string;
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Results;
    await browserPart(saved, true);
    saved.atlasRun = `its own run after the rest (\`--atlas-only FILE\` with the saved measurements; ${loadLine()})`;
    writeFileSync(file, JSON.stringify(saved));
    const markdown = report(saved);
    writeResultsSection('decodeThroughput', markdown);
    console.log(markdown);
    return;
  }
  const results: Partial<Results> = { quick, repeats, cpuCapMs };
  const config = JSON.parse(readFileSync(join(root, 'src/model/pretrained/default/model.json'), 'utf8'))
    .userDefinedMetadata.textureVae.config;
  results.flopsPerPixel = decoderFlopsPerPixel(config);
  await browserPart(results);
  await nodePart(results);
  results.load = loadLine();
  attachDiffs(results as Results);
  writeFileSync(savePath, JSON.stringify(results));
  console.log(`measurements saved to ${savePath}`);
  const markdown = report(results as Results);
  writeResultsSection('decodeThroughput', markdown);
  console.log(markdown);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
