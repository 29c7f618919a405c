import { matMul, tensor2d, tidy } from '@tensorflow/tfjs-core';

import { checkSeed, SeededRandom } from '../latent/random.js';
import { laplacianPyramid } from './filters.js';
import { type EvalImage, type FloatImage, randomCrop, toFloatRgb } from './floatImage.js';

/** Options of the sliced Wasserstein distance; every field has a default. */
export interface SwdOptions {
  /** Random patches per image and pyramid level; both sides use the same count (default: 4096). */
  patches?: number;
  /** Random unit projection directions per level (default: 128). */
  directions?: number;
  /** Laplacian pyramid levels: `levels - 1` band-pass levels and the low-pass residual (default: 4). */
  levels?: number;
  /** Side of the square RGB patches (default: 7). */
  patchSize?: number;
  /** Seed of the directions, the patch positions and the reference crops (default: 0). */
  seed?: number;
  /** Random exemplar crops whose mean distance normalises {@link SwdReference.normalised} (default: 8). */
  referenceCrops?: number;
  /**
   * Where the projections (patches x dimension x directions products, most of the work) run: 'js' in plain
   * JavaScript, bit-identical everywhere; 'tfjs' as tf.matMul on the active tfjs backend, several times
   * faster on WASM or WebGL, equal to float32 rounding (default: 'js').
   */
  projection?: 'js' | 'tfjs';
}

type ResolvedSwdOptions = Readonly<Required<SwdOptions>>;

function resolveSwdOptions(options: SwdOptions): ResolvedSwdOptions {
  const resolved = {
    patches: options.patches ?? 4096,
    directions: options.directions ?? 128,
    levels: options.levels ?? 4,
    patchSize: options.patchSize ?? 7,
    seed: options.seed ?? 0,
    referenceCrops: options.referenceCrops ?? 8,
    projection: options.projection ?? 'js',
  };
  if (resolved.projection !== 'js' && resolved.projection !== 'tfjs') {
    throw new Error(`projection must be 'js' or 'tfjs', got ${String(resolved.projection)}`);
  }
  const positive: ['patches' | 'directions' | 'levels' | 'patchSize' | 'referenceCrops', number][] = [
    ['patches', 1 << 20],
    ['directions', 4096],
    ['levels', 12],
    ['patchSize', 64],
    ['referenceCrops', 1024],
  ];
  for (const [key, max] of positive) {
    const v = resolved[key];
    if (!Number.isInteger(v) || v < 1 || v > max)
      throw new Error(`${key} must be an integer from 1 to ${max}, got ${v}`);
  }
  checkSeed(resolved.seed);
  return Object.freeze(resolved);
}

/** Per pyramid level of the exemplar: directions folded with its normalisation, and its sorted projections. */
interface LevelReference {
  /** directions x dimension: unit direction divided by the exemplar's per-dimension std. */
  readonly weights: Float32Array;
  /** Per direction: the projected exemplar mean, subtracted so projections are of normalised descriptors. */
  readonly offsets: Float64Array;
  /** directions x patches, each row sorted ascending. */
  readonly sorted: Float32Array;
}

/**
 * The exemplar side of the patch-statistics realism metric, built once and reused for every texture scored
 * against the same exemplar.
 *
 * Descriptors are random `patchSize` x `patchSize` RGB patches from each level of a Laplacian pyramid
 * (Burt-Adelson 5-tap binomial, 3 band-pass levels and the low-pass residual by default), as in the sliced
 * Wasserstein distance of Karras et al. (2018). Each level's descriptors are normalised by the exemplar's
 * per-dimension mean and standard deviation, projected on random unit directions, and the 1-D Wasserstein-1
 * distance between the sorted projections (equal counts, so the mean absolute difference of order
 * statistics) is averaged over directions and levels. Patch positions depend only on the seed, the level and
 * the level's size, so an image scored against itself gives exactly 0.
 */
export class SwdReference {
  readonly options: ResolvedSwdOptions;
  readonly exemplar: FloatImage;
  private readonly _levels: LevelReference[] = [];
  private readonly _cropBaselines = new Map<string, number>();

  private constructor(exemplar: FloatImage, options: ResolvedSwdOptions) {
    this.options = options;
    this.exemplar = exemplar;
    checkSize(exemplar, options, 'exemplar');
    const { directions, patchSize, patches } = options;
    const dimension = patchSize * patchSize * 3;
    const rng = new SeededRandom(options.seed);
    const pyramid = laplacianPyramid(exemplar, options.levels);
    for (let l = 0; l < pyramid.length; l++) {
      const descriptors = extractPatches(pyramid[l], l, options);
      const mean = new Float64Array(dimension);
      const sq = new Float64Array(dimension);
      for (let i = 0; i < patches; i++) {
        const row = i * dimension;
        for (let d = 0; d < dimension; d++) {
          const v = descriptors[row + d];
          mean[d] += v;
          sq[d] += v * v;
        }
      }
      const weights = new Float32Array(directions * dimension);
      const offsets = new Float64Array(directions);
      for (let d = 0; d < dimension; d++) {
        mean[d] /= patches;
        const variance = Math.max(sq[d] / patches - mean[d] * mean[d], 0);
        // A dimension the exemplar never varies in is left unscaled instead of divided by zero.
        sq[d] = variance > 1e-16 ? 1 / Math.sqrt(variance) : 1;
      }
      for (let j = 0; j < directions; j++) {
        const dir = rng.gaussianArray(dimension);
        let norm = 0;
        for (let d = 0; d < dimension; d++) norm += dir[d] * dir[d];
        norm = Math.sqrt(norm);
        let offset = 0;
        for (let d = 0; d < dimension; d++) {
          const w = (dir[d] / norm) * sq[d];
          weights[j * dimension + d] = w;
          offset += mean[d] * w;
        }
        offsets[j] = offset;
      }
      const sorted = project(descriptors, weights, offsets, options);
      this._levels.push({ weights, offsets, sorted });
    }
  }

  /** Builds the reference: pyramid, descriptors, normalisation and sorted projections of `exemplar`. */
  static fromExemplar(exemplar: EvalImage, options: SwdOptions = {}): SwdReference {
    return new SwdReference(toFloatRgb(exemplar, 'exemplar'), resolveSwdOptions(options));
  }

  /** Sliced Wasserstein distance of `generated` to the exemplar (0 for the exemplar itself). */
  distance(generated: EvalImage): number {
    const image = toFloatRgb(generated, 'generated image');
    checkSize(image, this.options, 'generated image');
    const pyramid = laplacianPyramid(image, this.options.levels);
    const { patches, directions } = this.options;
    let total = 0;
    for (let l = 0; l < pyramid.length; l++) {
      const level = this._levels[l];
      const projections = project(
        extractPatches(pyramid[l], l, this.options),
        level.weights,
        level.offsets,
        this.options,
      );
      let sum = 0;
      for (let i = 0; i < projections.length; i++) sum += Math.abs(projections[i] - level.sorted[i]);
      total += sum / (patches * directions);
    }
    return total / pyramid.length;
  }

  /**
   * Mean distance of `referenceCrops` random crops of the exemplar, `width` x `height` each, to the whole
   * exemplar: the score of a real sample of that size. Cached per size. The crop must be smaller than the
   * exemplar in at least one dimension (a crop of the full size is the exemplar itself and scores 0).
   */
  cropBaseline(width: number, height: number): number {
    const key = `${width}x${height}`;
    const cached = this._cropBaselines.get(key);
    if (cached !== undefined) return cached;
    const { width: ew, height: eh } = this.exemplar;
    if (width > ew || height > eh || (width === ew && height === eh)) {
      throw new Error(
        `normalised SWD needs textures smaller than the ${ew}x${eh} exemplar (its crops of the same size are the reference), got ${width}x${height}`,
      );
    }
    const rng = new SeededRandom(mix(this.options.seed, 0x63726f70, width, height));
    let sum = 0;
    for (let i = 0; i < this.options.referenceCrops; i++) {
      sum += this.distance(randomCrop(this.exemplar, width, height, rng));
    }
    const baseline = sum / this.options.referenceCrops;
    this._cropBaselines.set(key, baseline);
    return baseline;
  }

  /** distance(generated) / cropBaseline(its size): 1.0 means as close to the exemplar as a real crop of it. */
  normalised(generated: EvalImage): number {
    const image = toFloatRgb(generated, 'generated image');
    return this.distance(image) / this.cropBaseline(image.width, image.height);
  }
}

function mix(...values: number[]): number {
  let h = 0x811c9dc5;
  for (const v of values) {
    h = Math.imul(h ^ (Math.floor(v) >>> 0), 0x01000193);
    h ^= h >>> 13;
  }
  return h >>> 0;
}

function checkSize(image: FloatImage, options: ResolvedSwdOptions, name: string): void {
  let w = image.width;
  let h = image.height;
  for (let l = 1; l < options.levels; l++) {
    w = Math.ceil(w / 2);
    h = Math.ceil(h / 2);
  }
  if (w < options.patchSize || h < options.patchSize) {
    const min = options.patchSize * 2 ** (options.levels - 1);
    throw new Error(
      `${name} must be at least ${min}x${min} for ${options.levels} pyramid levels with ${options.patchSize}x${options.patchSize} patches, got ${image.width}x${image.height}`,
    );
  }
}

/** patches x (patchSize^2 * 3) descriptors at positions drawn from (seed, level, level size). */
function extractPatches(level: FloatImage, index: number, options: ResolvedSwdOptions): Float32Array {
  const { patches, patchSize: p, seed } = options;
  const { width: w, height: h, data } = level;
  const rng = new SeededRandom(mix(seed, index, w, h));
  const rowLength = p * 3;
  const out = new Float32Array(patches * p * rowLength);
  for (let i = 0; i < patches; i++) {
    const x = rng.int(w - p + 1);
    const y = rng.int(h - p + 1);
    const o = i * p * rowLength;
    for (let r = 0; r < p; r++) {
      const from = ((y + r) * w + x) * 3;
      out.set(data.subarray(from, from + rowLength), o + r * rowLength);
    }
  }
  return out;
}

/** directions x patches projections of normalised descriptors, each direction's row sorted ascending. */
function project(
  descriptors: Float32Array,
  weights: Float32Array,
  offsets: Float64Array,
  options: ResolvedSwdOptions,
): Float32Array {
  const { patches: n, directions } = options;
  const dim = weights.length / directions;
  const out =
    options.projection === 'tfjs'
      ? projectTfjs(descriptors, weights, n, dim, directions)
      : projectJs(descriptors, weights, n, dim, directions);
  for (let k = 0; k < directions; k++) {
    const row = out.subarray(k * n, (k + 1) * n);
    const offset = offsets[k];
    for (let i = 0; i < n; i++) row[i] -= offset;
    row.sort();
  }
  return out;
}

/** directions x patches products in plain JavaScript. */
function projectJs(
  descriptors: Float32Array,
  weights: Float32Array,
  n: number,
  dim: number,
  directions: number,
): Float32Array {
  const out = new Float32Array(directions * n);
  // 4 directions x 2 patches per pass: each loaded value feeds several products (about 3x a plain dot loop).
  let j = 0;
  for (; j + 4 <= directions; j += 4) {
    const w0 = j * dim;
    const w1 = w0 + dim;
    const w2 = w1 + dim;
    const w3 = w2 + dim;
    let i = 0;
    for (; i + 2 <= n; i += 2) {
      const x = i * dim;
      const y = x + dim;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let t0 = 0;
      let t1 = 0;
      let t2 = 0;
      let t3 = 0;
      for (let d = 0; d < dim; d++) {
        const u = descriptors[x + d];
        const v = descriptors[y + d];
        const a0 = weights[w0 + d];
        const a1 = weights[w1 + d];
        const a2 = weights[w2 + d];
        const a3 = weights[w3 + d];
        s0 += u * a0;
        s1 += u * a1;
        s2 += u * a2;
        s3 += u * a3;
        t0 += v * a0;
        t1 += v * a1;
        t2 += v * a2;
        t3 += v * a3;
      }
      out[j * n + i] = s0;
      out[(j + 1) * n + i] = s1;
      out[(j + 2) * n + i] = s2;
      out[(j + 3) * n + i] = s3;
      out[j * n + i + 1] = t0;
      out[(j + 1) * n + i + 1] = t1;
      out[(j + 2) * n + i + 1] = t2;
      out[(j + 3) * n + i + 1] = t3;
    }
    for (; i < n; i++)
      for (let k = j; k < j + 4; k++) out[k * n + i] = dot(descriptors, i * dim, weights, k * dim, dim);
  }
  for (; j < directions; j++)
    for (let i = 0; i < n; i++) out[j * n + i] = dot(descriptors, i * dim, weights, j * dim, dim);
  return out;
}

function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): number {
  let s = 0;
  for (let d = 0; d < n; d++) s += a[ao + d] * b[bo + d];
  return s;
}

/** directions x patches products through tf.matMul; the transposed-operand path of some backends is slow. */
function projectTfjs(
  descriptors: Float32Array,
  weights: Float32Array,
  n: number,
  dim: number,
  directions: number,
): Float32Array {
  const weightsT = new Float32Array(dim * directions);
  for (let j = 0; j < directions; j++)
    for (let d = 0; d < dim; d++) weightsT[d * directions + j] = weights[j * dim + d];
  const product = tidy(() => matMul(tensor2d(descriptors, [n, dim]), tensor2d(weightsT, [dim, directions])));
  const values = product.dataSync() as Float32Array;
  product.dispose();
  const out = new Float32Array(directions * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < directions; j++) out[j * n + i] = values[i * directions + j];
  return out;
}
