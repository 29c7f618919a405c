export { type LatentGrid, latentToTensor, validateLatent } from './latentGrid.js';
export { lerpLatent, resizeLatent, sampleLatent, similarLatent, slerpLatent } from './latentOps.js';
export { MAX_SEED, SeededRandom } from './random.js';
export {
  MIN_SWATCH_IMAGE_SIZE,
  Swatch,
  type SwatchModel,
  type SwatchOptions,
  type SwatchSampleOptions,
} from './swatch.js';
