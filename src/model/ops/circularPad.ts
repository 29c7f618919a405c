import { concat, slice, type Tensor4D } from '@tensorflow/tfjs-core';

/** Circular padding of one axis: the last `before` cells go before the first and the first `after` after the last. */
function wrapAxis(x: Tensor4D, before: number, after: number, axis: 1 | 2): Tensor4D {
  if (before === 0 && after === 0) return x;
  const size = x.shape[axis];
  if (before > size || after > size) {
    throw new Error(
      `circular padding of ${Math.max(before, after)} needs at least that many cells, got ${size}`,
    );
  }
  const parts: Tensor4D[] = [];
  const begin: [number, number, number, number] = [0, 0, 0, 0];
  const extent: [number, number, number, number] = [-1, -1, -1, -1];
  if (before > 0) {
    begin[axis] = size - before;
    extent[axis] = before;
    parts.push(slice(x, begin, extent));
  }
  parts.push(x);
  if (after > 0) {
    begin[axis] = 0;
    extent[axis] = after;
    parts.push(slice(x, begin, extent));
  }
  return concat(parts, axis);
}

/**
 * Circular padding of the rows and columns of an NHWC tensor, `before` cells before and `after` after on both
 * axes, as slices and concats (every backend runs them forward and backward). The caller owns the result.
 */
export function circularPad(x: Tensor4D, before: number, after: number): Tensor4D {
  return wrapAxis(wrapAxis(x, before, after, 1), before, after, 2);
}
