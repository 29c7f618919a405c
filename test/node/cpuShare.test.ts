import { describe, expect, test } from 'vitest';
import { checkCpuShare, restAfter } from '../../src/worker/cpuShare.js';

describe('a worker CPU share', () => {
  test('checkCpuShare takes numbers from 0.05 to 1 and names the option otherwise', () => {
    expect(checkCpuShare(0.05)).toBe(0.05);
    expect(checkCpuShare(1)).toBe(1);
    for (const bad of [0, 0.049, 1.01, Number.NaN, Number.POSITIVE_INFINITY, '0.5', null]) {
      expect(() => checkCpuShare(bad)).toThrow(
        `cpuShare must be a number from 0.05 to 1, got ${String(bad)}`,
      );
    }
    expect(() => checkCpuShare(2, 'workerCpuShare')).toThrow(
      'workerCpuShare must be a number from 0.05 to 1, got 2',
    );
  });

  test('restAfter makes the work that share of the wall time', () => {
    expect(restAfter(30, 0.25)).toBe(90);
    expect(restAfter(30, 0.5)).toBe(30);
    expect(30 / (30 + restAfter(30, 0.2))).toBeCloseTo(0.2, 12);
    expect(restAfter(30, 1)).toBe(0);
    expect(restAfter(0, 0.5)).toBe(0);
    expect(restAfter(Number.NaN, 0.5)).toBe(0);
  });
});
