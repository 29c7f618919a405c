/**
 * The CPU share of a worker (WorkerTrainer's training steps, WorkerDecoder's decodes): after each piece of work
 * it rests so that its work takes no more than this share of the wall time, leaving the cores to the page. With
 * a software rasteriser such as SwiftShader, rendering runs on the same cores.
 */

/** Checks a cpuShare option: a number from 0.05 to 1 (1 never rests). Returns it. */
export function checkCpuShare(value: unknown, name = 'cpuShare'): number {
  if (typeof value !== 'number' || !(value >= 0.05 && value <= 1)) {
    throw new Error(`${name} must be a number from 0.05 to 1, got ${String(value)}`);
  }
  return value;
}

/** Milliseconds to rest after `workMs` of work so that the work is `cpuShare` of the wall time (0 at 1). */
export function restAfter(workMs: number, cpuShare: number): number {
  if (cpuShare >= 1 || !(workMs > 0)) return 0;
  return (workMs * (1 - cpuShare)) / cpuShare;
}
