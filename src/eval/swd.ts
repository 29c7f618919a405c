import type { EvalImage } from './floatImage.js';
import { type SwdOptions, SwdReference } from './swdReference.js';

/**
 * Sliced Wasserstein distance between the Laplacian-pyramid patch statistics of `generated` and `exemplar`,
 * normalised by the exemplar's statistics (see {@link SwdReference}); 0 for identical images. To score many
 * textures against one exemplar, build one SwdReference instead.
 */
export function slicedWassersteinDistance(
  generated: EvalImage,
  exemplar: EvalImage,
  options: SwdOptions = {},
): number {
  return SwdReference.fromExemplar(exemplar, options).distance(generated);
}

/**
 * SWD(generated, exemplar) divided by the mean SWD of random crops of the exemplar, of the generated size,
 * against the whole exemplar: 1.0 is as close as a real crop; blurred or noise textures score several times
 * that. `generated` must be smaller than the exemplar.
 */
export function normalisedSwd(generated: EvalImage, exemplar: EvalImage, options: SwdOptions = {}): number {
  return SwdReference.fromExemplar(exemplar, options).normalised(generated);
}
