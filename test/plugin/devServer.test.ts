import { readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { createServer, type ViteDevServer } from 'vite';
import { afterEach, expect, it, vi } from 'vitest';

import { vaeTextures } from '../../plugin/index.js';
import { app, handmadeModel, listen, SHARD_A, SHARD_B, writeProject } from './fixture.js';

let server: ViteDevServer | undefined;
let root: string | undefined;

afterEach(async () => {
  await server?.close();
  if (root) await rm(root, { recursive: true, force: true });
  server = undefined;
  root = undefined;
});

async function start(): Promise<{ base: string; devServer: ViteDevServer; dir: string }> {
  root = await writeProject({
    ...app("import url from '../models/stone/model.json?vae';\nconsole.log(url);\n"),
    ...handmadeModel('models/stone'),
    'models/stone/other.bin': new Uint8Array([1]),
    'SECRET.txt': 'the secret',
  });
  server = await createServer({
    root,
    configFile: false,
    logLevel: 'silent',
    plugins: [vaeTextures({ cacheDir: join(root, '.cache') })],
    optimizeDeps: { noDiscovery: true, include: [] },
    server: { host: '127.0.0.1', port: 0, strictPort: false, ws: false },
  });
  return { base: await listen(server), devServer: server, dir: join(root, 'models/stone') };
}

async function get(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res;
}

/** Follows main.js to the `?vae` module and returns the model URL it exports. */
async function modelUrl(base: string): Promise<string> {
  const main = await (await get(`${base}/src/main.js`)).text();
  const moduleUrl = /from\s+["']([^"']+vae\.js[^"']*)["']/.exec(main)?.[1];
  expect(moduleUrl).toBeDefined();
  const module = await (await get(`${base}${moduleUrl}`)).text();
  const url = /const url = "([^"]+)"/.exec(module)?.[1];
  expect(url).toBeDefined();
  return url as string;
}

it('serves model.json and its shards over HTTP', async () => {
  const { base } = await start();
  const url = await modelUrl(base);
  expect(url).toMatch(/^\/@vae-textures\/model\/[\w-]{8}\/model\.json$/);

  const res = await get(`${base}${url}`);
  expect(res.headers.get('content-type')).toBe('application/json');
  const json = (await res.json()) as { weightsManifest: { paths: string[] }[] };
  expect(json.weightsManifest.map((g) => g.paths)).toEqual([['weights.bin'], ['shards/extra.bin']]);

  // tfjs resolves shard paths against the model.json URL.
  const shard = (path: string) => new URL(path, `${base}${url}`).href;
  expect(new Uint8Array(await (await get(shard('weights.bin'))).arrayBuffer())).toEqual(SHARD_A);
  expect(new Uint8Array(await (await get(shard('shards/extra.bin'))).arrayBuffer())).toEqual(SHARD_B);
  // A file next to model.json that it does not list is not served.
  expect((await fetch(shard('other.bin'))).status).toBe(404);
});

it('reloads the page when a weights file changes, then serves the new bytes', async () => {
  const { base, devServer, dir } = await start();
  const url = await modelUrl(base);
  const send = vi.spyOn(devServer.environments.client.hot, 'send');

  const changed = new Uint8Array(new Float32Array([7, 7, 7, 7]).buffer);
  await writeFile(join(dir, 'weights.bin'), changed);
  devServer.watcher.emit('change', join(dir, 'weights.bin'));
  await vi.waitFor(() => expect(send).toHaveBeenCalledWith({ type: 'full-reload', path: '*' }), {
    timeout: 10_000,
  });

  const bytes = await (await get(new URL('weights.bin', `${base}${url}`).href)).arrayBuffer();
  expect(new Uint8Array(bytes)).toEqual(changed);
});

it('reloads the page when model.json changes', async () => {
  const { base, devServer, dir } = await start();
  await modelUrl(base);
  const send = vi.spyOn(devServer.environments.client.hot, 'send');
  devServer.watcher.emit('change', join(dir, 'model.json'));
  await vi.waitFor(() => expect(send).toHaveBeenCalledWith({ type: 'full-reload', path: '*' }), {
    timeout: 10_000,
  });
});

/** GET `path` exactly as given: fetch() would resolve ".." segments before sending. */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request(`${base}${path}`, { path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', fail);
    req.end();
  });
}

it('answers 404 for paths that leave the model folder, plain or percent-encoded', async () => {
  const { base } = await start();
  const url = await modelUrl(base);
  const folder = url.slice(0, url.lastIndexOf('/') + 1);
  for (const path of [
    '../../SECRET.txt',
    '..%2f..%2fSECRET.txt',
    '%2e%2e/%2e%2e/SECRET.txt',
    '..%5c..%5cSECRET.txt',
    'shards/../../../SECRET.txt',
    '%E0%A4%A',
  ]) {
    const res = await rawGet(base, `${folder}${path}`);
    expect([path, res.status]).toEqual([path, 404]);
    expect(res.body).not.toContain('the secret');
  }
});

it('serves only what a valid model.json lists: an edit that points outside is refused, not served', async () => {
  const { base, dir } = await start();
  const url = await modelUrl(base);
  const folder = url.slice(0, url.lastIndexOf('/') + 1);
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
  json.weightsManifest[0].paths = ['../../SECRET.txt'];
  await writeFile(join(dir, 'model.json'), JSON.stringify(json));
  for (const path of ['../../SECRET.txt', '..%2f..%2fSECRET.txt', 'model.json', 'weights.bin']) {
    const res = await rawGet(base, `${folder}${path}`);
    expect([path, res.status]).toEqual([path, 404]);
    expect(res.body).toContain(
      `${join(dir, 'model.json')}: weightsManifest[0].paths[0] is "../../SECRET.txt", which leaves the model's folder`,
    );
  }
});
