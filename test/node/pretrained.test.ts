import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import type { PixelImage } from '../../src/model/pixelImage.js';
import { loadPretrained, loadPretrainedLatents } from '../../src/model/pretrained/pretrained.js';
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

function cropCentre(image: PixelImage, size: number): PixelImage {
  const x0 = (image.width - size) >> 1;
  const y0 = (image.height - size) >> 1;
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++)
        data[(y * size + x) * 3 + c] = image.data[((y0 + y) * image.width + x0 + x) * 3 + c];
    }
  }
  return { data, width: size, height: size, channels: 3 };
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

  test('ships named material latents that decode to their material, and morphing is one call', async () => {
    const latents = await loadPretrainedLatents();
    expect(Object.keys(latents)).toEqual(
      expect.arrayContaining(['bricks', 'moss', 'rust', 'wood', 'sand', 'grass', 'rock', 'metal']),
    );
    expect(Object.keys(latents)).toHaveLength(17);
    const model = await loadPretrained();
    const { bricks, moss } = latents;
    expect(bricks.channels).toBe(model.latentChannels);
    // Each named latent decodes to its own photo's colours: the decoded mean colour is nearest to the mean
    // colour of the centre crop it was encoded from, among all the shipped photos.
    const index = JSON.parse(
      readFileSync(new URL('../../src/model/pretrained/default/materials.json', import.meta.url), 'utf8'),
    );
    const photoMean = (file: string) => meanOf(cropCentre(readPng(join(textures, file)), index.crop).data);
    const photos = new Map<string, number[]>(
      index.materials.map((m: { name: string; source: string }) => [m.name, photoMean(m.source)]),
    );
    let nearestOwn = 0;
    for (const [name, latent] of Object.entries(latents)) {
      const decoded = meanOf((await model.decode(latent)).data);
      const nearest = [...photos.entries()].sort((a, b) => dist(a[1], decoded) - dist(b[1], decoded))[0][0];
      if (nearest === name) nearestOwn++;
      expect(dist(photos.get(name) as number[], decoded)).toBeLessThan(50);
    }
    expect(nearestOwn).toBeGreaterThanOrEqual(12);
    const halfway = model.interpolate(bricks, moss, 0.5);
    expect(halfway.height).toBe(bricks.height);
    model.dispose();
  });

  test('an unknown model id is refused with the allowed ids', async () => {
    await expect(loadPretrained('stone' as 'default')).rejects.toThrow(
      "unknown pretrained model 'stone'; allowed: default",
    );
  });
});
