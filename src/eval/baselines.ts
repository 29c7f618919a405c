import { checkSeed, SeededRandom } from '../latent/random.js';
import { type EvalImage, type FloatImage, toFloatRgb } from './floatImage.js';
import { Pca } from './pca.js';
import { psnr } from './psnr.js';

/** `count` random `size` x `size` RGB crops of `image`, one row of size*size*3 floats each. */
export function randomCropRows(
  image: EvalImage,
  size: number,
  count: number,
  rng: SeededRandom,
): Float32Array {
  const f = toFloatRgb(image);
  if (!Number.isInteger(size) || size < 1 || size > f.width || size > f.height) {
    throw new Error(`crop size must be an integer from 1 to ${Math.min(f.width, f.height)}, got ${size}`);
  }
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`count must be a positive integer, got ${count}`);
  const rowLength = size * 3;
  const out = new Float32Array(count * size * rowLength);
  for (let i = 0; i < count; i++) {
    const x = rng.int(f.width - size + 1);
    const y = rng.int(f.height - size + 1);
    const o = i * size * rowLength;
    for (let r = 0; r < size; r++) {
      const from = ((y + r) * f.width + x) * 3;
      out.set(f.data.subarray(from, from + rowLength), o + r * rowLength);
    }
  }
  return out;
}

/** Options of {@link fitCropPca}. */
export interface CropPcaOptions {
  /** Number of components, e.g. the latent size of a model for the same crop (required). */
  components: number;
  /** Side of the square crops (default: 64). */
  cropSize?: number;
  /**
   * Random crops fitted; at least components + 1 are needed for that many components
   * (default: 2 * components + 2, at least 64).
   */
  trainingCrops?: number;
  /** Seed of the crop positions (default: 0). */
  seed?: number;
}

/** The linear baseline: PCA of random crops of the exemplar, one row per crop (RGB in [0, 1]). */
export function fitCropPca(exemplar: EvalImage, options: CropPcaOptions): Pca {
  const cropSize = options.cropSize ?? 64;
  const trainingCrops = options.trainingCrops ?? Math.max(64, 2 * options.components + 2);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(trainingCrops) || trainingCrops < 2) {
    throw new Error(`trainingCrops must be an integer >= 2, got ${trainingCrops}`);
  }
  const rows = randomCropRows(exemplar, cropSize, trainingCrops, new SeededRandom(checkSeed(seed)));
  return Pca.fit(rows, trainingCrops, cropSize * cropSize * 3, options.components);
}

/** Side of the square crops a crop PCA was fitted on. */
export function pcaCropSize(pca: Pca): number {
  const size = Math.round(Math.sqrt(pca.dimension / 3));
  if (size * size * 3 !== pca.dimension) {
    throw new Error(`PCA dimension ${pca.dimension} is not size*size*3 for square RGB crops`);
  }
  return size;
}

function rowImage(row: Float32Array, size: number): FloatImage {
  const data = new Float32Array(row.length);
  for (let i = 0; i < row.length; i++) data[i] = Math.min(1, Math.max(0, row[i]));
  return { data, width: size, height: size, channels: 3 };
}

/**
 * Mean reconstruction PSNR (dB) of the PCA on `crops` random crops of `exemplar` drawn with `seed`; use a
 * seed other than the fitting seed so the crops are not among the fitted ones. Reconstructions are clamped
 * to [0, 1] as a decoder's output is.
 */
export function pcaReconstructionPsnr(pca: Pca, exemplar: EvalImage, crops = 16, seed = 1): number {
  const size = pcaCropSize(pca);
  const rows = randomCropRows(exemplar, size, crops, new SeededRandom(checkSeed(seed)));
  const dim = pca.dimension;
  let sum = 0;
  for (let i = 0; i < crops; i++) {
    const row = rows.subarray(i * dim, (i + 1) * dim);
    sum += psnr(rowImage(pca.reconstruct(row), size), { data: row, width: size, height: size, channels: 3 });
  }
  return sum / crops;
}

/** `count` textures drawn from the PCA's Gaussian, clamped to [0, 1]. */
export function pcaSamples(pca: Pca, count: number, seed = 0, temperature = 1): FloatImage[] {
  const size = pcaCropSize(pca);
  const rng = new SeededRandom(checkSeed(seed));
  return Array.from({ length: count }, () => rowImage(pca.sample(rng, temperature), size));
}
