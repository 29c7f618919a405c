import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { createServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createContext, type PluginHost, vaeTextures } from '../../plugin/index.js';
import { TextureVae } from '../../src/model/textureVae.js';
import { fileSystemHandler } from '../../src/node/fileHandler.js';
import { readPng } from '../../src/node/png.js';
import { useWasmBackend } from '../../src/node/wasmBackend.js';
import { app, assetBytes, buildProject, chunkCode, listen, serveOutput, writeFiles } from './fixture.js';

let root: string;
let cacheDir: string;
const QUERY = 'vae-atlas&count=5&tileSize=16&seed=1&padding=2';
const TINY = {
  stride: 4,
  latentChannels: 2,
  encoderWidths: [4, 4, 4],
  decoderWidths: [6, 4, 4],
  name: 'tiny',
};

beforeAll(async () => {
  await useWasmBackend();
  root = await mkdtemp(join(tmpdir(), 'bvt-plugin-atlas-'));
  cacheDir = join(root, 'cache');
  const model = TextureVae.create(TINY, { seed: 3 });
  await model.save(fileSystemHandler(join(root, 'models/stone')));
  model.dispose();
  await writeFiles(
    root,
    app(
      `import atlas from '../models/stone/model.json?${QUERY}';\n` +
        "import url from '../models/stone/model.json?vae';\nconsole.log(atlas, url);\n",
    ),
  );
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('?vae-atlas in a build', () => {
  it('bakes the atlas, emits its PNG and manifest, and bakes again only when the model changes', async () => {
    const plugin = vaeTextures({ cacheDir });
    const files = await buildProject(root, plugin);
    expect(plugin.api?.context.stats).toEqual({ bakes: 1, cacheHits: 0 });

    const names = [...files.keys()];
    const png = names.find((n) => /^assets\/stone-atlas-[\w-]{8}\.png$/.test(n)) as string;
    const json = names.find((n) => /^assets\/stone-atlas-[\w-]{8}\.json$/.test(n)) as string;
    expect(png).toBeDefined();
    expect(json).toBeDefined();

    const manifest = JSON.parse(new TextDecoder().decode(assetBytes(files.get(json))));
    expect(manifest).toMatchObject({ version: 1, model: 'tiny', tileSize: 16, padding: 2 });
    expect(manifest.tiles.map((t: { seed: number }) => t.seed)).toEqual([1, 2, 3, 4, 5]);
    expect(manifest.pages).toEqual([{ width: 60, height: 40, file: png.slice('assets/'.length) }]);
    const page = readPng(assetBytes(files.get(png)));
    expect(page).toMatchObject({ width: 60, height: 40, channels: 3 });
    // A decoded texture, not a blank page: the tile pixels vary.
    expect(new Set(page.data).size).toBeGreaterThan(8);

    const code = chunkCode(files);
    expect(code).toContain(`/${png}`);
    expect(code).toContain(`/${json}`);
    expect(code).toContain('"safeMipLevel"');

    // The emitted model loads over HTTP with tfjs's own loader, shards found through the rewritten paths.
    const model = [...files.keys()].find((n) => /^assets\/model-[\w-]{8}\.json$/.test(n)) as string;
    expect(code).toContain(`/${model}`);
    const host = await serveOutput(files);
    try {
      const loaded = await TextureVae.load(`${host.base}/${model}`);
      const reference = await TextureVae.load(fileSystemHandler(join(root, 'models/stone')));
      expect(loaded.config).toEqual(reference.config);
      const [a, b] = [loaded.getWeights(), reference.getWeights()];
      expect(a.map((w) => [...w.dataSync()])).toEqual(b.map((w) => [...w.dataSync()]));
      tf.dispose([...a, ...b]);
      loaded.dispose();
      reference.dispose();
    } finally {
      await host.close();
    }

    // A fresh plugin (a second `vite build`) finds the atlas in the cache folder.
    const again = vaeTextures({ cacheDir });
    const second = await buildProject(root, again);
    expect(again.api?.context.stats).toEqual({ bakes: 0, cacheHits: 1 });
    expect(assetBytes(second.get(png))).toEqual(assetBytes(files.get(png)));
    expect(assetBytes(second.get(json))).toEqual(assetBytes(files.get(json)));

    // New weights, same query: baked again, under a new name.
    const other = TextureVae.create(TINY, { seed: 4 });
    await other.save(fileSystemHandler(join(root, 'models/stone')));
    other.dispose();
    const changed = vaeTextures({ cacheDir });
    const third = await buildProject(root, changed);
    expect(changed.api?.context.stats).toEqual({ bakes: 1, cacheHits: 0 });
    expect(third.has(png)).toBe(false);
    expect([...third.keys()].filter((n) => /^assets\/stone-atlas-[\w-]{8}\.png$/.test(n))).toHaveLength(1);
  });

  it('serves the baked atlas from the dev server', async () => {
    const server = await createServer({
      root,
      configFile: false,
      logLevel: 'silent',
      plugins: [vaeTextures({ cacheDir })],
      optimizeDeps: { noDiscovery: true, include: [] },
      server: { host: '127.0.0.1', port: 0, ws: false },
    });
    try {
      const base = await listen(server);
      const main = await (await fetch(`${base}/src/main.js`)).text();
      const moduleUrl = /from\s+["']([^"']+vae-atlas\.js[^"']*)["']/.exec(main)?.[1] as string;
      const module = await (await fetch(`${base}${moduleUrl}`)).text();
      const urls = JSON.parse(/export const urls = (\[[^\]]*\]);/.exec(module)?.[1] as string) as string[];
      const manifestUrl = JSON.parse(
        /export const manifestUrl = ("[^"]+");/.exec(module)?.[1] as string,
      ) as string;
      expect(urls).toHaveLength(1);
      expect(urls[0]).toMatch(/^\/@vae-textures\/atlas\/[0-9a-f]{64}-0\.png$/);

      const png = await fetch(`${base}${urls[0]}`);
      expect(png.headers.get('content-type')).toBe('image/png');
      expect(readPng(new Uint8Array(await png.arrayBuffer()))).toMatchObject({ width: 60, height: 40 });
      const manifest = await (await fetch(`${base}${manifestUrl}`)).json();
      expect(manifest.pages).toEqual([{ width: 60, height: 40, file: urls[0].split('/').pop() }]);
      expect(manifest.tiles).toHaveLength(5);

      const vaeModuleUrl = /from\s+["']([^"']+\.vae\.js)["']/.exec(main)?.[1] as string;
      const vaeModule = await (await fetch(`${base}${vaeModuleUrl}`)).text();
      const modelUrl = JSON.parse(/const url = ("[^"]+");/.exec(vaeModule)?.[1] as string) as string;
      const loaded = await TextureVae.load(`${base}${modelUrl}`);
      expect(loaded.config.name).toBe('tiny');
      loaded.dispose();
    } finally {
      await server.close();
    }
  });

  it('bakes again for another query', async () => {
    await writeFiles(root, {
      'src/other.js':
        "import atlas from '../models/stone/model.json?vae-atlas&count=2&tileSize=8&padding=2&layout=row';\nconsole.log(atlas);\n",
      'other.html': '<!doctype html><script type="module" src="/src/other.js"></script>',
    });
    const plugin = vaeTextures({ cacheDir });
    const tensors = tf.memory().numTensors;
    const result = await buildWithInput(join(root, 'other.html'), plugin);
    expect(plugin.api?.context.stats).toEqual({ bakes: 1, cacheHits: 0 });
    expect(tf.memory().numTensors).toBe(tensors);
    const png = [...result.keys()].find((n) => n.endsWith('.png')) as string;
    expect(readPng(assetBytes(result.get(png)))).toMatchObject({ width: 2 * (8 + 4), height: 8 + 4 });
  });
});

it('accepts the flag last, as the module types expect, and shares the cache entry of equal parameters', async () => {
  await writeFiles(root, {
    'last.html': '<!doctype html><script type="module" src="/src/last.js"></script>',
    'src/last.js':
      "import atlas from '../models/stone/model.json?padding=2&seed=1&tileSize=16&count=5&vae-atlas';\n" +
      'console.log(atlas);\n',
  });
  const plugin = vaeTextures({ cacheDir });
  const files = await buildWithInput(join(root, 'last.html'), plugin);
  expect(plugin.api?.context.stats).toEqual({ bakes: 0, cacheHits: 1 });
  expect([...files.keys()].filter((n) => n.endsWith('.png'))).toHaveLength(1);
});

async function buildWithInput(input: string, plugin: ReturnType<typeof vaeTextures>) {
  const { build } = await import('vite');
  const out = await build({
    root,
    configFile: false,
    logLevel: 'silent',
    plugins: [plugin],
    build: { write: false, minify: false, modulePreload: false, rolldownOptions: { input } },
  });
  const files = new Map<string, { type: string; source?: string | Uint8Array }>();
  for (const o of Array.isArray(out) ? out : [out]) {
    if ('output' in o) for (const f of o.output) files.set(f.fileName, f);
  }
  return files as Awaited<ReturnType<typeof buildProject>>;
}

describe('?vae-atlas errors', () => {
  const host = (): PluginHost => ({
    error(message: string): never {
      throw new Error(message);
    },
    warn() {},
    resolve: async () => null,
    emitFile: () => 'ref',
    getFileName: () => 'assets/x',
    addWatchFile() {},
  });

  async function loadError(query: string): Promise<string> {
    const context = createContext({ cacheDir });
    const file = join(root, 'models/stone/model.json');
    const id = `\0${file}.vae-atlas.js?${query}`;
    await expect(context.load(host(), id)).rejects.toThrow();
    return context.load(host(), id).catch((e: Error) => e.message) as Promise<string>;
  }

  it.each([
    ['count=0', 'count must be an integer between 1 and 4096, got "0"'],
    ['count=2.5', 'count must be an integer between 1 and 4096, got "2.5"'],
    ['tileSize=abc', 'tileSize must be an integer between 8 and 4096, got "abc"'],
    ['tileSize=', 'tileSize must be an integer between 8 and 4096, got ""'],
    ['seed=-1', 'seed must be an integer between 0 and 4294967295, got "-1"'],
    ['temperature=hot', 'temperature must be a number between 0 and 10, got "hot"'],
    ['layout=circle', 'layout must be "square" or "row", got "circle"'],
    ['tileSize=16&padding=9', 'padding must be at most half the tile size (8), got 9'],
    ['count=2&count=3', 'parameter "count" is given twice; keep one'],
    [
      'size=64',
      'unknown parameter "size"; allowed: swatch, count, tileSize, seed, padding, temperature, layout',
    ],
    [
      'swatch=toString',
      'swatch must name a swatch of the embedded model (bricks, concrete, grass, ground, corrugatedMetal, metal, metalPlate, moss, cliff, rock, stone, rust, sand, facadeTiles, whiteTiles, rosewood, wood), got "toString"',
    ],
    ['swatch=moss&temperature=1', 'temperature is a setting of prior samples; a swatch atlas has none'],
  ])('rejects %s', async (query, message) => {
    expect(await loadError(query)).toBe(`${join(root, 'models/stone/model.json')}?vae-atlas: ${message}`);
  });

  it('warns and still returns the atlas when the cache folder cannot be written', async () => {
    const blocked = join(root, 'not-a-folder');
    await writeFiles(root, { 'not-a-folder': 'a file' });
    const warnings: string[] = [];
    const context = createContext({ cacheDir: blocked });
    context.configResolved({ root, base: '/', command: 'serve' });
    const file = join(root, 'models/stone/model.json');
    const code = await context.load(
      { ...host(), warn: (m) => warnings.push(m) },
      `\0${file}.vae-atlas.js?count=1&tileSize=8&padding=0`,
    );
    expect(code).toContain('export const urls = ["/@vae-textures/atlas/');
    expect(context.stats).toEqual({ bakes: 1, cacheHits: 0 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      new RegExp(
        `^could not write the atlas cache in ${blocked} \\(.+\\); the atlas of ${file} is baked again`,
      ),
    );
  });

  it('swatch=<name> bakes samples of an embedded swatch with the embedded model, and only with it', async () => {
    const context = createContext({ cacheDir });
    context.configResolved({ root, base: '/', command: 'serve' });
    const embedded = fileURLToPath(new URL('../../src/model/pretrained/default/model.json', import.meta.url));
    const code = await context.load(
      host(),
      `\0${embedded}.vae-atlas.js?swatch=moss&count=2&tileSize=16&padding=0&seed=3`,
    );
    expect(code).toContain('"swatch":"moss","seed":3');
    expect(code).toContain('"swatch":"moss","seed":4');
    const file = join(root, 'models/stone/model.json');
    await expect(
      context.load(host(), `\0${file}.vae-atlas.js?swatch=moss&count=1&tileSize=8&padding=0`),
    ).rejects.toThrow(
      "cannot bake the atlas: swatch grid of 8 channels at stride 8 does not fit model 'tiny'",
    );
  });

  it('names the file when the model cannot bake the query', async () => {
    await writeFiles(root, {
      'bad.html': '<!doctype html><script type="module" src="/src/bad.js"></script>',
      'src/bad.js':
        "import atlas from '../models/stone/model.json?vae-atlas&count=1&tileSize=10';\nconsole.log(atlas);\n",
    });
    const plugin = vaeTextures({ cacheDir });
    await expect(buildWithInput(join(root, 'bad.html'), plugin)).rejects.toThrow(
      /models\/stone\/model\.json\?vae-atlas: cannot bake the atlas: tileSize must be a multiple of 4 between 4 and 4096, got 10/,
    );
    expect(plugin.api?.context.stats.bakes).toBe(0);
  });
});
