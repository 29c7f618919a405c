import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';

import { main } from '../../cli/main.js';
import { CRITIC_FILE, run, TRAINING_STATE_FILE } from '../../cli/train.js';
import { TextureVae } from '../../src/model/textureVae.js';
import { DEFAULT_LOSS_RECIPE } from '../../src/model/train.js';
import { readExemplarFile } from '../../src/node/exemplarFiles.js';
import { fileSystemHandler } from '../../src/node/fileHandler.js';
import { writePng } from '../../src/node/png.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const temp = mkdtempSync(join(tmpdir(), 'bvt-cli-train-'));
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

function state(dir: string): { step: number; steps: number; images: string[] } {
  return JSON.parse(readFileSync(join(dir, TRAINING_STATE_FILE), 'utf8'));
}

describe('babylon-vae-textures train', () => {
  test('--from fine-tunes a saved model: its weights, a new upsample and loss recipe; --resume keeps the recipe', async () => {
    const image = exemplar('from.png');
    const base = join(temp, 'from-base');
    expect(
      await main(['train', image, '--out', base, '--steps', '1', '--upsample', 'nearest', ...tiny, ...fast]),
    ).toBe(0);
    const tuned = join(temp, 'from-tuned');
    const args = [
      '--from',
      base,
      '--upsample',
      'bilinear',
      '--pixel-loss',
      'charbonnier',
      '--patch-weight',
      '5',
      '--fourier-weight',
      '0.3',
      '--grid-weight',
      '0.05',
    ];
    expect(await run([image, '--out', tuned, '--steps', '2', '--lr', '0.000001', ...args, ...fast])).toBe(0);
    const recipe = { pixelLoss: 'charbonnier', patchWeight: 5, fourierWeight: 0.3, gridWeight: 0.05 };
    expect(state(tuned)).toMatchObject({ step: 2, ...recipe, from: base });
    const a = await TextureVae.load(fileSystemHandler(base));
    const b = await TextureVae.load(fileSystemHandler(tuned));
    expect(a.config.upsample).toBe('nearest');
    expect(b.config).toMatchObject({ upsample: 'bilinear', stride: 4, encoderWidths: [4, 8, 8] });
    // Two steps at a tiny learning rate: the weights are the base model's, nearly unchanged.
    const [wa, wb] = [a.getWeights(), b.getWeights()];
    const drift = Math.max(
      ...wa.map((w, i) => Math.max(...Array.from(w.dataSync(), (v, j) => Math.abs(v - wb[i].dataSync()[j])))),
    );
    expect(drift).toBeLessThan(1e-3);
    for (const t of [...wa, ...wb]) t.dispose();
    a.dispose();
    b.dispose();
    expect(await run([image, '--resume', tuned, '--out', tuned, '--steps', '3', ...fast])).toBe(0);
    expect(state(tuned)).toMatchObject({ step: 3, ...recipe, from: base });

    await expect(
      run([image, '--from', base, '--stride', '8', '--out', join(temp, 'x1'), ...fast]),
    ).rejects.toThrow("--from keeps the weights' shapes: model options (stride) cannot change");
    await expect(run([image, '--from', base, '--resume', tuned, '--out', tuned, ...fast])).rejects.toThrow(
      '--from and --resume exclude each other',
    );
    await expect(
      run([image, '--from', join(temp, 'nothing'), '--out', join(temp, 'x2'), ...fast]),
    ).rejects.toThrow('holds no model.json');
  });

  test('trains a tiny model from a PNG; the saved model reloads and decodes; --resume continues it', async () => {
    const image = exemplar('stripes.png');
    const out = join(temp, 'model');
    expect(await main(['train', image, '--out', out, '--steps', '3', ...tiny, ...fast])).toBe(0);
    for (const file of ['model.json', 'weights.bin', TRAINING_STATE_FILE])
      expect(existsSync(join(out, file))).toBe(true);
    expect(state(out)).toMatchObject({ step: 3, steps: 3, images: [image] });

    const vae = await TextureVae.load(fileSystemHandler(out));
    expect(vae.config).toMatchObject({ stride: 4, latentChannels: 2, encoderWidths: [4, 8, 8] });
    const decoded = await vae.decode(vae.sample({ width: 16, height: 12, seed: 1 }));
    expect(decoded).toMatchObject({ width: 16, height: 12, channels: 3 });
    expect(decoded.data.length).toBe(16 * 12 * 3);
    vae.dispose();

    expect(await run([image, '--resume', out, '--out', out, '--steps', '5', ...fast])).toBe(0);
    expect(state(out)).toMatchObject({ step: 5, steps: 5 });
  });

  test('the loss recipe is recorded with its defaults; a resumed run recorded before a term keeps it off', async () => {
    const image = exemplar('recipe.png');
    const out = join(temp, 'recipe-model');
    expect(await main(['train', image, '--out', out, '--steps', '1', ...tiny, ...fast])).toBe(0);
    expect(state(out)).toMatchObject({ step: 1, ...DEFAULT_LOSS_RECIPE });
    // A run recorded before the recipe was: MSE alone, the only term then.
    const path = join(out, TRAINING_STATE_FILE);
    const { pixelLoss, patchWeight, fourierWeight, gridWeight, adversarialWeight, ...older } = JSON.parse(
      readFileSync(path, 'utf8'),
    );
    writeFileSync(path, JSON.stringify(older));
    expect(await run([image, '--resume', out, '--out', out, '--steps', '2', ...fast])).toBe(0);
    expect(state(out)).toMatchObject({
      step: 2,
      pixelLoss: 'mse',
      patchWeight: 0,
      fourierWeight: 0,
      gridWeight: 0,
      adversarialWeight: 0,
    });
    // A flag still overrides the recorded weight.
    expect(
      await run([image, '--resume', out, '--out', out, '--steps', '3', '--grid-weight', '0.2', ...fast]),
    ).toBe(0);
    expect(state(out)).toMatchObject({ step: 3, gridWeight: 0.2 });
  });

  test('--adversarial-weight keeps its critic in the checkpoint; --resume continues with it and checks it', async () => {
    const image = join(temp, 'critic.png');
    // 48 px: the critic needs patches of at least 38 px.
    const size = 48;
    const data = new Uint8Array(size * size * 3);
    for (let i = 0; i < size * size; i++) data.set([(i * 7) % 256, (i * 13) % 256, 128], i * 3);
    writePng(image, { data, width: size, height: size, channels: 3 });
    const out = join(temp, 'critic-model');
    const gan = [
      '--batch-size',
      '2',
      '--patch-size',
      '40',
      '--adversarial-weight',
      '0.5',
      '--adversarial-start',
      '1',
    ];
    expect(await run([image, '--out', out, '--steps', '2', ...tiny, ...gan])).toBe(0);
    expect(state(out)).toMatchObject({
      step: 2,
      adversarialWeight: 0.5,
      adversarialStart: 1,
      critic: { widths: [32, 64, 64] },
    });
    const critic = readFileSync(join(out, CRITIC_FILE));
    // 4x4x3x32 + 32 + 4x4x32x64 + 64 + 4x4x64x64 + 64 + 3x3x64x1 + 1 float32 values.
    expect(critic.length).toBe(4 * (1536 + 32 + 32768 + 64 + 65536 + 64 + 576 + 1));
    expect(
      await run([
        image,
        '--resume',
        out,
        '--out',
        out,
        '--steps',
        '3',
        '--batch-size',
        '2',
        '--patch-size',
        '40',
      ]),
    ).toBe(0);
    expect(state(out)).toMatchObject({ step: 3, adversarialWeight: 0.5 });
    // The critic went on training from the saved one.
    expect(readFileSync(join(out, CRITIC_FILE)).equals(critic)).toBe(false);

    writeFileSync(join(out, CRITIC_FILE), critic.subarray(0, 100));
    await expect(
      run([image, '--resume', out, '--out', out, '--steps', '4', '--patch-size', '40']),
    ).rejects.toThrow(
      `${join(out, CRITIC_FILE)} must hold ${critic.length} bytes (the critic of widths 32, 64, 64), got 100`,
    );
    const nan = Buffer.from(critic);
    nan.writeFloatLE(Number.NaN, 8);
    writeFileSync(join(out, CRITIC_FILE), nan);
    await expect(
      run([image, '--resume', out, '--out', out, '--steps', '4', '--patch-size', '40']),
    ).rejects.toThrow('holds a value that is not a finite number');
  });

  test('refuses a non-empty --out without --force, and model options with --resume', async () => {
    const image = exemplar('refuse.png');
    const out = join(temp, 'busy');
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'keep me');
    await expect(run([image, '--out', out, '--steps', '1', ...tiny, ...fast])).rejects.toThrow(
      `--out ${out} is not empty; pass --force to overwrite it, or --resume ${out} to continue it`,
    );
    expect(await run([image, '--out', out, '--steps', '1', '--force', ...tiny, ...fast])).toBe(0);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('keep me');
    await expect(run([image, '--resume', out, '--out', out, '--stride', '8'])).rejects.toThrow(
      'model options (stride) cannot change a resumed model; leave them out with --resume',
    );
    await expect(run(['--out', out])).rejects.toThrow(
      'give at least one exemplar image (PNG or JPEG) to train on',
    );
    await expect(run([image, '--out', join(temp, 'x'), '--lr', 'fast'])).rejects.toThrow(
      '--lr must be a number, got "fast"',
    );
  });

  test('reads PNG files by content and explains what JPEG needs', async () => {
    const png = exemplar('renamed.jpg');
    const image = await readExemplarFile(png);
    expect(image).toMatchObject({ width: 32, height: 32, channels: 3 });
    expect(Array.from(image.data.slice(3, 6))).toEqual([7, 13, 128]);
    const jpeg = join(temp, 'photo.jpg');
    writeFileSync(jpeg, new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16]));
    await expect(readExemplarFile(jpeg)).rejects.toThrow(
      /photo\.jpg is (a JPEG image; reading JPEG needs|not a readable JPEG)/,
    );
    const text = join(temp, 'notes.png');
    writeFileSync(text, 'hello');
    await expect(readExemplarFile(text)).rejects.toThrow(`${text} is neither a PNG nor a JPEG image`);
    await expect(readExemplarFile(join(temp, 'missing.png'))).rejects.toThrow('does not exist');
  });

  test('Ctrl-C saves a checkpoint and exits with 130', async () => {
    const image = exemplar('interrupt.png');
    const out = join(temp, 'interrupted');
    const child = spawn(
      process.execPath,
      [
        join(root, 'bin/babylon-vae-textures.js'),
        'train',
        image,
        '--out',
        out,
        '--steps',
        '100000',
        ...tiny,
        ...fast,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        // The first progress line means training is under way.
        if (/train \[/.test(stderr) && !child.killed) child.kill('SIGINT');
      });
      child.on('close', resolve);
    });
    expect(code).toBe(130);
    expect(stdout).toMatch(/^interrupted to step \d+\/100000/);
    const saved = state(out);
    expect(saved.step).toBeGreaterThan(0);
    expect(saved.step).toBeLessThan(100000);
    const vae = await TextureVae.load(fileSystemHandler(out));
    vae.dispose();
  });
});
