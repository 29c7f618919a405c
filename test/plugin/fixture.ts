import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build, type Plugin, type Rolldown, type ViteDevServer } from 'vite';

/** Files of a fixture project, path relative to its root -> contents. */
export type Files = Record<string, string | Uint8Array>;

/** Writes `files` into a fresh temp folder and returns its path. */
export async function writeProject(files: Files): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'bvt-plugin-'));
  await writeFiles(root, files);
  return root;
}

export async function writeFiles(root: string, files: Files): Promise<void> {
  for (const [path, contents] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), contents);
  }
}

/** An app whose entry runs `main` (a module body). */
export function app(main: string): Files {
  return {
    'index.html':
      '<!doctype html><html><body><script type="module" src="/src/main.js"></script></body></html>',
    'src/main.js': main,
  };
}

export const SHARD_A = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
export const SHARD_B = new Uint8Array(new Float32Array([5, 6]).buffer);

/** A tfjs-shaped model.json with two weight groups, one shard in a subfolder; not a loadable network. */
export function handmadeModel(dir: string): Files {
  const json = {
    format: 'layers-model',
    generatedBy: 'fixture',
    convertedBy: null,
    modelTopology: { class_name: 'Sequential', config: { name: 'fixture', layers: [] } },
    weightsManifest: [
      { paths: ['weights.bin'], weights: [{ name: 'a', shape: [4], dtype: 'float32' }] },
      { paths: ['shards/extra.bin'], weights: [{ name: 'b', shape: [2], dtype: 'float32' }] },
    ],
  };
  return {
    [`${dir}/model.json`]: JSON.stringify(json),
    [`${dir}/weights.bin`]: SHARD_A,
    [`${dir}/shards/extra.bin`]: SHARD_B,
  };
}

/** Runs a real, in-memory `vite build` of the project at `root`; returns its output files by name. */
export async function buildProject(
  root: string,
  plugin: Plugin,
): Promise<Map<string, Rolldown.OutputChunk | Rolldown.OutputAsset>> {
  const result = await build({
    root,
    configFile: false,
    logLevel: 'silent',
    plugins: [plugin],
    build: { write: false, minify: false, modulePreload: false },
  });
  const outputs = Array.isArray(result) ? result : [result];
  const files = new Map<string, Rolldown.OutputChunk | Rolldown.OutputAsset>();
  for (const out of outputs) {
    if (!('output' in out)) throw new Error('expected a bundle, got a watcher');
    for (const file of out.output) files.set(file.fileName, file);
  }
  return files;
}

/** The source of an emitted asset as bytes. */
export function assetBytes(file: Rolldown.OutputChunk | Rolldown.OutputAsset | undefined): Uint8Array {
  if (file?.type !== 'asset') throw new Error('expected an emitted asset');
  return typeof file.source === 'string'
    ? new TextEncoder().encode(file.source)
    : new Uint8Array(file.source);
}

/** All JS chunk code of a build, concatenated. */
export function chunkCode(files: Map<string, Rolldown.OutputChunk | Rolldown.OutputAsset>): string {
  return [...files.values()].map((f) => (f.type === 'chunk' ? f.code : '')).join('\n');
}

/** Starts `server` listening and returns its base URL. */
export async function listen(server: ViteDevServer): Promise<string> {
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('the dev server has no TCP address');
  return `http://127.0.0.1:${address.port}`;
}

/** Serves a build's output over HTTP on 127.0.0.1, as a static host would; returns its base URL and a closer. */
export async function serveOutput(
  files: Map<string, Rolldown.OutputChunk | Rolldown.OutputAsset>,
): Promise<{ base: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const file = files.get(decodeURIComponent((req.url ?? '/').split('?')[0].slice(1)));
    if (!file) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.end(file.type === 'asset' ? assetBytes(file) : file.code);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the output server has no TCP address');
  return {
    base: `http://127.0.0.1:${address.port}`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
