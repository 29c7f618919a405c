import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { run as encode, materialName } from '../../cli/encode.js';
import { run as sample } from '../../cli/sample.js';
import { TextureVae } from '../../src/model/textureVae.js';
import { fileSystemHandler } from '../../src/node/fileHandler.js';
import { readPng, writePng } from '../../src/node/png.js';
import { useWasmBackend } from '../../src/node/wasmBackend.js';

let dir: string;
let modelDir: string;

beforeAll(async () => {
  await useWasmBackend();
  dir = mkdtempSync(join(tmpdir(), 'bvt-cli-encode-'));
  modelDir = join(dir, 'model');
  const model = TextureVae.create(
    { stride: 4, latentChannels: 2, encoderWidths: [4, 4, 4], decoderWidths: [6, 4, 4], name: 'tiny' },
    { seed: 5 },
  );
  await model.save(fileSystemHandler(modelDir));
  model.dispose();
  mkdirSync(join(dir, 'images'));
  // Two small synthetic exemplars: a gradient and a checker.
  for (const [name, f] of [
    ['red_gradient', (x: number, y: number) => [x * 8, y * 8, 40]],
    ['checker-board', (x: number, y: number) => (((x >> 2) + (y >> 2)) % 2 ? [250, 250, 250] : [10, 10, 10])],
  ] as const) {
    const data = new Uint8Array(32 * 32 * 3);
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) data.set(f(x, y), (y * 32 + x) * 3);
    writePng(join(dir, 'images', `${name}.png`), { data, width: 32, height: 32, channels: 3 });
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const quiet = () => {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
};

describe('encode and sample commands', () => {
  test('material names come from file names as camelCase', () => {
    expect(materialName('/x/rock_cliff-side.png')).toBe('rockCliffSide');
    expect(materialName('bricks_bricks102.png')).toBe('bricksBricks102');
  });

  test('encode writes named latents equal to model.encode of the centre crop, and never overwrites', async () => {
    quiet();
    const images = ['red_gradient', 'checker-board'].map((n) => join(dir, 'images', `${n}.png`));
    const out = join(dir, 'materials');
    const before = tf.memory().numTensors;
    expect(await encode([...images, '--model', modelDir, '--crop', '16', '--out', out])).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    const index = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
    expect(index).toMatchObject({ model: 'tiny', crop: 16, height: 4, width: 4, channels: 2 });
    expect(index.materials.map((m: { name: string }) => m.name)).toEqual(['redGradient', 'checkerBoard']);
    const floats = new Float32Array(new Uint8Array(readFileSync(`${out}.bin`)).buffer);
    expect(floats.length).toBe(2 * 4 * 4 * 2);

    const model = await TextureVae.load(fileSystemHandler(modelDir));
    const full = readPng(images[1]);
    const crop = new Uint8Array(16 * 16 * 3);
    for (let y = 0; y < 16; y++)
      crop.set(full.data.subarray(((8 + y) * 32 + 8) * 3, ((8 + y) * 32 + 24) * 3), y * 48);
    const expected = await model.encode({ data: crop, width: 16, height: 16, channels: 3 });
    model.dispose();
    expect(Array.from(floats.slice(32))).toEqual(Array.from(expected.data));

    await expect(encode([...images, '--model', modelDir, '--crop', '16', '--out', out])).rejects.toThrow(
      `${out}.json exists; pass --force to overwrite it`,
    );
    await expect(
      encode([...images, '--model', modelDir, '--names', 'a', '--out', join(dir, 'x')]),
    ).rejects.toThrow('--names lists 1 names for 2 images; give one name per image');
    await expect(
      encode([...images, '--model', modelDir, '--crop', '64', '--out', join(dir, 'y')]),
    ).rejects.toThrow('--crop 64 is larger than an image of 32x32');
  });

  test('sample writes seeded prior samples as PNGs of the asked size', async () => {
    quiet();
    const out = join(dir, 'samples', 'tex');
    mkdirSync(join(dir, 'samples'));
    expect(
      await sample(['--model', modelDir, '--count', '2', '--size', '24', '--seed', '3', '--out', out]),
    ).toBe(0);
    const a = readPng(`${out}-0.png`);
    const b = readPng(`${out}-1.png`);
    expect(a).toMatchObject({ width: 24, height: 24 });
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(false);
    const model = await TextureVae.load(fileSystemHandler(modelDir));
    const expected = await model.decode(model.sample({ width: 24, height: 24, seed: 3 }));
    model.dispose();
    expect(Buffer.from(a.data).equals(Buffer.from(expected.data))).toBe(true);
    await expect(sample(['--model', modelDir, '--size', '10', '--out', join(dir, 'z')])).rejects.toThrow(
      /multiple of/,
    );
    await expect(sample(['--model', join(dir, 'nowhere'), '--out', join(dir, 'z')])).rejects.toThrow(
      'holds no model.json',
    );
    expect(existsSync(join(dir, 'z-0.png'))).toBe(false);
  });
});
