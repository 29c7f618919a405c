import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, test } from 'vitest';

import { type Exemplar, toExemplars } from '../../src/model/exemplars.js';
import { PatchSampler } from '../../src/model/patches.js';

/** A width x height RGB exemplar whose pixel (x, y) is (x, y, index) / 255, so patches reveal their source. */
function coordinateImage(width: number, height: number, index = 0): Exemplar {
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data.set([x / 255, y / 255, index / 255], (y * width + x) * 3);
    }
  }
  return { data, width, height, channels: 3 };
}

function pixel(
  values: Float32Array | Int32Array | Uint8Array,
  size: number,
  b: number,
  i: number,
  j: number,
) {
  const at = ((b * size + i) * size + j) * 3;
  return [0, 1, 2].map((c) => Math.round(values[at + c] * 255));
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('PatchSampler', () => {
  test('same seed gives the same batches; another seed differs', () => {
    const images = [coordinateImage(40, 30)];
    const a = new PatchSampler(images, { size: 8 }, 5);
    const b = new PatchSampler(images, { size: 8 }, 5);
    const c = new PatchSampler(images, { size: 8 }, 6);
    for (let k = 0; k < 3; k++) {
      const [pa, pb, pc] = [a.sample(4), b.sample(4), c.sample(4)];
      expect(pa.shape).toEqual([4, 8, 8, 3]);
      expect(Array.from(pa.dataSync())).toEqual(Array.from(pb.dataSync()));
      expect(Array.from(pa.dataSync())).not.toEqual(Array.from(pc.dataSync()));
      tf.dispose([pa, pb, pc]);
    }
  });

  test('without augmentation a patch is an exact crop, wrapping around the edges', () => {
    const size = 16;
    const sampler = new PatchSampler([coordinateImage(20, 18)], { size, flips: false, turns: false }, 1);
    const batch = sampler.sample(32);
    const v = batch.dataSync() as Float32Array;
    let wrapped = 0;
    for (let b = 0; b < 32; b++) {
      const [x0, y0] = pixel(v, size, b, 0, 0);
      for (let i = 0; i < size; i++) {
        for (let j = 0; j < size; j++) {
          expect(pixel(v, size, b, i, j)).toEqual([(x0 + j) % 20, (y0 + i) % 18, 0]);
        }
      }
      if (x0 + size > 20 || y0 + size > 18) wrapped++;
    }
    expect(wrapped).toBeGreaterThan(0);
    batch.dispose();
  });

  test('without wrapping every crop lies inside the image', () => {
    const size = 8;
    const sampler = new PatchSampler(
      [coordinateImage(12, 10)],
      { size, tileable: false, flips: false, turns: false },
      2,
    );
    const batch = sampler.sample(64);
    const v = batch.dataSync() as Float32Array;
    for (let b = 0; b < 64; b++) {
      const [x0, y0] = pixel(v, size, b, 0, 0);
      expect(x0).toBeLessThanOrEqual(12 - size);
      expect(y0).toBeLessThanOrEqual(10 - size);
      expect(pixel(v, size, b, size - 1, size - 1)).toEqual([x0 + size - 1, y0 + size - 1, 0]);
    }
    batch.dispose();
  });

  test('flips and turns only rearrange the pixels of a crop, and all 8 orientations occur', () => {
    const size = 4;
    const sampler = new PatchSampler([coordinateImage(64, 64)], { size, tileable: false }, 3);
    const batch = sampler.sample(200);
    const v = batch.dataSync() as Float32Array;
    const orientations = new Set<string>();
    for (let b = 0; b < 200; b++) {
      const corners = [
        pixel(v, size, b, 0, 0),
        pixel(v, size, b, 0, size - 1),
        pixel(v, size, b, size - 1, 0),
      ];
      const xs = corners.map((p) => p[0]);
      const ys = corners.map((p) => p[1]);
      const dx = [xs[1] - xs[0], ys[1] - ys[0]];
      const dy = [xs[2] - xs[0], ys[2] - ys[0]];
      // Along a row and down a column the patch steps by size - 1 along perpendicular image axes.
      expect(Math.abs(dx[0]) + Math.abs(dx[1])).toBe(size - 1);
      expect(Math.abs(dy[0]) + Math.abs(dy[1])).toBe(size - 1);
      expect(Math.abs(dx[0] * dy[0] + dx[1] * dy[1])).toBe(0);
      orientations.add(`${dx}|${dy}`);
    }
    expect(orientations.size).toBe(8);
    batch.dispose();
  });

  test('draws from every exemplar', () => {
    const sampler = new PatchSampler(
      [coordinateImage(8, 8, 0), coordinateImage(8, 8, 1), coordinateImage(8, 8, 2)],
      {
        size: 4,
      },
    );
    const batch = sampler.sample(30);
    const v = batch.dataSync() as Float32Array;
    const seen = new Set<number>();
    for (let b = 0; b < 30; b++) seen.add(pixel(v, 4, b, 0, 0)[2]);
    expect([...seen].sort()).toEqual([0, 1, 2]);
    batch.dispose();
  });

  test('validates its inputs', () => {
    expect(() => new PatchSampler([], { size: 8 })).toThrow(
      'at least one exemplar image is needed, got none',
    );
    expect(() => new PatchSampler([coordinateImage(8, 8)], { size: 0 })).toThrow(
      'patch size must be an integer from 1 to 4096, got 0',
    );
    expect(() => new PatchSampler([coordinateImage(8, 6)], { size: 8, tileable: false })).toThrow(
      'exemplar 0 is 8 x 6, smaller than the 8-pixel patches',
    );
    const rgba: Exemplar = { data: new Float32Array(64 * 4), width: 8, height: 8, channels: 4 };
    expect(() => new PatchSampler([coordinateImage(8, 8), rgba], { size: 4 })).toThrow(
      'exemplar 1 has 4 channels, exemplar 0 has 3; all must match',
    );
    expect(() => new PatchSampler([coordinateImage(8, 8)], { size: 4 }).sample(0)).toThrow(
      'patch count must be an integer from 1 to 4096, got 0',
    );
  });
});

describe('toExemplars', () => {
  test('converts PixelImages, ImageData-like RGBA and tensors to floats in [0, 1]', async () => {
    const rgb = {
      data: new Uint8Array([0, 51, 255, 255, 0, 102]),
      width: 2,
      height: 1,
      channels: 3 as const,
    };
    const [a] = await toExemplars(rgb);
    expect(Array.from(a.data)).toEqual([0, 0.2, 1, 1, 0, 0.4].map((x) => Math.fround(x)));
    const imageData = { data: new Uint8ClampedArray([255, 0, 0, 128]), width: 1, height: 1 };
    const [b] = await toExemplars(imageData as unknown as ImageData, { channels: 4 });
    expect(b.channels).toBe(4);
    expect(Array.from(b.data)).toEqual([1, 0, 0, Math.fround(128 / 255)]);
    const [c] = await toExemplars(rgb, { channels: 4 });
    expect(Array.from(c.data.slice(0, 4))).toEqual([0, Math.fround(0.2), 1, 1]);

    const before = tf.memory().numTensors;
    const unit = tf.tensor3d([0, 0.5, 1, 0.25, 0.75, 1], [1, 2, 3]);
    const bytes = tf.tensor4d([0, 255, 51, 0, 0, 0, 255, 255, 255, 1, 2, 3], [2, 1, 2, 3], 'int32');
    const [d] = await toExemplars(unit);
    expect(Array.from(d.data)).toEqual([0, 0.5, 1, 0.25, 0.75, 1]);
    const batch = await toExemplars([unit, bytes]);
    expect(batch.length).toBe(3);
    expect(Array.from(batch[1].data)).toEqual([0, 1, 0.2, 0, 0, 0].map((x) => Math.fround(x)));
    const [e] = await toExemplars(tf.tensor3d([0, 255, 0], [1, 1, 3]), { range: 'byte' });
    expect(Array.from(e.data)).toEqual([0, 1, 0]);
    expect(unit.isDisposed).toBe(false);
    tf.dispose([unit, bytes]);
    expect(tf.memory().numTensors).toBe(before + 1);
  });

  test('rejects bad sources with clear errors', async () => {
    await expect(toExemplars([])).rejects.toThrow('at least one exemplar image is needed, got none');
    const t2 = tf.zeros([4, 4]);
    await expect(toExemplars(t2)).rejects.toThrow(
      'exemplar must be a tensor of rank 3 [H, W, C] or 4 [N, H, W, C], got rank 2',
    );
    const t5 = tf.zeros([4, 4, 5]);
    await expect(toExemplars([t5, t5])).rejects.toThrow(
      'exemplar 0 must have 3 (RGB) or 4 (RGBA) channels, got 5',
    );
    const big = tf.fill([1, 1, 3], 2);
    await expect(toExemplars(big)).rejects.toThrow(
      'exemplar values must be in [0, 1], got 2 at pixel 0 channel 0',
    );
    await expect(toExemplars(big, { range: 'byte' })).resolves.toHaveLength(1);
    await expect(toExemplars({ data: new Uint8Array(5), width: 2, height: 1, channels: 3 })).rejects.toThrow(
      'exemplar must hold width*height*channels = 6 values, got 5',
    );
    await expect(toExemplars({ data: new Uint8Array(0), width: 0, height: 1, channels: 3 })).rejects.toThrow(
      'exemplar must have a positive integer width and height, got 0 x 1',
    );
    await expect(toExemplars('cat.png' as unknown as ImageData)).rejects.toThrow(
      'exemplar must be an image, ImageBitmap, ImageData, PixelImage or tensor, got string',
    );
    tf.dispose([t2, t5, big]);
  });
});
