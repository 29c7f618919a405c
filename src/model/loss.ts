import {
  abs,
  add,
  avgPool,
  customGrad,
  exp,
  type GradSaveFunc,
  image,
  mean,
  mul,
  reshape,
  type Scalar,
  scalar,
  scatterND,
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

/** The loss terms of one batch, all scalars owned by the caller. */
export type ElboTerms = {
  /** pixel + beta * kl + patchWeight * patch: what training minimises. */
  total: Scalar;
  /** Mean squared error per value, whatever the pixel term (PSNR = -10 log10 of it). */
  reconstruction: Scalar;
  kl: Scalar;
  /** The patch term (0 when its weight is 0). */
  patch: Scalar;
};

/** How a batch's loss is made: the pixel term, the KL weight and the patch term. */
export interface LossOptions {
  /** (default: 'mse') */
  readonly pixel?: PixelLoss;
  /** Weight of the patch term (default: 0, off). */
  readonly patchWeight?: number;
  /** Kernels from randomPatchDirections; needed when patchWeight > 0. */
  readonly patchDirections?: readonly Tensor4D[];
}

/**
 * total = pixel + beta * kl + patchWeight * patch, with the reduction documented above: `images` / `decoded`
 * are [B, H, W, C], `meanT` / `logVar` the posterior of the same batch.
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
  const pixelKind = options.pixel ?? 'mse';
  if (!PIXEL_LOSSES.includes(pixelKind)) {
    throw new Error(`pixel loss must be one of ${PIXEL_LOSSES.join(', ')}, got ${JSON.stringify(pixelKind)}`);
  }
  const patchWeight = options.patchWeight ?? 0;
  if (!Number.isFinite(patchWeight) || patchWeight < 0) {
    throw new Error(`patchWeight must be a finite number >= 0, got ${patchWeight}`);
  }
  if (patchWeight > 0 && !options.patchDirections?.length) {
    throw new Error('patchWeight > 0 needs patchDirections (see randomPatchDirections)');
  }
  return tidy(() => {
    const valuesPerImage = images.size / (images.shape[0] ?? 1);
    const reconstruction = reconstructionError(images, decoded);
    const pixel = pixelKind === 'mse' ? reconstruction : pixelError(images, decoded, pixelKind);
    const kl = mul(klDivergence(meanT, logVar), 1 / valuesPerImage) as Scalar;
    const patch =
      patchWeight > 0
        ? patchSwd(images as Tensor4D, decoded as Tensor4D, options.patchDirections ?? [])
        : scalar(0);
    const total = add(add(pixel, mul(kl, scalar(beta))), mul(patch, scalar(patchWeight))) as Scalar;
    return { total, reconstruction, kl, patch };
  });
}
