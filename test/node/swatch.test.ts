import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';

import { run as sampleCommand } from '../../cli/sample.js';
import { run as swatchCommand } from '../../cli/swatch.js';
import { maxCrossCorrelation, repetitionScore } from '../../src/eval/correlation.js';
import { fromFloat16Bits, toFloat16Bits } from '../../src/latent/float16.js';
import type { LatentGrid } from '../../src/latent/latentGrid.js';
import { resizeLatent } from '../../src/latent/latentOps.js';
import { SeededRandom } from '../../src/latent/random.js';
import { Swatch } from '../../src/latent/swatch.js';
import { decodeSwatch } from '../../src/latent/swatchFormat.js';
import type { PixelImage } from '../../src/model/pixelImage.js';
import { TextureVae } from '../../src/model/textureVae.js';
import { fileSystemHandler } from '../../src/node/fileHandler.js';
import { readPng, writePng } from '../../src/node/png.js';
import { readSwatchFile, writeSwatchFile } from '../../src/node/swatchFiles.js';
import { useWasmBackend } from '../../src/node/wasmBackend.js';

const TINY = {
  stride: 4,
  latentChannels: 4,
  encoderWidths: [4, 4, 4],
  decoderWidths: [6, 4, 4],
  name: 'tiny',
};
let model: TextureVae;
let exemplar: PixelImage;
let swatch: Swatch;
let dir: string;

/** Smooth random colour blobs: a 12x12 grid of random colours, bilinearly enlarged (not tileable). */
function blobs(size: number, seed: number): PixelImage {
  const rng = new SeededRandom(seed);
  const n = 12;
  const grid = Array.from({ length: n * n * 3 }, () => rng.next() * 255);
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const gx = (x / size) * (n - 1);
      const gy = (y / size) * (n - 1);
      const x0 = Math.floor(gx);
      const y0 = Math.floor(gy);
      const fx = gx - x0;
      const fy = gy - y0;
      for (let c = 0; c < 3; c++) {
        const at = (xx: number, yy: number) => grid[(yy * n + xx) * 3 + c];
        const top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx;
        const bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx;
        data[(y * size + x) * 3 + c] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return { data, width: size, height: size, channels: 3 };
}

/** Wrap difference of a grid (last column vs first, last row vs first) over its mean neighbour difference. */
function latentSeam(g: LatentGrid): number {
  const { data, width: w, height: h, channels: c } = g;
  const at = (y: number, x: number, k: number) => data[(y * w + x) * c + k];
  let seam = 0;
  let inside = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) {
        const dx = Math.abs(at(y, (x + 1) % w, k) - at(y, x, k));
        const dy = Math.abs(at((y + 1) % h, x, k) - at(y, x, k));
        if (x === w - 1) seam += dx;
        else inside += dx;
        if (y === h - 1) seam += dy;
        else inside += dy;
      }
  return seam / (c * (w + h)) / (inside / (c * ((w - 1) * h + w * (h - 1))));
}

/** Correlation of two grids at zero shift, each channel centred on its own mean. */
function correlation(a: LatentGrid, b: LatentGrid): number {
  const c = a.channels;
  const cells = a.data.length / c;
  const ma = new Float64Array(c);
  const mb = new Float64Array(c);
  for (let i = 0; i < a.data.length; i++) {
    ma[i % c] += a.data[i] / cells;
    mb[i % c] += b.data[i] / cells;
  }
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i] - ma[i % c];
    const y = b.data[i] - mb[i % c];
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return ab / Math.sqrt(aa * bb);
}

beforeAll(async () => {
  await useWasmBackend();
  model = TextureVae.create(TINY, { seed: 5 });
  exemplar = blobs(96, 1);
  swatch = await Swatch.fromImage(model, exemplar, { name: 'blobs', patchSize: 8 });
  dir = mkdtempSync(join(tmpdir(), 'bvt-swatch-'));
});

afterAll(() => {
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('Swatch.fromImage', () => {
  test('encodes the whole image in one pass, float16-exact, and leaks no tensor', async () => {
    const before = tf.memory().numTensors;
    const s = await Swatch.fromImage(model, exemplar);
    expect(tf.memory().numTensors).toBe(before);
    expect([s.latent.height, s.latent.width, s.latent.channels]).toEqual([24, 24, 4]);
    const encoded = await model.encode(exemplar);
    s.latent.data.forEach((v, i) => {
      expect(v).toBe(fromFloat16Bits(toFloat16Bits(encoded.data[i])));
    });
    expect(s.model.name).toBe('tiny');
    expect(s.source).toEqual({ width: 96, height: 96 });
    expect(s.synthesis).toEqual({ method: 'quilt', patchSize: 32, candidates: 256 });
  });

  test('takes any size from 64 px, centre-cropped to the stride', async () => {
    const odd = blobs(70, 2);
    const s = await Swatch.fromImage(model, odd);
    expect([s.latent.height, s.latent.width]).toEqual([17, 17]);
    expect(s.source).toEqual({ width: 70, height: 70 });
  });

  test('rejects images below 64 px, of the wrong channel count, or malformed', async () => {
    await expect(Swatch.fromImage(model, blobs(63, 1))).rejects.toThrow(
      'swatch image width must be an integer from 64 to 4096 px, got 63',
    );
    const rgba = { ...exemplar, data: new Uint8Array(96 * 96 * 4), channels: 4 as const };
    await expect(Swatch.fromImage(model, rgba)).rejects.toThrow(/must have 3 channels.*got 4/);
    await expect(Swatch.fromImage(model, { ...exemplar, data: new Uint8Array(5) })).rejects.toThrow(
      /width\*height\*channels = 27648/,
    );
    await expect(Swatch.fromImage(model, exemplar, { patchSize: 1 })).rejects.toThrow(
      /patchSize must be an integer from 2/,
    );
  });
});

describe('sample', () => {
  test('the same seed gives the same grid, another seed another; any multiple of the stride', () => {
    const a = swatch.sample({ width: 128, height: 64, seed: 3 });
    expect([a.height, a.width, a.channels]).toEqual([16, 32, 4]);
    expect(swatch.sample({ width: 128, height: 64, seed: 3 }).data).toEqual(a.data);
    expect(swatch.sample({ width: 128, height: 64, seed: 4 }).data).not.toEqual(a.data);
    for (const size of [4, 8, 12, 36, 200]) {
      const g = swatch.sample({ width: size, seed: 1 });
      expect([g.height, g.width]).toEqual([size / 4, size / 4]);
      expect(g.data.every(Number.isFinite)).toBe(true);
    }
  });

  test('every cell is an exemplar cell (quilting copies, never blends)', () => {
    const cells = new Set<string>();
    const { data, channels } = swatch.latent;
    for (let i = 0; i < data.length; i += channels) cells.add(data.subarray(i, i + channels).join());
    const g = swatch.sample({ width: 160, seed: 9 });
    for (let i = 0; i < g.data.length; i += channels)
      expect(cells.has(g.data.subarray(i, i + channels).join())).toBe(true);
  });

  test('rejects sizes out of range and non-integer seeds', () => {
    expect(() => swatch.sample({ width: 130 })).toThrow(
      'width must be a multiple of 4 between 4 and 4096, got 130',
    );
    expect(() => swatch.sample({ width: 8192 })).toThrow(/between 4 and 4096, got 8192/);
    expect(() => swatch.sample({ width: 64, height: 0 })).toThrow(/height must be a multiple of 4/);
    expect(() => swatch.sample({ seed: 1.5 })).toThrow(
      'seed must be an integer from 0 to 4294967295, got 1.5',
    );
    expect(() => swatch.sample({ seed: -1 })).toThrow(/seed must be an integer/);
  });

  test('is seamless: the wrap joins like any two neighbours, unlike a tiled crop of the exemplar', () => {
    for (const seed of [1, 2, 3]) {
      for (const size of [64, 128, 256])
        expect(latentSeam(swatch.sample({ width: size, seed }))).toBeLessThan(1.1);
    }
    // A plain crop of the exemplar's grid wraps with a jump.
    expect(latentSeam(resizeLatent(swatch.latent, 16, 16))).toBeGreaterThan(1.3);
  });

  test('does not repeat and differs between seeds, once decoded', async () => {
    const tiled = await model.decode(resizeLatent(swatch.latent, 48, 48));
    const sample = await model.decode(swatch.sample({ width: 192, seed: 1 }));
    const other = await model.decode(swatch.sample({ width: 192, seed: 2 }));
    expect(repetitionScore(tiled)).toBeGreaterThan(0.99);
    expect(repetitionScore(sample)).toBeLessThan(0.75);
    expect(maxCrossCorrelation(sample, sample)).toBeCloseTo(1, 6);
    expect(maxCrossCorrelation(sample, other)).toBeLessThan(0.6);
  });
});

describe('similar', () => {
  test('amount 0 is the start, 1 is sample(seed); correlation with the start falls steadily', () => {
    const start = swatch.sample({ width: 256, seed: 1 });
    expect(swatch.similar(start, 0, 5).data).toEqual(start.data);
    expect(swatch.similar(start, 1, 5).data).toEqual(swatch.sample({ width: 256, seed: 5 }).data);
    const amounts = [0, 0.2, 0.4, 0.6, 0.8, 1];
    const kept = amounts.map((a) => correlation(start, swatch.similar(start, a, 5)));
    for (let i = 1; i < kept.length; i++) expect(kept[i]).toBeLessThan(kept[i - 1]);
    expect(kept[0]).toBeCloseTo(1, 10);
    expect(kept[5]).toBeLessThan(0.3);
    // Halfway, about half of the start survives (a bit more: kept blocks keep their overlaps).
    expect(kept[2] + kept[3]).toBeGreaterThan(0.6);
    expect(kept[2] + kept[3]).toBeLessThan(1.7);
  });

  test('keeps a seamless grid and validates its input', () => {
    const start = swatch.sample({ width: 128, seed: 2 });
    expect(latentSeam(swatch.similar(start, 0.5, 3))).toBeLessThan(1.1);
    expect(() => swatch.similar(start, 1.5, 0)).toThrow('amount must be a number from 0 to 1, got 1.5');
    expect(() => swatch.similar(start, 0.5, 0.5)).toThrow(/seed must be an integer/);
    expect(() => swatch.similar({ ...start, channels: 2, data: new Float32Array(32 * 32 * 2) }, 0.5)).toThrow(
      /4 channels/,
    );
  });
});

describe('sampleAligned', () => {
  test('gives two swatches one layout: a swatch of twice the values samples exactly twice the grid', () => {
    const doubled = Swatch.fromLatent(
      model,
      { ...swatch.latent, data: swatch.latent.data.map((v) => 2 * v) },
      { patchSize: 8 },
    );
    const [a, b] = Swatch.sampleAligned([swatch, doubled], { width: 128, seed: 7 });
    b.data.forEach((v, i) => {
      expect(v).toBe(2 * a.data[i]);
    });
    expect(() => Swatch.sampleAligned([])).toThrow(/non-empty array of Swatch/);
  });
});

describe('swatch files', () => {
  test('round trip: a saved swatch loads for its model and samples identical grids', () => {
    const path = join(dir, 'blobs.swatch');
    writeSwatchFile(path, swatch);
    const bytes = readFileSync(path);
    expect(bytes.length).toBeLessThan(24 * 24 * 4 * 2 + 600);
    const loaded = readSwatchFile(path, model);
    expect(loaded.latent.data).toEqual(swatch.latent.data);
    expect(loaded.name).toBe('blobs');
    expect(loaded.sample({ width: 96, seed: 4 }).data).toEqual(swatch.sample({ width: 96, seed: 4 }).data);
  });

  test('refuses another model or config, naming both', () => {
    const other = TextureVae.create({ ...TINY, decoderWidths: [6, 4, 5] }, { seed: 1 });
    try {
      expect(() => Swatch.fromBytes(swatch.toBytes(), other)).toThrow(
        /swatch 'blobs' was made with model 'tiny' \(config [0-9a-f]{16}\), not with model 'tiny' \(config [0-9a-f]{16}\)/,
      );
      expect(swatch.isFor(other)).toBe(false);
      expect(swatch.isFor(model)).toBe(true);
    } finally {
      other.dispose();
    }
  });

  test('validates files from strangers before allocating', () => {
    const bytes = swatch.toBytes();
    const headerLength = new DataView(bytes.buffer).getUint32(4, true);
    const withHeader = (edit: (h: Record<string, unknown>) => void, extra = 0) => {
      const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
      edit(header);
      const json = new TextEncoder().encode(JSON.stringify(header));
      const out = new Uint8Array(8 + json.length + bytes.length - 8 - headerLength + extra);
      out.set(bytes.subarray(0, 4));
      new DataView(out.buffer).setUint32(4, json.length, true);
      out.set(json, 8);
      out.set(bytes.subarray(8 + headerLength), 8 + json.length);
      return out;
    };
    const read = (b: Uint8Array) => () => Swatch.fromBytes(b, model);
    expect(read(bytes.subarray(0, 5))).toThrow(/fewer than the 8/);
    expect(read(new TextEncoder().encode('PNG?xxxxxxxx'))).toThrow(/must start with 'BVTS'/);
    expect(read(bytes.subarray(0, 100))).toThrow(/truncated: the header needs/);
    expect(read(bytes.subarray(0, bytes.length - 2))).toThrow(
      /truncated: a 24x24x4 float16 grid after a \d+-byte header makes \d+ bytes/,
    );
    expect(read(withHeader(() => {}, 2))).toThrow(/longer than its header says/);
    expect(read(withHeader((h) => Object.assign(h.grid as object, { height: 1e9 })))).toThrow(
      'not a valid swatch file: grid.height must be an integer from 1 to 1024, got 1000000000',
    );
    expect(read(withHeader((h) => Object.assign(h, { version: 9 })))).toThrow(/version must be 1/);
    expect(read(withHeader((h) => Object.assign(h, { dtype: 'float64' })))).toThrow(
      /dtype must be 'float16'/,
    );
    expect(read(withHeader((h) => Object.assign(h.model as object, { name: 'default' })))).toThrow(
      /made with model 'default'/,
    );
    const corrupt = Uint8Array.from(bytes);
    corrupt[8] = 0x7b + 1;
    expect(read(corrupt)).toThrow(/header is not a JSON object/);
    const nan = Uint8Array.from(bytes);
    nan[nan.length - 1] = 0x7e;
    expect(read(nan)).toThrow(/values must be finite/);
    const huge = Uint8Array.from(bytes);
    new DataView(huge.buffer).setUint32(4, 0xffffffff, true);
    expect(read(huge)).toThrow(/header length must be from 2 to 65536 bytes, got 4294967295/);
    expect(decodeSwatch(bytes).latent.data).toEqual(swatch.latent.data);
  });
});

describe('commands', () => {
  const quiet = () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  };

  test('swatch writes a swatch file; sample --swatch writes count PNGs from it', async () => {
    quiet();
    const modelDir = join(dir, 'model');
    await model.save(fileSystemHandler(modelDir));
    const image = join(dir, 'mossy_rock.png');
    writePng(image, exemplar);
    const out = join(dir, 'rock.swatch');
    expect(await swatchCommand([image, '--out', out, '--model', modelDir])).toBe(0);
    const written = readSwatchFile(out, model);
    expect(written.name).toBe('mossyRock');
    expect(written.latent.data).toEqual((await Swatch.fromImage(model, exemplar)).latent.data);
    await expect(swatchCommand([image, '--out', out, '--model', modelDir])).rejects.toThrow(
      /exists; pass --force/,
    );
    expect(await swatchCommand([image, '--out', out, '--model', modelDir, '--force'])).toBe(0);

    const prefix = join(dir, 'rock');
    const args = [
      '--swatch',
      out,
      '--model',
      modelDir,
      '--size',
      '64',
      '--count',
      '2',
      '--seed',
      '3',
      '--out',
      prefix,
    ];
    expect(await sampleCommand(args)).toBe(0);
    for (const i of [0, 1]) {
      const png = readPng(`${prefix}-${i}.png`);
      expect([png.width, png.height]).toEqual([64, 64]);
      const expected = await model.decode(written.sample({ width: 64, seed: 3 + i }));
      expect(png.data).toEqual(expected.data);
    }
    expect(existsSync(`${prefix}-2.png`)).toBe(false);
  });

  test('sample --swatch names what is wrong', async () => {
    quiet();
    const modelDir = join(dir, 'model');
    const args = (swatchArg: string) => ['--swatch', swatchArg, '--model', modelDir, '--out', join(dir, 'x')];
    await expect(sampleCommand(args('nosuch'))).rejects.toThrow(
      /--swatch nosuch is neither a swatch file nor a swatch of the embedded model/,
    );
    const junk = join(dir, 'junk.swatch');
    writeFileSync(junk, 'not a swatch');
    await expect(sampleCommand(args(junk))).rejects.toThrow(/junk.swatch: not a valid swatch file/);
    await expect(sampleCommand([...args(join(dir, 'rock.swatch')), '--temperature', '2'])).rejects.toThrow(
      /--swatch cannot be combined with --temperature/,
    );
    await expect(sampleCommand([...args(join(dir, 'rock.swatch')), '--seed', '0.5'])).rejects.toThrow(
      /seed must be an integer/,
    );
  });
});
