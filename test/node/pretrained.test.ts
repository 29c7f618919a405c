import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { run as sampleCommand } from '../../cli/sample.js';
import { Swatch } from '../../src/latent/swatch.js';
import {
  loadPretrained,
  loadPretrainedSwatches,
  pretrainedSwatch,
  pretrainedSwatchNames,
} from '../../src/model/pretrained/pretrained.js';
import { readPng } from '../../src/node/png.js';
import { useWasmBackend } from '../../src/node/wasmBackend.js';

const textures = fileURLToPath(new URL('../../assets/textures/', import.meta.url));

function meanOf(data: ArrayLike<number>): number[] {
  const sum = [0, 0, 0];
  for (let i = 0; i < data.length; i++) sum[i % 3] += data[i];
  return sum.map((v) => v / (data.length / 3));
}

function dist(a: number[], b: number[]): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

beforeAll(async () => {
  await useWasmBackend();
});

describe('embedded default model', () => {
  test('loads offline in Node with no argument and decodes a tileable texture', async () => {
    const before = tf.memory().numTensors;
    const model = await loadPretrained();
    expect(model.config.name).toBe('default');
    expect(model.config.tileable).toBe(true);
    const image = await model.decode(model.sample({ width: 64, height: 64, seed: 1 }));
    expect(image).toMatchObject({ width: 64, height: 64, channels: 3 });
    const values = Array.from(image.data);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const spread = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    expect(spread).toBeGreaterThan(1); // a texture, not a flat colour
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('ships one swatch per training photo, made from the whole photo, whose samples look like it', async () => {
    const swatches = await loadPretrainedSwatches();
    const names = pretrainedSwatchNames();
    expect(Object.keys(swatches)).toEqual(names);
    expect(names).toHaveLength(17);
    expect(names).toEqual(
      expect.arrayContaining(['bricks', 'moss', 'rust', 'wood', 'sand', 'grass', 'rock']),
    );
    expect(Object.getPrototypeOf(swatches)).toBe(null);
    for (const name of ['__proto__', 'toString', 'nosuch']) {
      expect(() => pretrainedSwatch(swatches, name)).toThrow(`unknown swatch '${name}'; allowed: bricks, `);
    }
    const index = JSON.parse(
      readFileSync(new URL('../../src/model/pretrained/default/swatches.json', import.meta.url), 'utf8'),
    );
    const bin = new URL('../../src/model/pretrained/default/swatches.bin', import.meta.url);
    expect(statSync(bin).size).toBeLessThan(1.2e6); // 17 float16 grids of 64x64x8
    const model = await loadPretrained();
    const photoMean = (file: string) => meanOf(readPng(join(textures, file)).data);
    const photos = new Map<string, number[]>(
      index.swatches.map((s: { name: string; source: string }) => [s.name, photoMean(s.source)]),
    );
    // Each swatch's samples decode to its own photo's colours: nearest, among all the shipped photos, to the
    // mean colour of the photo it was made from.
    let nearestOwn = 0;
    for (const name of names) {
      const swatch = swatches[name];
      expect(swatch).toBeInstanceOf(Swatch);
      expect(swatch.isFor(model)).toBe(true);
      expect(swatch.name).toBe(name);
      expect(swatch.source).toEqual({ width: 512, height: 512 });
      expect(swatch.latent).toMatchObject({ height: 64, width: 64, channels: model.latentChannels });
      const decoded = meanOf((await model.decode(swatch.sample({ width: 128, seed: 1 }))).data);
      const nearest = [...photos.entries()].sort((a, b) => dist(a[1], decoded) - dist(b[1], decoded))[0][0];
      if (nearest === name) nearestOwn++;
      expect(dist(photos.get(name) as number[], decoded)).toBeLessThan(50);
    }
    expect(nearestOwn).toBeGreaterThanOrEqual(12);
    const [bricks, moss] = Swatch.sampleAligned([swatches.bricks, swatches.moss], { width: 64, seed: 2 });
    expect(model.interpolate(bricks, moss, 0.5).height).toBe(8);
    model.dispose();
  });

  test('sample --swatch takes an embedded swatch name, with the embedded model only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bvt-pretrained-'));
    const out = join(dir, 'bricks');
    const write = process.stdout.write;
    process.stdout.write = () => true;
    try {
      expect(
        await sampleCommand([
          '--swatch',
          'bricks',
          '--size',
          '64',
          '--count',
          '2',
          '--seed',
          '4',
          '--out',
          out,
        ]),
      ).toBe(0);
      const model = await loadPretrained();
      const swatches = await loadPretrainedSwatches();
      const expected = await model.decode(swatches.bricks.sample({ width: 64, seed: 5 }));
      expect(readPng(`${out}-1.png`).data).toEqual(expected.data);
      model.dispose();
      await expect(
        sampleCommand(['--swatch', 'bricks', '--model', join(dir, 'nomodel'), '--out', join(dir, 'x')]),
      ).rejects.toThrow();
    } finally {
      process.stdout.write = write;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unknown model id is refused with the allowed ids', async () => {
    await expect(loadPretrained('stone' as 'default')).rejects.toThrow(
      "unknown pretrained model 'stone'; allowed: default",
    );
  });
});
