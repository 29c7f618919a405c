import { type LatentGrid, validateLatent } from './latentGrid.js';
import { type SeededRandom, toRandom } from './random.js';

function checkSameShape(a: LatentGrid, b: LatentGrid): void {
  validateLatent(a);
  validateLatent(b, a.channels);
  if (a.height !== b.height || a.width !== b.width) {
    throw new Error(
      `latents must have the same grid size, got ${a.height}x${a.width} and ${b.height}x${b.width}; resize one with resizeLatent`,
    );
  }
}

function checkUnit(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0 || value > 1)
    throw new Error(`${name} must be between 0 and 1, got ${value}`);
}

function grid(data: Float32Array, like: { height: number; width: number; channels: number }): LatentGrid {
  return { data, height: like.height, width: like.width, channels: like.channels };
}

/**
 * A prior sample N(0, temperature^2 I) of the given grid size, drawn on the CPU: identical on every backend.
 * `rngOrSeed` is a SeededRandom or a seed, an integer from 0 to MAX_SEED (2^32 - 1).
 */
export function sampleLatent(
  rngOrSeed: SeededRandom | number,
  height: number,
  width: number,
  channels: number,
  temperature = 1,
): LatentGrid {
  for (const [key, value] of [
    ['height', height],
    ['width', width],
    ['channels', channels],
  ] as const) {
    if (!Number.isInteger(value) || value < 1)
      throw new Error(`latent ${key} must be a positive integer, got ${value}`);
  }
  if (!Number.isFinite(temperature) || temperature < 0) {
    throw new Error(`temperature must be a finite number >= 0, got ${temperature}`);
  }
  const rng = toRandom(rngOrSeed);
  return { data: rng.gaussianArray(height * width * channels, temperature), height, width, channels };
}

/** (1 - t) * a + t * b, element-wise; t in [0, 1]. */
export function lerpLatent(a: LatentGrid, b: LatentGrid, t: number): LatentGrid {
  checkSameShape(a, b);
  checkUnit('t', t);
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (1 - t) * a.data[i] + t * b.data[i];
  return grid(out, a);
}

/**
 * Spherical interpolation of the whole grids seen as two vectors; t in [0, 1]. Unlike lerp it keeps the norm of
 * prior samples, so midpoints look like samples instead of washed-out averages. Falls back to lerp for
 * (nearly) parallel or zero vectors.
 */
export function slerpLatent(a: LatentGrid, b: LatentGrid, t: number): LatentGrid {
  checkSameShape(a, b);
  checkUnit('t', t);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.data.length; i++) {
    dot += a.data[i] * b.data[i];
    na += a.data[i] * a.data[i];
    nb += b.data[i] * b.data[i];
  }
  const cos = na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 1;
  const omega = Math.acos(Math.min(1, Math.max(-1, cos)));
  const sin = Math.sin(omega);
  if (sin < 1e-6) return lerpLatent(a, b, t);
  const wa = Math.sin((1 - t) * omega) / sin;
  const wb = Math.sin(t * omega) / sin;
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = wa * a.data[i] + wb * b.data[i];
  return grid(out, a);
}

/**
 * A variation of `latent`: cos(amount * pi/2) * latent + sin(amount * pi/2) * n, n a fresh prior sample.
 * amount 0 returns the same values, 1 an independent prior sample; the mix keeps a prior sample's variance.
 */
export function similarLatent(
  latent: LatentGrid,
  amount: number,
  rngOrSeed: SeededRandom | number = 0,
): LatentGrid {
  validateLatent(latent);
  checkUnit('amount', amount);
  const noise = sampleLatent(rngOrSeed, latent.height, latent.width, latent.channels);
  const angle = (amount * Math.PI) / 2;
  const keep = amount === 1 ? 0 : Math.cos(angle);
  const add = Math.sin(angle);
  const out = new Float32Array(latent.data.length);
  for (let i = 0; i < out.length; i++) out[i] = keep * latent.data[i] + add * noise.data[i];
  return grid(out, latent);
}

/**
 * The grid tiled or cropped circularly to height x width cells: cell (y, x) = latent cell (y mod h, x mod w).
 * Because the decoder wraps, a tiled latent decodes to the same texture repeated.
 */
export function resizeLatent(latent: LatentGrid, height: number, width: number): LatentGrid {
  validateLatent(latent);
  for (const [key, value] of [
    ['height', height],
    ['width', width],
  ] as const) {
    if (!Number.isInteger(value) || value < 1)
      throw new Error(`latent ${key} must be a positive integer, got ${value}`);
  }
  const c = latent.channels;
  const out = new Float32Array(height * width * c);
  for (let y = 0; y < height; y++) {
    const sy = y % latent.height;
    for (let x = 0; x < width; x++) {
      const src = (sy * latent.width + (x % latent.width)) * c;
      out.set(latent.data.subarray(src, src + c), (y * width + x) * c);
    }
  }
  return { data: out, height, width, channels: c };
}
