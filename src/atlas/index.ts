export {
  applyAtlasTile,
  atlasRectBuffer,
  createAtlasThinInstances,
} from './atlasApply.js';
export { type AtlasBlobs, atlasToBlobs } from './atlasBlobs.js';
export {
  type AtlasLayout,
  type AtlasLayoutKind,
  type AtlasLayoutOptions,
  type AtlasPageLayout,
  type AtlasPixelRect,
  type AtlasTilePlacement,
  type AtlasUvRect,
  computeAtlasLayout,
  safeMipLevel,
  safeSampledMipLevel,
  tileUvRect,
} from './atlasLayout.js';
export {
  type AtlasManifest,
  type AtlasManifestTile,
  type AtlasTileSource,
  atlasPageFileName,
  createAtlasManifest,
  parseAtlasManifest,
  withPageFiles,
} from './atlasManifest.js';
export { type AtlasGutterMode, assemblePage, padTiles, readPagePixels } from './atlasTensors.js';
export {
  ATLAS_RECT_KIND,
  ATLAS_UV_PLUGIN_NAME,
  AtlasUvMaterialPlugin,
  registerAtlasUvMaterialPlugin,
} from './atlasUvMaterialPlugin.js';
export {
  type AtlasDecoder,
  type AtlasOptions,
  type AtlasResult,
  type AtlasTensorResult,
  atlasBatchSize,
  bakeAtlas,
  bakeAtlasTensors,
  planAtlas,
  type ResolvedAtlasOptions,
  resolveAtlasOptions,
} from './bakeAtlas.js';
export { type AtlasTextureOptions, type AtlasTextureResult, bakeAtlasTexture } from './bakeAtlasTexture.js';
