export { DecodeScheduler, type DecodeSchedulerOptions, type DecodeStep } from './decodeScheduler.js';
export type { DecodeTile, DecodeTileSizeOption } from './decodeTiles.js';
export {
  type ResolvedTensorProceduralTextureOptions,
  resolveTensorTextureOptions,
  TensorProceduralTexture,
  type TensorProceduralTextureOptions,
} from './tensorProceduralTexture.js';
export { type TextureExemplarOptions, textureExemplar } from './textureExemplar.js';
export {
  getVaeModel,
  getVaeSwatch,
  registerVaeModel,
  registerVaeSwatches,
  resolveVaeModel,
  resolveVaeSwatch,
  unregisterVaeModel,
} from './vaeModelRegistry.js';
export {
  registerVaeProceduralTexture,
  type SerializedVae,
  type SerializedVaeProceduralTexture,
  VaeProceduralTexture,
  type VaeProceduralTextureOptions,
} from './vaeProceduralTexture.js';
