/** `babylon-vae-textures train`: train a model on exemplar images on the WASM backend, with checkpoints. */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { dispose, tensor } from '@tensorflow/tfjs-core';

import {
  DEFAULT_LOSS_RECIPE,
  loadPretrained,
  PatchDiscriminator,
  type PixelImage,
  type PixelLoss,
  TextureVae,
  type TextureVaeConfig,
  type TrainingRecord,
  trainTextureVae,
} from '../src/index.js';
import { fileSystemHandler, readExemplarFile, useWasmBackend } from '../src/node/index.js';
import { integer, integerList, number, seedOption } from './args.js';
import { formatSeconds, ProgressBar } from './progress.js';

/** The file beside model.json that records how far a model has trained, for --resume. */
export const TRAINING_STATE_FILE = 'training.json';
/** The adversarial term's critic in a checkpoint: its weights as float32, little-endian, in variables order. */
export const CRITIC_FILE = 'critic.bin';

/**
 * The loss recipe of a run whose training.json was written before the recipe was recorded: MSE, the only pixel
 * term then, with no other term. `--resume` of such a run keeps it.
 */
type LossRecipe = typeof DEFAULT_LOSS_RECIPE;

const RECIPE_BEFORE_RECORDING: LossRecipe = {
  pixelLoss: 'mse',
  patchWeight: 0,
  fourierWeight: 0,
  gridWeight: 0,
  adversarialWeight: 0,
};

function saveCritic(dir: string, critic: PatchDiscriminator): void {
  const weights = critic.getWeights();
  try {
    const parts = weights.map((w) => w.dataSync() as Float32Array);
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let offset = 0;
    for (const p of parts) {
      bytes.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), offset);
      offset += p.byteLength;
    }
    writeFileSync(join(dir, CRITIC_FILE), bytes);
  } finally {
    dispose(weights);
  }
}

/** Loads CRITIC_FILE of `dir` into `critic`, checking its size before reading it. */
function loadCritic(dir: string, critic: PatchDiscriminator): void {
  const path = join(dir, CRITIC_FILE);
  const shapes = critic.weightShapes;
  const expected = 4 * shapes.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
  if (!existsSync(path)) {
    throw new Error(
      `--resume ${dir} records a critic but holds no ${CRITIC_FILE}; pass a folder written by train`,
    );
  }
  const size = statSync(path).size;
  if (size !== expected) {
    throw new Error(
      `${path} must hold ${expected} bytes (the critic of widths ${critic.widths.join(', ')}), got ${size}`,
    );
  }
  const bytes = readFileSync(path);
  const values = new Float32Array(expected / 4);
  new Uint8Array(values.buffer).set(bytes);
  for (const v of values) {
    if (!Number.isFinite(v)) throw new Error(`${path} holds a value that is not a finite number`);
  }
  const weights: ReturnType<typeof tensor>[] = [];
  let offset = 0;
  for (const shape of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    weights.push(tensor(values.subarray(offset, offset + n), shape));
    offset += n;
  }
  try {
    critic.setWeights(weights);
  } finally {
    dispose(weights);
  }
}

const help = `usage: babylon-vae-textures train <images...> --out <dir> [options]

Trains a texture VAE on random patches of PNG (or, with the jpeg-js package, JPEG) images on the WASM backend
and saves it to <dir> (model.json + weights.bin + ${TRAINING_STATE_FILE}). Ctrl-C saves a checkpoint and exits.

training:
  --steps <n>              total step count to reach, resumed steps included; more than a resumed model has
                           (default: 2000)
  --batch-size <n>         patches per step (default: 16)
  --patch-size <px>        patch side, a multiple of the stride (default: 64)
  --lr <x>                 Adam learning rate (default: 0.001)
  --warmup <n>             steps over which the KL weight ramps up from 0 (default: 10% of --steps)
  --seed <n>               seed of weights, crops and noise, 0..4294967295 (default: 0)
  --pixel-loss <kind>      pixel term of the loss: mse, l1 or charbonnier (default: ${DEFAULT_LOSS_RECIPE.pixelLoss})
  --patch-weight <x>       weight of the multi-scale patch term that asks for fine detail, 0 = off
                           (default: ${DEFAULT_LOSS_RECIPE.patchWeight})
  --fourier-weight <x>     weight of the Fourier-amplitude term that keeps the energy of fine detail, 0 = off
                           (default: ${DEFAULT_LOSS_RECIPE.fourierWeight})
  --grid-weight <x>        weight of the cell-grid term that asks for no more contrast across the latent cells'
                           boundaries than the photo has there, 0 = off (default: ${DEFAULT_LOSS_RECIPE.gridWeight})
  --adversarial-weight <x> weight of the adversarial term (a PatchGAN critic trained alongside, kept in the
                           output folder as critic.bin), times its adaptive weight; 0 = off
                           (default: ${DEFAULT_LOSS_RECIPE.adversarialWeight})
  --adversarial-start <n>  step after which the decoder gets the adversarial term; the critic trains from the
                           start (default: 0)
  --no-augment             no random flips or quarter turns of the patches
  --save-every <n>         also save a checkpoint every n steps, 0 for never (default: 500)
  --from <default|dir>     start from the weights of the embedded model (default) or of a saved model:
                           fine-tuning; only --upsample, --beta, --no-tileable and --name may change its config
  --resume <dir>           continue a model saved by train (its step count is read from ${TRAINING_STATE_FILE})
  --out <dir>              output folder (required); must be empty, or --force, or the --resume folder
  --force                  overwrite a non-empty --out

model (new models only):
  --latent-channels <n>    channels of the latent grid (default: 8)
  --stride <n>             pixels per latent cell, 2..32, a power of two (default: 8)
  --encoder-widths <list>  comma-separated, log2(stride) + 1 entries (default: 32,64,128,192)
  --decoder-widths <list>  comma-separated, log2(stride) + 1 entries (default: 64,48,24,16)
  --beta <x>               KL weight (default: 0.005)
  --channels <3|4>         RGB or RGBA (default: 3)
  --no-tileable            zero padding instead of circular: textures need not wrap
  --upsample <kind>        decoder upsampling: bilinear or nearest (default: bilinear)
  --name <id>              model id (default: default)
`;

interface TrainingState {
  step: number;
  steps: number;
  seed: number;
  images: string[];
  loss: number | null;
  reconstruction: number | null;
  /** The loss recipe, reused by --resume unless given again. */
  pixelLoss?: PixelLoss;
  patchWeight?: number;
  fourierWeight?: number;
  gridWeight?: number;
  adversarialWeight?: number;
  adversarialStart?: number;
  /** The critic of the adversarial term, saved as CRITIC_FILE next to the model. */
  critic?: { widths: number[] };
  /** The --from model, if any. */
  from?: string;
  /** Training wall time over all runs. */
  seconds: number;
}

function readState(dir: string): TrainingState {
  const path = join(dir, TRAINING_STATE_FILE);
  if (!existsSync(path)) {
    throw new Error(
      `--resume ${dir} holds no ${TRAINING_STATE_FILE}, which records the step to continue from; pass a folder written by train`,
    );
  }
  let state: TrainingState;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as TrainingState;
  } catch (e) {
    throw new Error(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (!Number.isInteger(state?.step) || state.step < 0) {
    throw new Error(
      `${path} must hold a step count (a non-negative integer), got ${JSON.stringify(state?.step)}`,
    );
  }
  return state;
}

function psnr(mse: number): number {
  return -10 * Math.log10(Math.max(mse, 1e-10));
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      steps: { type: 'string' },
      'batch-size': { type: 'string' },
      'patch-size': { type: 'string' },
      lr: { type: 'string' },
      warmup: { type: 'string' },
      seed: { type: 'string' },
      'no-augment': { type: 'boolean', default: false },
      'pixel-loss': { type: 'string' },
      'patch-weight': { type: 'string' },
      'fourier-weight': { type: 'string' },
      'grid-weight': { type: 'string' },
      'adversarial-weight': { type: 'string' },
      'adversarial-start': { type: 'string' },
      upsample: { type: 'string' },
      'save-every': { type: 'string' },
      resume: { type: 'string' },
      from: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
      'latent-channels': { type: 'string' },
      stride: { type: 'string' },
      'encoder-widths': { type: 'string' },
      'decoder-widths': { type: 'string' },
      beta: { type: 'string' },
      channels: { type: 'string' },
      'no-tileable': { type: 'boolean', default: false },
      name: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (positionals.length === 0) throw new Error('give at least one exemplar image (PNG or JPEG) to train on');
  if (!values.out) throw new Error('--out <dir> is required (the model is saved there)');
  const out = values.out;

  const config: { -readonly [K in keyof TextureVaeConfig]?: TextureVaeConfig[K] } = {};
  if (values['latent-channels'] !== undefined) {
    config.latentChannels = integer('latent-channels', values['latent-channels'], 0);
  }
  if (values.stride !== undefined) config.stride = integer('stride', values.stride, 0);
  if (values['encoder-widths'] !== undefined) {
    config.encoderWidths = integerList('encoder-widths', values['encoder-widths']);
  }
  if (values['decoder-widths'] !== undefined) {
    config.decoderWidths = integerList('decoder-widths', values['decoder-widths']);
  }
  if (values.beta !== undefined) config.beta = number('beta', values.beta, 0);
  if (values.channels !== undefined) {
    const channels = integer('channels', values.channels, 3);
    if (channels !== 3 && channels !== 4) throw new Error(`--channels must be 3 or 4, got ${channels}`);
    config.outputChannels = channels;
  }
  if (values['no-tileable']) config.tileable = false;
  if (values.upsample !== undefined) config.upsample = values.upsample as TextureVaeConfig['upsample'];
  if (values.name !== undefined) config.name = values.name;
  if (values.resume !== undefined && Object.keys(config).length > 0) {
    throw new Error(
      `model options (${Object.keys(config).join(', ')}) cannot change a resumed model; leave them out with --resume`,
    );
  }

  const resumeDir = values.resume;
  if (resumeDir !== undefined && !existsSync(join(resumeDir, 'model.json'))) {
    throw new Error(`--resume ${resumeDir} holds no model.json; pass a folder written by train`);
  }
  const inPlace = resumeDir !== undefined && resolve(resumeDir) === resolve(out);
  if (existsSync(out)) {
    if (!statSync(out).isDirectory()) throw new Error(`--out ${out} exists and is not a folder`);
    if (!inPlace && !values.force && readdirSync(out).length > 0) {
      throw new Error(
        `--out ${out} is not empty; pass --force to overwrite it, or --resume ${out} to continue it`,
      );
    }
  }

  const seed = seedOption(values.seed);
  const steps = integer('steps', values.steps, 2000, { min: 1, max: 100_000_000 });
  const saveEvery = integer('save-every', values['save-every'], 500, { min: 0 });
  // Read before any model is built, so a wrong --resume or --steps costs nothing.
  const previous = resumeDir !== undefined ? readState(resumeDir) : null;
  const startStep = previous?.step ?? 0;
  if (startStep >= steps) {
    throw new Error(
      `--steps ${steps} is not more than the ${startStep} steps the model in ${resumeDir} has trained; pass a larger --steps to train it further`,
    );
  }
  const earlierSeconds = Number.isFinite(previous?.seconds) ? (previous as TrainingState).seconds : 0;

  /**
   * A loss setting not given as a flag: the one a resumed run recorded (or had before the recipe was recorded),
   * else the default. Every setting is recorded, so a later change of a default never changes a resumed run.
   */
  const recorded: Partial<LossRecipe> | null = previous;
  const recipe = <K extends keyof LossRecipe>(key: K): LossRecipe[K] =>
    recorded === null ? DEFAULT_LOSS_RECIPE[key] : (recorded[key] ?? RECIPE_BEFORE_RECORDING[key]);
  const weight = { min: 0 };
  const training = {
    steps,
    batchSize: integer('batch-size', values['batch-size'], 16),
    patchSize: integer('patch-size', values['patch-size'], 64),
    learningRate: number('lr', values.lr, 0.001),
    warmupSteps: values.warmup === undefined ? undefined : integer('warmup', values.warmup, 0),
    seed,
    augment: !values['no-augment'],
    pixelLoss: (values['pixel-loss'] as PixelLoss | undefined) ?? recipe('pixelLoss'),
    patchWeight: number('patch-weight', values['patch-weight'], recipe('patchWeight'), weight),
    fourierWeight: number('fourier-weight', values['fourier-weight'], recipe('fourierWeight'), weight),
    gridWeight: number('grid-weight', values['grid-weight'], recipe('gridWeight'), weight),
    adversarialWeight: number(
      'adversarial-weight',
      values['adversarial-weight'],
      recipe('adversarialWeight'),
      weight,
    ),
    adversarialStart:
      values['adversarial-start'] === undefined
        ? previous?.adversarialStart
        : integer('adversarial-start', values['adversarial-start'], 0, { min: 0 }),
  };

  const from = values.from;
  if (from !== undefined) {
    if (resumeDir !== undefined)
      throw new Error('--from and --resume exclude each other: --resume continues its own model');
    const shaped = Object.keys(config).filter((k) => !['upsample', 'beta', 'tileable', 'name'].includes(k));
    if (shaped.length > 0) {
      throw new Error(
        `--from keeps the weights' shapes: model options (${shaped.join(', ')}) cannot change; only --upsample, --beta, --no-tileable and --name can`,
      );
    }
    if (from !== 'default' && !existsSync(join(from, 'model.json'))) {
      throw new Error(
        `--from ${from} holds no model.json; pass 'default' for the embedded model or a folder written by train`,
      );
    }
  }

  await useWasmBackend();
  let model: TextureVae;
  if (resumeDir !== undefined) {
    model = await TextureVae.load(fileSystemHandler(resumeDir));
  } else if (from !== undefined) {
    const source =
      from === 'default' ? await loadPretrained() : await TextureVae.load(fileSystemHandler(from));
    try {
      model = TextureVae.create({ ...source.config, ...config }, { seed });
      const weights = source.getWeights();
      try {
        model.setWeights(weights);
      } finally {
        dispose(weights);
      }
    } finally {
      source.dispose();
    }
  } else {
    model = TextureVae.create(config, { seed });
  }
  let critic: PatchDiscriminator | undefined;
  try {
    const images: PixelImage[] = [];
    for (const path of positionals) images.push(await readExemplarFile(path, model.outputChannels));

    // The adversarial term's critic lives in the checkpoint folder, so a resumed run continues with it.
    if ((training.adversarialWeight ?? 0) > 0) {
      critic = new PatchDiscriminator({ channels: model.outputChannels, seed: (seed + 1) >>> 0 });
      if (previous?.critic && resumeDir !== undefined) loadCritic(resumeDir, critic);
    }
    let last: TrainingRecord | null = null;
    const started = Date.now();
    const save = async (step: number) => {
      await model.save(fileSystemHandler(out));
      const state: TrainingState = {
        step,
        steps,
        seed,
        images: positionals,
        loss: last?.loss ?? null,
        reconstruction: last?.reconstruction ?? null,
        pixelLoss: training.pixelLoss,
        patchWeight: training.patchWeight,
        fourierWeight: training.fourierWeight,
        gridWeight: training.gridWeight,
        adversarialWeight: training.adversarialWeight,
        adversarialStart: training.adversarialStart,
        ...(critic ? { critic: { widths: [...critic.widths] } } : {}),
        ...((from ?? previous?.from) ? { from: from ?? previous?.from } : {}),
        seconds: earlierSeconds + (Date.now() - started) / 1000,
      };
      if (critic) saveCritic(out, critic);
      writeFileSync(join(out, TRAINING_STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
    };

    const controller = new AbortController();
    const interrupt = () => controller.abort();
    process.once('SIGINT', interrupt);
    const bar = new ProgressBar(steps - startStep, 'train');
    let result: Awaited<ReturnType<typeof trainTextureVae>>;
    try {
      result = await trainTextureVae(model, images, {
        ...training,
        startStep,
        discriminator: critic,
        signal: controller.signal,
        onProgress: async (p) => {
          last = p;
          bar.update(p.step - startStep, {
            step: p.step,
            loss: p.loss,
            psnr: `${psnr(p.reconstruction).toFixed(2)}dB`,
          });
          if (saveEvery > 0 && p.step % saveEvery === 0 && p.step < steps) await save(p.step);
        },
      });
    } finally {
      process.removeListener('SIGINT', interrupt);
      bar.finish();
    }
    await save(result.step);
    const summary = last
      ? `loss ${(last as TrainingRecord).loss.toPrecision(4)}, PSNR ${psnr((last as TrainingRecord).reconstruction).toFixed(2)} dB`
      : 'no step finished';
    process.stdout.write(
      `${result.aborted ? 'interrupted' : 'trained'} to step ${result.step}/${steps} in ${formatSeconds(result.seconds)} (${summary}); saved to ${out}\n`,
    );
    return result.aborted ? 130 : 0;
  } finally {
    critic?.dispose();
    model.dispose();
  }
}
