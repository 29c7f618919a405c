export type { DecodeWorkerReply, DecodeWorkerRequest } from './decodeProtocol.js';
export type { TrainingStart, WorkerBackend } from './trainWorkerProtocol.js';
export {
  acquireWorkerDecoder,
  liveDecodeWorkers,
  type WorkerDecodeOptions,
  WorkerDecoder,
  type WorkerDecoderLease,
  type WorkerDecoderOptions,
  type WorkerDecodeTiming,
} from './workerDecoder.js';
export {
  MAX_PREVIEW_SIDE,
  type WorkerExemplarSource,
  type WorkerReconstruction,
  WorkerTrainer,
  type WorkerTrainerOptions,
  type WorkerTrainingOptions,
  type WorkerTrainingResult,
} from './workerTrainer.js';
