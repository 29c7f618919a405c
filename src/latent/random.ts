/** Largest seed the public API accepts (2^32 - 1): seeds are folded to 32 bits, so larger ones would repeat. */
export const MAX_SEED = 0xffffffff;

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  return value === null || typeof value === 'number' ? String(value) : `${String(value)} (${typeof value})`;
}

/**
 * Returns `seed` when it is an integer from 0 to MAX_SEED; otherwise throws an Error naming `name` and the
 * allowed range. For seeds that callers pass in: options, method arguments, command-line flags.
 */
export function checkSeed(seed: unknown, name = 'seed'): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new Error(`${name} must be an integer from 0 to ${MAX_SEED}, got ${describe(seed)}`);
  }
  return seed;
}

/** Seed `offset` places after `seed` (tile i, texture i, waypoint i), wrapped into 0..MAX_SEED. */
export function offsetSeed(seed: number, offset: number): number {
  return (seed + offset) >>> 0;
}

/** `rngOrSeed` as a random source: a SeededRandom as is, else a new one from a checked seed. */
export function toRandom(rngOrSeed: SeededRandom | number): SeededRandom {
  return rngOrSeed instanceof SeededRandom ? rngOrSeed : new SeededRandom(checkSeed(rngOrSeed));
}

/**
 * A small seeded random source (mulberry32 + Box-Muller), identical on every platform and tfjs backend,
 * so the same seed gives the same latent, crop or projection everywhere.
 */
export class SeededRandom {
  private _state: number;
  private _spare: number | null = null;

  /**
   * @param seed any integer up to 2^53 - 1 in size (a derived seed such as `seed * 7919 + step` fits); it is
   * folded to 32 bits, so seeds that differ by a multiple of 2^32 give the same stream.
   */
  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
      throw new Error(
        `SeededRandom seed must be an integer from -(2^53 - 1) to 2^53 - 1, got ${describe(seed)}`,
      );
    }
    this._state = seed >>> 0 || 0x9e3779b9;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this._state = (this._state + 0x6d2b79f5) >>> 0;
    let t = this._state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal sample. */
  gaussian(): number {
    if (this._spare !== null) {
      const s = this._spare;
      this._spare = null;
      return s;
    }
    let u = 0;
    while (u <= Number.EPSILON) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this._spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** A Float32Array of `length` normal samples scaled by `scale`. */
  gaussianArray(length: number, scale = 1): Float32Array {
    const out = new Float32Array(length);
    for (let i = 0; i < length; i++) out[i] = this.gaussian() * scale;
    return out;
  }
}
