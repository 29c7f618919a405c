import {
  dispose,
  grad,
  keep,
  type NamedTensorMap,
  norm,
  type Optimizer,
  type Scalar,
  type Tensor,
  type Tensor4D,
  tidy,
  train,
  variableGrads,
} from '@tensorflow/tfjs-core';

import { checkSeed, SeededRandom } from '../latent/random.js';
import { DEFAULT_DISCRIMINATOR_WIDTHS, PatchDiscriminator } from './discriminator.js';
import { type ExemplarSource, toExemplars } from './exemplars.js';
import {
  adaptiveAdversarialWeight,
  checkLossWeight,
  DEFAULT_PATCH_SWD,
  hingeCriticLoss,
  hingeGeneratorLoss,
  type LossOptions,
  PIXEL_LOSSES,
  type PixelLoss,
  randomPatchDirections,
  reconstructionLoss,
} from './loss.js';
import { PatchSampler } from './patches.js';
import type { TextureVae } from './textureVae.js';
import { checkTextureSize } from './textureVaeConfig.js';

/** One report of training progress, after each finished step. */
/**
 * The pixel term of the default recipe: Charbonnier (a smooth L1) keeps edges that MSE averages away
 * (bench/RESULTS.md, `sharpAblation`).
 */
export const DEFAULT_PIXEL_LOSS: PixelLoss = 'charbonnier';
/**
 * Weight of the multi-scale patch term in the default recipe: off. The patch term lowers the normalised SWD
 * (bench/RESULTS.md, `sharpAblation`), but over a long run it paints worm-like strokes with coloured fringes
 * that are not in the photo (see MODEL_CARD.md of the embedded model); pass a weight to use it anyway.
 */
export const DEFAULT_PATCH_WEIGHT = 0;
/**
 * Weight of the Fourier-amplitude term in the default recipe (see fourierAmplitudeError): with the cell-grid
 * term, the recipe the embedded model was trained with. Fine-tuning that model on a new photo with the pixel
 * term alone regrows a faint latent-cell grid from the first minute (cell-grid ratio 1.02-1.14 on held-out
 * crops, mostly above 1.05); with this recipe it stays near 1.0, for 0.6-0.9 dB of PSNR after 5 minutes, an SWD
 * about 0.05 higher, and 6-18% more time per step (bench/RESULTS.md, `learningCurve`).
 */
export const DEFAULT_FOURIER_WEIGHT = 0.3;
/** Weight of the cell-grid term in the default recipe (see cellGridTerm and DEFAULT_FOURIER_WEIGHT). */
export const DEFAULT_GRID_WEIGHT = 0.05;
/** Weight of the adversarial term in the default recipe (see TrainOptions.adversarialWeight). */
export const DEFAULT_ADVERSARIAL_WEIGHT = 0;
/**
 * The default loss recipe in one object, each weight as trainTextureVae uses it when the option is left out;
 * spread it to change one term: `{ ...DEFAULT_LOSS_RECIPE, gridWeight: 0 }`.
 */
export const DEFAULT_LOSS_RECIPE: Readonly<{
  pixelLoss: PixelLoss;
  patchWeight: number;
  fourierWeight: number;
  gridWeight: number;
  adversarialWeight: number;
}> = Object.freeze({
  pixelLoss: DEFAULT_PIXEL_LOSS,
  patchWeight: DEFAULT_PATCH_WEIGHT,
  fourierWeight: DEFAULT_FOURIER_WEIGHT,
  gridWeight: DEFAULT_GRID_WEIGHT,
  adversarialWeight: DEFAULT_ADVERSARIAL_WEIGHT,
});

export interface TrainingProgress {
  /** Steps finished so far, counted from the model's first step (so it continues after `startStep`). */
  readonly step: number;
  /** The step count training runs to. */
  readonly steps: number;
  /** total = reconstruction + beta * kl of this step's batch. */
  readonly loss: number;
  /** Mean squared error per value of this step's batch (PSNR = -10 log10 of it). */
  readonly reconstruction: number;
  /** KL divergence per image value of this step's batch. */
  readonly kl: number;
  /** The KL weight used at this step (ramps up during warm-up). */
  readonly beta: number;
  /** Steps per second since this call started. */
  readonly stepsPerSecond: number;
  /** Estimated seconds until `steps`. */
  readonly etaSeconds: number;
}

/** Anything with Babylon's `Observable.notifyObservers` shape, so model/ needs no Babylon import. */
export interface ProgressObservableLike {
  notifyObservers(progress: TrainingProgress): unknown;
}

export interface TrainOptions {
  /** The step count to train to, counted from the model's first step (default: 1000). */
  steps?: number;
  /** Steps the model has already had (for resuming): training runs steps startStep+1 .. steps (default: 0). */
  startStep?: number;
  /** Patches per step (default: 16). */
  batchSize?: number;
  /** Side of the square training patches, a multiple of the model's stride (default: 64). */
  patchSize?: number;
  /** Adam learning rate (default: 0.001). */
  learningRate?: number;
  /** Steps over which the KL weight ramps linearly from 0 to model.config.beta (default: 10% of steps). */
  warmupSteps?: number;
  /** Seed of the patch crops and the reparameterisation noise, an integer from 0 to 2^32 - 1 (default: 0). */
  seed?: number;
  /** Stops training after the step in progress; the promise then resolves with `aborted: true`. */
  signal?: AbortSignal;
  /**
   * Called after every finished step, once the weights it left have given a finite loss. When it returns a
   * promise, training waits for it before the next step, so the model can be saved there with consistent,
   * finite weights.
   */
  onProgress?: (progress: TrainingProgress) => void | Promise<void>;
  /**
   * Notified after every finished step; pass a Babylon `Observable<TrainingProgress>` to drive scene UI from
   * it. Taken as an option rather than created here so the model code stays free of Babylon.
   */
  progressObservable?: ProgressObservableLike;
  /** The pixel term of the loss: 'mse', 'l1' or 'charbonnier' (see PixelLoss) (default: DEFAULT_PIXEL_LOSS). */
  pixelLoss?: PixelLoss;
  /**
   * Weight of the multi-scale patch term (sliced Wasserstein on Laplacian-pyramid patches, see patchSwd), which
   * asks for the photo's fine detail instead of its blurred average; 0 turns it off (default:
   * DEFAULT_PATCH_WEIGHT).
   */
  patchWeight?: number;
  /**
   * Weight of the Fourier-amplitude term (the amplitude spectrum of each decoded patch against its photo's, see
   * fourierAmplitudeError), which keeps the energy of detail the pixel term would average away; 0 turns it off
   * (default: DEFAULT_FOURIER_WEIGHT).
   */
  fourierWeight?: number;
  /**
   * Weight of the cell-grid term (the cell-grid ratio of each decoded patch against its photo's, see
   * cellGridTerm), which asks for no more contrast across the latent cells' boundaries than the photo has
   * there; 0 turns it off (default: DEFAULT_GRID_WEIGHT).
   */
  gridWeight?: number;
  /**
   * Weight of the adversarial term (default: DEFAULT_ADVERSARIAL_WEIGHT; 0 turns it off). A PatchGAN critic
   * (PatchDiscriminator) learns, with the hinge loss, to tell the photo's patches from their decodes, and the
   * decoder is asked to raise the critic's scores of its decodes, i.e. for detail that looks like the photo's
   * rather than its blurred average. The weight multiplies the adaptive weight (adaptiveAdversarialWeight: the
   * reconstruction terms' gradient norm over the adversarial term's, as in Stable Diffusion's VAE, which uses
   * 0.5), taken at each step for the next. Costs about as much again per step as the VAE itself.
   */
  adversarialWeight?: number;
  /**
   * The step, counted like `steps`, after which the decoder gets the adversarial term; the critic trains from the
   * first step of the call, so it has learnt something by then (default: 0).
   */
  adversarialStart?: number;
  /**
   * The critic to train when adversarialWeight > 0, owned by the caller (for example to save it with a
   * checkpoint and pass it again on resume). Default: a new one (seeded from `seed`), disposed at the end.
   */
  discriminator?: PatchDiscriminator;
  /** Random flips and quarter turns of the patches; off for textures with a direction (default: true). */
  augment?: boolean;
  /**
   * Runs each synchronous part of a step (tensor math, weight updates, and then blocking loss readbacks instead
   * of async ones) inside a caller's scope: pass `engineScope(engine).run` to train on the
   * tfjs backend that shares a Babylon engine's WebGL context, with GL state handed over around every part
   * (default: none; the active backend is used and losses are read asynchronously).
   */
  scope?: <T>(work: () => T) => T;
}

/** The losses of one finished step. */
export interface TrainingRecord {
  readonly step: number;
  readonly loss: number;
  readonly reconstruction: number;
  readonly kl: number;
  readonly beta: number;
  /** The critic's hinge loss at this step (only with the adversarial term). */
  readonly critic?: number;
  /** adversarialWeight times the adaptive weight used at this step (only with the adversarial term). */
  readonly adversarialWeight?: number;
}

export interface TrainingResult {
  /** One record per step finished in this call, in order. */
  readonly history: TrainingRecord[];
  /** The last finished step (startStep when none finished). */
  readonly step: number;
  /** True when `signal` stopped training before `steps`. */
  readonly aborted: boolean;
  /** Wall time of this call in seconds. */
  readonly seconds: number;
}

type Optional = 'signal' | 'onProgress' | 'progressObservable' | 'scope' | 'discriminator';
export type ResolvedTrainOptions = Readonly<
  Required<Omit<TrainOptions, Optional>> & Pick<TrainOptions, Optional>
>;

/** Every option checked against `model` and every default filled in (Error naming the bad option). */
export function resolveTrainOptions(model: TextureVae, options: TrainOptions): ResolvedTrainOptions {
  if (options === null || typeof options !== 'object') throw new Error('training options must be an object');
  const steps = options.steps ?? 1000;
  if (!Number.isInteger(steps) || steps < 1)
    throw new Error(`steps must be a positive integer, got ${steps}`);
  const startStep = options.startStep ?? 0;
  if (!Number.isInteger(startStep) || startStep < 0 || startStep > steps) {
    throw new Error(`startStep must be an integer from 0 to steps (${steps}), got ${startStep}`);
  }
  const batchSize = options.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 256) {
    throw new Error(`batchSize must be an integer from 1 to 256, got ${batchSize}`);
  }
  const patchSize = options.patchSize ?? 64;
  checkTextureSize('patchSize', patchSize, model.stride, 1024);
  const learningRate = options.learningRate ?? 0.001;
  if (typeof learningRate !== 'number' || !Number.isFinite(learningRate) || learningRate <= 0) {
    throw new Error(`learningRate must be a finite number > 0, got ${learningRate}`);
  }
  const warmupSteps = options.warmupSteps ?? Math.floor(steps / 10);
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) {
    throw new Error(`warmupSteps must be an integer >= 0, got ${warmupSteps}`);
  }
  if (options.scope !== undefined && typeof options.scope !== 'function')
    throw new Error('scope must be a function');
  const seed = checkSeed(options.seed ?? 0);
  const pixelLoss = options.pixelLoss ?? DEFAULT_PIXEL_LOSS;
  if (!PIXEL_LOSSES.includes(pixelLoss)) {
    throw new Error(`pixelLoss must be one of ${PIXEL_LOSSES.join(', ')}, got ${JSON.stringify(pixelLoss)}`);
  }
  const patchWeight = checkLossWeight('patchWeight', options.patchWeight ?? DEFAULT_PATCH_WEIGHT);
  const fourierWeight = checkLossWeight('fourierWeight', options.fourierWeight ?? DEFAULT_FOURIER_WEIGHT);
  const gridWeight = checkLossWeight('gridWeight', options.gridWeight ?? DEFAULT_GRID_WEIGHT);
  const adversarialWeight = checkLossWeight(
    'adversarialWeight',
    options.adversarialWeight ?? DEFAULT_ADVERSARIAL_WEIGHT,
  );
  const adversarialStart = options.adversarialStart ?? 0;
  if (!Number.isInteger(adversarialStart) || adversarialStart < 0) {
    throw new Error(`adversarialStart must be an integer >= 0, got ${adversarialStart}`);
  }
  const discriminator = options.discriminator;
  if (discriminator !== undefined) {
    if (!(discriminator instanceof PatchDiscriminator) || discriminator.isDisposed) {
      throw new Error('discriminator must be a live PatchDiscriminator');
    }
    if (discriminator.channels !== model.outputChannels) {
      throw new Error(
        `discriminator takes ${discriminator.channels} channels, the model makes ${model.outputChannels}`,
      );
    }
  }
  if (adversarialWeight > 0) {
    const minSide =
      discriminator?.minSide ?? PatchDiscriminator.minSideFor(DEFAULT_DISCRIMINATOR_WIDTHS.length);
    if (patchSize < minSide) {
      throw new Error(
        `the adversarial term needs patchSize >= ${minSide} (the critic's window), got ${patchSize}`,
      );
    }
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new Error('onProgress must be a function');
  }
  if (
    options.progressObservable !== undefined &&
    typeof options.progressObservable?.notifyObservers !== 'function'
  ) {
    throw new Error('progressObservable must have a notifyObservers method (a Babylon Observable)');
  }
  return Object.freeze({
    steps,
    startStep,
    batchSize,
    patchSize,
    learningRate,
    warmupSteps,
    seed,
    pixelLoss,
    patchWeight,
    fourierWeight,
    gridWeight,
    adversarialWeight,
    adversarialStart,
    discriminator,
    augment: options.augment ?? true,
    signal: options.signal,
    onProgress: options.onProgress,
    progressObservable: options.progressObservable,
    scope: options.scope,
  });
}

/** Lets the host run between steps: the render loop in a browser, I/O and signals in Node. */
function yieldToHost(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** KL weight at a step: a linear ramp from 0 to beta over warmupSteps, then beta. */
export function warmupBeta(step: number, beta: number, warmupSteps: number): number {
  return warmupSteps <= 0 ? beta : beta * Math.min(1, step / warmupSteps);
}

/** The loss terms of one batch under the current weights, and their gradients when another update follows. */
interface Measured {
  readonly record: TrainingRecord;
  readonly grads: NamedTensorMap | null;
}

/**
 * Trains `model` on random patches of `exemplars` with Adam, on whatever tfjs backend is active (in Node call
 * `useWasmBackend()` first; in a browser, the WebGL backend). Between steps it yields to the host, so a Babylon
 * scene keeps rendering while a model trains in it.
 *
 * A step is finished once the weights its update left have given a finite loss: that loss is the next step's
 * (after the last step, one more batch is measured for it). So the weights a model holds at a progress report,
 * after an abort and at the end are always weights with a finite loss.
 *
 * - Progress: `onProgress` and `progressObservable` after each finished step.
 * - Abort: `signal` stops after the step in progress; the model keeps the weights of the last finished step and
 *   the promise resolves with `aborted: true` and the history so far.
 * - Divergence: if the weights a step left give a NaN or infinite loss, the model gets back the weights of the
 *   step before (the last with a finite loss) and the promise rejects with an Error naming the step.
 *
 * The optimizer's state lives only for this call (it is disposed at the end): resuming later restarts Adam's
 * moment estimates. No tensors are left behind.
 */
export async function trainTextureVae(
  model: TextureVae,
  exemplars: ExemplarSource | readonly ExemplarSource[],
  options: TrainOptions = {},
): Promise<TrainingResult> {
  if (model.isDisposed) throw new Error('TextureVae has been disposed');
  const o = resolveTrainOptions(model, options);
  const images = await toExemplars(exemplars, { channels: model.outputChannels });
  const history: TrainingRecord[] = [];
  const started = Date.now();
  const result = (step: number): TrainingResult => ({
    history,
    step,
    aborted: step < o.steps,
    seconds: (Date.now() - started) / 1000,
  });
  if (o.signal?.aborted || o.startStep >= o.steps) return result(o.startStep);
  const sampler = new PatchSampler(
    images,
    { size: o.patchSize, tileable: model.config.tileable, flips: o.augment, turns: o.augment },
    // A resumed run draws new crops rather than repeating those of the first run.
    o.seed + o.startStep * 1_000_003,
  );
  const within = o.scope ?? (<T>(work: () => T): T => work());
  const optimizer = train.adam(o.learningRate);
  const variables = model.trainableVariables;

  // The patch term's random directions change every step (a fresh slice of patch space each time).
  const directionNoise = new SeededRandom(o.seed * 104_729 + o.startStep + 1);

  // The adversarial term: a critic (the caller's, or one of our own), its optimiser (Adam with beta1 0.5, as in
  // the GAN literature) and the adaptive weight measured at the last step.
  const adversarial = o.adversarialWeight > 0;
  const ownCritic = adversarial && !o.discriminator;
  const critic = adversarial
    ? (o.discriminator ??
      within(() => new PatchDiscriminator({ channels: model.outputChannels, seed: (o.seed + 1) >>> 0 })))
    : null;
  const criticOptimizer = adversarial ? train.adam(o.learningRate, 0.5, 0.9) : null;
  let adaptiveWeight = 0;

  /**
   * One critic step on photo patches against their detached decodes, then the gradient norms at the decoded
   * pixels of the reconstruction terms and of the adversarial term, for the next step's adaptive weight (only
   * when the next step uses it: `withNorms`). Returns [critic loss, reconstruction norm, adversarial norm], or
   * [critic loss] without the norms, owned by the caller.
   */
  const criticStep = (
    d: PatchDiscriminator,
    patches: Tensor4D,
    decoded: Tensor4D,
    lossOptions: LossOptions,
    withNorms: boolean,
  ): Scalar[] => {
    const step = variableGrads(() => hingeCriticLoss(d.scores(patches), d.scores(decoded)), d.variables);
    (criticOptimizer as Optimizer).applyGradients(step.grads);
    dispose(step.grads);
    if (!withNorms) return [step.value];
    return [
      step.value,
      tidy(() => norm(grad((x: Tensor) => reconstructionLoss(patches, x, lossOptions))(decoded)) as Scalar),
      tidy(() => norm(grad((x: Tensor) => hingeGeneratorLoss(d.scores(x as Tensor4D)))(decoded)) as Scalar),
    ];
  };

  const measure = async (next: number, withGrads: boolean): Promise<Measured> => {
    const beta = warmupBeta(next, model.config.beta, o.warmupSteps);
    const { scalars, grads, adversarialWeight } = within(
      (): {
        scalars: Scalar[];
        grads: NamedTensorMap | null;
        adversarialWeight?: number;
      } => {
        const patches = sampler.sample(o.batchSize);
        const patchDirections =
          o.patchWeight > 0
            ? randomPatchDirections(DEFAULT_PATCH_SWD, model.outputChannels, (n) =>
                directionNoise.gaussianArray(n),
              )
            : [];
        const lossOptions = {
          beta,
          seed: o.seed * 7919 + next,
          pixel: o.pixelLoss,
          patchWeight: o.patchWeight,
          patchDirections,
          fourierWeight: o.fourierWeight,
          gridWeight: o.gridWeight,
          // The cell-grid term needs it, also where the adaptive weight takes the reconstruction terms' gradient.
          stride: model.stride,
          adversarialWeight: critic && next > o.adversarialStart ? o.adversarialWeight * adaptiveWeight : 0,
          critic: critic ? (x: Tensor4D) => critic.scores(x) : undefined,
          keepDecoded: critic !== null && withGrads,
        };
        const kept: { reconstruction?: Scalar; kl?: Scalar; decoded?: Tensor4D } = {};
        try {
          if (!withGrads) {
            const terms = model.lossTensors(patches, lossOptions);
            dispose([terms.patch, terms.fourier, terms.grid, terms.adversarial]);
            return { scalars: [terms.total, terms.reconstruction, terms.kl], grads: null };
          }
          const result = variableGrads(() => {
            const terms = model.lossTensors(patches, lossOptions);
            kept.reconstruction = keep(terms.reconstruction);
            kept.kl = keep(terms.kl);
            if (terms.decoded) kept.decoded = keep(terms.decoded);
            return terms.total;
          }, variables);
          let criticScalars: Scalar[] = [];
          try {
            if (critic && kept.decoded)
              // The weight measured now serves the next step, which uses it only after adversarialStart.
              criticScalars = criticStep(
                critic,
                patches,
                kept.decoded,
                lossOptions,
                next >= o.adversarialStart,
              );
          } catch (e) {
            dispose([result.value, ...Object.values(result.grads)]);
            throw e;
          }
          return {
            scalars: [result.value, kept.reconstruction as Scalar, kept.kl as Scalar, ...criticScalars],
            grads: result.grads,
            adversarialWeight: lossOptions.adversarialWeight,
          };
        } catch (e) {
          dispose([kept.reconstruction, kept.kl].filter((t): t is Scalar => t !== undefined));
          throw e;
        } finally {
          patches.dispose();
          dispose(patchDirections);
          if (kept.decoded) kept.decoded.dispose();
        }
      },
    );
    let values: number[];
    try {
      values = o.scope
        ? within(() => scalars.map((t) => t.dataSync()[0]))
        : await Promise.all(scalars.map(async (t) => (await t.data())[0]));
    } catch (e) {
      if (grads) dispose(grads);
      throw e;
    } finally {
      dispose(scalars);
    }
    const [loss, reconstruction, kl, criticLoss, reconstructionNorm, adversarialNorm] = values;
    if (criticLoss === undefined) return { record: { step: next, loss, reconstruction, kl, beta }, grads };
    if (reconstructionNorm !== undefined) {
      adaptiveWeight = adaptiveAdversarialWeight(reconstructionNorm, adversarialNorm);
    }
    return {
      record: { step: next, loss, reconstruction, kl, beta, critic: criticLoss, adversarialWeight },
      grads,
    };
  };

  let step = o.startStep;
  // The weights before the last update, given back if that update left weights with a non-finite loss.
  let previous: Tensor[] | null = null;
  // The loss (and gradients) of the current weights, measured on the next step's batch.
  let pending: Measured | null = null;
  // The step that left the current weights, reported once their loss is known to be finite.
  let finished: TrainingRecord | null = null;
  try {
    for (;;) {
      pending = await measure(step + 1, step < o.steps);
      const loss = pending.record.loss;
      if (!Number.isFinite(loss)) {
        if (previous === null) {
          throw new Error(
            `the model's loss is ${loss} before training step ${step + 1}: its weights cannot be trained; they were not changed`,
          );
        }
        const restore = previous;
        within(() => model.setWeights(restore));
        throw new Error(
          `training diverged at step ${step}: the loss is ${loss}; the last weights with a finite loss (step ${step - 1}) were restored (lower the learningRate, now ${o.learningRate})`,
        );
      }
      if (finished) {
        history.push(finished);
        const seconds = Math.max((Date.now() - started) / 1000, 1e-6);
        const stepsPerSecond = (step - o.startStep) / seconds;
        const progress: TrainingProgress = {
          ...finished,
          steps: o.steps,
          stepsPerSecond,
          etaSeconds: (o.steps - step) / stepsPerSecond,
        };
        o.progressObservable?.notifyObservers(progress);
        const waited = o.onProgress?.(progress);
        if (waited) await waited;
        await yieldToHost();
      }
      if (step >= o.steps || o.signal?.aborted) break;
      const grads = pending.grads as NamedTensorMap;
      within(() => {
        if (previous) dispose(previous);
        previous = model.getWeights();
        optimizer.applyGradients(grads as Parameters<typeof optimizer.applyGradients>[0]);
        dispose(grads);
      });
      finished = pending.record;
      pending = null;
      step += 1;
    }
  } finally {
    const left = pending?.grads;
    within(() => {
      if (left) dispose(left);
      if (previous) dispose(previous);
      optimizer.dispose();
      criticOptimizer?.dispose();
      if (ownCritic) critic?.dispose();
    });
  }
  return result(step);
}
