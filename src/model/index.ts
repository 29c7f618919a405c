export { TEXTURE_VAE_METADATA_KEY, validateTextureVaeArtifacts } from './io.js';
export {
  PaddedConv2D,
  type PaddedConv2DActivation,
  type PaddedConv2DArgs,
  type PaddedConv2DPadding,
} from './layers/paddedConv2D.js';
export { registerTextureVaeLayers } from './layers/registerTextureVaeLayers.js';
export { type ElboTerms, elbo, klDivergence, reconstructionError, reparameterize } from './loss.js';
export { conv2d } from './ops/conv.js';
export type { PixelImage } from './pixelImage.js';
export { TextureVae } from './textureVae.js';
export {
  type ConvLayerSpec,
  DEFAULT_TEXTURE_VAE_CONFIG,
  decoderFlopsPerPixel,
  MAX_TEXTURE_SIZE,
  resolveTextureVaeConfig,
  type TextureVaeConfig,
  textureVaeLayerSpecs,
  textureVaeParameterCount,
  textureVaeWeightShapes,
} from './textureVaeConfig.js';
export {
  loadPretrained,
  loadPretrainedLatents,
  type MaterialLatents,
  PRETRAINED_MODEL_IDS,
  type PretrainedModelId,
} from './pretrained/pretrained.js';
