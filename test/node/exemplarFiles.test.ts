import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { afterAll, expect, test } from 'vitest';
import { toExemplars } from '../../src/model/exemplars.js';
import { readExemplarFile } from '../../src/node/exemplarFiles.js';
import { encodePng, readPng } from '../../src/node/png.js';

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

/** A real PNG whose IHDR is rewritten to declare `width` x `height` (its CRC no longer matches). */
function pngDeclaring(name: string, width: number, height: number): string {
  const bytes = encodePng({ data: new Uint8Array(3), width: 1, height: 1, channels: 3 });
  bytes.writeUInt32BE(width, 16);
  bytes.writeUInt32BE(height, 20);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** SOI, a baseline frame header declaring `width` x `height`, EOI: no image data at all. */
function jpegDeclaring(name: string, width: number, height: number): string {
  const frame = [0xff, 0xc0, 0, 17, 8, height >> 8, height & 255, width >> 8, width & 255, 3];
  const components = [1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0];
  const path = join(dir, name);
  writeFileSync(
    path,
    new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, ...frame, ...components, 0xff, 0xd9]),
  );
  return path;
}

const limits = 'an exemplar may have at most 16384 pixels a side and 16777216 pixels in all (4096x4096)';

test('an image whose header declares too many pixels is refused from the header, before decoding', async () => {
  const huge = pngDeclaring('huge.png', 20000, 20000);
  expect(statSync(huge).size).toBeLessThan(100);
  const started = performance.now();
  await expect(readExemplarFile(huge)).rejects.toThrow(`${huge} is 20000x20000 pixels; ${limits}`);
  expect(() => readPng(huge)).toThrow(`${huge} is 20000x20000 pixels; ${limits}`);
  // Decoding it took 15-20 s and 5 GB; the header check takes microseconds.
  expect(performance.now() - started).toBeLessThan(2000);

  const square = pngDeclaring('square.png', 16384, 16384);
  await expect(readExemplarFile(square)).rejects.toThrow(`${square} is 16384x16384 pixels; ${limits}`);
  const over = pngDeclaring('over.png', 4097, 4096);
  await expect(readExemplarFile(over)).rejects.toThrow(`${over} is 4097x4096 pixels; ${limits}`);
  // Exactly the budget passes the size check; this file then fails as corrupt (its header CRC is wrong).
  const strip = pngDeclaring('strip.png', 16384, 1024);
  await expect(readExemplarFile(strip)).rejects.toThrow(
    `${strip} is not a readable PNG image: the file is truncated or corrupt (`,
  );

  const jpeg = jpegDeclaring('huge.jpg', 20000, 20000);
  await expect(readExemplarFile(jpeg)).rejects.toThrow(`${jpeg} is 20000x20000 pixels; ${limits}`);
  const empty = jpegDeclaring('empty.jpg', 0, 16);
  await expect(readExemplarFile(empty)).rejects.toThrow(
    `${empty} must have a positive integer width and height, got 0 x 16`,
  );
});

test('a truncated or corrupt file is named, and so is what is wrong with it', async () => {
  const size = 32;
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 256;
  const whole = encodePng({ data, width: size, height: size, channels: 3 });
  const cut = join(dir, 'cut.png');
  writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
  await expect(readExemplarFile(cut)).rejects.toThrow(
    `${cut} is not a readable PNG image: the file is truncated or corrupt (`,
  );
  expect(() => readPng(cut)).toThrow(
    `${cut} is not a readable PNG image: the file is truncated or corrupt (`,
  );
  const stub = join(dir, 'stub.png');
  writeFileSync(stub, whole.subarray(0, 12));
  await expect(readExemplarFile(stub)).rejects.toThrow(
    `${stub} is not a readable PNG image: the file is truncated or corrupt (12 bytes, no room for a header)`,
  );
  const jpeg = join(dir, 'cut.jpg');
  writeFileSync(jpeg, new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, 0]));
  await expect(readExemplarFile(jpeg)).rejects.toThrow(
    `${jpeg} is not a readable JPEG image: the file is truncated or corrupt (it ends inside the frame header)`,
  );
  const scan = join(dir, 'scan.jpg');
  writeFileSync(scan, new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0, 2, 0xff, 0xd9]));
  await expect(readExemplarFile(scan)).rejects.toThrow(
    `${scan} is not a readable JPEG image: the file is truncated or corrupt (no frame header before the image data)`,
  );
});

test('in-memory sources get the same size limits before their pixels are converted', async () => {
  await expect(
    toExemplars({ data: new Uint8Array(3), width: 20000, height: 20000, channels: 3 }),
  ).rejects.toThrow(`exemplar is 20000x20000 pixels; ${limits}`);
});
