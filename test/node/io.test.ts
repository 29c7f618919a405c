import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { registerTextureVaeLayers } from '../../src/model/layers/registerTextureVaeLayers.js';
import { TextureVae } from '../../src/model/textureVae.js';
import { textureVaeParameterCount } from '../../src/model/textureVaeConfig.js';
import { fileSystemHandler } from '../../src/node/fileHandler.js';

const TINY = {
  stride: 4,
  latentChannels: 4,
  encoderWidths: [8, 12, 16],
  decoderWidths: [12, 8, 8],
  name: 'tiny-io',
  beta: 0.02,
};

let root: string;
let vae: TextureVae;
let dir: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'bvt-io-'));
  vae = TextureVae.create(TINY, { seed: 11 });
  dir = join(root, 'saved');
  await vae.save(fileSystemHandler(dir));
});

afterAll(() => {
  vae.dispose();
  rmSync(root, { recursive: true, force: true });
});

/** The parts of model.json the tests edit. */
interface SavedJson {
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[] }[] }[];
  userDefinedMetadata?: { textureVae: { config: Record<string, unknown> } };
}

/** A copy of the saved folder whose model.json went through `edit` and weights.bin through `editWeights`. */
function variant(
  name: string,
  edit: (json: SavedJson) => void = () => {},
  editWeights: (bytes: Buffer) => Buffer | null = (b) => b,
): string {
  const out = join(root, name);
  mkdirSync(out, { recursive: true });
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  edit(json);
  writeFileSync(join(out, 'model.json'), JSON.stringify(json));
  const weights = editWeights(readFileSync(join(dir, 'weights.bin')));
  if (weights) writeFileSync(join(out, 'weights.bin'), weights);
  return out;
}

async function loadArtifacts(folder: string): Promise<tf.io.ModelArtifacts> {
  const handler = fileSystemHandler(folder);
  if (!handler.load) throw new Error('fileSystemHandler has no load()');
  return handler.load();
}

describe('save and load', () => {
  test('writes model.json with the config and weights.bin with every weight as float32', () => {
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.userDefinedMetadata.textureVae.format).toBe(1);
    expect(json.userDefinedMetadata.textureVae.config).toEqual({
      latentChannels: 4,
      stride: 4,
      encoderWidths: [8, 12, 16],
      decoderWidths: [12, 8, 8],
      tileable: true,
      upsample: 'bilinear',
      outputChannels: 3,
      beta: 0.02,
      name: 'tiny-io',
    });
    expect(JSON.stringify(json.modelTopology)).toContain('"class_name":"PaddedConv2D"');
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(statSync(join(dir, 'weights.bin')).size).toBe(textureVaeParameterCount(TINY) * 4);
  });

  test('reloads with the same config and decodes bit-identically, without leaking', async () => {
    const before = tf.memory().numTensors;
    const loaded = await TextureVae.load(fileSystemHandler(dir));
    expect(loaded.config).toEqual(vae.config);
    const z = tf.randomNormal([2, 3, 5, 4], 0, 1, 'float32', 3) as tf.Tensor4D;
    const a = vae.decodeTensors(z);
    const b = loaded.decodeTensors(z);
    expect(b.dataSync()).toEqual(a.dataSync());
    const latent = vae.sample({ width: 16, height: 24, seed: 4 });
    expect((await loaded.decode(latent)).data).toEqual((await vae.decode(latent)).data);
    tf.dispose([z, a, b]);
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('the saved topology reloads by itself through tf.loadLayersModel', async () => {
    registerTextureVaeLayers();
    registerTextureVaeLayers();
    const model = await loadLayersModel(fileSystemHandler(dir));
    expect(model.layers.map((l) => l.getClassName())).toContain('PaddedConv2D');
    expect(model.countParams()).toBe(textureVaeParameterCount(TINY));
    model.dispose();
  });

  test('saves and loads through any tf.io handler, e.g. in memory', async () => {
    let artifacts: tf.io.ModelArtifacts | undefined;
    const result = await vae.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    expect(result.modelArtifactsInfo.modelTopologyType).toBe('JSON');
    if (!artifacts) throw new Error('nothing saved');
    const loaded = await TextureVae.load(tf.io.fromMemory(artifacts));
    expect(loaded.config.name).toBe('tiny-io');
    loaded.dispose();
  });
});

describe('bad model files', () => {
  test('a weights manifest with other names', async () => {
    const out = variant('renamed', (json) => {
      json.weightsManifest[0].weights[0].name = 'decoder_conv_9/kernel';
    });
    await expect(TextureVae.load(fileSystemHandler(out))).rejects.toThrow(
      "weights manifest does not match the TextureVae architecture of its config: unexpected weight 'decoder_conv_9/kernel'; missing weight 'decoder_conv_0/kernel'",
    );
  });

  test('a weights manifest with other shapes, or a config that disagrees with the weights', async () => {
    const artifacts = await loadArtifacts(dir);
    const weightSpecs = (artifacts.weightSpecs ?? []).map((w, i) =>
      i === 0 ? { ...w, shape: [3, 3, 4, 6] } : w,
    );
    await expect(TextureVae.load(tf.io.fromMemory({ ...artifacts, weightSpecs }))).rejects.toThrow(
      "weight 'decoder_conv_0/kernel' has shape [3,3,4,6], the architecture needs [3,3,4,12]",
    );
    // In a folder the file handler already sees that the weights file no longer fits the manifest.
    const reshaped = variant('reshaped', (json) => {
      json.weightsManifest[0].weights[0].shape = [3, 3, 4, 6];
    });
    await expect(TextureVae.load(fileSystemHandler(reshaped))).rejects.toThrow('longer than its manifest');
    const reconfigured = variant('reconfigured', (json) => {
      if (json.userDefinedMetadata) json.userDefinedMetadata.textureVae.config.latentChannels = 8;
    });
    await expect(TextureVae.load(fileSystemHandler(reconfigured))).rejects.toThrow(
      "weight 'decoder_conv_0/kernel' has shape [3,3,4,12], the architecture needs [3,3,8,12]",
    );
    const invalid = variant('invalid', (json) => {
      if (json.userDefinedMetadata) json.userDefinedMetadata.textureVae.config.stride = 5;
    });
    await expect(TextureVae.load(fileSystemHandler(invalid))).rejects.toThrow(
      'model.json holds an invalid TextureVae config: stride must be a power of two from 2 to 32, got 5',
    );
  });

  test('a model.json that is not a TextureVae', async () => {
    const out = variant('foreign', (json) => {
      delete json.userDefinedMetadata;
    });
    await expect(TextureVae.load(fileSystemHandler(out))).rejects.toThrow(
      'model.json is not a TextureVae model: userDefinedMetadata.textureVae.config is missing',
    );
  });

  test('a truncated weights file fails before any tensor is made', async () => {
    const out = variant('truncated');
    const size = statSync(join(out, 'weights.bin')).size;
    truncateSync(join(out, 'weights.bin'), size - 10);
    const before = tf.memory().numTensors;
    await expect(TextureVae.load(fileSystemHandler(out))).rejects.toThrow(
      `weights file ${join(out, 'weights.bin')} holds ${size - 10} bytes, the manifest needs ${size}: truncated`,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  test('truncated weight data from any handler fails before any tensor is made', async () => {
    const artifacts = await loadArtifacts(dir);
    const data = artifacts.weightData as ArrayBuffer;
    const before = tf.memory().numTensors;
    await expect(
      TextureVae.load(tf.io.fromMemory({ ...artifacts, weightData: data.slice(0, 100) })),
    ).rejects.toThrow(
      `weight data holds 100 bytes, the manifest needs ${data.byteLength}: the weights file is truncated`,
    );
    await expect(TextureVae.load(tf.io.fromMemory({ ...artifacts, weightData: undefined }))).rejects.toThrow(
      `weight data is missing (the manifest needs ${data.byteLength} bytes): is the weights file missing?`,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  test('a missing weights file or model file', async () => {
    const out = variant('noweights', undefined, () => null);
    await expect(TextureVae.load(fileSystemHandler(out))).rejects.toThrow(
      `weights file ${join(out, 'weights.bin')} is missing`,
    );
    await expect(TextureVae.load(fileSystemHandler(join(root, 'nothing')))).rejects.toThrow(
      `model file ${join(root, 'nothing', 'model.json')} does not exist`,
    );
  });

  test('weights paths outside the model folder are refused', async () => {
    const out = variant('escape', (json) => {
      json.weightsManifest[0].paths = ['../saved/weights.bin'];
    });
    await expect(TextureVae.load(fileSystemHandler(out))).rejects.toThrow(
      `${join(out, 'model.json')}: weightsManifest[0].paths[0] is "../saved/weights.bin", which leaves the model's folder; ` +
        'a weights path must be a file name or a sub-path that stays inside the model\'s folder, such as "weights.bin" ' +
        'or "shards/1.bin" (no absolute path, URL, backslash, "%", "?", "#" or ":")',
    );
  });

  test('URL strings without a tf.io handler', async () => {
    await expect(TextureVae.load('file:///tmp/model')).rejects.toThrow(
      "no tf.io load handler for 'file:///tmp/model'",
    );
    await expect(vae.save('file:///tmp/model')).rejects.toThrow(
      "no tf.io save handler for 'file:///tmp/model'",
    );
  });
});
