import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { TextureVae } from '../../src/model/textureVae.js';
import {
  DEFAULT_TEXTURE_VAE_CONFIG,
  decoderHaloCells,
  decoderPassBytes,
  encoderHaloCells,
  encoderPassBytes,
  MAX_TEXTURE_SIZE,
  resolveTextureVaeConfig,
  type TextureVaeConfig,
} from '../../src/model/textureVaeConfig.js';
import {
  DEFAULT_MEMORY_BUDGET,
  MAX_DECODE_OUTPUT_BYTES,
  planTiles,
  type TilePlan,
} from '../../src/model/tiledPasses.js';

const TINY = { stride: 4, latentChannels: 3, encoderWidths: [4, 4, 4], decoderWidths: [6, 5, 4] };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** The plan TextureVae.decodeTensors follows for [batch, height, width] latent cells. */
function decodePlan(config: Readonly<TextureVaeConfig>, shape: number[], budget?: number): TilePlan {
  const pass = {
    passBytes: (b: number, h: number, w: number) => decoderPassBytes(config, b, h, w),
    halo: decoderHaloCells(config),
    tileable: config.tileable,
  };
  return planTiles(pass, shape[0], shape[1], shape[2], budget);
}

/** The plan TextureVae.encodeTensors follows for images of [batch, height, width] latent cells. */
function encodePlan(config: Readonly<TextureVaeConfig>, shape: number[], budget?: number): TilePlan {
  const pass = {
    passBytes: (b: number, h: number, w: number) => encoderPassBytes(config, b, h, w),
    halo: encoderHaloCells(config),
    tileable: config.tileable,
  };
  return planTiles(pass, shape[0], shape[1], shape[2], budget);
}

describe('halos', () => {
  test('are 2 latent cells for every stride (3 for a bilinear decoder)', () => {
    for (const stride of [2, 4, 8, 16, 32]) {
      const levels = Math.log2(stride) + 1;
      const widths = Array.from({ length: levels }, () => 4);
      const config = resolveTextureVaeConfig({ stride, encoderWidths: widths, decoderWidths: widths });
      expect(decoderHaloCells(config)).toBe(3);
      expect(decoderHaloCells({ ...config, upsample: 'nearest' })).toBe(2);
      expect(encoderHaloCells(config)).toBe(2);
    }
  });

  for (const upsample of ['bilinear', 'nearest'] as const)
    test(`the decoder’s is its receptive field (${upsample}): a change one halo away moves no pixel of the cell`, () => {
      const vae = TextureVae.create({ ...TINY, tileable: false, upsample }, { seed: 3 });
      const halo = decoderHaloCells(vae.config);
      const grid = vae.sample({ width: 64, height: 64, seed: 1 });
      const changed = { ...grid, data: grid.data.slice() };
      // Cell (8, 8 + halo + 1) changes; the pixels of cell (8, 8) must not.
      const at = (8 * grid.width + 8 + halo + 1) * grid.channels;
      changed.data[at] += 5;
      const [a, b] = [grid, changed].map((g) =>
        tf.tidy(() => {
          const out = vae.decodeTensors(tf.tensor4d(g.data, [1, g.height, g.width, g.channels]));
          return tf.slice(out, [0, 32, 32, 0], [1, 4, 4, -1]);
        }),
      );
      expect(maxAbsDiff(a, b)).toBe(0);
      // One cell closer it does: the halo is not larger than it needs to be.
      changed.data[at] -= 5;
      changed.data[at - grid.channels] += 5;
      const c = tf.tidy(() => {
        const out = vae.decodeTensors(tf.tensor4d(changed.data, [1, grid.height, grid.width, grid.channels]));
        return tf.slice(out, [0, 32, 32, 0], [1, 4, 4, -1]);
      });
      expect(maxAbsDiff(a, c)).toBeGreaterThan(0);
      tf.dispose([a, b, c]);
      vae.dispose();
    });
});

describe('tiled decode', () => {
  for (const tileable of [true, false]) {
    test(`equals one whole decode (${tileable ? 'tileable' : 'not tileable'}, odd non-square grid, batch 2)`, () => {
      const vae = TextureVae.create({ ...TINY, tileable }, { seed: 7 });
      // 23 x 37 latent cells: no tile size divides both, so the tiles differ in size.
      const z = tf.tidy(() => tf.randomNormal([2, 23, 37, 3], 0, 1, 'float32', 11)) as tf.Tensor4D;
      const before = tf.memory().numTensors;
      const whole = vae.decodeTensors(z, { memoryBudget: 1e12 });
      const budget = decoderPassBytes(vae.config, 1, 12, 9);
      const plan = decodePlan(vae.config, [2, 23, 37], budget);
      expect(plan.batch).toBe(1);
      expect(plan.rows.length).toBeGreaterThan(1);
      expect(plan.columns.length).toBeGreaterThan(2);
      expect(plan.passBytes).toBeLessThanOrEqual(budget);
      const tiled = vae.decodeTensors(z, { memoryBudget: budget });
      expect(tiled.shape).toEqual([2, 92, 148, 3]);
      expect(maxAbsDiff(whole, tiled)).toBeLessThan(1e-5);
      tf.dispose([whole, tiled]);
      expect(tf.memory().numTensors).toBe(before);
      z.dispose();
      vae.dispose();
    });
  }

  test('a budget below the smallest tile still decodes, one latent cell per tile, and wraps around', () => {
    const vae = TextureVae.create(TINY, { seed: 2 });
    const z = tf.tidy(() => tf.randomNormal([1, 3, 5, 3], 0, 1, 'float32', 4)) as tf.Tensor4D;
    const plan = decodePlan(vae.config, [1, 3, 5], 1);
    expect(plan.rows).toHaveLength(3);
    expect(plan.columns).toHaveLength(5);
    const whole = vae.decodeTensors(z);
    const tiled = vae.decodeTensors(z, { memoryBudget: 1 });
    expect(maxAbsDiff(whole, tiled)).toBeLessThan(1e-5);
    tf.dispose([z, whole, tiled]);
    vae.dispose();
  });

  test('a batch over the budget is decoded a few latents per pass', () => {
    const vae = TextureVae.create(TINY, { seed: 5 });
    const z = tf.tidy(() => tf.randomNormal([7, 4, 4, 3], 0, 1, 'float32', 8)) as tf.Tensor4D;
    const budget = decoderPassBytes(vae.config, 3, 4, 4);
    const plan = decodePlan(vae.config, [7, 4, 4], budget);
    expect(plan).toMatchObject({ batch: 3, rows: [{ start: 0, size: 4 }], columns: [{ start: 0, size: 4 }] });
    const whole = vae.decodeTensors(z);
    const before = tf.memory().numTensors;
    const passes = vae.decodeTensors(z, { memoryBudget: budget });
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(maxAbsDiff(whole, passes)).toBeLessThan(1e-6);
    tf.dispose([z, whole, passes]);
    vae.dispose();
  });

  test('rejects a bad memoryBudget and an output over MAX_DECODE_OUTPUT_BYTES before any backend work', () => {
    const vae = TextureVae.create(TINY);
    const z = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
    expect(() => vae.decodeTensors(z, { memoryBudget: 0 })).toThrow(
      'memoryBudget must be a number of bytes >= 1, got 0',
    );
    z.dispose();
    // 3 latents of 4096 x 4096 RGB: 576 MiB. A fake tensor: only the shape is read before the throw.
    const shape = [3, 1024, 1024, 3];
    const big = { rank: 4, shape, dtype: 'float32' } as unknown as tf.Tensor4D;
    const before = tf.memory().numTensors;
    expect(() => vae.decodeTensors(big)).toThrow(
      `one decodeTensors call returns at most ${MAX_DECODE_OUTPUT_BYTES / 2 ** 20} MiB of float pixels, got 3 latents of 4096x4096 (576 MiB); decode fewer latents per call`,
    );
    expect(tf.memory().numTensors).toBe(before);
    vae.dispose();
  });
});

describe('tiled encode', () => {
  for (const tileable of [true, false]) {
    test(`equals one whole encode (${tileable ? 'tileable' : 'not tileable'}, odd non-square image, batch 2)`, () => {
      const vae = TextureVae.create({ ...TINY, tileable }, { seed: 4 });
      // 76 x 132 pixels: 19 x 33 latent cells.
      const images = tf.tidy(() => tf.randomUniform([2, 76, 132, 3], 0, 1, 'float32', 6)) as tf.Tensor4D;
      const before = tf.memory().numTensors;
      const whole = vae.encodeTensors(images, { memoryBudget: 1e12 });
      const budget = encoderPassBytes(vae.config, 1, 10, 8);
      const plan = encodePlan(vae.config, [2, 19, 33], budget);
      expect(plan.batch).toBe(1);
      expect(plan.rows.length).toBeGreaterThan(1);
      expect(plan.columns.length).toBeGreaterThan(2);
      const tiled = vae.encodeTensors(images, { memoryBudget: budget });
      expect(tiled.mean.shape).toEqual([2, 19, 33, 3]);
      expect(maxAbsDiff(whole.mean, tiled.mean)).toBeLessThan(1e-5);
      expect(maxAbsDiff(whole.logVar, tiled.logVar)).toBeLessThan(1e-5);
      tf.dispose([whole.mean, whole.logVar, tiled.mean, tiled.logVar]);
      expect(tf.memory().numTensors).toBe(before);
      images.dispose();
      vae.dispose();
    });
  }

  test('encode of an image above the budget gives the latent of one pass', async () => {
    const vae = TextureVae.create(TINY, { seed: 8 });
    const data = Uint8Array.from({ length: 40 * 56 * 3 }, (_, i) => (i * 53) % 256);
    const image = { data, width: 56, height: 40, channels: 3 as const };
    const x = tf.tidy(() => tf.div(tf.tensor4d(data, [1, 40, 56, 3], 'float32'), 255)) as tf.Tensor4D;
    const { mean, logVar } = vae.encodeTensors(x, { memoryBudget: 1 });
    const latent = await vae.encode(image);
    expect(Array.from(latent.data)).toEqual(Array.from(mean.dataSync()));
    tf.dispose([x, mean, logVar]);
    vae.dispose();
  });
});

describe('the tile plan of the largest texture', () => {
  for (const [name, config] of [
    ['default', DEFAULT_TEXTURE_VAE_CONFIG],
    ['tiny', resolveTextureVaeConfig(TINY)],
    [
      'widest',
      resolveTextureVaeConfig({
        encoderWidths: [1024, 1024, 1024, 1024],
        decoderWidths: [1024, 1024, 1024, 1024],
        outputChannels: 4,
      }),
    ],
  ] as const) {
    test(`stays within the default budget at ${MAX_TEXTURE_SIZE} px (${name} model)`, () => {
      const side = MAX_TEXTURE_SIZE / config.stride;
      const plan = decodePlan(config, [1, side, side]);
      expect(plan.passBytes).toBeLessThanOrEqual(DEFAULT_MEMORY_BUDGET);
      expect(plan.batch).toBe(1);
      if (name !== 'widest') {
        // Big tiles: the halo adds little work.
        const core = plan.rows[plan.rows.length - 1].size;
        expect(((core + 2 * plan.halo) / core) ** 2).toBeLessThan(1.3);
      }
      // The cores cover the grid exactly once.
      expect(plan.rows.reduce((n, r) => n + r.size, 0)).toBe(side);
      expect(plan.columns.reduce((n, c) => n + c.size, 0)).toBe(side);
      expect(encodePlan(config, [1, side, side]).passBytes).toBeLessThanOrEqual(DEFAULT_MEMORY_BUDGET);
    });
  }
});
