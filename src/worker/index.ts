export type { DecodeWorkerReply, DecodeWorkerRequest } from './decodeProtocol.js';
export type { TrainingStart, WorkerBackend } from './trainWorkerProtocol.js';
export {
  acquireWorkerDecoder,
  liveDecodeWorkers,
  WorkerDecoder,
  type WorkerDecoderLease,
  type WorkerDecoderOptions,
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
