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
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';

import { PaddedConv2D } from '../../src/model/layers/paddedConv2D.js';
import { TextureVae } from '../../src/model/textureVae.js';
import type { TextureVaeConfig } from '../../src/model/textureVaeConfig.js';
import { textureVaeTopology } from '../../src/model/textureVaeTopology.js';
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
const TOPOLOGY = 'model.json topology does not match the TextureVae architecture of its config: ';
const DTYPES = 'allowed: float32, or float32 quantized to uint8, uint16 or float16';

let root: string;
let vae: TextureVae;
let dir: string;
let artifacts: tf.io.ModelArtifacts;

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'bvt-io-security-'));
  vae = TextureVae.create(TINY, { seed: 5 });
  dir = join(root, 'saved');
  await vae.save(fileSystemHandler(dir));
  // Right-sized bytes outside every model folder: a path or link that reached them would load them.
  writeFileSync(join(root, 'SECRET.txt'), readFileSync(join(dir, 'weights.bin')));
  await vae.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
});

afterAll(() => {
  vae.dispose();
  rmSync(root, { recursive: true, force: true });
});

interface SavedJson {
  modelTopology: { config: { layers: Layer[] } };
  weightsManifest: { paths: unknown; weights: { name: string; dtype: string }[] }[];
}
interface Layer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: unknown[];
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

/** The saved artifacts with a deep-copied topology passed through `edit`. */
function withTopology(edit: (layers: Layer[]) => void): tf.io.ModelArtifacts {
  const topology = structuredClone(artifacts.modelTopology) as SavedJson['modelTopology'];
  edit(topology.config.layers);
  return { ...artifacts, modelTopology: topology };
}

function layer(layers: Layer[], name: string): Layer {
  const found = layers.find((l) => l.name === name);
  if (!found) throw new Error(`no layer ${name}`);
  return found;
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

describe('manifest dtypes', () => {
  test.each(['int32', 'bool', 'string', 'complex64'])(
    'a float32 weight saved as %s is refused',
    async (dtype) => {
      const weightSpecs = (artifacts.weightSpecs ?? []).map((w, i) =>
        i === 0 ? { ...w, dtype: dtype as 'float32' } : w,
      );
      await expectRefused(
        () => TextureVae.load(tf.io.fromMemory({ ...artifacts, weightSpecs })),
        `weight 'decoder_conv_0/kernel' has dtype '${dtype}'; ${DTYPES}`,
      );
    },
  );

  test('int32 in a model folder (the byte count matches float32) is refused', async () => {
    const out = variant('int32', (json) => {
      json.weightsManifest[0].weights[0].dtype = 'int32';
    });
    await expectRefused(
      () => TextureVae.load(fileSystemHandler(out)),
      `weight 'decoder_conv_0/kernel' has dtype 'int32'; ${DTYPES}`,
    );
  });

  /** The artifacts with weight `index` (float32) stored as `bytes` under `quantization`. */
  function quantized(
    index: number,
    quantization: tf.io.WeightsManifestEntry['quantization'],
    bytes: (values: Float32Array) => Uint8Array,
  ): tf.io.ModelArtifacts {
    const specs = artifacts.weightSpecs ?? [];
    const data = new Uint8Array(artifacts.weightData as ArrayBuffer);
    let offset = 0;
    const parts: Uint8Array[] = [];
    specs.forEach((spec, i) => {
      const size = spec.shape.reduce((a, b) => a * b, 1) * 4;
      const part = data.slice(offset, offset + size);
      parts.push(i === index ? bytes(new Float32Array(part.buffer)) : part);
      offset += size;
    });
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return {
      ...artifacts,
      weightSpecs: specs.map((w, i) => (i === index ? { ...w, quantization } : w)),
      weightData: out.buffer,
    };
  }

  test('uint8, uint16 and float16 quantization of a float32 weight load', async () => {
    const before = tf.memory().numTensors;
    // decoder_conv_0/bias: every value maps to 0.5.
    for (const [dtype, width] of [
      ['uint8', 1],
      ['uint16', 2],
    ] as const) {
      const loaded = await TextureVae.load(
        tf.io.fromMemory(
          quantized(1, { dtype, scale: 0.25, min: 0 }, (v) =>
            new Uint8Array(v.length * width).fill(dtype === 'uint8' ? 2 : 0),
          ),
        ),
      );
      loaded.dispose();
    }
    const half = quantized(
      1,
      { dtype: 'float16' },
      (v) => new Uint8Array(new Uint16Array(v.length).fill(0x3800).buffer),
    );
    const loaded = await TextureVae.load(tf.io.fromMemory(half));
    const bias = loaded.trainableVariables.find(
      (w) => w.name.includes('decoder_conv_0') && w.name.includes('bias'),
    );
    expect(Array.from(bias?.dataSync() ?? [])).toEqual(new Array(12).fill(0.5));
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('quantization of a weight that is not float32, or without scale and min, is refused', async () => {
    const bytes = (v: Float32Array) => new Uint8Array(v.length);
    const int = quantized(1, { dtype: 'uint8', scale: 1, min: 0 }, bytes);
    int.weightSpecs = int.weightSpecs?.map((w, i) => (i === 1 ? { ...w, dtype: 'int32' } : w));
    await expectRefused(
      () => TextureVae.load(tf.io.fromMemory(int)),
      `weight 'decoder_conv_0/bias' has dtype 'int32' quantized to 'uint8'; ${DTYPES}`,
    );
    await expectRefused(
      () => TextureVae.load(tf.io.fromMemory(quantized(1, { dtype: 'uint8' }, bytes))),
      "weight 'decoder_conv_0/bias' is quantized to uint8 without a finite scale and min (got scale undefined, min undefined)",
    );
    await expectRefused(
      () =>
        TextureVae.load(
          tf.io.fromMemory(quantized(1, { dtype: 'int8' as 'uint8', scale: 1, min: 0 }, bytes)),
        ),
      `weight 'decoder_conv_0/bias' has dtype 'float32' quantized to 'int8'; ${DTYPES}`,
    );
  });
});

describe('non-finite weights', () => {
  test.each([
    [Number.NaN, 5],
    [Number.POSITIVE_INFINITY, 0],
    [Number.NEGATIVE_INFINITY, 107],
  ])('%d in weights.bin is refused, naming the weight', async (value, index) => {
    const out = variant(`nonfinite-${index}`, () => {});
    const bytes = readFileSync(join(out, 'weights.bin'));
    new DataView(bytes.buffer, bytes.byteOffset).setFloat32(index * 4, value, true);
    writeFileSync(join(out, 'weights.bin'), bytes);
    await expectRefused(
      () => TextureVae.load(fileSystemHandler(out)),
      `weight 'decoder_conv_0/kernel' holds a NaN or infinite value (at index ${index}); a model's weights must be ` +
        'finite: was it saved after training diverged?',
    );
  });

  test('a NaN in a later weight, or in float16 data, or a quantization range beyond float32', async () => {
    const data = new Float32Array((artifacts.weightData as ArrayBuffer).slice(0));
    // decoder_conv_0/kernel has 3*3*4*12 = 432 values; the bias follows.
    data[432 + 3] = Number.NaN;
    await expectRefused(
      () => TextureVae.load(tf.io.fromMemory({ ...artifacts, weightData: data.buffer })),
      "weight 'decoder_conv_0/bias' holds a NaN or infinite value (at index 3); a model's weights must be finite: " +
        'was it saved after training diverged?',
    );
  });
});

describe('model topology', () => {
  test.each([
    [
      'filters 400000',
      (layers: Layer[]) => {
        layer(layers, 'decoder_conv_0').config.filters = 400000;
      },
      "layer 'decoder_conv_0' has filters 400000, the architecture needs 12",
    ],
    [
      'a kernel size',
      (layers: Layer[]) => {
        layer(layers, 'encoder_down_2').config.kernel_size = 99;
      },
      "layer 'encoder_down_2' has kernel_size 99, the architecture needs 3",
    ],
    [
      'strides',
      (layers: Layer[]) => {
        layer(layers, 'encoder_down_1').config.strides = 1;
      },
      "layer 'encoder_down_1' has strides 1, the architecture needs 2",
    ],
    [
      'an activation',
      (layers: Layer[]) => {
        layer(layers, 'decoder_output').config.activation = 'relu';
      },
      'layer \'decoder_output\' has activation "relu", the architecture needs "sigmoid"',
    ],
    [
      'a layer class',
      (layers: Layer[]) => {
        layer(layers, 'decoder_conv_0').class_name = 'Conv2D';
      },
      'layer \'decoder_conv_0\' has class_name "Conv2D", the architecture needs "PaddedConv2D"',
    ],
    [
      'an extra config field',
      (layers: Layer[]) => {
        layer(layers, 'encoder_conv_0').config.kernel_regularizer = { class_name: 'L2' };
      },
      'layer \'encoder_conv_0\' has an unexpected field "kernel_regularizer"',
    ],
    [
      'an unknown layer',
      (layers: Layer[]) => {
        layers.push({ name: 'huge', class_name: 'Dense', config: { units: 1e9 }, inbound_nodes: [] });
      },
      'unknown layer "huge" of class "Dense"',
    ],
    [
      'a removed layer',
      (layers: Layer[]) => {
        layers.splice(layers.indexOf(layer(layers, 'decoder_up_1_upsample')), 1);
      },
      "layer 'decoder_up_1_upsample' is missing",
    ],
    [
      'rewired inputs',
      (layers: Layer[]) => {
        layer(layers, 'decoder_output').inbound_nodes = [[['latent', 0, 0, {}]]];
      },
      'layer \'decoder_output\' has inbound_nodes [[["latent",0,0,{}]]], the architecture needs [[["decoder_up_2",0,0,{}]]]',
    ],
  ])('an edited %s is refused before any variable exists', async (_, edit, problem) => {
    await expectRefused(() => TextureVae.load(tf.io.fromMemory(withTopology(edit))), `${TOPOLOGY}${problem}`);
  });

  test('filters 400000 in a model folder is refused without allocating', async () => {
    const out = variant('wide', (json) => {
      layer(json.modelTopology.config.layers, 'decoder_conv_0').config.filters = 400000;
    });
    const bytes = tf.memory().numBytes;
    await expectRefused(
      () => TextureVae.load(fileSystemHandler(out)),
      `${TOPOLOGY}layer 'decoder_conv_0' has filters 400000, the architecture needs 12`,
    );
    expect(tf.memory().numBytes).toBe(bytes);
  });

  test.each<Partial<TextureVaeConfig>>([
    TINY,
    {},
    {
      stride: 2,
      encoderWidths: [4, 6],
      decoderWidths: [5, 3],
      tileable: false,
      outputChannels: 4,
      latentChannels: 2,
    },
  ])('the expected topology is the one a built model saves (%j)', async (config) => {
    const model = TextureVae.create(config);
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        saved = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    model.dispose();
    const topology = saved?.modelTopology as { class_name: string; config: { layers: Layer[] } };
    const expected = textureVaeTopology(model.config);
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    expect(topology.class_name).toBe('Model');
    expect({ ...topology.config, layers: [...topology.config.layers].sort(byName) }).toEqual({
      ...expected,
      layers: [...expected.layers].sort(byName),
    });
  });
});

describe('a failed load', () => {
  test('a throw while weights are set disposes every tensor made so far', async () => {
    let calls = 0;
    const setWeights = PaddedConv2D.prototype.setWeights;
    const spy = vi.spyOn(PaddedConv2D.prototype, 'setWeights').mockImplementation(function (
      this: PaddedConv2D,
      weights,
    ) {
      if (++calls === 4) throw new Error('setWeights failed');
      setWeights.call(this, weights);
    });
    try {
      await expectRefused(() => TextureVae.load(tf.io.fromMemory(artifacts)), 'setWeights failed');
      expect(calls).toBe(4);
    } finally {
      spy.mockRestore();
    }
  });
});
