import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { safeMipLevel, safeSampledMipLevel } from '../../src/atlas/atlasLayout.js';
import { assemblePage, padTiles } from '../../src/atlas/atlasTensors.js';
import { atlasBatchSize, bakeAtlas, bakeAtlasTensors, planAtlas } from '../../src/atlas/bakeAtlas.js';
import { sampleLatent } from '../../src/latent/latentOps.js';
import type { PixelImage } from '../../src/model/pixelImage.js';
import { constantLatent, fakeDecoder } from './atlasFakeDecoder.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A [1, h, w, 1] tensor whose pixel (y, x) is y * 100 + x. */
function indexTile(h: number, w: number): tf.Tensor4D {
  return tf.tensor4d(
    Array.from({ length: h * w }, (_, i) => Math.floor(i / w) * 100 + (i % w)),
    [1, h, w, 1],
  );
}

describe('gutters', () => {
  test('circular padding repeats the tile’s own wrap-around content, corners included', () => {
    const tile = indexTile(4, 6);
    const padded = padTiles(tile, 2, 'circular');
    expect(padded.shape).toEqual([1, 8, 10, 1]);
    const v = padded.arraySync()[0];
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 10; x++) {
        const sy = (((y - 2) % 4) + 4) % 4;
        const sx = (((x - 2) % 6) + 6) % 6;
        expect(v[y][x][0]).toBe(sy * 100 + sx);
      }
    }
    tf.dispose([tile, padded]);
  });

  test('edge padding replicates the outermost rows and columns', () => {
    const tile = indexTile(4, 6);
    const padded = padTiles(tile, 3, 'edge');
    const v = padded.arraySync()[0];
    for (let y = 0; y < 10; y++) {
      for (let x = 0; x < 12; x++) {
        const sy = Math.min(3, Math.max(0, y - 3));
        const sx = Math.min(5, Math.max(0, x - 3));
        expect(v[y][x][0]).toBe(sy * 100 + sx);
      }
    }
    tf.dispose([tile, padded]);
  });

  test('assemblePage places cells row-major and fills empty slots and extra page area with zeros', () => {
    const cells = [1, 2, 3].map((k) => tf.fill([1, 2, 2, 1], k) as tf.Tensor4D);
    const page = assemblePage(cells, { width: 5, height: 5, columns: 2, rows: 2, tiles: [0, 1, 2] });
    expect(page.shape).toEqual([1, 5, 5, 1]);
    expect((tf.reshape(page, [5, 5]).arraySync() as number[][]).map((r) => r.join(''))).toEqual([
      '11220',
      '11220',
      '33000',
      '33000',
      '00000',
    ]);
    tf.dispose([...cells, page]);
  });

  test('assemblePage takes batches of consecutive cells', () => {
    const batch = tf.concat([1, 2, 3, 4].map((k) => tf.fill([1, 1, 1, 1], k))) as tf.Tensor4D;
    const last = tf.fill([1, 1, 1, 1], 5) as tf.Tensor4D;
    const page = assemblePage([batch, last], {
      width: 3,
      height: 3,
      columns: 3,
      rows: 2,
      tiles: [0, 1, 2, 3, 4],
    });
    expect(Array.from(page.dataSync())).toEqual([1, 2, 3, 4, 5, 0, 0, 0, 0]);
    expect(() =>
      assemblePage([batch], { width: 3, height: 3, columns: 3, rows: 2, tiles: [0, 1, 2, 3, 4] }),
    ).toThrow('a page of 5 tiles needs as many cells, got 4');
    tf.dispose([batch, last, page]);
  });
});

describe('bakeAtlas with a fake decoder', () => {
  test('decodes in batches of stacked latents, one decodeTensors call per batch', async () => {
    const decoder = fakeDecoder();
    const progress: number[][] = [];
    const before = tf.memory().numTensors;
    const result = await bakeAtlas(decoder, {
      count: 10,
      tileSize: 16,
      padding: 4,
      batchSize: 4,
      seed: 5,
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(decoder.calls).toEqual([
      [4, 2, 2, 4],
      [4, 2, 2, 4],
      [2, 2, 2, 4],
    ]);
    expect(progress).toEqual([
      [4, 10],
      [8, 10],
      [10, 10],
    ]);
    // Tile i is the prior sample of seed 5 + i.
    const all = new Float32Array(decoder.latents.flatMap((l) => [...l]));
    for (let i = 0; i < 10; i++) {
      const expected = sampleLatent(5 + i, 2, 2, 4).data;
      expect(all.subarray(i * 16, (i + 1) * 16)).toEqual(expected);
    }
    expect(result.manifest.tiles.map((t) => t.seed)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    expect(result.manifest.model).toBe('fake');
    expect(result.pages).toHaveLength(1);
    expect(result.pages[0]).toMatchObject({ width: 96, height: 72, channels: 3 });
    expect(result.pages[0].data).toHaveLength(96 * 72 * 3);
  });

  test('the default batch size follows the memory budget', async () => {
    const decoder = fakeDecoder({ latentChannels: 3 });
    // The decoder's own estimate of one pass over a 2 x 2 latent grid (16 px tiles at stride 8).
    const perTile = decoder.decodePassBytes(1, 2, 2);
    expect(atlasBatchSize(decoder, 16, 3 * perTile)).toBe(3);
    expect(atlasBatchSize(decoder, 16, 3 * perTile - 1)).toBe(2);
    await bakeAtlas(decoder, { count: 7, tileSize: 16, padding: 0, memoryBudget: 3 * perTile });
    expect(decoder.calls.map((c) => c[0])).toEqual([3, 3, 1]);
    const unbounded = fakeDecoder({ latentChannels: 3 });
    await bakeAtlas(unbounded, { count: 7, tileSize: 16, padding: 0 });
    expect(unbounded.calls.map((c) => c[0])).toEqual([7]);
  });

  test('pages hold each tile at its rect with a circular gutter (tileable) and 8-bit values', async () => {
    const decoder = fakeDecoder({ tileable: true, latentChannels: 3 });
    // A 2x2 latent grid per tile: four distinct colour blocks, so the wrap-around is visible.
    const latents = [0, 1, 2].map((t) => {
      const data = new Float32Array(12);
      for (let k = 0; k < 12; k++) data[k] = ((t * 12 + k) * 7) / 255;
      return { data, height: 2, width: 2, channels: 3 };
    });
    const { pages, manifest } = await bakeAtlas(decoder, { latents, tileSize: 16, padding: 3 });
    const page = pages[0];
    const at = (x: number, y: number) =>
      Array.from(page.data.subarray((y * page.width + x) * 3, (y * page.width + x) * 3 + 3));
    for (const tile of manifest.tiles) {
      expect(tile.latentIndex).toBe(tile.index);
      const { x: rx, y: ry } = tile.rect;
      for (let y = -3; y < 19; y++) {
        for (let x = -3; x < 19; x++) {
          const sy = (y + 16) % 16;
          const sx = (x + 16) % 16;
          const cell = Math.floor(sy / 8) * 2 + Math.floor(sx / 8);
          const expected = [0, 1, 2].map((c) => (tile.index * 12 + cell * 3 + c) * 7);
          expect(at(rx + x, ry + y)).toEqual(expected);
        }
      }
    }
  });

  test('several pages when maxTextureSize is small; bakeAtlasTensors returns float pages the caller owns', async () => {
    const decoder = fakeDecoder({ latentChannels: 3 });
    const latents = Array.from({ length: 5 }, (_, i) => constantLatent(2, 3, [i / 8, 0.5, 1]));
    const before = tf.memory().numTensors;
    const { pages, manifest } = await bakeAtlasTensors(decoder, {
      latents,
      tileSize: 16,
      padding: 8,
      maxTextureSize: 64,
      batchSize: 2,
    });
    // 32 px cells, 2 x 2 per 64 px page: 5 tiles -> pages of 3 and 2.
    expect(manifest.pages).toEqual([
      { width: 64, height: 64 },
      { width: 64, height: 32 },
    ]);
    expect(pages.map((p) => p.shape)).toEqual([
      [1, 64, 64, 3],
      [1, 32, 64, 3],
    ]);
    expect(manifest.tiles.map((t) => t.page)).toEqual([0, 0, 0, 1, 1]);
    const t3 = manifest.tiles[3];
    const pixel = tf.slice(pages[t3.page], [0, t3.rect.y, t3.rect.x, 0], [1, 1, 1, 3]);
    expect(Array.from(pixel.dataSync())).toEqual([3 / 8, 0.5, 1]);
    pixel.dispose();
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose(pages);
  });

  test('rejects bad options with messages that name the allowed values', async () => {
    const decoder = fakeDecoder();
    await expect(bakeAtlas(decoder, { count: 0 })).rejects.toThrow(
      'count must be an integer of at least 1, got 0',
    );
    await expect(bakeAtlas(decoder, { tileSize: 20 })).rejects.toThrow(
      'tileSize must be a multiple of 8 between 8 and 4096, got 20',
    );
    await expect(bakeAtlas(decoder, { tileSize: 32, padding: -1 })).rejects.toThrow(
      'padding must be an integer (gutter pixels, at most half a tile) between 0 and 16, got -1',
    );
    await expect(bakeAtlas(decoder, { tileSize: 32, padding: 17 })).rejects.toThrow('got 17');
    await expect(
      bakeAtlas(decoder, { tileSize: 32, latents: [constantLatent(4, 4, [0]), constantLatent(2, 4, [0])] }),
    ).rejects.toThrow(
      'latents[1] must be 4x4x4 (tileSize 32 / stride 8, 4 latent channels), got 2x2x4 with 16 values',
    );
    await expect(bakeAtlas(decoder, { tileSize: 32, latents: [constantLatent(4, 3, [0])] })).rejects.toThrow(
      'latents[0] must be 4x4x4',
    );
    await expect(
      bakeAtlas(decoder, { tileSize: 32, latents: [constantLatent(4, 4, [0])], count: 3 }),
    ).rejects.toThrow('count must equal latents.length (1) when both are given, got 3');
    await expect(bakeAtlas(decoder, { latents: [] })).rejects.toThrow(
      'latents must hold at least 1 latent grid',
    );
    await expect(bakeAtlas(decoder, { batchSize: 0 })).rejects.toThrow(
      'batchSize must be an integer from 1 to 2730 (512 MiB of decoded 128 px tiles), got 0',
    );
    // 2 GiB of decoded 4096 px RGB tiles would not fit the WASM heap at all.
    await expect(bakeAtlas(decoder, { tileSize: 4096, padding: 0, batchSize: 16 })).rejects.toThrow(
      'batchSize must be an integer from 1 to 2 (512 MiB of decoded 4096 px tiles), got 16',
    );
    expect(decoder.calls).toEqual([]);
  });

  test('planAtlas gives the layout without decoding', () => {
    const decoder = fakeDecoder();
    const plan = planAtlas(decoder, { count: 64, tileSize: 128, padding: 8, maxTextureSize: 1024 });
    expect(plan.pages).toHaveLength(2);
    expect(decoder.calls).toEqual([]);
  });
});

/** Box-filtered mip chain (2x2 averages), as float RGB planes, from an 8-bit page. */
function mipChain(page: PixelImage, levels: number): { width: number; height: number; data: Float64Array }[] {
  const chain = [{ width: page.width, height: page.height, data: Float64Array.from(page.data) }];
  for (let l = 1; l <= levels; l++) {
    const prev = chain[l - 1];
    const width = prev.width >> 1;
    const height = prev.height >> 1;
    const data = new Float64Array(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < 3; c++) {
          const p = (yy: number, xx: number) => prev.data[(yy * prev.width + xx) * 3 + c];
          data[(y * width + x) * 3 + c] =
            (p(2 * y, 2 * x) + p(2 * y, 2 * x + 1) + p(2 * y + 1, 2 * x) + p(2 * y + 1, 2 * x + 1)) / 4;
        }
      }
    }
    chain.push({ width, height, data });
  }
  return chain;
}

const palette = [
  [250, 10, 10],
  [10, 250, 10],
  [10, 10, 250],
  [250, 250, 10],
  [10, 250, 250],
  [250, 10, 250],
  [128, 64, 32],
];

async function constantColourAtlas(padding: number, tileable: boolean) {
  const decoder = fakeDecoder({ latentChannels: 3, tileable });
  const latents = palette.map((c) =>
    constantLatent(
      4,
      3,
      c.map((v) => v / 255),
    ),
  );
  return bakeAtlas(decoder, { latents, tileSize: 32, padding });
}

/** Number of level-`level` texels overlapping a tile's rect whose colour is not the tile's own. */
function foreignTexels(atlas: Awaited<ReturnType<typeof constantColourAtlas>>, level: number): number {
  const chain = mipChain(atlas.pages[0], level);
  const mip = chain[level];
  const s = 2 ** level;
  let bad = 0;
  for (const tile of atlas.manifest.tiles) {
    const { x, y, width, height } = tile.rect;
    for (let ty = Math.floor(y / s); ty <= Math.floor((y + height - 1) / s); ty++) {
      for (let tx = Math.floor(x / s); tx <= Math.floor((x + width - 1) / s); tx++) {
        for (let c = 0; c < 3; c++) {
          if (Math.abs(mip.data[(ty * mip.width + tx) * 3 + c] - palette[tile.index][c]) > 1e-9) bad++;
        }
      }
    }
  }
  return bad;
}

/** Bilinear sample (clamp to edge) of mip level `level` at Babylon UV (u, v), v = 0 at the image bottom. */
function sampleBilinear(chain: ReturnType<typeof mipChain>, level: number, u: number, v: number): number[] {
  const m = chain[level];
  const fx = u * m.width - 0.5;
  const fy = (1 - v) * m.height - 0.5;
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  const ax = fx - x0;
  const ay = fy - y0;
  const texel = (x: number, y: number, c: number) => {
    const cx = Math.min(m.width - 1, Math.max(0, x));
    const cy = Math.min(m.height - 1, Math.max(0, y));
    return m.data[(cy * m.width + cx) * 3 + c];
  };
  return [0, 1, 2].map(
    (c) =>
      (1 - ay) * ((1 - ax) * texel(x0, y0, c) + ax * texel(x0 + 1, y0, c)) +
      ay * ((1 - ax) * texel(x0, y0 + 1, c) + ax * texel(x0 + 1, y0 + 1, c)),
  );
}

describe('mip safety', () => {
  test('no neighbour colour reaches any tile rect down to level floor(log2(padding + 1))', async () => {
    for (const tileable of [false, true]) {
      for (const padding of [1, 3, 5, 8]) {
        const atlas = await constantColourAtlas(padding, tileable);
        const levels = safeMipLevel(padding);
        expect(atlas.manifest.safeMipLevel).toBe(levels);
        for (let level = 0; level <= levels; level++) expect(foreignTexels(atlas, level)).toBe(0);
      }
    }
  });

  test('the bound is tight: one level deeper, a neighbour bleeds in (padding 5, cell 42)', async () => {
    const atlas = await constantColourAtlas(5, false);
    expect(safeMipLevel(5)).toBe(2);
    expect(foreignTexels(atlas, 3)).toBeGreaterThan(0);
  });

  test('bilinear sampling inside the inset UV rects sees only the tile down to safeSampledMipLevel', async () => {
    for (const padding of [2, 5, 8]) {
      const atlas = await constantColourAtlas(padding, false);
      const levels = safeSampledMipLevel(padding);
      const chain = mipChain(atlas.pages[0], levels);
      let worst = 0;
      for (const tile of atlas.manifest.tiles) {
        const { u0, v0, u1, v1 } = tile.uv;
        for (let k = 0; k <= 16; k++) {
          const t = k / 16;
          const points = [
            [u0 + t * (u1 - u0), v0],
            [u0 + t * (u1 - u0), v1],
            [u0, v0 + t * (v1 - v0)],
            [u1, v0 + t * (v1 - v0)],
          ];
          for (let level = 0; level <= levels; level++) {
            for (const [u, v] of points) {
              const got = sampleBilinear(chain, level, u, v);
              got.forEach((g, c) => {
                worst = Math.max(worst, Math.abs(g - palette[tile.index][c]));
              });
            }
          }
        }
      }
      expect(worst).toBeLessThan(1e-6);
    }
  });
});
