import type { SeededRandom } from '../latent/random.js';
import { symmetricEigen } from './symmetricEigen.js';

/**
 * Principal component analysis of `count` rows of `dimension` floats.
 *
 * With fewer rows than dimensions (a few hundred or thousand image crops of 12,288 values each) it works
 * through the Gram (dual) matrix: the count x count inner products are far smaller than the
 * dimension x dimension covariance. The basis then stays implicit, as the centred rows times the Gram
 * eigenvectors scaled by 1 / singular value, so projecting, reconstructing or sampling costs
 * count x dimension per vector and no dimension x components matrix is formed. With more rows than
 * dimensions it diagonalises the covariance and keeps the components explicitly.
 */
export class Pca {
  /** Values per row. */
  readonly dimension: number;
  /** Components kept: the requested number, or fewer where the centred data has lower rank. */
  readonly components: number;
  /** Mean row. */
  readonly mean: Float32Array;
  /** Variance along each component, descending (eigenvalues of the covariance, divided by count - 1). */
  readonly variances: Float64Array;
  private readonly _count: number;
  /** Dual form: count x dimension centred rows; primal form: components x dimension unit components. */
  private readonly _rows: Float32Array;
  /** Dual form only: count x components, Gram eigenvector j divided by its singular value in column j. */
  private readonly _dual: Float64Array | null;

  private constructor(
    count: number,
    dimension: number,
    mean: Float32Array,
    centred: Float32Array,
    k: number,
  ) {
    this._count = count;
    this.dimension = dimension;
    this.mean = mean;
    const dualForm = count <= dimension;
    const size = dualForm ? count : dimension;
    const { values, vectors } = symmetricEigen(
      dualForm ? gram(centred, count, dimension) : covariance(centred, count, dimension),
      size,
    );
    // Eigenvalues this far below the largest are rounding noise of a rank-deficient matrix.
    const floor = Math.max(values[0], 0) * 1e-10;
    let kept = 0;
    while (kept < Math.min(k, size) && values[kept] > floor && values[kept] > 0) kept++;
    this.components = kept;
    this.variances = new Float64Array(kept);
    for (let j = 0; j < kept; j++) this.variances[j] = values[j] / Math.max(count - 1, 1);
    if (dualForm) {
      this._rows = centred;
      this._dual = new Float64Array(count * kept);
      for (let j = 0; j < kept; j++) {
        const s = Math.sqrt(values[j]);
        for (let i = 0; i < count; i++) this._dual[i * kept + j] = vectors[j * count + i] / s;
      }
    } else {
      this._rows = Float32Array.from(vectors.subarray(0, kept * dimension));
      this._dual = null;
    }
  }

  /**
   * Fits `components` principal components to `data` (`count` rows of `dimension` values, row-major; not
   * modified). At most count - 1 components exist after centring; fewer are kept where the data has lower
   * rank (see {@link Pca.components}).
   */
  static fit(data: Float32Array, count: number, dimension: number, components: number): Pca {
    if (!Number.isInteger(count) || count < 2) throw new Error(`count must be an integer >= 2, got ${count}`);
    if (!Number.isInteger(dimension) || dimension < 1) {
      throw new Error(`dimension must be a positive integer, got ${dimension}`);
    }
    if (data.length !== count * dimension) {
      throw new Error(`data must hold count*dimension = ${count * dimension} values, got ${data.length}`);
    }
    if (!Number.isInteger(components) || components < 1) {
      throw new Error(`components must be a positive integer, got ${components}`);
    }
    const sum = new Float64Array(dimension);
    for (let i = 0; i < count; i++) {
      const row = i * dimension;
      for (let d = 0; d < dimension; d++) sum[d] += data[row + d];
    }
    const mean = new Float32Array(dimension);
    for (let d = 0; d < dimension; d++) mean[d] = sum[d] / count;
    const centred = new Float32Array(data.length);
    for (let i = 0; i < count; i++) {
      const row = i * dimension;
      for (let d = 0; d < dimension; d++) centred[row + d] = data[row + d] - mean[d];
    }
    return new Pca(count, dimension, mean, centred, components);
  }

  /** Coordinates of `x` (length `dimension`) along the components. */
  project(x: Float32Array): Float64Array {
    if (x.length !== this.dimension)
      throw new Error(`vector must hold ${this.dimension} values, got ${x.length}`);
    const dim = this.dimension;
    const k = this.components;
    const rows = this._dual ? this._count : k;
    const r = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      const row = i * dim;
      let s = 0;
      for (let d = 0; d < dim; d++) s += this._rows[row + d] * (x[d] - this.mean[d]);
      r[i] = s;
    }
    if (!this._dual) return r;
    const out = new Float64Array(k);
    for (let i = 0; i < rows; i++) {
      const ri = r[i];
      const row = i * k;
      for (let j = 0; j < k; j++) out[j] += this._dual[row + j] * ri;
    }
    return out;
  }

  /** mean + sum of coefficient j times component j; `coefficients` may be shorter than `components`. */
  fromCoefficients(coefficients: ArrayLike<number>): Float32Array {
    if (coefficients.length > this.components) {
      throw new Error(`coefficients must number at most ${this.components}, got ${coefficients.length}`);
    }
    const dim = this.dimension;
    const k = this.components;
    const out = new Float64Array(dim);
    const rows = this._dual ? this._count : coefficients.length;
    for (let i = 0; i < rows; i++) {
      let wi = 0;
      if (this._dual) {
        for (let j = 0; j < coefficients.length; j++) wi += this._dual[i * k + j] * coefficients[j];
      } else {
        wi = coefficients[i];
      }
      if (wi === 0) continue;
      const row = i * dim;
      for (let d = 0; d < dim; d++) out[d] += wi * this._rows[row + d];
    }
    const result = new Float32Array(dim);
    for (let d = 0; d < dim; d++) result[d] = out[d] + this.mean[d];
    return result;
  }

  /** The projection of `x` onto the mean plus the span of the components. */
  reconstruct(x: Float32Array): Float32Array {
    return this.fromCoefficients(this.project(x));
  }

  /** Unit vector of component `index` (0 = largest variance). */
  component(index: number): Float32Array {
    if (!Number.isInteger(index) || index < 0 || index >= this.components) {
      throw new Error(`index must be an integer from 0 to ${this.components - 1}, got ${index}`);
    }
    const c = new Float64Array(this.components);
    c[index] = 1;
    const v = this.fromCoefficients(c);
    for (let d = 0; d < this.dimension; d++) v[d] -= this.mean[d];
    return v;
  }

  /** A draw from the fitted Gaussian: coefficient j ~ N(0, temperature^2 * variances[j]) (default: 1). */
  sample(rng: SeededRandom, temperature = 1): Float32Array {
    const c = new Float64Array(this.components);
    for (let j = 0; j < this.components; j++)
      c[j] = rng.gaussian() * temperature * Math.sqrt(this.variances[j]);
    return this.fromCoefficients(c);
  }
}

/** dimension x dimension scatter matrix of the centred rows, in doubles. */
function covariance(x: Float32Array, n: number, dim: number): Float64Array {
  const c = new Float64Array(dim * dim);
  for (let i = 0; i < n; i++) {
    const row = i * dim;
    for (let a = 0; a < dim; a++) {
      const v = x[row + a];
      if (v === 0) continue;
      const o = a * dim;
      for (let b = a; b < dim; b++) c[o + b] += v * x[row + b];
    }
  }
  for (let a = 0; a < dim; a++) for (let b = 0; b < a; b++) c[a * dim + b] = c[b * dim + a];
  return c;
}

/** count x count inner products of the rows, in doubles; 4 x 2 blocks reuse each loaded value. */
function gram(x: Float32Array, n: number, dim: number): Float64Array {
  const g = new Float64Array(n * n);
  const set = (a: number, b: number, v: number) => {
    g[a * n + b] = v;
    g[b * n + a] = v;
  };
  const full = n - (n % 4);
  for (let i = 0; i < full; i += 4) {
    const r0 = i * dim;
    const r1 = r0 + dim;
    const r2 = r1 + dim;
    const r3 = r2 + dim;
    let j = i;
    for (; j + 2 <= n; j += 2) {
      const q0 = j * dim;
      const q1 = q0 + dim;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      let s20 = 0;
      let s21 = 0;
      let s30 = 0;
      let s31 = 0;
      for (let d = 0; d < dim; d++) {
        const b0 = x[q0 + d];
        const b1 = x[q1 + d];
        const a0 = x[r0 + d];
        const a1 = x[r1 + d];
        const a2 = x[r2 + d];
        const a3 = x[r3 + d];
        s00 += a0 * b0;
        s01 += a0 * b1;
        s10 += a1 * b0;
        s11 += a1 * b1;
        s20 += a2 * b0;
        s21 += a2 * b1;
        s30 += a3 * b0;
        s31 += a3 * b1;
      }
      set(i, j, s00);
      set(i, j + 1, s01);
      set(i + 1, j, s10);
      set(i + 1, j + 1, s11);
      set(i + 2, j, s20);
      set(i + 2, j + 1, s21);
      set(i + 3, j, s30);
      set(i + 3, j + 1, s31);
    }
    for (; j < n; j++) for (let a = i; a < i + 4; a++) set(a, j, rowDot(x, a, j, dim));
  }
  for (let a = full; a < n; a++) for (let b = a; b < n; b++) set(a, b, rowDot(x, a, b, dim));
  return g;
}

function rowDot(x: Float32Array, a: number, b: number, dim: number): number {
  let s = 0;
  const ra = a * dim;
  const rb = b * dim;
  for (let d = 0; d < dim; d++) s += x[ra + d] * x[rb + d];
  return s;
}
