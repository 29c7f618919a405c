export type { DecodeWorkerReply, DecodeWorkerRequest } from './decodeProtocol.js';
export {
  acquireWorkerDecoder,
  liveDecodeWorkers,
  WorkerDecoder,
  type WorkerDecoderLease,
  type WorkerDecoderOptions,
} from './workerDecoder.js';
