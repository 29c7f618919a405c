import {
  abs,
  add,
  avgPool,
  customGrad,
  dispose,
  div,
  exp,
  type GradSaveFunc,
  image,
  matMul,
  mean,
  mul,
  neg,
  relu,
  reshape,
  type Scalar,
  scalar,
  scatterND,
  slice,
  sqrt,
  square,
  squaredDifference,
  sub,
  sum,
  type Tensor,
  type Tensor4D,
  tensor2d,
  tensor4d,
  tidy,
  topk,
  transpose,
} from '@tensorflow/tfjs-core';

import { conv2d } from './ops/conv.js';

/**
 * The VAE maths, written once.
 *
 * Reduction: with N = H * W * C values per image,
 *   reconstruction = mean over the batch of SSE / N   (the per-value mean squared error)
 *   kl             = mean over the batch of KL / N    (KL(q(z|x) || N(0, I)) in nats, per image value)
 *   total          = reconstruction + beta * kl = (SSE + beta * KL) / N per image.
 * That is the negative ELBO of a Gaussian decoder with fixed variance sigma^2 = beta / 2, divided by N: beta
 * means the same for every patch size, and `reconstruction` reads directly as PSNR = -10 log10(mse).
 * The default beta 0.005 (sigma = 0.05 in [0, 1] pixel units, about 26 dB) favours sharp reconstructions while
 * still pulling the posterior towards the prior that `sample` draws from.
 */

/** z = mean + exp(0.5 * logVar) * eps; differentiable in mean and logVar. The caller owns the result. */
export function reparameterize<T extends Tensor>(meanT: T, logVar: T, eps: T): T {
  return tidy(() => add(meanT, mul(exp(mul(logVar, 0.5)), eps))) as T;
}

/**
 * KL(N(mean, exp(logVar)) || N(0, I)) in closed form, -0.5 * sum(1 + logVar - mean^2 - exp(logVar)),
 * summed over each item (all axes but the first) and averaged over the batch. The caller owns the result.
 */
export function klDivergence(meanT: Tensor, logVar: Tensor): Scalar {
  return tidy(() => {
    const batch = meanT.shape[0] ?? 1;
    const terms = sub(sub(add(logVar, 1), square(meanT)), exp(logVar));
    return mul(sum(terms), -0.5 / batch) as Scalar;
  });
}

/** Mean squared error over every value of the batch (SSE / N averaged over images). The caller owns the result. */
export function reconstructionError(images: Tensor, decoded: Tensor): Scalar {
  if (images.shape.join() !== decoded.shape.join()) {
    throw new Error(`reconstruction needs equal shapes, got [${images.shape}] and [${decoded.shape}]`);
  }
  return tidy(() => mean(squaredDifference(images, decoded)) as Scalar);
}

/**
 * The per-value pixel term of the loss:
 * - 'mse': mean of (x - y)^2, the Gaussian decoder of the ELBO; it averages what it cannot place exactly,
 *   which is why reconstructions come out soft;
 * - 'l1': mean of |x - y|, the median instead of the mean of the plausible pixels, so edges stay sharper;
 * - 'charbonnier': mean of sqrt((x - y)^2 + eps^2) - eps with eps = 1e-3, L1 with a smooth minimum.
 */
export type PixelLoss = 'mse' | 'l1' | 'charbonnier';

export const PIXEL_LOSSES: readonly PixelLoss[] = Object.freeze(['mse', 'l1', 'charbonnier']);

const CHARBONNIER_EPS = 1e-3;

/** The pixel term `kind` over every value of the batch (see PixelLoss). The caller owns the result. */
export function pixelError(images: Tensor, decoded: Tensor, kind: PixelLoss): Scalar {
  if (images.shape.join() !== decoded.shape.join()) {
    throw new Error(`reconstruction needs equal shapes, got [${images.shape}] and [${decoded.shape}]`);
  }
  switch (kind) {
    case 'mse':
      return reconstructionError(images, decoded);
    case 'l1':
      return tidy(() => mean(abs(sub(images, decoded))) as Scalar);
    case 'charbonnier':
      return tidy(
        () =>
          mean(
            sub(sqrt(add(squaredDifference(images, decoded), CHARBONNIER_EPS ** 2)), CHARBONNIER_EPS),
          ) as Scalar,
      );
    default:
      throw new Error(`pixel loss must be one of ${PIXEL_LOSSES.join(', ')}, got ${JSON.stringify(kind)}`);
  }
}

/** How the patch term compares the two images (see patchSwd). */
export interface PatchSwdOptions {
  /** Pyramid levels, each half the size of the one before (default: 3). */
  readonly levels: number;
  /** Side of the square patches projected at every level (default: 5). */
  readonly patchSize: number;
  /** Random unit directions per level (default: 16). */
  readonly directions: number;
}

export const DEFAULT_PATCH_SWD: Readonly<PatchSwdOptions> = Object.freeze({
  levels: 3,
  patchSize: 5,
  directions: 16,
});

/**
 * The bands of a Laplacian pyramid: level l holds G_l minus G_{l+1} upsampled, where G_0 is the image and
 * G_{l+1} its 2x2 average; the last level is G_{levels-1} itself. Differentiable on every backend.
 */
export function laplacianPyramid(x: Tensor4D, levels: number): Tensor4D[] {
  const bands: Tensor4D[] = [];
  let g = x;
  for (let l = 0; l < levels; l++) {
    const [, h, w] = g.shape;
    if (l === levels - 1 || h < 2 || w < 2) {
      bands.push(g);
      break;
    }
    const next = avgPool(g, 2, 2, 'valid') as Tensor4D;
    bands.push(sub(g, image.resizeNearestNeighbor(next, [h, w])) as Tensor4D);
    g = next;
  }
  return bands;
}

/**
 * Squared sliced Wasserstein distance between two sets of projections [rows, n]: sort both rows and compare
 * values of equal rank. Its gradient with respect to `x` is 2 (x - y_matched) / size, where y_matched holds at
 * each position of x the value of y of the same rank; sorting has no gradient in tfjs, so the gradient is given
 * by hand (customGrad) and the ranking is treated as fixed, as in the references.
 */
const slicedWasserstein = customGrad((...args: (Tensor | GradSaveFunc)[]) => {
  const [x, y, save] = args as [Tensor, Tensor, GradSaveFunc];
  const [rows, n] = x.shape as [number, number];
  const ySorted = topk(y, n).values;
  const xOrder = topk(x, n).indices;
  // Row r's k-th largest x sits at column xOrder[r, k]; it is matched with row r's k-th largest y.
  const rowOffsets = tensor2d(rowIndex(rows, n), [rows * n, 1], 'int32');
  const positions = add(rowOffsets, reshape(xOrder, [rows * n, 1]));
  const matched = reshape(scatterND(positions, reshape(ySorted, [rows * n]), [rows * n]), [rows, n]);
  const diff = sub(x, matched);
  save([diff]);
  return {
    value: mean(square(diff)) as Scalar,
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const g = mul(mul(saved[0], 2 / (rows * n)), dy);
      return [g, mul(saved[0], 0)];
    },
  };
});

function rowIndex(rows: number, n: number): Int32Array {
  const out = new Int32Array(rows * n);
  for (let r = 0; r < rows; r++) out.fill(r * n, r * n, (r + 1) * n);
  return out;
}

/**
 * A patch-distribution term with no pretrained network: at every level of a Laplacian pyramid, the patches of
 * each decoded image and of its target are projected on random unit directions (one convolution with random
 * unit kernels), and the sorted projections are compared per image and direction (sliced Wasserstein, as in
 * Heitz et al., CVPR 2021, on raw multi-scale patches instead of VGG features). A blurred decode has too few
 * large band values, which MSE barely sees and this term does; it asks for the right detail, not its exact
 * position. `directions` come from the caller (unit kernels [levels][patchSize, patchSize, C, D], made by
 * randomPatchDirections) so that a training step draws new ones. The caller owns the result.
 */
export function patchSwd(images: Tensor4D, decoded: Tensor4D, directions: readonly Tensor4D[]): Scalar {
  if (images.shape.join() !== decoded.shape.join()) {
    throw new Error(`patch loss needs equal shapes, got [${images.shape}] and [${decoded.shape}]`);
  }
  return tidy(() => {
    const target = laplacianPyramid(images, directions.length);
    const output = laplacianPyramid(decoded, directions.length);
    let total: Scalar = scalar(0);
    for (let l = 0; l < target.length; l++) {
      const k = directions[l];
      if (target[l].shape[1] < k.shape[0] || target[l].shape[2] < k.shape[1]) break;
      const project = (x: Tensor4D) => {
        const p = conv2d(x, k, 1, 'valid');
        const [b, h, w, d] = p.shape;
        return reshape(transpose(p, [0, 3, 1, 2]), [b * d, h * w]);
      };
      total = add(total, slicedWasserstein(project(output[l]), project(target[l]))) as Scalar;
    }
    return total;
  });
}

/** cos(2 pi k n / size) / sqrt(size) and sin(...) / sqrt(size), the two real halves of the orthonormal DFT. */
const dftCache = new Map<number, readonly [Float32Array, Float32Array]>();

function dftHalves(size: number): readonly [Float32Array, Float32Array] {
  let halves = dftCache.get(size);
  if (!halves) {
    const c = new Float32Array(size * size);
    const s = new Float32Array(size * size);
    const norm = 1 / Math.sqrt(size);
    for (let k = 0; k < size; k++) {
      for (let n = 0; n < size; n++) {
        // (k * n) mod size keeps the angle small, so large sizes lose no precision.
        const angle = (2 * Math.PI * ((k * n) % size)) / size;
        c[k * size + n] = Math.cos(angle) * norm;
        s[k * size + n] = Math.sin(angle) * norm;
      }
    }
    halves = [c, s];
    if (dftCache.size < 16) dftCache.set(size, halves);
  }
  return halves;
}

/**
 * Amplitude |F(x)| of the orthonormal 2-D DFT of every channel of every image, [B, H, W, C] -> [B, C, W, H]
 * (frequency v along the width, then u along the height). Written with matrix products, which every backend
 * differentiates: with C and S the cosine and sine halves, F(M) = (C - iS) M (C - iS) for each H x W channel M
 * (both halves are symmetric), so Re = C M C - S M S and Im = -(C M S + S M C). sqrt(Re^2 + Im^2 + 1e-12) keeps
 * the gradient finite at zero amplitude. The caller owns the result.
 */
export function fourierAmplitude(x: Tensor4D): Tensor4D {
  const [b, h, w, c] = x.shape;
  return tidy(() => {
    const [cw, sw] = dftHalves(w).map((m) => tensor2d(m, [w, w]));
    const [ch, sh] = h === w ? [cw, sw] : dftHalves(h).map((m) => tensor2d(m, [h, h]));
    // Rows of M along the width: [B * C * H, W] times the width's halves.
    const rowsOf = reshape(transpose(x, [0, 3, 1, 2]), [b * c * h, w]);
    const mc = matMul(rowsOf, cw);
    const ms = matMul(rowsOf, sw);
    // Transpose each channel, [B * C * W, H], and multiply by the height's halves: this gives Re and Im
    // transposed, which leaves the amplitude unchanged.
    const columns = (t: Tensor) => reshape(transpose(reshape(t, [b * c, h, w]), [0, 2, 1]), [b * c * w, h]);
    const mcT = columns(mc);
    const msT = columns(ms);
    const re = sub(matMul(mcT, ch), matMul(msT, sh));
    const im = add(matMul(msT, ch), matMul(mcT, sh));
    return reshape(sqrt(add(add(square(re), square(im)), 1e-12)), [b, c, w, h]) as Tensor4D;
  });
}

/**
 * The Fourier-amplitude term: mean over images, channels and frequencies of |amplitude(decoded) -
 * amplitude(images)| (orthonormal 2-D DFT of each whole patch, see fourierAmplitude). A pixel term pulls the
 * detail it cannot place exactly towards zero; this term asks for the photo's amount of detail at every
 * frequency and orientation whatever its phase, so fine grain keeps its energy. The caller owns the result.
 */
export function fourierAmplitudeError(images: Tensor4D, decoded: Tensor4D): Scalar {
  if (images.shape.join() !== decoded.shape.join()) {
    throw new Error(`Fourier term needs equal shapes, got [${images.shape}] and [${decoded.shape}]`);
  }
  return tidy(() => mean(abs(sub(fourierAmplitude(decoded), fourierAmplitude(images)))) as Scalar);
}

/** Added to both means of the cell-grid term so that a flat patch has ratio 1 and a finite gradient. */
export const GRID_EPSILON = 1e-3;

/**
 * Boundary masks of cellGridTerm for an H x W image: 1 where a neighbour pair crosses a latent-cell boundary
 * (pair (x, x + 1) with x mod stride = stride - 1; the same in y), as [1, 1, W - 1, 1] and [1, H - 1, 1, 1].
 */
function cellBoundaryMasks(h: number, w: number, stride: number): [Tensor4D, Tensor4D] {
  const along = (n: number) =>
    Float32Array.from({ length: n - 1 }, (_, x) => (x % stride === stride - 1 ? 1 : 0));
  return [tensor4d(along(w), [1, 1, w - 1, 1]), tensor4d(along(h), [1, h - 1, 1, 1])];
}

/** Per image, the cell-grid ratio of cellGridRatio (src/eval/cellGrid.ts) as a tensor, [B]. */
function cellGridRatios(x: Tensor4D, stride: number, maskX: Tensor4D, maskY: Tensor4D): Tensor {
  const [, h, w] = x.shape;
  const dx = sum(
    abs(sub(slice(x, [0, 0, 1, 0], [-1, -1, -1, -1]), slice(x, [0, 0, 0, 0], [-1, -1, w - 1, -1]))),
    3,
    true,
  );
  const dy = sum(
    abs(sub(slice(x, [0, 1, 0, 0], [-1, -1, -1, -1]), slice(x, [0, 0, 0, 0], [-1, h - 1, -1, -1]))),
    3,
    true,
  );
  const boundaryCount = Math.floor((w - 1) / stride) * h + Math.floor((h - 1) / stride) * w;
  const insideCount = (w - 1) * h + (h - 1) * w - boundaryCount;
  const boundary = add(sum(mul(dx, maskX), [1, 2, 3]), sum(mul(dy, maskY), [1, 2, 3]));
  const all = add(sum(dx, [1, 2, 3]), sum(dy, [1, 2, 3]));
  const inside = sub(all, boundary);
  return div(add(div(boundary, boundaryCount), GRID_EPSILON), add(div(inside, insideCount), GRID_EPSILON));
}

/**
 * The cell-grid term: mean over the batch of |ratio(decoded) - ratio(images)|, where ratio is the cell-grid
 * ratio of each image (cellGridRatio: the mean absolute neighbour difference, summed over channels, across the
 * decoder's latent-cell boundaries over the mean of all other neighbour pairs; GRID_EPSILON is added to both
 * means). A decoder that draws its cells with edges at every stride-th pixel scores above the photo's ratio,
 * one that blurs across its cell boundaries below it; the term asks for the photo's own ratio. The caller owns
 * the result.
 */
export function cellGridTerm(images: Tensor4D, decoded: Tensor4D, stride: number): Scalar {
  if (images.shape.join() !== decoded.shape.join()) {
    throw new Error(`cell-grid term needs equal shapes, got [${images.shape}] and [${decoded.shape}]`);
  }
  const [, h, w] = images.shape;
  if (!Number.isInteger(stride) || stride < 2 || stride >= Math.max(h, w)) {
    throw new Error(`cell-grid term needs an integer stride from 2 to ${Math.max(h, w) - 1}, got ${stride}`);
  }
  return tidy(() => {
    const [maskX, maskY] = cellBoundaryMasks(h, w, stride);
    const real = cellGridRatios(images, stride, maskX, maskY);
    const made = cellGridRatios(decoded, stride, maskX, maskY);
    return mean(abs(sub(made, real))) as Scalar;
  });
}

/** Unit-norm random kernels for patchSwd, one [patchSize, patchSize, channels, directions] tensor per level. */
export function randomPatchDirections(
  options: Readonly<PatchSwdOptions>,
  channels: number,
  gaussian: (length: number) => Float32Array,
): Tensor4D[] {
  const { levels, patchSize: p, directions: d } = options;
  const out: Tensor4D[] = [];
  for (let l = 0; l < levels; l++) {
    const values = gaussian(p * p * channels * d);
    const perDirection = p * p * channels;
    for (let j = 0; j < d; j++) {
      let norm = 0;
      for (let i = 0; i < perDirection; i++) norm += values[i * d + j] ** 2;
      const inv = 1 / Math.sqrt(norm || 1);
      for (let i = 0; i < perDirection; i++) values[i * d + j] *= inv;
    }
    out.push(tensor4d(values, [p, p, channels, d]));
  }
  return out;
}

/**
 * The critic's hinge loss (as in the Stable Diffusion VAE): 0.5 * (mean(relu(1 - real)) + mean(relu(1 + fake)))
 * over the scores of photo patches and of decoded patches. It is zero once every photo window scores >= 1 and
 * every decoded one <= -1. The caller owns the result.
 */
export function hingeCriticLoss(realScores: Tensor, fakeScores: Tensor): Scalar {
  return tidy(() => mul(add(mean(relu(sub(1, realScores))), mean(relu(add(1, fakeScores)))), 0.5) as Scalar);
}

/** The decoder's side of the hinge game: -mean(fake scores), lower when decoded windows look like photos. */
export function hingeGeneratorLoss(fakeScores: Tensor): Scalar {
  return tidy(() => neg(mean(fakeScores)) as Scalar);
}

/** Largest adaptive weight (Stable Diffusion's VAE clips it at 1e4 as well). */
export const MAX_ADAPTIVE_WEIGHT = 1e4;

/**
 * The adaptive weight of the adversarial term: |grad of the reconstruction terms| / (|grad of the adversarial
 * term| + 1e-4), clipped to [0, MAX_ADAPTIVE_WEIGHT], so the adversarial term pulls as hard as the
 * reconstruction does whatever the two losses' scales. The Stable Diffusion VAE takes both gradients at the last
 * layer's weights; training here takes them at the decoded pixels, which needs no second pass through the decoder
 * (see trainTextureVae). Non-finite norms give 0 (the adversarial term stays off for that step).
 */
export function adaptiveAdversarialWeight(
  reconstructionGradNorm: number,
  adversarialGradNorm: number,
): number {
  if (!Number.isFinite(reconstructionGradNorm) || !Number.isFinite(adversarialGradNorm)) return 0;
  const w = reconstructionGradNorm / (adversarialGradNorm + 1e-4);
  return Math.min(Math.max(w, 0), MAX_ADAPTIVE_WEIGHT);
}

/** The loss terms of one batch, all scalars owned by the caller. */
export type ElboTerms = {
  /**
   * pixel + beta * kl + patchWeight * patch + fourierWeight * fourier + gridWeight * grid + adversarialWeight *
   * adversarial: what training minimises.
   */
  total: Scalar;
  /** Mean squared error per value, whatever the pixel term (PSNR = -10 log10 of it). */
  reconstruction: Scalar;
  kl: Scalar;
  /** The patch term (0 when its weight is 0). */
  patch: Scalar;
  /** The Fourier-amplitude term (0 when its weight is 0). */
  fourier: Scalar;
  /** The cell-grid term, cellGridTerm (0 when its weight is 0). */
  grid: Scalar;
  /** The adversarial term, hingeGeneratorLoss of the critic's scores (0 when its weight is 0). */
  adversarial: Scalar;
  /** The decoded batch, only when LossOptions.keepDecoded is set. */
  decoded?: Tensor4D;
};

/** How a batch's loss is made: the pixel term, and the patch, Fourier, cell-grid and adversarial weights. */
export interface LossOptions {
  /** (default: 'mse') */
  readonly pixel?: PixelLoss;
  /** Weight of the patch term (default: 0, off). */
  readonly patchWeight?: number;
  /** Kernels from randomPatchDirections; needed when patchWeight > 0. */
  readonly patchDirections?: readonly Tensor4D[];
  /** Weight of the Fourier-amplitude term, fourierAmplitudeError (default: 0, off). */
  readonly fourierWeight?: number;
  /** Weight of the cell-grid term, cellGridTerm (default: 0, off). */
  readonly gridWeight?: number;
  /** The decoder's stride (pixels per latent cell); needed when gridWeight > 0. */
  readonly stride?: number;
  /** Weight of the adversarial term hingeGeneratorLoss(critic(decoded)) (default: 0, off). */
  readonly adversarialWeight?: number;
  /** Scores of decoded windows (PatchDiscriminator.scores); needed when adversarialWeight > 0. */
  readonly critic?: (decoded: Tensor4D) => Tensor;
  /** Also return the decoded batch as ElboTerms.decoded (for the critic's own step) (default: false). */
  readonly keepDecoded?: boolean;
}

interface ReconstructionParts {
  readonly reconstruction: Scalar;
  readonly patch: Scalar;
  readonly fourier: Scalar;
  readonly grid: Scalar;
  readonly sum: Scalar;
}

/** `value` when it is a finite number >= 0, else an Error naming the weight `name`. */
export function checkLossWeight(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new Error(`${name} must be a finite number >= 0, got ${value}`);
  return value;
}

/** The terms that compare `decoded` with `images` (every term but the KL and the adversarial one). */
function reconstructionParts(images: Tensor, decoded: Tensor, options: LossOptions): ReconstructionParts {
  const pixelKind = options.pixel ?? 'mse';
  if (!PIXEL_LOSSES.includes(pixelKind)) {
    throw new Error(`pixel loss must be one of ${PIXEL_LOSSES.join(', ')}, got ${JSON.stringify(pixelKind)}`);
  }
  const patchWeight = checkLossWeight('patchWeight', options.patchWeight ?? 0);
  const fourierWeight = checkLossWeight('fourierWeight', options.fourierWeight ?? 0);
  const gridWeight = checkLossWeight('gridWeight', options.gridWeight ?? 0);
  if (gridWeight > 0 && options.stride === undefined) {
    throw new Error("gridWeight > 0 needs the decoder's stride");
  }
  if (patchWeight > 0 && !options.patchDirections?.length) {
    throw new Error('patchWeight > 0 needs patchDirections (see randomPatchDirections)');
  }
  return tidy(() => {
    const reconstruction = reconstructionError(images, decoded);
    const pixel = pixelKind === 'mse' ? reconstruction : pixelError(images, decoded, pixelKind);
    const patch =
      patchWeight > 0
        ? patchSwd(images as Tensor4D, decoded as Tensor4D, options.patchDirections ?? [])
        : scalar(0);
    const fourier =
      fourierWeight > 0 ? fourierAmplitudeError(images as Tensor4D, decoded as Tensor4D) : scalar(0);
    const grid =
      gridWeight > 0 ? cellGridTerm(images as Tensor4D, decoded as Tensor4D, options.stride ?? 0) : scalar(0);
    const sum = add(
      add(add(pixel, mul(patch, patchWeight)), mul(fourier, fourierWeight)),
      mul(grid, gridWeight),
    ) as Scalar;
    return { reconstruction, patch, fourier, grid, sum };
  });
}

/**
 * pixel + patchWeight * patch + fourierWeight * fourier + gridWeight * grid: the part of the loss that compares
 * `decoded` with `images` (no KL, no adversarial term). The caller owns the result.
 */
export function reconstructionLoss(images: Tensor, decoded: Tensor, options: LossOptions = {}): Scalar {
  const parts = reconstructionParts(images, decoded, options);
  dispose([parts.reconstruction, parts.patch, parts.fourier, parts.grid]);
  return parts.sum;
}

/**
 * total = pixel + beta * kl + patchWeight * patch + fourierWeight * fourier + gridWeight * grid +
 * adversarialWeight * adversarial, with the reduction documented above: `images` / `decoded` are [B, H, W, C],
 * `meanT` / `logVar` the posterior of the same batch.
 */
export function elbo(
  images: Tensor,
  decoded: Tensor,
  meanT: Tensor,
  logVar: Tensor,
  beta: number,
  options: LossOptions = {},
): ElboTerms {
  if (!Number.isFinite(beta) || beta < 0) throw new Error(`beta must be a finite number >= 0, got ${beta}`);
  const adversarialWeight = checkLossWeight('adversarialWeight', options.adversarialWeight ?? 0);
  const critic = options.critic;
  if (adversarialWeight > 0 && typeof critic !== 'function') {
    throw new Error('adversarialWeight > 0 needs a critic (see PatchDiscriminator.scores)');
  }
  return tidy(() => {
    const parts = reconstructionParts(images, decoded, options);
    const valuesPerImage = images.size / (images.shape[0] ?? 1);
    const kl = mul(klDivergence(meanT, logVar), 1 / valuesPerImage) as Scalar;
    const adversarial =
      adversarialWeight > 0 && critic ? hingeGeneratorLoss(critic(decoded as Tensor4D)) : scalar(0);
    const total = add(
      add(parts.sum, mul(kl, scalar(beta))),
      mul(adversarial, scalar(adversarialWeight)),
    ) as Scalar;
    const terms: ElboTerms = {
      total,
      reconstruction: parts.reconstruction,
      kl,
      patch: parts.patch,
      fourier: parts.fourier,
      grid: parts.grid,
      adversarial,
    };
    return options.keepDecoded ? { ...terms, decoded: decoded as Tensor4D } : terms;
  });
}
