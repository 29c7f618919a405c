import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AtlasManifest } from '../src/index.js';
import { type ModelFiles, type ModelJson, readModelFiles } from '../src/node/index.js';
import type { IncomingMessage, ServerResponse } from './httpTypes.js';

import {
  type AtlasQuery,
  checkModelQuery,
  normaliseAtlasQuery,
  parseAtlasQuery,
  splitImport,
} from './importQuery.js';

/** Options of the `vaeTextures()` Vite plugin. */
export interface VaeTexturesOptions {
  /** Folder for baked atlases, relative to the Vite root (default: 'node_modules/.vite-vae-textures'). */
  cacheDir?: string;
}

/** Every option resolved. */
export interface ResolvedVaeTexturesOptions {
  readonly cacheDir: string;
}

/** The part of a Vite / Rolldown plugin context (`this` in a hook) the plugin uses. */
export interface PluginHost {
  error(message: string): never;
  warn(message: string): void;
  resolve(
    source: string,
    importer?: string,
    options?: { skipSelf?: boolean },
  ): Promise<{ id: string; external?: boolean | 'absolute' | 'relative' } | null>;
  emitFile(file: { type: 'asset'; name?: string; fileName?: string; source: string | Uint8Array }): string;
  getFileName(referenceId: string): string;
  addWatchFile(file: string): void;
}

/** The parts of Vite's resolved config the plugin reads. */
export interface ConfigFacts {
  readonly root: string;
  readonly base: string;
  readonly command: 'build' | 'serve';
}

/** A dev environment, as `this.environment` in the `hotUpdate` hook. */
export interface HotEnvironment<M> {
  readonly name: string;
  readonly moduleGraph: { getModuleById(id: string): M | undefined; invalidateModule(module: M): void };
  readonly hot: { send(payload: { type: 'full-reload'; path?: string }): void };
}

/** The dev server, as passed to `configureServer`. */
export interface DevServer {
  readonly middlewares: {
    use(
      handler: (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void,
    ): unknown;
  };
}

/** One baked atlas: PNG bytes per page and its manifest (pages[i].file names the cached page). */
interface BakedAtlas {
  readonly pngs: readonly Uint8Array[];
  readonly manifest: AtlasManifest;
}

/** Counters, for tests and logs. */
export interface VaeTexturesStats {
  /** Atlases baked by this context (a cache hit does not count). */
  readonly bakes: number;
  /** Atlases read from the cache folder. */
  readonly cacheHits: number;
}

/** The plugin's logic; `vaeTextures()` forwards Vite's hooks to it, tests call it directly. */
export interface VaeTexturesContext {
  readonly options: ResolvedVaeTexturesOptions;
  readonly stats: VaeTexturesStats;
  configResolved(config: ConfigFacts): void;
  resolveId(host: PluginHost, source: string, importer: string | undefined): Promise<string | null>;
  load(host: PluginHost, id: string): Promise<string | null>;
  configureServer(server: DevServer): void;
  /** Full reload when a model file an import depends on changes; undefined for any other file. */
  hotUpdate<M>(environment: HotEnvironment<M>, file: string): M[] | undefined;
}

/** Bumped whenever the cache entry layout or the emitted module shape changes. */
const CACHE_FORMAT = 1;
const DEV_PREFIX = '@vae-textures/';
const ID_RE = /^\0(.+)\.(vae|vae-atlas)\.js(?:\?(.*))?$/s;
const ATLAS_FILE_RE = /^[0-9a-f]{64}(?:-\d+\.png|\.json)$/;
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.json': 'application/json',
  '.png': 'image/png',
};

/** Creates the plugin's state and logic; no state lives outside the returned object. */
export function createContext(options: ResolvedVaeTexturesOptions): VaeTexturesContext {
  const resolved: ResolvedVaeTexturesOptions = Object.freeze({ cacheDir: options.cacheDir });
  let config: ConfigFacts = { root: process.cwd(), base: '/', command: 'build' };
  let cacheDir = resolve(config.root, resolved.cacheDir);
  let bakes = 0;
  let cacheHits = 0;
  let version: Promise<string> | undefined;
  /** Dev URL key -> absolute model.json path, filled as `?vae` modules load. */
  const devModels = new Map<string, string>();
  /** Absolute file -> ids of the modules built from it. */
  const dependents = new Map<string, Set<string>>();
  /** Cache key -> bake in progress, so concurrent imports of one atlas bake once. */
  const pending = new Map<string, Promise<BakedAtlas>>();

  const devPrefix = () => `${config.base.startsWith('/') ? config.base : '/'}${DEV_PREFIX}`;

  function track(host: PluginHost, id: string, model: ModelFiles): void {
    for (const file of [model.file, ...model.weights.map((w) => w.file)]) {
      host.addWatchFile(file);
      const ids = dependents.get(file) ?? new Set<string>();
      ids.add(id);
      dependents.set(file, ids);
    }
  }

  async function loadModel(host: PluginHost, id: string, file: string, params: string): Promise<string> {
    checkModelQuery(file, params);
    const model = await readModelFiles(file);
    track(host, id, model);
    if (model.json.modelTopology === undefined) {
      host.warn(
        `${file} has no modelTopology; TextureVae.load needs a layers model.json as TextureVae.save writes`,
      );
    }
    if (config.command === 'serve') {
      const key = shortHash(file);
      devModels.set(key, file);
      return modelModule(JSON.stringify(`${devPrefix()}model/${key}/${basename(file)}`));
    }
    const emitted = new Map<string, string>();
    for (const w of model.weights) {
      const ref = host.emitFile({ type: 'asset', name: basename(w.path), source: w.bytes });
      emitted.set(w.path, host.getFileName(ref));
    }
    // tfjs fetches shards relative to model.json, so model.json goes next to the first shard.
    const dir = posix.dirname(emitted.values().next().value as string);
    const outside = [...emitted.values()].filter((name) => posix.relative(dir, name).startsWith('../'));
    if (outside.length > 0) {
      // TextureVae.load fetches no weights outside model.json's folder, so such a build could not load.
      throw new Error(
        `${file}: the weights files ${outside.join(', ')} are emitted outside ${dir}/, the folder of the ` +
          'first one and of model.json; emit every weights file into one folder (build.rollupOptions.output.' +
          'assetFileNames)',
      );
    }
    const json = JSON.stringify(
      rewriteWeightPaths(model.json, (path) => posix.relative(dir, emitted.get(path) as string)),
    );
    const name = `${basename(file, '.json')}-${shortHash(json)}.json`;
    const ref = host.emitFile({ type: 'asset', fileName: posix.join(dir, name), source: json });
    return modelModule(`import.meta.ROLLUP_FILE_URL_${ref}`);
  }

  async function loadAtlas(host: PluginHost, id: string, file: string, params: string): Promise<string> {
    const query = parseAtlasQuery(file, params);
    const model = await readModelFiles(file);
    track(host, id, model);
    version ??= packageVersion();
    const key = createHash('sha256')
      .update(`${await version}\n${CACHE_FORMAT}\n${model.hash}\n${normaliseAtlasQuery(query)}`)
      .digest('hex');
    let atlas = await readCachedAtlas(key);
    if (atlas) {
      cacheHits++;
    } else {
      let bake = pending.get(key);
      if (!bake) {
        bake = bakeAndCache(host, model, query, key).finally(() => pending.delete(key));
        pending.set(key, bake);
      }
      atlas = await bake;
    }
    if (config.command === 'serve') {
      const urls = atlas.pngs.map((_, i) => `${devPrefix()}atlas/${key}-${i}.png`);
      return atlasModule(
        urls.map((u) => JSON.stringify(u)),
        atlas.manifest,
        JSON.stringify(`${devPrefix()}atlas/${key}.json`),
      );
    }
    const stem = `${basename(model.dir)}-atlas`;
    const pageRefs = atlas.pngs.map((png) =>
      host.emitFile({ type: 'asset', name: `${stem}.png`, source: png }),
    );
    const pageFiles = pageRefs.map((ref) => host.getFileName(ref));
    // The manifest goes next to the first page so its relative `file` names resolve.
    const dir = posix.dirname(pageFiles[0]);
    const manifest: AtlasManifest = {
      ...atlas.manifest,
      pages: atlas.manifest.pages.map((page, i) => ({ ...page, file: posix.relative(dir, pageFiles[i]) })),
    };
    const json = JSON.stringify(manifest);
    const manifestRef = host.emitFile({
      type: 'asset',
      fileName: posix.join(dir, `${stem}-${shortHash(json)}.json`),
      source: json,
    });
    return atlasModule(
      pageRefs.map((ref) => `import.meta.ROLLUP_FILE_URL_${ref}`),
      manifest,
      `import.meta.ROLLUP_FILE_URL_${manifestRef}`,
    );
  }

  async function readCachedAtlas(key: string): Promise<BakedAtlas | null> {
    let manifest: AtlasManifest;
    try {
      manifest = JSON.parse(await readFile(join(cacheDir, `${key}.json`), 'utf8')) as AtlasManifest;
      const pngs = await Promise.all(
        manifest.pages.map((_, i) => readFile(join(cacheDir, `${key}-${i}.png`))),
      );
      return { pngs, manifest };
    } catch {
      return null;
    }
  }

  async function bakeAndCache(
    host: PluginHost,
    model: ModelFiles,
    query: AtlasQuery,
    key: string,
  ): Promise<BakedAtlas> {
    let baked: BakedAtlas;
    try {
      baked = await bake(model, query);
    } catch (e) {
      throw new Error(`${model.file}?vae-atlas: cannot bake the atlas: ${(e as Error).message}`);
    }
    bakes++;
    const manifest: AtlasManifest = {
      ...baked.manifest,
      pages: baked.manifest.pages.map((page, i) => ({ ...page, file: `${key}-${i}.png` })),
    };
    try {
      await mkdir(cacheDir, { recursive: true });
      await Promise.all(baked.pngs.map((png, i) => writeAtomically(join(cacheDir, `${key}-${i}.png`), png)));
      // The manifest goes last: its presence marks a complete entry.
      await writeAtomically(join(cacheDir, `${key}.json`), JSON.stringify(manifest));
    } catch (e) {
      host.warn(
        `could not write the atlas cache in ${cacheDir} (${(e as Error).message}); the atlas of ${model.file} ` +
          'is baked again on the next build. Set the cacheDir option to a writable folder',
      );
    }
    return { pngs: baked.pngs, manifest };
  }

  /** Bytes to serve for a path under the dev prefix (percent-decoded), or undefined for a 404. */
  async function servedBytes(rest: string): Promise<{ bytes: Uint8Array; ext: string } | undefined> {
    if (rest.startsWith('model/')) {
      const [key, ...parts] = rest.slice('model/'.length).split('/');
      const modelFile = devModels.get(key);
      if (!modelFile) return undefined;
      // Read fresh so edits show after the reload, and validated, so only the files model.json lists are
      // served, looked up by name: a request path is never joined onto a folder.
      const model = await readModelFiles(modelFile);
      const path = parts.join('/');
      if (path === basename(modelFile)) {
        return { bytes: new TextEncoder().encode(JSON.stringify(model.json)), ext: '.json' };
      }
      const files = new Map(model.weights.map((w) => [w.path, w.bytes]));
      const bytes = files.get(path);
      return bytes && { bytes, ext: posix.extname(path) };
    }
    const name = rest.slice('atlas/'.length);
    if (rest.startsWith('atlas/') && ATLAS_FILE_RE.test(name)) {
      try {
        return { bytes: await readFile(join(cacheDir, name)), ext: posix.extname(name) };
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  return {
    options: resolved,
    get stats(): VaeTexturesStats {
      return { bakes, cacheHits };
    },

    configResolved(facts: ConfigFacts): void {
      config = { root: facts.root, base: facts.base, command: facts.command };
      cacheDir = resolve(config.root, resolved.cacheDir);
    },

    async resolveId(host, source, importer) {
      if (ID_RE.test(source)) return source;
      const parts = splitImport(source);
      if (!parts) return null;
      const target = await host.resolve(parts.path, importer, { skipSelf: true });
      if (!target || target.external) {
        return host.error(
          `${parts.path}?${parts.kind} (imported by ${importer ?? 'an entry'}) does not resolve to a file; ` +
            'check the path to model.json',
        );
      }
      const path = target.id.split('?')[0];
      return `\0${path}.${parts.kind}.js${parts.params ? `?${parts.params}` : ''}`;
    },

    async load(host, id) {
      const match = ID_RE.exec(id);
      if (!match) return null;
      const [, file, kind, params = ''] = match;
      try {
        return await (kind === 'vae' ? loadModel(host, id, file, params) : loadAtlas(host, id, file, params));
      } catch (e) {
        return host.error((e as Error).message);
      }
    },

    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const raw = (req.url ?? '').split('?')[0];
        if (!raw.startsWith(devPrefix())) return next();
        let pathname: string | undefined;
        try {
          pathname = decodeURIComponent(raw);
        } catch {
          // A malformed escape names no file this plugin serves.
        }
        // The prefix is this plugin's alone: anything it does not serve is missing, not a page route.
        const notFound = (why = 'is not a model.json, a weights file it lists, or a baked atlas file') => {
          res.statusCode = 404;
          res.end(`${raw} ${why}`);
        };
        if (pathname === undefined) return notFound();
        servedBytes(pathname.slice(devPrefix().length)).then(
          (served) => {
            if (!served) return notFound();
            res.setHeader('Content-Type', CONTENT_TYPES[served.ext] ?? 'application/octet-stream');
            res.setHeader('Cache-Control', 'no-cache');
            res.end(served.bytes);
          },
          // model.json no longer passes the checks: nothing of that model is served until it does.
          (e: Error) => notFound(`is not served: ${e.message}`),
        );
      });
    },

    hotUpdate(environment, file) {
      const ids = dependents.get(resolve(file));
      if (!ids) return undefined;
      for (const id of ids) {
        const module = environment.moduleGraph.getModuleById(id);
        if (module) environment.moduleGraph.invalidateModule(module);
      }
      if (environment.name === 'client') environment.hot.send({ type: 'full-reload', path: '*' });
      return [];
    },
  };
}

/**
 * The JS module of a `?vae` import; `url` is a JS expression. tf.io picks its HTTP loader by the URL scheme,
 * so in a page the URL is made absolute against the module's own URL.
 */
function modelModule(url: string): string {
  return [
    `const url = ${url};`,
    "export default typeof location === 'undefined' ? url : new URL(url, import.meta.url).href;",
    '',
  ].join('\n');
}

/** The JS module of a `?vae-atlas` import; `urls` and `manifestUrl` are JS expressions. */
function atlasModule(urls: string[], manifest: AtlasManifest, manifestUrl: string): string {
  return [
    `export const urls = [${urls.join(', ')}];`,
    `export const manifest = ${JSON.stringify(manifest)};`,
    `export const manifestUrl = ${manifestUrl};`,
    'export default { urls, manifest, manifestUrl };',
    '',
  ].join('\n');
}

/**
 * Bakes on tfjs's WASM backend from the very bytes that were hashed for the cache key. The WASM backend
 * starts only now, at the first atlas import.
 */
async function bake(files: ModelFiles, query: AtlasQuery): Promise<BakedAtlas> {
  const [{ TextureVae, bakeAtlas, loadPretrainedSwatches, pretrainedSwatch }, node] = await Promise.all([
    import('../src/index.js'),
    import('../src/node/index.js'),
  ]);
  const { swatch: swatchName, ...options } = query;
  // An embedded swatch fits the embedded model only; bakeAtlas says so for any other model.
  const swatch =
    swatchName === undefined
      ? undefined
      : pretrainedSwatch(await loadPretrainedSwatches('default'), swatchName);
  await node.useWasmBackend();
  const model = await TextureVae.load(node.modelFilesHandler(files));
  try {
    const { pages, manifest } = await bakeAtlas(model, { ...options, swatch });
    return { pngs: pages.map((page) => new Uint8Array(node.encodePng(page))), manifest };
  } finally {
    model.dispose();
  }
}

/** A copy of `json` whose weight paths are replaced through `rename` (old path -> new path). */
function rewriteWeightPaths(json: ModelJson, rename: (path: string) => string): ModelJson {
  return {
    ...json,
    weightsManifest: json.weightsManifest.map((group) => ({ ...group, paths: group.paths.map(rename) })),
  };
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 8);
}

async function writeAtomically(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

/** This package's version (part of the cache key), from the nearest package.json named babylon-vae-textures. */
async function packageVersion(): Promise<string> {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'babylon-vae-textures') return pkg.version ?? '0';
    } catch {
      // no package.json at this level
    }
  }
  return '0';
}
