import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { run } from '../../cli/eval.js';
import { SeededRandom } from '../../src/latent/random.js';
import { TextureVae } from '../../src/model/textureVae.js';
import { fileSystemHandler } from '../../src/node/fileHandler.js';
import { writePng } from '../../src/node/png.js';
import { useWasmBackend } from '../../src/node/wasmBackend.js';

const exec = promisify(execFile);
let dir: string;
let modelDir: string;
let imagesDir: string;

/** A non-tileable 8-bit test photo: smoothed random colour blobs plus a horizontal gradient. */
function blobs(size: number, seed: number) {
  const rng = new SeededRandom(seed);
  const data = new Uint8Array(size * size * 3);
  const centres = Array.from({ length: 40 }, () => [
    rng.next() * size,
    rng.next() * size,
    3 + rng.next() * 12,
  ]);
  const colours = centres.map(() => [rng.next(), rng.next(), rng.next()]);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        let v = (0.4 * x) / size;
        centres.forEach(([cx, cy, r], i) => {
          v += 0.5 * colours[i][c] * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r));
        });
        data[(y * size + x) * 3 + c] = Math.round(255 * Math.min(1, v + 0.05 * rng.gaussian() + 0.2));
      }
    }
  }
  return { data, width: size, height: size, channels: 3 as const };
}

beforeAll(async () => {
  await useWasmBackend();
  dir = mkdtempSync(join(tmpdir(), 'bvt-cli-eval-'));
  modelDir = join(dir, 'model');
  imagesDir = join(dir, 'images');
  mkdirSync(imagesDir);
  const model = TextureVae.create(
    { stride: 4, latentChannels: 2, encoderWidths: [4, 4, 4], decoderWidths: [6, 4, 4], name: 'tiny' },
    { seed: 5 },
  );
  await model.save(fileSystemHandler(modelDir));
  model.dispose();
  writePng(join(imagesDir, 'a.png'), blobs(128, 1));
  writePng(join(imagesDir, 'b.png'), blobs(96, 2));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('eval command', () => {
  test('end to end through bin/: both tables with a row per image and the results section', async () => {
    const results = join(dir, 'RESULTS.md');
    const args = [
      '--model',
      modelDir,
      '--images',
      imagesDir,
      '--size',
      '64',
      '--quick',
      '--results',
      results,
    ];
    const { stdout, stderr } = await exec(process.execPath, ['bin/babylon-vae-textures.js', 'eval', ...args]);
    expect(stderr).toContain('2/2');
    expect(stdout).toContain(
      "### Texture quality: model 'tiny' (stride 4, 2 latent channels; 16x16x2 latent for 64 px)",
    );
    const rows = stdout.split('\n').filter((l) => /^\| (a|b|\*\*mean\*\*) \|/.test(l));
    expect(rows).toHaveLength(6);
    // Reconstruction: a (128 px) has 64 and 128 px crops, b (96 px) only 64; no 256 px crops.
    const cells = (row: string) =>
      row
        .split('|')
        .slice(2, -1)
        .map((c) => c.trim());
    const [a, b, m] = rows.slice(0, 3).map(cells);
    expect(a[0]).toMatch(/^\d+\.\d\d \/ -?0\.\d{3}$/);
    expect(a[1]).toMatch(/^\d+\.\d\d \/ -?0\.\d{3}$/);
    expect(a[2]).toBe('-');
    expect(b[1]).toBe('-');
    expect(a[3]).toMatch(/^\d+\.\d\d \/ 0\.\d{3}( \(k = \d+\))?$/);
    expect(m[0]).not.toBe('-');
    expect(stdout).toContain('PCA 64 (k = 512)');
    // At most 95 components from the 96 quick-mode training crops.
    expect(a[3]).toMatch(/\(k = (9[0-5]|[1-8]?\d)\)$/);
    // Realism: every cell a number; a random-weight decoder is far from the exemplar, real crops close.
    const [ra, rb] = rows.slice(3, 5).map((r) => cells(r).map(Number));
    for (const v of [...ra, ...rb]) expect(Number.isFinite(v)).toBe(true);
    const [sample, , , , crop, , , sampleSeam, , cropSeam] = ra;
    expect(sample).toBeGreaterThan(crop);
    expect(sampleSeam).toBeLessThan(1.5);
    expect(cropSeam).toBeGreaterThan(sampleSeam);
    expect(stdout).toContain(`Command: \`npm run eval -- ${args.join(' ')}\``);
    const written = readFileSync(results, 'utf8');
    expect(written).toContain('<!-- eval:start -->');
    expect(written).toContain("model 'tiny'");
  });

  test('validates its arguments before loading anything', async () => {
    await expect(run(['--model', modelDir])).rejects.toThrow('--images <dir> is required');
    await expect(run(['--model', modelDir, '--images', join(dir, 'nothing')])).rejects.toThrow(
      `--images ${join(dir, 'nothing')} is not a folder`,
    );
    await expect(run(['--model', join(dir, 'nothing'), '--images', imagesDir])).rejects.toThrow(
      'holds no model.json',
    );
    await expect(
      run(['--model', modelDir, '--images', imagesDir, '--size', '96', '--no-results']),
    ).rejects.toThrow(
      `${join(imagesDir, 'b.png')} is 96x96; exemplars must be larger than --size 96 on both sides`,
    );
  });
});
