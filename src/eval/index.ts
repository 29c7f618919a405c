export {
  type CropPcaOptions,
  fitCropPca,
  pcaCropSize,
  pcaReconstructionPsnr,
  pcaSamples,
  randomCropRows,
} from './baselines.js';
export { cellGridRatio, cellSeamScore } from './cellGrid.js';
export { maxCrossCorrelation, type RepetitionOptions, repetitionScore } from './correlation.js';
export { downUpBlur, gaussianBlur, laplacianPyramid } from './filters.js';
export {
  cropImage,
  type EvalImage,
  type FloatImage,
  randomCrop,
  toFloatRgb,
  toPixelImage,
} from './floatImage.js';
export { Pca } from './pca.js';
export { meanSquaredError, psnr } from './psnr.js';
export { seamScore } from './seamScore.js';
export { type SsimOptions, ssim } from './ssim.js';
export { normalisedSwd, slicedWassersteinDistance } from './swd.js';
export { type SwdOptions, SwdReference } from './swdReference.js';
