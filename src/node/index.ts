export { atlasFilePaths, checkAtlasWritable, readAtlas, type WriteAtlasOptions, writeAtlas } from './atlasFiles.js';
export { fileSystemHandler } from './fileHandler.js';
export * from './png.js';
