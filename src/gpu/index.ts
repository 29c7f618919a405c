export {
  chooseDecodePath,
  type DecodeEnvironment,
  type DecodePath,
  type DecodePathChoice,
  type DecodePathOption,
  decodeEnvironment,
  isSoftwareRenderer,
} from './decodePath.js';
export {
  createDecodeSource,
  type DecodedImage,
  type DecodeSource,
  type DecodeSourceOptions,
  type DrawImage,
} from './decodeSource.js';
export { prepareGlForTfjs, restoreGlForBabylon, runOnEngine, setBackendSync } from './glHandoff.js';
export { handoffFragmentSource, handoffLinearDefine, handoffSamplerName } from './handoffShader.js';
export {
  canShareContext,
  disposeSharedBackend,
  getSharedBackend,
  peekSharedBackend,
  type SharedBackend,
  type WeightOwner,
  webGL2ContextOf,
} from './sharedBackend.js';
