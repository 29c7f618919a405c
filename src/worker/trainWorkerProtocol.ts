import type { Exemplar } from '../model/exemplars.js';
import type { PixelLoss } from '../model/loss.js';
import type { TextureVaeConfig } from '../model/textureVaeConfig.js';
import type { TrainingProgress, TrainingResult } from '../model/train.js';

/**
 * The messages between WorkerTrainer (the page) and trainWorker (the module worker). Weights travel as one
 * Float32Array buffer in getWeights order, transferred, never copied.
 */

/** Where the weights training starts from come from. */
export type TrainingStart = 'embedded' | 'model' | 'scratch';

/** The tfjs backend the worker trains on. */
export type WorkerBackend = 'wasm' | 'webgl';

/** Every weight of a model in one buffer, and the shape of each, in getWeights order. */
export interface PackedWeights {
  readonly buffer: ArrayBuffer;
  readonly shapes: number[][];
}

/** The serialisable part of TrainOptions, resolved by the page. */
export interface SerializedTrainOptions {
  readonly steps: number;
  readonly startStep: number;
  readonly batchSize: number;
  readonly patchSize: number;
  readonly learningRate: number;
  readonly warmupSteps?: number;
  readonly seed: number;
  readonly pixelLoss?: PixelLoss;
  readonly patchWeight?: number;
  readonly fourierWeight?: number;
  readonly gridWeight?: number;
  readonly adversarialWeight?: number;
  readonly adversarialStart?: number;
  readonly augment?: boolean;
}

export interface StartMessage {
  readonly type: 'start';
  readonly config: Readonly<TextureVaeConfig>;
  /** 'auto': the embedded model's weights when its config is `config`, else `weights`. */
  readonly from: TrainingStart | 'auto';
  /** The page model's weights (absent when training starts from the embedded model or from scratch). */
  readonly weights: PackedWeights | null;
  readonly exemplars: Exemplar[];
  readonly options: SerializedTrainOptions;
  /** The share of the time the worker computes: it rests after each step for the rest (1: never). */
  readonly cpuShare: number;
  /** Weights are sent back every this many steps (0: only at the end). */
  readonly previewEvery: number;
  readonly backend: WorkerBackend | 'auto';
  /** An image the worker reconstructs (decode of its encoding's mean) with every weights message, or null. */
  readonly previewImage: Exemplar | null;
}

export interface AbortMessage {
  readonly type: 'abort';
}

export type ToWorker = StartMessage | AbortMessage;

export interface ReadyMessage {
  readonly type: 'ready';
  readonly backend: WorkerBackend;
  readonly from: TrainingStart;
  /** The WebGL renderer the backend choice was based on ('' when the worker has no WebGL2). */
  readonly renderer: string;
}

export interface ProgressMessage {
  readonly type: 'progress';
  readonly progress: TrainingProgress;
}

export interface WeightsMessage {
  readonly type: 'weights';
  readonly step: number;
  readonly weights: PackedWeights;
  /** The preview image reconstructed with these weights (null when none was asked for). */
  readonly reconstruction: Exemplar | null;
}

export interface DoneMessage {
  readonly type: 'done';
  readonly result: TrainingResult;
  readonly weights: PackedWeights;
  readonly reconstruction: Exemplar | null;
}

export interface ErrorMessage {
  readonly type: 'error';
  readonly message: string;
  /** The last weights with a finite loss, when training had started (the NaN guard restored them). */
  readonly weights: PackedWeights | null;
}

export type FromWorker = ReadyMessage | ProgressMessage | WeightsMessage | DoneMessage | ErrorMessage;
