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
 * Places padded cells ([1, cell, cell, C] each, in the page's cell order) on a [1, height, width, C] page:
 * each grid row is a concat of cells along the width axis (empty grid slots are zeros), the rows are
 * concatenated along the height axis, and the grid is zero-padded to the page size. The caller owns the
 * result and keeps ownership of `cells`.
 */
export function assemblePage(cells: readonly tf.Tensor4D[], page: AtlasPageLayout): tf.Tensor4D {
  if (cells.length !== page.tiles.length) {
    throw new Error(`a page of ${page.tiles.length} tiles needs as many cells, got ${cells.length}`);
  }
  const [, cellSize, , channels] = cells[0].shape;
  return tf.tidy(() => {
    const blank = tf.zeros([1, cellSize, cellSize, channels]) as tf.Tensor4D;
    const rows: tf.Tensor4D[] = [];
    for (let r = 0; r < page.rows; r++) {
      const row: tf.Tensor4D[] = [];
      for (let c = 0; c < page.columns; c++) row.push(cells[r * page.columns + c] ?? blank);
      rows.push(row.length === 1 ? row[0] : tf.concat(row, 2));
    }
    const grid = rows.length === 1 ? rows[0] : tf.concat(rows, 1);
    const extraY = page.height - page.rows * cellSize;
    const extraX = page.width - page.columns * cellSize;
    if (extraX === 0 && extraY === 0) return grid === cells[0] ? tf.clone(grid) : grid;
    return tf.pad(grid, [
      [0, 0],
      [0, extraY],
      [0, extraX],
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
