import '@tensorflow/tfjs-backend-cpu';
import { NullEngine } from '@babylonjs/core/Engines/nullEngine.js';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { atlasBatchSize } from '../../src/atlas/bakeAtlas.js';
import { cropImage, randomCrop } from '../../src/eval/floatImage.js';
import { engineScope } from '../../src/gpu/engineScope.js';
import { SeededRandom } from '../../src/latent/random.js';
import { toBytes } from '../../src/model/pixelImage.js';
import type { TextureDecoder } from '../../src/model/textureDecoder.js';
import { TextureVae } from '../../src/model/textureVae.js';
import { decoderPassBytes } from '../../src/model/textureVaeConfig.js';

const TINY = {
  latentChannels: 3,
  stride: 4,
  encoderWidths: [4, 4, 4],
  decoderWidths: [6, 5, 4],
  tileable: false,
  name: 'tiny-contract',
};

describe('the decoder contract', () => {
  let model: TextureVae;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    model = TextureVae.create(TINY, { seed: 1 });
  });

  afterAll(() => model.dispose());

  test('a TextureVae answers it from its config and layer specs', () => {
    const decoder: TextureDecoder = model;
    expect(decoder).toMatchObject({
      name: 'tiny-contract',
      stride: 4,
      latentChannels: 3,
      outputChannels: 3,
      tileable: false,
    });
    expect(decoder.decodePassBytes(2, 5, 7)).toBe(decoderPassBytes(model.config, 2, 5, 7));
    expect(decoder.decodePassBytes(2, 5, 7)).toBeGreaterThan(decoder.decodePassBytes(1, 5, 7));
  });

  test('atlas batches follow the decoder estimate, not a copy of the architecture', () => {
    const perTile = model.decodePassBytes(1, 4, 4);
    expect(atlasBatchSize(model, 16, 5 * perTile)).toBe(5);
    expect(atlasBatchSize(model, 16, 5 * perTile - 1)).toBe(4);
    expect(atlasBatchSize(model, 16, 1)).toBe(1);
  });
});

describe('engineScope', () => {
  test('an engine that cannot share its context runs work on the active backend', () => {
    const engine = new NullEngine();
    try {
      const scope = engineScope(engine);
      expect(scope.sharesContext).toBe(false);
      expect(Object.isFrozen(scope)).toBe(true);
      const before = tf.memory().numTensors;
      const sum = scope.run(() => tf.tidy(() => tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0]));
      expect(sum).toBe(6);
      expect(tf.getBackend()).toBe('cpu');
      expect(tf.memory().numTensors).toBe(before);
      expect(engineScope(engine, { useSharedContext: false }).sharesContext).toBe(false);
    } finally {
      engine.dispose();
    }
  });
});

describe('shared pixel helpers', () => {
  test('toBytes clamps to [0, 1], rounds, and reads a missing value as 0', () => {
    expect([...toBytes([-0.5, 0, 0.5, 0.999, 1, 2, Number.NaN])]).toEqual([0, 0, 128, 255, 255, 255, 0]);
    expect([...toBytes(new Array<number>(2))]).toEqual([0, 0]);
  });

  test('cropImage and randomCrop keep 8-bit images 8-bit and floats float', () => {
    const data = new Uint8Array(4 * 3 * 3).map((_, i) => i);
    const bytes = cropImage({ data, width: 4, height: 3, channels: 3 }, 1, 1, 2, 2);
    expect(bytes.data).toBeInstanceOf(Uint8Array);
    expect([...bytes.data]).toEqual([15, 16, 17, 18, 19, 20, 27, 28, 29, 30, 31, 32]);
    const floats = cropImage({ data: Float32Array.from(data), width: 4, height: 3, channels: 3 }, 1, 1, 2, 2);
    expect(floats.data).toBeInstanceOf(Float32Array);
    expect([...floats.data]).toEqual([...bytes.data]);
    const a = randomCrop({ data, width: 4, height: 3, channels: 3 }, 2, 2, new SeededRandom(3));
    const b = randomCrop({ data, width: 4, height: 3, channels: 3 }, 2, 2, new SeededRandom(3));
    expect(a).toEqual(b);
    expect(a.data).toBeInstanceOf(Uint8Array);
  });
});
