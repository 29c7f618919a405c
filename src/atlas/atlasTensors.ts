import * as tf from '@tensorflow/tfjs-core';

import type { AtlasPageLayout } from './atlasLayout.js';

/**
 * How a gutter is filled: 'circular' repeats the tile's own wrap-around content (for tileable models, so
 * filtering across the tile edge sees the same seamless texture it would see when the tile repeats); 'edge'
 * replicates the outermost row / column.
 */
export type AtlasGutterMode = 'circular' | 'edge';

function padAxis(x: tf.Tensor4D, padding: number, axis: 1 | 2, mode: AtlasGutterMode): tf.Tensor4D {
  const size = x.shape[axis];
  const sliceAt = (start: number, length: number): tf.Tensor4D => {
    const begin: [number, number, number, number] = [0, 0, 0, 0];
    const extent: [number, number, number, number] = [-1, -1, -1, -1];
    begin[axis] = start;
    extent[axis] = length;
    return tf.slice(x, begin, extent);
  };
  let before: tf.Tensor4D;
  let after: tf.Tensor4D;
  if (mode === 'circular') {
    before = sliceAt(size - padding, padding);
    after = sliceAt(0, padding);
  } else {
    const reps: [number, number, number, number] = [1, 1, 1, 1];
    reps[axis] = padding;
    before = tf.tile(sliceAt(0, 1), reps);
    after = tf.tile(sliceAt(size - 1, 1), reps);
  }
  return tf.concat([before, x, after], axis);
}

/**
 * Adds a `padding`-pixel gutter around every tile of a [B, h, w, C] batch: [B, h + 2p, w + 2p, C]. Columns
 * first, then rows of the widened tiles, so corners get the diagonal wrap-around (circular) or the corner
 * pixel (edge). The caller owns the result and keeps ownership of `tiles`.
 */
export function padTiles(tiles: tf.Tensor4D, padding: number, mode: AtlasGutterMode): tf.Tensor4D {
  const [, h, w] = tiles.shape;
  if (!Number.isInteger(padding) || padding < 0 || padding > Math.min(h, w)) {
    throw new Error(`padding must be an integer between 0 and ${Math.min(h, w)}, got ${padding}`);
  }
  if (padding === 0) return tf.clone(tiles);
  return tf.tidy(() => padAxis(padAxis(tiles, padding, 2, mode), padding, 1, mode));
}

/**
 * Places padded cells on a [1, height, width, C] page. `cells` are batches [k, cell, cell, C] of consecutive
 * cells (one batch, or one tensor per cell) whose k add up to the page's tile count, in the page's row-major
 * cell order. One concat (with zero cells for the empty grid slots), one transpose of the [rows, columns]
 * grid of cells into image rows and one zero pad to the page size: the work is a few copies of the page,
 * whatever the number of tiles. The caller owns the result and keeps ownership of `cells`.
 */
export function assemblePage(cells: readonly tf.Tensor4D[], page: AtlasPageLayout): tf.Tensor4D {
  const count = cells.reduce((n, t) => n + t.shape[0], 0);
  if (count !== page.tiles.length) {
    throw new Error(`a page of ${page.tiles.length} tiles needs as many cells, got ${count}`);
  }
  const [, cellSize, , channels] = cells[0].shape;
  const { rows, columns } = page;
  return tf.tidy(() => {
    const empty = rows * columns - count;
    const parts = [...cells];
    if (empty > 0) parts.push(tf.zeros([empty, cellSize, cellSize, channels]));
    const all = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
    // [rows * columns, cy, cx, C] -> [rows, cy, columns, cx * C] -> [1, rows * cy, columns * cx, C].
    const grid = tf.reshape(
      tf.transpose(tf.reshape(all, [rows, columns, cellSize, cellSize * channels]), [0, 2, 1, 3]),
      [1, rows * cellSize, columns * cellSize, channels],
    ) as tf.Tensor4D;
    return tf.pad(grid, [
      [0, 0],
      [0, page.height - rows * cellSize],
      [0, page.width - columns * cellSize],
      [0, 0],
    ]);
  });
}

/**
 * Reads a [1, H, W, C] page in [0, 1] back as 8-bit pixels: scaling, rounding and clamping run on the backend,
 * then one readback. Does not dispose `page`.
 */
export async function readPagePixels(
  page: tf.Tensor4D,
): Promise<{ data: Uint8Array; width: number; height: number; channels: 3 | 4 }> {
  const [, height, width, channels] = page.shape;
  if (channels !== 3 && channels !== 4) throw new Error(`page must have 3 or 4 channels, got ${channels}`);
  const bytes = tf.tidy(() => tf.cast(tf.clipByValue(tf.round(tf.mul(page, 255)), 0, 255), 'int32'));
  try {
    const values = await bytes.data();
    return { data: new Uint8Array(values), width, height, channels };
  } finally {
    bytes.dispose();
  }
}
