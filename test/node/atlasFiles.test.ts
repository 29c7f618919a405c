import '@tensorflow/tfjs-backend-cpu';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { bakeAtlas } from '../../src/atlas/bakeAtlas.js';
import { readAtlas, writeAtlas } from '../../src/node/atlasFiles.js';
import { constantLatent, fakeDecoder } from './atlasFakeDecoder.js';

let dir: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'bvt-atlas-files-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function smallAtlas(maxTextureSize: number, outputChannels: 3 | 4 = 3) {
  const decoder = fakeDecoder({ latentChannels: 4, outputChannels });
  const latents = Array.from({ length: 5 }, (_, i) => constantLatent(2, 4, [i / 5, 0.25, 0.75, 1]));
  return bakeAtlas(decoder, { latents, tileSize: 16, padding: 4, maxTextureSize });
}

describe('writeAtlas / readAtlas', () => {
  test('one page: <prefix>.png + <prefix>.json; reading back gives the same rects, UVs and pixels', async () => {
    const atlas = await smallAtlas(4096);
    const prefix = join(dir, 'one', 'atlas');
    const paths = writeAtlas(prefix, atlas);
    expect(paths).toEqual({ pages: [`${prefix}.png`], manifest: `${prefix}.json` });
    const json = JSON.parse(readFileSync(`${prefix}.json`, 'utf8'));
    expect(json.pages[0].file).toBe('atlas.png');
    const back = readAtlas(`${prefix}.json`);
    expect(back.manifest.tiles).toEqual(atlas.manifest.tiles);
    expect(back.manifest.model).toBe('fake');
    expect(back.pages[0]).toMatchObject({
      width: atlas.pages[0].width,
      height: atlas.pages[0].height,
      channels: 3,
    });
    expect(Buffer.from(back.pages[0].data).equals(Buffer.from(atlas.pages[0].data))).toBe(true);
  });

  test('several pages: <prefix>-<page>.png, RGBA kept', async () => {
    const atlas = await smallAtlas(48, 4);
    expect(atlas.pages.length).toBe(2);
    const prefix = join(dir, 'multi');
    const paths = writeAtlas(prefix, atlas);
    expect(paths.pages).toEqual([`${prefix}-0.png`, `${prefix}-1.png`]);
    const back = readAtlas(paths.manifest);
    expect(back.manifest.pages.map((p) => p.file)).toEqual(['multi-0.png', 'multi-1.png']);
    expect(back.manifest.tiles.map((t) => [t.page, t.rect])).toEqual(
      atlas.manifest.tiles.map((t) => [t.page, t.rect]),
    );
    back.pages.forEach((page, i) => {
      expect(page.channels).toBe(4);
      expect(Buffer.from(page.data).equals(Buffer.from(atlas.pages[i].data))).toBe(true);
    });
  });

  test('never overwrites without force, checking every file before writing any', async () => {
    const atlas = await smallAtlas(4096);
    const prefix = join(dir, 'keep');
    writeFileSync(`${prefix}.json`, 'mine');
    expect(() => writeAtlas(prefix, atlas)).toThrow(
      `${prefix}.json already exists; pass force: true (--force) to overwrite it`,
    );
    expect(existsSync(`${prefix}.png`)).toBe(false);
    expect(readFileSync(`${prefix}.json`, 'utf8')).toBe('mine');
    writeAtlas(prefix, atlas, { force: true });
    expect(statSync(`${prefix}.png`).size).toBeGreaterThan(0);
    expect(readAtlas(`${prefix}.json`).manifest.tiles).toHaveLength(5);
  });

  test('an unwritable output path gives an error naming it', async () => {
    const atlas = await smallAtlas(4096);
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    expect(() => writeAtlas(join(file, 'atlas'), atlas)).toThrow(`cannot write the atlas to ${file}: `);
  });

  test('readAtlas names a broken manifest or a page of the wrong size', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ version: 2 }));
    expect(() => readAtlas(bad)).toThrow(`${bad}: version must be 1, got 2`);
    const atlas = await smallAtlas(4096);
    const prefix = join(dir, 'resized');
    writeAtlas(prefix, atlas);
    const json = JSON.parse(readFileSync(`${prefix}.json`, 'utf8'));
    json.pages[0].width += 1;
    writeFileSync(`${prefix}.json`, JSON.stringify(json));
    expect(() => readAtlas(`${prefix}.json`)).toThrow('but the manifest says page 0 is');
  });
});
