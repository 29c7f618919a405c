/**
 * Hand-off cost from a decoded image tensor to a Babylon texture (the decode itself excluded), in one headless
 * Chromium run: zero-copy (tfjs on Babylon's WebGL2 context, the shader pass reads the tensor's own texture) vs readback (tfjs on
 * its own context, await data(), float RawTexture, the same pass) vs tf.browser.toPixels -> canvas ->
 * DynamicTexture. Every path starts with one relu on a ready image, standing in for the decoder's last op. Each sample ends with a 1x1 readPixels so queued GPU work is counted. Then 1000
 * VaeProceduralTexture regenerations, checking tfjs tensors, GPU bytes and engine textures end where they began.
 *
 *   npx tsx bench/handoff.ts
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright';
import { createServer, type Plugin } from 'vite';
import { chromiumArgs, findChromium } from '../scripts/chromium.ts';
import { machineLine, markdownTable, writeResultsSection } from './results.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sizes = [256, 512];
const samples = 10;
const regenerations = 1000;

interface PathTiming {
  size: number;
  zeroCopyMs: number;
  readbackMs: number;
  toPixelsMs: number;
}

interface PageResult {
  renderer: string;
  timings: PathTiming[];
  memory: {
    regenerations: number;
    tensors: [number, number];
    gpuBytes: [number, number];
    engineTextures: [number, number];
    ms: number;
  };
}

/** The page's script, served as a virtual module (plain JS, so vite serves it untransformed). */
const pageModule = `
import '@tensorflow/tfjs-backend-webgl';
import * as tf from '@tensorflow/tfjs-core';
import { Constants, DynamicTexture, Engine, FreeCamera, Scene, Vector3 } from '@babylonjs/core';
import { runOnEngine } from '/src/gpu/glHandoff.ts';
import { TensorProceduralTexture } from '/src/textures/tensorProceduralTexture.ts';
import { VaeProceduralTexture } from '/src/textures/vaeProceduralTexture.ts';
import { TextureVae } from '/src/model/textureVae.ts';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function time(n, fn, sync) {
  for (let i = 0; i < 2; i++) { await fn(); sync(); }
  const out = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    sync();
    out.push(performance.now() - t0);
  }
  return median(out);
}

window.runBench = async ({ sizes, samples, regenerations }) => {
  // tfjs's own backend first, on its own context: the readback and toPixels paths run there.
  await tf.setBackend('webgl');
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 64;
  document.body.appendChild(canvas);
  const engine = new Engine(canvas, false, { preserveDrawingBuffer: true, stencil: true });
  const scene = new Scene(engine);
  new FreeCamera('camera', new Vector3(0, 0, -5), scene);
  const gl = engine._gl;
  const pixel = new Uint8Array(4);
  const sync = () => gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
  const timings = [];
  for (const size of sizes) {
    const options = { size, generateMipMaps: false, samplingMode: Constants.TEXTURE_NEAREST_SAMPLINGMODE };
    const zero = new TensorProceduralTexture('zero', scene, options);
    const back = new TensorProceduralTexture('back', scene, { ...options, useSharedContext: false });
    const onShared = runOnEngine(engine, () => tf.randomUniform([1, size, size, 3]));
    const onOwn = tf.randomUniform([1, size, size, 3]);
    const onOwn3 = tf.squeeze(onOwn, [0]);
    const zeroCopyMs = await time(samples, () => zero.write(() => tf.relu(onShared)), sync);
    const readbackMs = await time(samples, () => back.write(() => tf.relu(onOwn)), sync);
    const dynamic = new DynamicTexture('pixels', { width: size, height: size }, scene, false);
    const staging = document.createElement('canvas');
    staging.width = size; staging.height = size;
    const toPixelsMs = await time(samples, async () => {
      const image = tf.relu(onOwn3);
      await tf.browser.toPixels(image, staging);
      image.dispose();
      dynamic.getContext().drawImage(staging, 0, 0);
      dynamic.update(false);
    }, sync);
    timings.push({ size, zeroCopyMs, readbackMs, toPixelsMs });
    runOnEngine(engine, () => onShared.dispose());
    onOwn.dispose(); onOwn3.dispose();
    zero.dispose(); back.dispose(); dynamic.dispose();
  }

  const model = TextureVae.create({ latentChannels: 4, stride: 4, encoderWidths: [8, 8, 8], decoderWidths: [8, 8, 8] }, { seed: 1 });
  const texture = new VaeProceduralTexture('vae', scene, { model, size: 64, latent: model.sample({ width: 64, height: 64 }) });
  await texture.regenerate();
  const gpuBytes = () => runOnEngine(engine, () => tf.memory().numBytesInGPU);
  const begin = { tensors: tf.memory().numTensors, gpu: gpuBytes(), textures: engine.getLoadedTexturesCache().length };
  const t0 = performance.now();
  for (let i = 0; i < regenerations; i++) {
    await texture.regenerate(model.sample({ width: 64, height: 64, seed: i + 1 }));
  }
  const ms = performance.now() - t0;
  const end = { tensors: tf.memory().numTensors, gpu: gpuBytes(), textures: engine.getLoadedTexturesCache().length };
  texture.dispose();
  model.dispose();
  engine.dispose();
  return {
    renderer,
    timings,
    memory: {
      regenerations,
      tensors: [begin.tensors, end.tensors],
      gpuBytes: [begin.gpu, end.gpu],
      engineTextures: [begin.textures, end.textures],
      ms,
    },
  };
};
window.benchReady = true;
`;

function benchPagePlugin(): Plugin {
  const moduleId = 'virtual:handoff-bench';
  return {
    name: 'handoff-bench-page',
    resolveId: (id) => (id === moduleId || id === `/@id/${moduleId}` ? `\0${moduleId}` : undefined),
    load: (id) => (id === `\0${moduleId}` ? pageModule : undefined),
    configureServer(server) {
      server.middlewares.use(async (req, res, next) => {
        if (req.url !== '/handoff.html') return next();
        const html = await server.transformIndexHtml(
          req.url,
          `<!doctype html><html><body><script type="module">import '${moduleId}';</script></body></html>`,
        );
        res.setHeader('Content-Type', 'text/html');
        res.end(html);
      });
    },
  };
}

async function main(): Promise<void> {
  const server = await createServer({
    root,
    configFile: false,
    logLevel: 'error',
    server: { host: '127.0.0.1', port: 0 },
    plugins: [benchPagePlugin()],
    optimizeDeps: { include: ['@babylonjs/core', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgl'] },
  });
  await server.listen();
  const address = server.httpServer?.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const home = mkdtempSync(join(tmpdir(), 'bvt-bench-'));
  const browser = await chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: chromiumArgs,
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: home, XDG_CACHE_HOME: home },
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/handoff.html`, { waitUntil: 'commit', timeout: 300_000 });
    await page.waitForFunction(() => (window as { benchReady?: boolean }).benchReady === true, null, {
      timeout: 300_000,
    });
    const result = (await page.evaluate(
      (args) => (window as unknown as { runBench: (a: unknown) => Promise<unknown> }).runBench(args),
      { sizes, samples, regenerations },
    )) as PageResult;
    if (errors.length > 0) throw new Error(`bench page errors: ${errors.join('; ')}`);
    report(result, browser.version());
  } finally {
    await browser.close();
    await server.close();
  }
}

function report(result: PageResult, chromiumVersion: string): void {
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const rows = result.timings.flatMap((t) => [
    [
      `${t.size}x${t.size}`,
      'zero-copy: the shader pass reads the tensor texture',
      ms(t.zeroCopyMs),
      (t.toPixelsMs / t.zeroCopyMs).toFixed(1),
    ],
    [
      `${t.size}x${t.size}`,
      'readback: await data() -> float RawTexture -> shader pass',
      ms(t.readbackMs),
      (t.toPixelsMs / t.readbackMs).toFixed(1),
    ],
    [`${t.size}x${t.size}`, 'toPixels -> canvas -> DynamicTexture (baseline)', ms(t.toPixelsMs), '1.0'],
  ]);
  const m = result.memory;
  const same = (pair: [number, number]) => (pair[0] === pair[1] ? 'equal' : 'DIFFERENT');
  const markdown = [
    '## GPU hand-off: decoded tensor -> Babylon texture',
    '',
    'Decode excluded: each sample starts from one elementwise op (relu) on a ready image tensor, so the ' +
      'data is fresh on the GPU (tfjs would otherwise serve a cached CPU copy). Median of ' +
      `${samples} after 2 warm-ups; each sample ends with a 1x1 readPixels so queued GPU work is counted. ` +
      'Speed-up is the toPixels time divided by the path time (target: zero-copy >= 5x).',
    '',
    markdownTable(['size', 'path', 'median', 'speed-up vs toPixels'], rows),
    '',
    `${m.regenerations} VaeProceduralTexture regenerations (64x64, tiny model, zero-copy) took ${(m.ms / 1000).toFixed(1)} s: ` +
      `tfjs tensors ${m.tensors[0]} -> ${m.tensors[1]} (${same(m.tensors)}), GPU bytes ${m.gpuBytes[0]} -> ` +
      `${m.gpuBytes[1]} (${same(m.gpuBytes)}), engine textures ${m.engineTextures[0]} -> ${m.engineTextures[1]} ` +
      `(${same(m.engineTextures)}).`,
    '',
    `${machineLine()}, headless Chromium ${chromiumVersion}, ${result.renderer}.`,
    '',
    '`npx tsx bench/handoff.ts`',
  ].join('\n');
  writeResultsSection('handoff', markdown);
  process.stdout.write(`${markdown}\n`);
}

await main();
