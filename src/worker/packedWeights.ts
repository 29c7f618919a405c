import { type Tensor, tensor } from '@tensorflow/tfjs-core';

import type { PackedWeights } from './trainWorkerProtocol.js';

/** Every weight of `weights` (float32) copied into one buffer, to be transferred to another thread. */
export function packWeights(weights: readonly Tensor[]): PackedWeights {
  const sizes = weights.map((w) => w.size);
  const values = new Float32Array(sizes.reduce((a, b) => a + b, 0));
  let offset = 0;
  for (const w of weights) {
    values.set(w.dataSync() as Float32Array, offset);
    offset += w.size;
  }
  return { buffer: values.buffer, shapes: weights.map((w) => [...w.shape]) };
}

/**
 * Tensors of a packed buffer, checked against its shapes before any is made; the caller owns and disposes them.
 */
export function unpackWeights(packed: PackedWeights): Tensor[] {
  const { buffer, shapes } = packed;
  const sizes = shapes.map((shape) => shape.reduce((a, b) => a * b, 1));
  const total = sizes.reduce((a, b) => a + b, 0);
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength !== total * 4) {
    throw new Error(
      `packed weights must hold ${total} float32 values for shapes ${JSON.stringify(shapes)}, got ${buffer?.byteLength} bytes`,
    );
  }
  const out: Tensor[] = [];
  let offset = 0;
  for (let i = 0; i < shapes.length; i++) {
    out.push(tensor(new Float32Array(buffer, offset * 4, sizes[i]), shapes[i], 'float32'));
    offset += sizes[i];
  }
  return out;
}
