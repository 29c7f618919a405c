export {
  atlasFilePaths,
  checkAtlasWritable,
  readAtlas,
  type WriteAtlasOptions,
  writeAtlas,
} from './atlasFiles.js';
export { readExemplarFile } from './exemplarFiles.js';
export { fileSystemHandler } from './fileHandler.js';
export {
  type ModelFiles,
  type ModelJson,
  modelFilesHandler,
  readModelFiles,
  type WeightFile,
} from './modelFiles.js';
export { encodePng, type PixelImage, readPng, writePng } from './png.js';
export { readSwatchFile, writeSwatchFile } from './swatchFiles.js';
export { useWasmBackend } from './wasmBackend.js';
