import {
  add,
  exp,
  mean,
  mul,
  type Scalar,
  scalar,
  square,
  squaredDifference,
  sub,
  sum,
  type Tensor,
  tidy,
} from '@tensorflow/tfjs-core';

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

/** The loss terms of one batch, all scalars owned by the caller. */
export type ElboTerms = {
  total: Scalar;
  reconstruction: Scalar;
  kl: Scalar;
};

/**
 * total = reconstruction + beta * kl, with the reduction documented above: `images` / `decoded` are
 * [B, H, W, C], `meanT` / `logVar` the posterior of the same batch.
 */
export function elbo(
  images: Tensor,
  decoded: Tensor,
  meanT: Tensor,
  logVar: Tensor,
  beta: number,
): ElboTerms {
  if (!Number.isFinite(beta) || beta < 0) throw new Error(`beta must be a finite number >= 0, got ${beta}`);
  return tidy(() => {
    const valuesPerImage = images.size / (images.shape[0] ?? 1);
    const reconstruction = reconstructionError(images, decoded);
    const kl = mul(klDivergence(meanT, logVar), 1 / valuesPerImage) as Scalar;
    const total = add(reconstruction, mul(kl, scalar(beta))) as Scalar;
    return { total, reconstruction, kl };
  });
}
