import type { LatentGrid } from '../latent/latentGrid.js';
import { similarLatent, slerpLatent } from '../latent/latentOps.js';
import { checkSeed, offsetSeed } from '../latent/random.js';
import { Swatch } from '../latent/swatch.js';

/**
 * A slow random walk, starting at the material's latent: each waypoint is a variation of the one before
 * (the material's `swatch.similar`, so the walk keeps the swatch's look).
 */
export interface LatentWalk {
  readonly mode: 'walk';
  /** Waypoints passed per second (default: 0.25). */
  readonly speed?: number;
  /** Distance between waypoints, as a `similar` amount in (0, 1] (default: 0.35). */
  readonly amount?: number;
  /** Seed of the waypoints, an integer from 0 to 2^32 - 1 (default: 0). */
  readonly seed?: number;
}

/** A loop through keyframes, slerped, back to the first. */
export interface LatentKeyframes {
  readonly mode: 'keyframes';
  /**
   * Two or more latents of one shape, or swatches: a material samples all its swatch keyframes with one shared
   * layout (`Swatch.sampleAligned`, its seed) at its size, so the loop morphs one material into the next.
   */
  readonly keyframes: readonly (LatentGrid | Swatch)[];
  /** Seconds from one keyframe to the next (default: 4). */
  readonly period?: number;
}

/** How a latent moves with scene time. */
export type LatentAnimation = LatentWalk | LatentKeyframes;

function smoothstep(t: number): number {
  return t * t * (3 - 2 * t);
}

/**
 * The latent at a given time of an animation: pure and deterministic (same time, same latent), so frame
 * rate and decode speed change how often a new latent is shown, never which latent a time maps to.
 */
export class LatentAnimator {
  private readonly _animation: Required<LatentWalk> | Required<LatentKeyframes>;
  // Waypoint k of a walk is similar(waypoint k-1, amount, seed + k); only the start and the newest few are
  // kept, so an animation running for hours holds constant memory.
  private _start: LatentGrid | null = null;
  private _recent: { index: number; latent: LatentGrid }[] = [];
  private readonly _vary: (latent: LatentGrid, amount: number, seed: number) => LatentGrid;

  /**
   * `vary(latent, amount, seed)` makes a walk's next waypoint (default: similarLatent, a model-free blend
   * with Gaussian noise; a material passes its swatch's `similar`). Keyframes must be latents here.
   */
  constructor(
    start: LatentGrid,
    animation: LatentAnimation,
    vary: (latent: LatentGrid, amount: number, seed: number) => LatentGrid = similarLatent,
  ) {
    this._vary = vary;
    if (animation?.mode === 'walk') {
      const speed = animation.speed ?? 0.25;
      const amount = animation.amount ?? 0.35;
      if (!(speed > 0 && speed <= 10))
        throw new Error(`walk speed must be in (0, 10] waypoints per second, got ${speed}`);
      if (!(amount > 0 && amount <= 1)) throw new Error(`walk amount must be in (0, 1], got ${amount}`);
      this._animation = { mode: 'walk', speed, amount, seed: checkSeed(animation.seed ?? 0, 'walk seed') };
      this._start = start;
    } else if (animation?.mode === 'keyframes') {
      const { keyframes } = animation;
      if (!Array.isArray(keyframes) || keyframes.length < 2) {
        throw new Error(
          `keyframes must be an array of at least 2 latents, got ${keyframes?.length ?? keyframes}`,
        );
      }
      if (keyframes.some((k) => k instanceof Swatch)) {
        throw new Error(
          'swatch keyframes are sampled by the material (VaeMaterialPlugin.animate); give latents here',
        );
      }
      const period = animation.period ?? 4;
      if (!(period > 0)) throw new Error(`keyframe period must be > 0 seconds, got ${period}`);
      for (const k of keyframes as LatentGrid[]) {
        if (
          k.height !== keyframes[0].height ||
          k.width !== keyframes[0].width ||
          k.channels !== keyframes[0].channels
        ) {
          throw new Error('keyframes must all have the shape of the first keyframe');
        }
      }
      this._animation = { mode: 'keyframes', keyframes: [...(keyframes as LatentGrid[])], period };
    } else {
      throw new Error(
        `animation mode must be 'walk' or 'keyframes', got ${(animation as { mode?: unknown })?.mode}`,
      );
    }
  }

  /** The latent at `seconds` since the animation began. */
  latentAt(seconds: number): LatentGrid {
    const t = Math.max(0, seconds);
    const a = this._animation;
    if (a.mode === 'keyframes') {
      const position = t / a.period;
      const k = Math.floor(position);
      const n = a.keyframes.length;
      const frames = a.keyframes as readonly LatentGrid[];
      return slerpLatent(frames[k % n], frames[(k + 1) % n], smoothstep(position - k));
    }
    const position = t * a.speed;
    const k = Math.floor(position);
    return slerpLatent(this._waypoint(k), this._waypoint(k + 1), smoothstep(position - k));
  }

  private _waypoint(k: number): LatentGrid {
    const walk = this._animation as Required<LatentWalk>;
    let from = { index: 0, latent: this._start as LatentGrid };
    for (const w of this._recent) if (w.index <= k && w.index >= from.index) from = w;
    while (from.index < k) {
      const index = from.index + 1;
      from = { index, latent: this._vary(from.latent, walk.amount, offsetSeed(walk.seed, index)) };
      this._recent.push(from);
      if (this._recent.length > 3) this._recent.shift();
    }
    return from.latent;
  }
}
