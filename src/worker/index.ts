export type { TrainingStart, WorkerBackend } from './trainWorkerProtocol.js';
export {
  type WorkerExemplarSource,
  WorkerTrainer,
  type WorkerTrainerOptions,
  type WorkerTrainingOptions,
  type WorkerTrainingResult,
} from './workerTrainer.js';
