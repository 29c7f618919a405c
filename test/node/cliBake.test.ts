import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { run } from '../../cli/bake.js';
import { Swatch } from '../../src/latent/swatch.js';
import { TextureVae } from '../../src/model/textureVae.js';
import { readAtlas } from '../../src/node/atlasFiles.js';
import { fileSystemHandler } from '../../src/node/fileHandler.js';
import { writeSwatchFile } from '../../src/node/swatchFiles.js';
import { useWasmBackend } from '../../src/node/wasmBackend.js';

const exec = promisify(execFile);
let dir: string;
let modelDir: string;

beforeAll(async () => {
  await useWasmBackend();
  dir = mkdtempSync(join(tmpdir(), 'bvt-cli-bake-'));
  modelDir = join(dir, 'model');
  const model = TextureVae.create(
    { stride: 4, latentChannels: 2, encoderWidths: [4, 4, 4], decoderWidths: [6, 4, 4], name: 'tiny' },
    { seed: 3 },
  );
  await model.save(fileSystemHandler(modelDir));
  model.dispose();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('bake command', () => {
  test('--swatch bakes swatch samples: tile i is the decode of swatch.sample with seed + i', async () => {
    const model = await TextureVae.load(fileSystemHandler(modelDir));
    const swatch = Swatch.fromLatent(model, model.sample({ width: 64, height: 64, seed: 8 }), {
      name: 'blobs',
    });
    const file = join(dir, 'blobs.swatch');
    writeSwatchFile(file, swatch);
    const out = join(dir, 'swatched');
    const args = [
      '--model',
      modelDir,
      '--swatch',
      file,
      '--count',
      '3',
      '--tile-size',
      '16',
      '--padding',
      '0',
    ];
    expect(await run([...args, '--seed', '6', '--out', out])).toBe(0);
    const { pages, manifest } = readAtlas(`${out}.json`);
    for (const tile of manifest.tiles) {
      expect(tile.swatch).toBe('blobs');
      expect(tile.seed).toBe(6 + tile.index);
      const expected = await model.decode(swatch.sample({ width: 16, seed: tile.seed }));
      let worst = 0;
      for (let y = 0; y < 16; y++) {
        for (let x = 0; x < 16; x++) {
          for (let c = 0; c < 3; c++) {
            const got = pages[0].data[((tile.rect.y + y) * pages[0].width + tile.rect.x + x) * 3 + c];
            worst = Math.max(worst, Math.abs(got - expected.data[(y * 16 + x) * 3 + c]));
          }
        }
      }
      expect(worst).toBeLessThanOrEqual(1);
    }
    await expect(run([...args, '--temperature', '2', '--out', join(dir, 'x')])).rejects.toThrow(
      '--swatch cannot be combined with --temperature',
    );
    await expect(run([...args.slice(0, 3), 'bricks', '--out', join(dir, 'x')])).rejects.toThrow(
      '--swatch bricks names a swatch of the embedded model; use it with --model default',
    );
    model.dispose();
  });

  test('end to end through bin/: writes the PNG and the manifest, then refuses to overwrite without --force', async () => {
    const out = join(dir, 'out', 'atlas');
    const args = [
      'bin/babylon-vae-textures.js',
      'bake',
      '--model',
      modelDir,
      '--count',
      '5',
      '--tile-size',
      '16',
    ];
    const more = ['--padding', '2', '--seed', '1', '--out', out];
    const first = await exec(process.execPath, [...args, ...more]);
    expect(first.stdout.trim().split('\n')).toEqual([`${out}.png`, `${out}.json`]);
    expect(first.stderr).toContain('bake [');
    expect(first.stderr).toContain('5/5');
    const { pages, manifest } = readAtlas(`${out}.json`);
    expect(manifest.model).toBe('tiny');
    expect(manifest.tiles.map((t) => t.seed)).toEqual([1, 2, 3, 4, 5]);
    expect(manifest.tiles[4].rect).toEqual({ x: 20 + 2, y: 20 + 2, width: 16, height: 16 });
    expect(pages[0]).toMatchObject({ width: 60, height: 40, channels: 3 });

    const refused = await exec(process.execPath, [...args, ...more]).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(refused?.code).toBe(1);
    expect(refused?.stderr).toContain(
      `${out}.png already exists; pass force: true (--force) to overwrite it`,
    );
    const forced = await exec(process.execPath, [...args, ...more, '--force', '--seed', '7']);
    expect(forced.stdout).toContain(`${out}.json`);
    expect(readAtlas(`${out}.json`).manifest.tiles[0].seed).toBe(7);
  });

  test('the decoded tiles are the model’s own decodes of the seeded prior samples', async () => {
    const out = join(dir, 'check');
    expect(
      await run([
        '--model',
        modelDir,
        '--count',
        '3',
        '--tile-size',
        '8',
        '--padding',
        '0',
        '--seed',
        '4',
        '--out',
        out,
      ]),
    ).toBe(0);
    const { pages, manifest } = readAtlas(`${out}.json`);
    const model = await TextureVae.load(fileSystemHandler(modelDir));
    const before = tf.memory().numTensors;
    for (const tile of manifest.tiles) {
      const expected = await model.decode(model.sample({ width: 8, height: 8, seed: tile.seed }));
      let worst = 0;
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          for (let c = 0; c < 3; c++) {
            const got = pages[0].data[((tile.rect.y + y) * pages[0].width + tile.rect.x + x) * 3 + c];
            worst = Math.max(worst, Math.abs(got - expected.data[(y * 8 + x) * 3 + c]));
          }
        }
      }
      expect(worst).toBeLessThanOrEqual(1);
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  test('bad input fails before any work with a message naming the option', async () => {
    const out = join(dir, 'bad');
    const base = ['--model', modelDir, '--out', out];
    await expect(run([...base, '--count', '0'])).rejects.toThrow(
      'count must be an integer of at least 1, got 0',
    );
    await expect(run([...base, '--tile-size', '18'])).rejects.toThrow(
      'tileSize must be a multiple of 4 between 4 and 4096, got 18',
    );
    await expect(run([...base, '--tile-size', '16', '--padding', '9'])).rejects.toThrow(
      'padding must be an integer (gutter pixels, at most half a tile) between 0 and 8, got 9',
    );
    await expect(run([...base, '--padding=-1'])).rejects.toThrow('got -1');
    await expect(run([...base, '--count', 'many'])).rejects.toThrow('--count must be an integer, got "many"');
    await expect(run(['--model', modelDir])).rejects.toThrow('--out <prefix> is required');
    await expect(run(['--model', join(dir, 'nothing'), '--out', out])).rejects.toThrow('holds no model.json');
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    await expect(
      run(['--model', modelDir, '--tile-size', '8', '--padding', '2', '--out', join(file, 'atlas')]),
    ).rejects.toThrow(`cannot write the atlas to ${file}: a file is in the way of that folder`);
  });
});
