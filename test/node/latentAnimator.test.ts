import { describe, expect, it } from 'vitest';
import type { LatentGrid } from '../../src/latent/latentGrid.js';
import { sampleLatent } from '../../src/latent/latentOps.js';
import { LatentAnimator } from '../../src/materials/latentAnimator.js';

const grid = (seed: number): LatentGrid => sampleLatent(seed, 4, 4, 3, 1);
const maxDiff = (a: LatentGrid, b: LatentGrid) => Math.max(...a.data.map((v, i) => Math.abs(v - b.data[i])));

describe('LatentAnimator', () => {
  it('walks from the start latent, continuously and deterministically', () => {
    const start = grid(1);
    const a = new LatentAnimator(start, { mode: 'walk', speed: 0.5, amount: 0.4, seed: 3 });
    const b = new LatentAnimator(start, { mode: 'walk', speed: 0.5, amount: 0.4, seed: 3 });
    expect(maxDiff(a.latentAt(0), start)).toBeLessThan(1e-6);
    // Small time steps give small latent steps; large ones move far.
    for (let t = 0; t < 10; t += 0.37) {
      expect(maxDiff(a.latentAt(t), a.latentAt(t + 0.01))).toBeLessThan(0.1);
    }
    expect(maxDiff(a.latentAt(0), a.latentAt(20))).toBeGreaterThan(0.5);
    // Same time, same latent, whatever order the times are asked in.
    expect(maxDiff(a.latentAt(7.3), b.latentAt(7.3))).toBe(0);
    expect(maxDiff(a.latentAt(1), b.latentAt(1))).toBe(0);
    const other = new LatentAnimator(start, { mode: 'walk', speed: 0.5, amount: 0.4, seed: 4 });
    expect(maxDiff(a.latentAt(5), other.latentAt(5))).toBeGreaterThan(0.1);
  });

  it('loops through keyframes with slerp, passing through each', () => {
    const k = [grid(1), grid(2), grid(3)];
    const a = new LatentAnimator(k[0], { mode: 'keyframes', keyframes: k, period: 2 });
    expect(maxDiff(a.latentAt(0), k[0])).toBeLessThan(1e-5);
    expect(maxDiff(a.latentAt(2), k[1])).toBeLessThan(1e-5);
    expect(maxDiff(a.latentAt(4), k[2])).toBeLessThan(1e-5);
    expect(maxDiff(a.latentAt(6), k[0])).toBeLessThan(1e-5); // back to the start
    const mid = a.latentAt(1);
    expect(maxDiff(mid, k[0])).toBeGreaterThan(0.05);
    expect(maxDiff(mid, k[1])).toBeGreaterThan(0.05);
  });

  it('rejects bad animations with errors naming what is allowed', () => {
    const start = grid(1);
    expect(() => new LatentAnimator(start, { mode: 'walk', speed: 0 })).toThrow(
      'walk speed must be in (0, 10] waypoints per second, got 0',
    );
    expect(() => new LatentAnimator(start, { mode: 'walk', amount: 2 })).toThrow(
      'walk amount must be in (0, 1], got 2',
    );
    expect(() => new LatentAnimator(start, { mode: 'keyframes', keyframes: [start] })).toThrow(
      'keyframes must be an array of at least 2 latents, got 1',
    );
    expect(
      () => new LatentAnimator(start, { mode: 'keyframes', keyframes: [start, sampleLatent(1, 2, 2, 3, 1)] }),
    ).toThrow('keyframes must all have the shape of the first keyframe');
    expect(() => new LatentAnimator(start, { mode: 'spin' } as never)).toThrow(
      "animation mode must be 'walk' or 'keyframes', got spin",
    );
  });
});
