// The public API of `babylon-vae-textures`: what an app calls. Node-only helpers (files, PNG, the WASM
// backend) are in `babylon-vae-textures/node` (src/node/index.ts), quality metrics in
// `babylon-vae-textures/eval` (src/eval/index.ts). Everything else under src/ is internal; test/node/api.test.ts
// lists these names, so adding one is a deliberate change.

// Atlases.
export { applyAtlasTile, atlasRectBuffer, createAtlasThinInstances } from './atlas/atlasApply.js';
export { type AtlasBlobs, atlasToBlobs } from './atlas/atlasBlobs.js';
export type {
  AtlasLayout,
  AtlasLayoutKind,
  AtlasPageLayout,
  AtlasPixelRect,
  AtlasTilePlacement,
  AtlasUvRect,
} from './atlas/atlasLayout.js';
export {
  type AtlasManifest,
  type AtlasManifestTile,
  type AtlasTileSource,
  parseAtlasManifest,
} from './atlas/atlasManifest.js';
export { AtlasUvMaterialPlugin, registerAtlasUvMaterialPlugin } from './atlas/atlasUvMaterialPlugin.js';
export { type AtlasOptions, type AtlasResult, bakeAtlas, planAtlas } from './atlas/bakeAtlas.js';
export {
  type AtlasTextureOptions,
  type AtlasTextureResult,
  bakeAtlasTexture,
} from './atlas/bakeAtlasTexture.js';
// How textures decode on this machine (zero-copy, worker, readback), and tfjs work on a Babylon engine's own
// WebGL2 context.
export type { DecodePath, DecodePathChoice, DecodePathOption } from './gpu/decodePath.js';
export { type EngineScope, engineScope } from './gpu/engineScope.js';
// Latent grids, seeds and swatches.
export type { LatentGrid } from './latent/latentGrid.js';
export { lerpLatent, resizeLatent, sampleLatent, similarLatent, slerpLatent } from './latent/latentOps.js';
export { MAX_SEED, offsetSeed, SeededRandom } from './latent/random.js';
export { Swatch, type SwatchModel, type SwatchOptions, type SwatchSampleOptions } from './latent/swatch.js';
// Materials and textures in a scene.
export {
  type CreateVaeMaterialOptions,
  createVaeMaterial,
  exportWithVaeTextures,
  type LatentAnimation,
  type LatentChangeOptions,
  type LatentKeyframes,
  type LatentWalk,
  type MorphOptions,
  registerVaeMaterialPlugin,
  registerVaeTextureBlock,
  type VaeMaterialController,
  VaeMaterialPlugin,
  type VaeMaterialSourceOptions,
  type VaeMaterialView,
  VaeTextureBlock,
} from './materials/index.js';
export {
  PatchDiscriminator,
  type PatchDiscriminatorOptions,
} from './model/discriminator.js';
// Models: load, create, train.
export {
  type Exemplar,
  type ExemplarOptions,
  type ExemplarSource,
  MAX_EXEMPLAR_PIXELS,
  MAX_EXEMPLAR_SIDE,
  toExemplars,
} from './model/exemplars.js';
export type { PixelLoss } from './model/loss.js';
export type { PixelImage } from './model/pixelImage.js';
export {
  loadPretrained,
  loadPretrainedSwatches,
  PRETRAINED_MODEL_IDS,
  type PretrainedModelId,
  type PretrainedSwatches,
  pretrainedSwatch,
  pretrainedSwatchNames,
} from './model/pretrained/pretrained.js';
export type { TextureDecoder } from './model/textureDecoder.js';
export { TextureVae } from './model/textureVae.js';
export {
  DEFAULT_TEXTURE_VAE_CONFIG,
  decoderFlopsPerPixel,
  MAX_TEXTURE_SIZE,
  type TextureVaeConfig,
  textureVaeParameterCount,
} from './model/textureVaeConfig.js';
export {
  DEFAULT_LOSS_RECIPE,
  type ProgressObservableLike,
  type TrainingProgress,
  type TrainingRecord,
  type TrainingResult,
  type TrainOptions,
  trainTextureVae,
} from './model/train.js';
export {
  type DecodeTile,
  type DecodeTileSizeOption,
  registerVaeModel,
  registerVaeProceduralTexture,
  registerVaeSwatches,
  type SerializedVae,
  type SerializedVaeProceduralTexture,
  TensorProceduralTexture,
  type TensorProceduralTextureOptions,
  type TextureExemplarOptions,
  textureExemplar,
  unregisterVaeModel,
  VaeProceduralTexture,
  type VaeProceduralTextureOptions,
} from './textures/index.js';
