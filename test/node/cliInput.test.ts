import { existsSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test, vi } from 'vitest';

import { integer, integerList, number, seedOption } from '../../cli/args.js';
import { main } from '../../cli/main.js';
import { run as sample } from '../../cli/sample.js';
import { TRAINING_STATE_FILE, run as train } from '../../cli/train.js';
import { encodePng, writePng } from '../../src/node/png.js';

const temp = mkdtempSync(join(tmpdir(), 'bvt-cli-input-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const tiny = [
  '--stride',
  '4',
  '--encoder-widths',
  '4,8,8',
  '--decoder-widths',
  '8,8,4',
  '--latent-channels',
  '2',
];
const fast = ['--batch-size', '2', '--patch-size', '16'];

function exemplar(name: string): string {
  const size = 32;
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < size * size; i++) data.set([(i * 7) % 256, (i * 13) % 256, 128], i * 3);
  const path = join(temp, name);
  writePng(path, { data, width: size, height: size, channels: 3 });
  return path;
}

/** Runs `work` with stdout and stderr captured. */
async function captured<T>(work: () => Promise<T>): Promise<{ result: T; stderr: string }> {
  let stderr = '';
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return { result: await work(), stderr };
  } finally {
    err.mockRestore();
    out.mockRestore();
  }
}

describe('command-line numbers: one parser, decimal digits, stated ranges', () => {
  test('integers are decimal integers in range', () => {
    expect(integer('steps', '16', 0, { min: 1, max: 100 })).toBe(16);
    expect(integer('steps', ' +7 ', 0)).toBe(7);
    expect(integer('steps', undefined, 5)).toBe(5);
    for (const bad of ['0x10', '1e3', '2.0', '', ' ', '0b1', 'Infinity', '9007199254740993']) {
      expect(() => integer('steps', bad, 0)).toThrow(
        `--steps must be an integer, got ${JSON.stringify(bad)}`,
      );
    }
    expect(() => integer('steps', '0', 0, { min: 1, max: 100 })).toThrow(
      '--steps must be an integer from 1 to 100, got "0"',
    );
    expect(() => integer('save-every', '-5', 0, { min: 0 })).toThrow(
      '--save-every must be an integer of at least 0, got "-5"',
    );
    expect(number('lr', '1e-3', 0)).toBe(0.001);
    expect(number('lr', '.5', 0)).toBe(0.5);
    for (const bad of ['0x10', 'Infinity', 'NaN', '1e', 'fast']) {
      expect(() => number('lr', bad, 0)).toThrow(`--lr must be a number, got ${JSON.stringify(bad)}`);
    }
    expect(integerList('encoder-widths', '4, 8,8')).toEqual([4, 8, 8]);
    expect(() => integerList('encoder-widths', '4,0x8,8')).toThrow(
      '--encoder-widths must be comma-separated integers, got "4,0x8,8"',
    );
    expect(seedOption('4294967295')).toBe(4294967295);
    for (const bad of ['-1', '4294967296', '1.5', '0x7']) {
      expect(() => seedOption(bad)).toThrow(
        `--seed must be an integer from 0 to 4294967295, got ${JSON.stringify(bad)}`,
      );
    }
  });

  test('train refuses bad numbers before building a model', async () => {
    const image = exemplar('numbers.png');
    const out = join(temp, 'numbers');
    for (const [args, message] of [
      [['--steps', '0x10'], '--steps must be an integer from 1 to 100000000, got "0x10"'],
      [['--steps', '0'], '--steps must be an integer from 1 to 100000000, got "0"'],
      [['--steps=-5'], '--steps must be an integer from 1 to 100000000, got "-5"'],
      [['--seed', '7.5'], '--seed must be an integer from 0 to 4294967295, got "7.5"'],
      [['--lr', '0x10'], '--lr must be a number, got "0x10"'],
      [['--save-every=-1'], '--save-every must be an integer of at least 0, got "-1"'],
    ] as const) {
      await expect(train([image, '--out', out, ...args, ...tiny])).rejects.toThrow(message);
    }
    expect(existsSync(out)).toBe(false);
  });
});

describe('train: resuming and saving', () => {
  test('--resume needs training.json and a --steps beyond the trained steps', async () => {
    const image = exemplar('resume.png');
    const out = join(temp, 'resume');
    const { result } = await captured(() => train([image, '--out', out, '--steps', '1', ...tiny, ...fast]));
    expect(result).toBe(0);
    const again = [image, '--resume', out, '--out', out, ...fast];
    await expect(train([...again, '--steps', '1'])).rejects.toThrow(
      `--steps 1 is not more than the 1 steps the model in ${out} has trained; pass a larger --steps to train it further`,
    );
    unlinkSync(join(out, TRAINING_STATE_FILE));
    await expect(train([...again, '--steps', '3'])).rejects.toThrow(
      `--resume ${out} holds no ${TRAINING_STATE_FILE}, which records the step to continue from; pass a folder written by train`,
    );
  });

  test('--lr 1e9 --steps 1 fails naming the diverging step and saves nothing', async () => {
    const image = exemplar('diverge.png');
    const out = join(temp, 'diverge');
    const { result, stderr } = await captured(() =>
      main(['train', image, '--out', out, '--steps', '1', '--lr', '1e9', '--warmup', '0', ...tiny, ...fast]),
    );
    expect(result).toBe(1);
    expect(stderr).toMatch(
      /error: training diverged at step 1: the loss is (NaN|-?Infinity); the last weights with a finite loss \(step 0\) were restored/,
    );
    expect(existsSync(join(out, 'model.json'))).toBe(false);
  });

  test('an image whose header declares 20000x20000 pixels is refused by train before decoding', async () => {
    const bytes = encodePng({ data: new Uint8Array(3), width: 1, height: 1, channels: 3 });
    bytes.writeUInt32BE(20000, 16);
    bytes.writeUInt32BE(20000, 20);
    const huge = join(temp, 'huge.png');
    writeFileSync(huge, bytes);
    const started = performance.now();
    await expect(
      train([huge, '--out', join(temp, 'huge'), '--steps', '1', ...tiny, ...fast]),
    ).rejects.toThrow(
      `${huge} is 20000x20000 pixels; an exemplar may have at most 16384 pixels a side and 16777216 pixels in all (4096x4096)`,
    );
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

describe('names are own keys only', () => {
  test('unknown commands and swatches named after Object members are refused', async () => {
    for (const name of ['__proto__', 'constructor', 'toString']) {
      const { result, stderr } = await captured(() => main([name]));
      expect(result).toBe(2);
      expect(stderr).toContain(
        `unknown command "${name}"; allowed: train, bake, swatch, sample, encode, eval`,
      );
      await expect(sample(['--swatch', name, '--out', join(temp, 'never')])).rejects.toThrow(
        `--swatch ${name} is neither a swatch file nor a swatch of the embedded model (names: bricks, `,
      );
    }
    expect(existsSync(join(temp, 'never-0.png'))).toBe(false);
  });
});
