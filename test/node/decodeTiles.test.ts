import '@tensorflow/tfjs-backend-cpu';
import { NullEngine, Scene } from '@babylonjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import type { LatentGrid } from '../../src/latent/latentGrid.js';
import { TextureVae } from '../../src/model/textureVae.js';
import { decoderHaloCells } from '../../src/model/textureVaeConfig.js';
import {
  cropLatent,
  type DecodeTile,
  decodeTile,
  planDecodeTiles,
  resolveDecodeTileSize,
} from '../../src/textures/decodeTiles.js';
import { VaeProceduralTexture } from '../../src/textures/vaeProceduralTexture.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('resolveDecodeTileSize', () => {
  test("'auto' tiles 512 px and larger textures in 256 px tiles, only where the path allows", () => {
    expect(resolveDecodeTileSize('auto', 512, 8, true)).toBe(256);
    expect(resolveDecodeTileSize('auto', 2048, 8, true)).toBe(256);
    expect(resolveDecodeTileSize('auto', 504, 8, true)).toBe(0);
    expect(resolveDecodeTileSize('auto', 1024, 8, false)).toBe(0);
  });

  test('a number is a multiple of the stride up to 4096; 0 and sides of the whole texture are one decode', () => {
    expect(resolveDecodeTileSize(64, 512, 8, false)).toBe(64);
    expect(resolveDecodeTileSize(0, 512, 8, true)).toBe(0);
    expect(resolveDecodeTileSize(512, 512, 8, true)).toBe(0);
    expect(resolveDecodeTileSize(4096, 512, 8, true)).toBe(0);
  });

  test.each([12, -8, 8.5, 4104, Number.NaN, 'big', null])('rejects %s with the allowed values', (bad) => {
    expect(() => resolveDecodeTileSize(bad as number, 512, 8, true)).toThrow(
      /^decodeTileSize must be 'auto', 0 \(one decode\) or a multiple of 8 \(the model's stride\) from 8 to 4096 pixels, got /,
    );
  });
});

/** Every pixel of a `side` px image covered by exactly one tile, and every tile at most `tile` px a side. */
function expectExactCover(tiles: DecodeTile[], height: number, width: number, stride: number, tile: number) {
  const hits = new Uint8Array(height * width * stride * stride);
  for (const { rect } of tiles) {
    expect(rect.width).toBeLessThanOrEqual(tile);
    expect(rect.height).toBeLessThanOrEqual(tile);
    for (let y = rect.y; y < rect.y + rect.height; y++) {
      for (let x = rect.x; x < rect.x + rect.width; x++) hits[y * width * stride + x]++;
    }
  }
  expect(hits.every((h) => h === 1)).toBe(true);
}

describe('planDecodeTiles', () => {
  for (const tileable of [true, false]) {
    test(`rectangles cover the output exactly once; windows hold the halo (${tileable ? '' : 'not '}tileable)`, () => {
      const halo = 3;
      for (const [height, width, cells] of [
        [10, 10, 3],
        [13, 7, 4],
        [64, 64, 32],
        [5, 40, 5],
        [9, 9, 9],
        [1, 1, 1],
      ] as const) {
        const tiles = planDecodeTiles(height, width, cells, { stride: 4, halo, tileable });
        expect(tiles.length).toBe(Math.ceil(height / cells) * Math.ceil(width / cells));
        expectExactCover(tiles, height, width, 4, cells * 4);
        const rowsSplit = height > cells;
        const columnsSplit = width > cells;
        for (const t of tiles) {
          for (const [core, window, n, split] of [
            [t.rows, t.windowRows, height, rowsSplit],
            [t.columns, t.windowColumns, width, columnsSplit],
          ] as const) {
            if (!split) {
              expect(window).toEqual({ start: 0, size: n });
            } else if (tileable) {
              expect(window).toEqual({ start: core.start - halo, size: core.size + 2 * halo });
            } else {
              // Up to the grid's border, where the model's own padding is that of a whole decode.
              expect(window.start).toBe(Math.max(0, core.start - halo));
              expect(window.start + window.size).toBe(Math.min(n, core.start + core.size + halo));
            }
          }
        }
      }
    });
  }

  test('tiles are near-equal (the largest bounds the longest frame) and go row by row from the top', () => {
    const tiles = planDecodeTiles(10, 10, 4, { stride: 8, halo: 3, tileable: true });
    expect(tiles.map((t) => t.rows.size)).toEqual([4, 4, 4, 3, 3, 3, 3, 3, 3]);
    expect(tiles.map((t) => t.rect.y)).toEqual([0, 0, 0, 32, 32, 32, 56, 56, 56]);
    expect(tiles.slice(0, 3).map((t) => t.rect.x)).toEqual([0, 32, 56]);
  });

  test('rejects sizes that are not positive integers', () => {
    const geometry = { stride: 8, halo: 3, tileable: true };
    expect(() => planDecodeTiles(0, 4, 2, geometry)).toThrow('planDecodeTiles height must be a positive');
    expect(() => planDecodeTiles(4, 4, 1.5, geometry)).toThrow(
      'planDecodeTiles tileCells must be a positive',
    );
  });
});

test('cropLatent wraps around the grid', () => {
  const latent: LatentGrid = {
    data: Float32Array.from({ length: 12 }, (_, i) => i),
    height: 3,
    width: 2,
    channels: 2,
  };
  const crop = cropLatent(latent, { start: -1, size: 2 }, { start: 1, size: 2 });
  // Rows 2, 0; columns 1, 0; two channels per cell.
  expect([...crop.data]).toEqual([10, 11, 8, 9, 2, 3, 0, 1]);
  expect([crop.height, crop.width, crop.channels]).toEqual([2, 2, 2]);
});

describe('decodeTile', () => {
  for (const tileable of [true, false]) {
    test(`tiles put together equal one whole decode (${tileable ? '' : 'not '}tileable, uneven tiles)`, () => {
      const model = TextureVae.create(
        { stride: 4, latentChannels: 3, encoderWidths: [4, 4, 4], decoderWidths: [6, 5, 4], tileable },
        { seed: 3 },
      );
      const latent = model.sample({ width: 44, height: 36, seed: 5 });
      const before = tf.memory().numTensors;
      const whole = tf.tidy(() => model.decodeTensors(tf.tensor4d(latent.data, [1, 9, 11, 3])));
      const wholeData = whole.dataSync();
      const tiles = planDecodeTiles(9, 11, 4, { stride: 4, halo: decoderHaloCells(model.config), tileable });
      expect(tiles.length).toBe(9);
      const assembled = new Float32Array(wholeData.length);
      for (const tile of tiles) {
        const part = decodeTile(model, latent, tile);
        expect(part.shape).toEqual([1, tile.rect.height, tile.rect.width, 3]);
        const values = part.dataSync();
        part.dispose();
        for (let y = 0; y < tile.rect.height; y++) {
          const from = y * tile.rect.width * 3;
          assembled.set(
            values.subarray(from, from + tile.rect.width * 3),
            ((tile.rect.y + y) * 44 + tile.rect.x) * 3,
          );
        }
      }
      whole.dispose();
      let worst = 0;
      for (let i = 0; i < wholeData.length; i++)
        worst = Math.max(worst, Math.abs(wholeData[i] - assembled[i]));
      // Each pixel is summed in the same order from the same cells as in the whole decode.
      expect(worst).toBe(0);
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    });
  }
});

test('a NullEngine draws nothing, so its textures decode whole whatever decodeTileSize says', async () => {
  const engine = new NullEngine();
  const scene = new Scene(engine);
  const model = TextureVae.create(
    { stride: 4, latentChannels: 3, encoderWidths: [4, 4, 4], decoderWidths: [6, 5, 4] },
    { seed: 3 },
  );
  const latent = model.sample({ width: 40, height: 40, seed: 1 });
  const texture = new VaeProceduralTexture('t', scene, { model, size: 40, decodeTileSize: 16, latent });
  expect(texture.decodePath.path).toBe('readback');
  expect(texture.decodeTiles).toEqual([]);
  await texture.whenReadyAsync();
  expect(texture.isReady()).toBe(true);
  texture.dispose();
  model.dispose();
  scene.dispose();
  engine.dispose();
});
