import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { afterAll, expect, test } from 'vitest';
import { readExemplarFile } from '../../src/node/exemplarFiles.js';

const dir = mkdtempSync(join(tmpdir(), 'bvt-exemplar-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('reads a JPEG file by its content into RGB pixels close to what was encoded', async () => {
  const width = 24;
  const height = 16;
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) rgba.set([x * 10, y * 15, 128, 255], (y * width + x) * 4);
  }
  const path = join(dir, 'photo.dat');
  writeFileSync(path, jpeg.encode({ data: rgba, width, height }, 95).data);
  const image = await readExemplarFile(path);
  expect(image).toMatchObject({ width, height, channels: 3 });
  let worst = 0;
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(image.data[i * 3 + c] - rgba[i * 4 + c]));
  }
  expect(worst).toBeLessThan(16);
});

test('a broken JPEG names the file', async () => {
  const path = join(dir, 'broken.jpg');
  writeFileSync(path, new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16]));
  await expect(readExemplarFile(path)).rejects.toThrow(`${path} is not a readable JPEG image`);
});
