import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { TextureVae } from '../../src/model/textureVae.js';
import { fileSystemHandler } from '../../src/node/fileHandler.js';

const TINY = {
  stride: 4,
  latentChannels: 4,
  encoderWidths: [8, 12, 16],
  decoderWidths: [12, 8, 8],
  name: 'tiny-security',
};

const RULE =
  'a weights path must be a file name or a sub-path that stays inside the model\'s folder, such as "weights.bin" ' +
  'or "shards/1.bin" (no absolute path, URL, backslash, "%", "?", "#" or ":")';

let root: string;
let vae: TextureVae;
let dir: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'bvt-io-security-'));
  vae = TextureVae.create(TINY, { seed: 5 });
  dir = join(root, 'saved');
  await vae.save(fileSystemHandler(dir));
  // Right-sized bytes outside every model folder: a path or link that reached them would load them.
  writeFileSync(join(root, 'SECRET.txt'), readFileSync(join(dir, 'weights.bin')));
});

afterAll(() => {
  vae.dispose();
  rmSync(root, { recursive: true, force: true });
});

interface SavedJson {
  weightsManifest: { paths: unknown; weights: { name: string; dtype: string }[] }[];
}
/** A copy of the saved folder whose model.json went through `edit`; without weights.bin when `weights` is false. */
function variant(name: string, edit: (json: SavedJson) => void, weights = true): string {
  const out = join(root, name);
  mkdirSync(out, { recursive: true });
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  edit(json);
  writeFileSync(join(out, 'model.json'), JSON.stringify(json));
  if (weights) writeFileSync(join(out, 'weights.bin'), readFileSync(join(dir, 'weights.bin')));
  return out;
}

/** Expects `load` to reject with exactly `message` and to leave the tensor count as it was. */
async function expectRefused(load: () => Promise<TextureVae>, message: string): Promise<void> {
  const before = tf.memory().numTensors;
  await expect(load()).rejects.toThrow(new Error(message));
  expect(tf.memory().numTensors).toBe(before);
}

describe('weights paths in a model folder', () => {
  test.each([
    ['../../../SECRET.txt', "leaves the model's folder"],
    ['../../../../etc/passwd', "leaves the model's folder"],
    ['shards/../../SECRET.txt', "leaves the model's folder"],
    ['..%2f..%2fSECRET.txt', 'holds "%", "?" or "#", which URLs decode or cut off'],
    ['%2e%2e/SECRET.txt', 'holds "%", "?" or "#", which URLs decode or cut off'],
    ['..\\..\\SECRET.txt', 'holds a backslash'],
    ['/etc/passwd', 'is absolute'],
    ['file:///etc/passwd', 'holds ":" (a URL scheme or a drive)'],
    ['C:/secret.bin', 'holds ":" (a URL scheme or a drive)'],
    ['weights.bin?x=1', 'holds "%", "?" or "#", which URLs decode or cut off'],
    ['weights.bin\u0000', 'holds a control character'],
    ['shards/', 'ends with "/", so names a folder'],
    ['shards/..', "names the model's folder, not a file in it"],
    ['', 'is not a file name'],
    [7, 'is not a file name'],
  ])('%j is refused before anything is read', async (path, why) => {
    const out = variant('escape', (json) => {
      json.weightsManifest[0].paths = [path];
    });
    await expectRefused(
      () => TextureVae.load(fileSystemHandler(out)),
      `${join(out, 'model.json')}: weightsManifest[0].paths[0] is ${JSON.stringify(path)}, which ${why}; ${RULE}`,
    );
  });

  test('a symbolic link to a file outside the model folder is refused', async () => {
    const out = variant(
      'link-out',
      (json) => {
        json.weightsManifest[0].paths = ['weights.bin'];
      },
      false,
    );
    symlinkSync(join(root, 'SECRET.txt'), join(out, 'weights.bin'));
    await expectRefused(
      () => TextureVae.load(fileSystemHandler(out)),
      `${join(out, 'model.json')}: weightsManifest[0].paths[0] is "weights.bin", which resolves through a ` +
        `symbolic link to ${realpathSync(join(root, 'SECRET.txt'))}, not a file inside the model's folder ` +
        `${realpathSync(out)}; ${RULE}`,
    );
    // So is a linked sub-folder that leads outside.
    const nested = variant(
      'link-dir',
      (json) => {
        json.weightsManifest[0].paths = ['shards/SECRET.txt'];
      },
      false,
    );
    symlinkSync(root, join(nested, 'shards'));
    await expect(TextureVae.load(fileSystemHandler(nested))).rejects.toThrow(
      `which resolves through a symbolic link to ${realpathSync(join(root, 'SECRET.txt'))}, not a file inside`,
    );
  });

  test('sub-paths, "./" and links that stay inside the folder load', async () => {
    const out = variant(
      'inside',
      (json) => {
        json.weightsManifest[0].paths = ['./shards/../link.bin'];
      },
      false,
    );
    mkdirSync(join(out, 'store'));
    writeFileSync(join(out, 'store', 'w.bin'), readFileSync(join(dir, 'weights.bin')));
    symlinkSync(join(out, 'store', 'w.bin'), join(out, 'link.bin'));
    const loaded = await TextureVae.load(fileSystemHandler(out));
    expect(loaded.config.name).toBe('tiny-security');
    loaded.dispose();
  });

  test('a manifest group without paths, or with paths as a string', async () => {
    const missing = variant('nopaths', (json) => {
      delete json.weightsManifest[0].paths;
    });
    await expectRefused(
      () => TextureVae.load(fileSystemHandler(missing)),
      `${join(missing, 'model.json')}: weightsManifest[0] must have a non-empty "paths" array of file names ` +
        'and a "weights" array, got paths undefined',
    );
    const text = variant('stringpaths', (json) => {
      json.weightsManifest[0].paths = 'weights.bin';
    });
    await expectRefused(
      () => TextureVae.load(fileSystemHandler(text)),
      `${join(text, 'model.json')}: weightsManifest[0] must have a non-empty "paths" array of file names ` +
        'and a "weights" array, got paths "weights.bin"',
    );
  });
});

describe('TextureVae.load over HTTP', () => {
  let server: Server;
  let base: string;
  const requests: string[] = [];
  const files = new Map<string, Uint8Array | string>();

  beforeAll(async () => {
    // A plain static server that, like many, decodes and normalises request paths.
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const path = new URL(decodeURIComponent(req.url ?? '/'), 'http://x').pathname;
      const body = files.get(path);
      res.statusCode = body === undefined ? 404 : 200;
      res.end(body);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('no TCP address');
    base = `http://127.0.0.1:${address.port}`;
    files.set('/SECRET.txt', readFileSync(join(root, 'SECRET.txt')));
    files.set('/models/m/weights.bin', readFileSync(join(dir, 'weights.bin')));
  });

  afterAll(async () => {
    await new Promise<void>((done) => server.close(() => done()));
  });

  function serveModel(paths: unknown): string {
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    json.weightsManifest[0].paths = paths;
    files.set('/models/m/model.json', JSON.stringify(json));
    requests.length = 0;
    return `${base}/models/m/model.json`;
  }

  test('loads a model whose weights lie next to model.json, keeping the query', async () => {
    const url = `${serveModel(['./weights.bin'])}?v=2`;
    const loaded = await TextureVae.load(url);
    expect(loaded.config.name).toBe('tiny-security');
    expect(requests).toEqual(['/models/m/model.json?v=2', '/models/m/weights.bin?v=2']);
    loaded.dispose();
  });

  test.each([
    ['../../SECRET.txt', "leaves the model's folder"],
    ['..%2f..%2fSECRET.txt', 'holds "%", "?" or "#", which URLs decode or cut off'],
    ['%2e%2e/%2e%2e/SECRET.txt', 'holds "%", "?" or "#", which URLs decode or cut off'],
    ['..\\..\\SECRET.txt', 'holds a backslash'],
    ['http://127.0.0.1:1/SECRET.txt', 'holds ":" (a URL scheme or a drive)'],
  ])('a weights path %j is refused before it is fetched', async (path, why) => {
    const url = serveModel([path]);
    await expectRefused(
      () => TextureVae.load(url),
      `${url}: weightsManifest[0].paths[0] is ${JSON.stringify(path)}, which ${why}; ${RULE}`,
    );
    expect(requests).toEqual(['/models/m/model.json']);
  });

  test('a manifest group without paths is refused with the group named', async () => {
    const url = serveModel(undefined);
    await expectRefused(
      () => TextureVae.load(url),
      `${url}: weightsManifest[0] must have a non-empty "paths" array of file names and a "weights" array, got paths undefined`,
    );
  });

  test('a missing weights file names its URL', async () => {
    const url = serveModel(['gone.bin']);
    await expectRefused(
      () => TextureVae.load(url),
      `weights file ${base}/models/m/gone.bin answered HTTP 404`,
    );
  });
});
