export {
  type Exemplar,
  type ExemplarOptions,
  type ExemplarSource,
  MAX_EXEMPLAR_PIXELS,
  MAX_EXEMPLAR_SIDE,
  toExemplars,
} from './exemplars.js';
export { TEXTURE_VAE_METADATA_KEY, textureVaeConfigOf, validateTextureVaeArtifacts } from './io.js';
export {
  PaddedConv2D,
  type PaddedConv2DActivation,
  type PaddedConv2DArgs,
  type PaddedConv2DPadding,
} from './layers/paddedConv2D.js';
export { registerTextureVaeLayers } from './layers/registerTextureVaeLayers.js';
export { type ElboTerms, elbo, klDivergence, reconstructionError, reparameterize } from './loss.js';
export { conv2d } from './ops/conv.js';
export {
  conv2dBackpropFilterKernel,
  conv2dBackpropInputKernel,
  conv2dFilterGradient,
  conv2dInputGradient,
} from './ops/convFilterGradient.js';
export { type PatchOptions, PatchSampler } from './patches.js';
export type { PixelImage } from './pixelImage.js';
export {
  loadPretrained,
  loadPretrainedSwatches,
  PRETRAINED_MODEL_IDS,
  type PretrainedModelId,
  type PretrainedSwatches,
  pretrainedSwatch,
  pretrainedSwatchNames,
} from './pretrained/pretrained.js';
export { TextureVae } from './textureVae.js';
export {
  type ConvLayerSpec,
  checkTextureSize,
  DEFAULT_TEXTURE_VAE_CONFIG,
  decoderFlopsPerPixel,
  decoderPassBytes,
  encoderPassBytes,
  MAX_TEXTURE_SIZE,
  resolveTextureVaeConfig,
  type TextureVaeConfig,
  textureVaeLayerSpecs,
  textureVaeParameterCount,
  textureVaeWeightShapes,
} from './textureVaeConfig.js';
export { DEFAULT_MEMORY_BUDGET, MAX_DECODE_OUTPUT_BYTES } from './tiledPasses.js';
export {
  type ProgressObservableLike,
  type TrainingProgress,
  type TrainingRecord,
  type TrainingResult,
  type TrainOptions,
  trainTextureVae,
  warmupBeta,
} from './train.js';
