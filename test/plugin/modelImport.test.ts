import { realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { createContext, type PluginHost, vaeTextures } from '../../plugin/index.js';
import {
  app,
  assetBytes,
  buildProject,
  chunkCode,
  handmadeModel,
  SHARD_A,
  SHARD_B,
  writeProject,
} from './fixture.js';

const roots: string[] = [];
async function project(files: Record<string, string | Uint8Array>): Promise<string> {
  const root = await writeProject(files);
  roots.push(root);
  return root;
}

afterEach(async () => {
  await Promise.all(roots.splice(0).map((r) => rm(r, { recursive: true, force: true })));
});

describe('?vae in a build', () => {
  it('emits hashed shards and a model.json whose weight paths name them', async () => {
    const root = await project({
      ...app("import url from '../models/stone/model.json?vae';\nconsole.log(url);\n"),
      ...handmadeModel('models/stone'),
    });
    const files = await buildProject(root, vaeTextures());

    const names = [...files.keys()];
    const weights = names.find((n) => /^assets\/weights-[\w-]{8}\.bin$/.test(n));
    const extra = names.find((n) => /^assets\/extra-[\w-]{8}\.bin$/.test(n));
    const model = names.find((n) => /^assets\/model-[\w-]{8}\.json$/.test(n));
    expect(weights).toBeDefined();
    expect(extra).toBeDefined();
    expect(model).toBeDefined();
    expect(assetBytes(files.get(weights as string))).toEqual(SHARD_A);
    expect(assetBytes(files.get(extra as string))).toEqual(SHARD_B);

    const json = JSON.parse(new TextDecoder().decode(assetBytes(files.get(model as string))));
    expect(json.weightsManifest.map((g: { paths: string[] }) => g.paths)).toEqual([
      [(weights as string).slice('assets/'.length)],
      [(extra as string).slice('assets/'.length)],
    ]);
    // Everything but the paths is passed through.
    const original = JSON.parse(handmadeModel('m')['m/model.json'] as string);
    expect(json.modelTopology).toEqual(original.modelTopology);
    expect(json.weightsManifest[0].weights).toEqual(original.weightsManifest[0].weights);

    expect(chunkCode(files)).toContain(`/${model}`);
  });

  it('names the shards after their content', async () => {
    const root = await project({
      ...app("import url from './model.json?vae';\nconsole.log(url);\n"),
      ...handmadeModel('src'),
    });
    const first = [...(await buildProject(root, vaeTextures())).keys()].filter((n) =>
      /\.(bin|json)$/.test(n),
    );
    await writeFile(join(root, 'src/weights.bin'), new Uint8Array(new Float32Array([9, 9, 9, 9]).buffer));
    const second = [...(await buildProject(root, vaeTextures())).keys()].filter((n) =>
      /\.(bin|json)$/.test(n),
    );

    const changed = first.filter((n) => !second.includes(n)).sort();
    expect(changed).toHaveLength(2);
    expect(changed[0]).toMatch(/^assets\/model-/);
    expect(changed[1]).toMatch(/^assets\/weights-/);
  });

  it('emits a model imported twice once', async () => {
    const root = await project({
      ...app(
        "import a from '../m/model.json?vae';\nimport b from '/m/model.json?vae';\nconsole.log(a, b, a === b);\n",
      ),
      ...handmadeModel('m'),
    });
    const files = await buildProject(root, vaeTextures());
    expect([...files.keys()].filter((n) => n.endsWith('.bin'))).toHaveLength(2);
    expect([...files.keys()].filter((n) => n.endsWith('.json'))).toHaveLength(1);
  });
});

describe('?vae errors', () => {
  async function buildError(files: Record<string, string | Uint8Array>): Promise<string> {
    const root = await project({
      ...app("import url from '../m/model.json?vae';\nconsole.log(url);\n"),
      ...files,
    });
    try {
      await buildProject(root, vaeTextures());
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('the build succeeded');
  }

  it('names a missing weights file and where it should be', async () => {
    const { 'm/shards/extra.bin': _, ...files } = handmadeModel('m');
    const message = await buildError(files);
    expect(message).toContain('model.json lists the weights file "shards/extra.bin"');
    expect(message).toContain(join('m', 'shards', 'extra.bin'));
    expect(message).toContain('save the model again with TextureVae.save');
  });

  it('rejects model.json that is not JSON', async () => {
    const message = await buildError({ 'm/model.json': '{ "weightsManifest": [' });
    expect(message).toMatch(/m\/model\.json is not valid JSON \(.+\); save the model again/);
  });

  it('rejects model.json without a weightsManifest', async () => {
    const message = await buildError({ 'm/model.json': JSON.stringify({ modelTopology: {} }) });
    expect(message).toMatch(/m\/model\.json has no weightsManifest/);
  });

  const RULE =
    "a weights path must be a file name or a sub-path that stays inside the model's folder, such as " +
    '"weights.bin" or "shards/1.bin" (no absolute path, URL, backslash, "%", "?", "#" or ":")';
  const SAVE_HINT = 'save the model again with TextureVae.save (it writes model.json next to weights.bin)';

  /** A build of `m/model.json` listing `paths`, with a right-sized file outside the model's folder. */
  async function buildWithPaths(paths: unknown): Promise<{ root: string; message: string }> {
    const json = JSON.stringify({
      weightsManifest: [{ paths, weights: [{ name: 'a', shape: [4], dtype: 'float32' }] }],
    });
    const root = await project({
      ...app("import url from '../m/model.json?vae';\nconsole.log(url);\n"),
      'm/model.json': json,
      'SECRET.txt': SHARD_A,
    });
    try {
      await buildProject(root, vaeTextures());
    } catch (e) {
      return { root, message: (e as Error).message };
    }
    throw new Error('the build succeeded');
  }

  it.each([
    ['../SECRET.txt', "leaves the model's folder"],
    ['../../../SECRET.txt', "leaves the model's folder"],
    ['../../../../etc/passwd', "leaves the model's folder"],
    ['..%2fSECRET.txt', 'holds "%", "?" or "#", which URLs decode or cut off'],
    ['..\\SECRET.txt', 'holds a backslash'],
    ['/etc/passwd', 'is absolute'],
    ['https://example.com/w.bin', 'holds ":" (a URL scheme or a drive)'],
  ])('refuses the weight path %j and emits nothing from outside the folder', async (path, why) => {
    const { root, message } = await buildWithPaths([path]);
    expect(message).toContain(
      `${join(root, 'm/model.json')}: weightsManifest[0].paths[0] is ${JSON.stringify(path)}, which ${why}; ` +
        `${RULE}; ${SAVE_HINT}`,
    );
  });

  it('refuses a weights file that is a symbolic link to a file outside the folder', async () => {
    const root = await project({
      ...app("import url from '../m/model.json?vae';\nconsole.log(url);\n"),
      ...handmadeModel('m'),
      'SECRET.txt': SHARD_A,
    });
    await rm(join(root, 'm/weights.bin'));
    await symlink(join(root, 'SECRET.txt'), join(root, 'm/weights.bin'));
    await expect(buildProject(root, vaeTextures())).rejects.toThrow(
      `${join(root, 'm/model.json')}: weightsManifest[0].paths[0] is "weights.bin", which resolves through a ` +
        `symbolic link to ${await realpath(join(root, 'SECRET.txt'))}, not a file inside the model's folder ` +
        `${await realpath(join(root, 'm'))}; ${RULE}`,
    );
  });

  it('follows a symbolic link that stays inside the folder, and reads "./" paths', async () => {
    const root = await project({
      ...app("import url from '../m/model.json?vae';\nconsole.log(url);\n"),
      ...handmadeModel('m'),
    });
    const json = JSON.parse(handmadeModel('m')['m/model.json'] as string);
    json.weightsManifest[0].paths = ['./link.bin'];
    await writeFile(join(root, 'm/model.json'), JSON.stringify(json));
    await symlink(join(root, 'm/weights.bin'), join(root, 'm/link.bin'));
    const files = await buildProject(root, vaeTextures());
    const link = [...files.keys()].find((n) => /^assets\/link-[\w-]{8}\.bin$/.test(n));
    expect(assetBytes(files.get(link as string))).toEqual(SHARD_A);
  });

  it.each([
    [undefined, 'paths undefined'],
    ['weights.bin', 'paths "weights.bin"'],
    [[], '0 paths'],
  ])('names a manifest group whose paths are %j', async (paths, got) => {
    const { root, message } = await buildWithPaths(paths);
    expect(message).toContain(
      `${join(root, 'm/model.json')}: weightsManifest[0] must have a non-empty "paths" array of file names ` +
        `and a "weights" array, got ${got}; ${SAVE_HINT}`,
    );
  });

  it('rejects parameters on ?vae', async () => {
    const root = await project({
      ...app("import url from '../m/model.json?vae&count=4';\nconsole.log(url);\n"),
      ...handmadeModel('m'),
    });
    await expect(buildProject(root, vaeTextures())).rejects.toThrow(
      /m\/model\.json\?vae takes no parameters, got "count"; for a baked atlas import ".*\?vae-atlas&count=16&tileSize=128"/,
    );
  });

  it('names an import that does not resolve', async () => {
    const root = await project(app("import url from './nowhere/model.json?vae';\nconsole.log(url);\n"));
    await expect(buildProject(root, vaeTextures())).rejects.toThrow(
      /\.\/nowhere\/model\.json\?vae \(imported by .*src\/main\.js\) does not resolve to a file/,
    );
  });
});

describe('createContext', () => {
  it('warns when model.json has no modelTopology, and still emits the model', async () => {
    const files = handmadeModel('m');
    const json = JSON.parse(files['m/model.json'] as string);
    delete json.modelTopology;
    const root = await project({ ...files, 'm/model.json': JSON.stringify(json) });
    const warnings: string[] = [];
    const emitted: string[] = [];
    const host: PluginHost = {
      error(message: string): never {
        throw new Error(message);
      },
      warn: (message) => warnings.push(message),
      resolve: async (source) => ({ id: join(root, 'm', source) }),
      emitFile: (file) => {
        emitted.push(file.fileName ?? `assets/${file.name}`);
        return String(emitted.length - 1);
      },
      getFileName: (ref) => emitted[Number(ref)],
      addWatchFile() {},
    };
    const context = createContext({ cacheDir: join(root, 'cache') });
    context.configResolved({ root, base: '/', command: 'build' });

    const id = await context.resolveId(host, './model.json?vae', join(root, 'm', 'main.js'));
    expect(id).toBe(`\0${join(root, 'm/model.json')}.vae.js`);
    const code = await context.load(host, id as string);
    expect(code).toContain('const url = import.meta.ROLLUP_FILE_URL_2;');
    expect(emitted).toEqual([
      'assets/weights.bin',
      'assets/extra.bin',
      expect.stringMatching(/^assets\/model-[\w-]{8}\.json$/),
    ]);
    expect(warnings).toEqual([
      `${join(root, 'm/model.json')} has no modelTopology; TextureVae.load needs a layers model.json as TextureVae.save writes`,
    ]);
  });

  it('refuses a build whose weights files land in different folders, which TextureVae.load would not fetch', async () => {
    const root = await project(handmadeModel('m'));
    const emitted: string[] = [];
    const host: PluginHost = {
      error(message: string): never {
        throw new Error(message);
      },
      warn() {},
      resolve: async (source) => ({ id: join(root, 'm', source) }),
      emitFile: (file) => {
        emitted.push(
          file.fileName ?? (file.name === 'extra.bin' ? 'other/extra.bin' : `assets/${file.name}`),
        );
        return String(emitted.length - 1);
      },
      getFileName: (ref) => emitted[Number(ref)],
      addWatchFile() {},
    };
    const context = createContext({ cacheDir: join(root, 'cache') });
    context.configResolved({ root, base: '/', command: 'build' });
    const id = await context.resolveId(host, './model.json?vae', join(root, 'm', 'main.js'));
    await expect(context.load(host, id as string)).rejects.toThrow(
      `${join(root, 'm/model.json')}: the weights files other/extra.bin are emitted outside assets/, the folder ` +
        'of the first one and of model.json; emit every weights file into one folder ' +
        '(build.rollupOptions.output.assetFileNames)',
    );
  });
});
