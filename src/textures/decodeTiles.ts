import { slice, type Tensor4D, tidy } from '@tensorflow/tfjs-core';
import type { PixelRect } from '../gpu/tileBuffer.js';
import { type LatentGrid, latentToTensor } from '../latent/latentGrid.js';
import type { TextureDecoder } from '../model/textureDecoder.js';
import { MAX_TEXTURE_SIZE } from '../model/textureVaeConfig.js';
import { type CellSpan, splitAxis, windowSpan } from '../model/tiledPasses.js';

/** The `decodeTileSize` option: a tile side in pixels, 0 for one decode of the whole texture, or 'auto'. */
export type DecodeTileSizeOption = 'auto' | number;

/** Tile side 'auto' uses on the zero-copy path: 256 pixels. */
export const AUTO_DECODE_TILE_SIZE = 256;

/** Smallest texture 'auto' splits into tiles: 512 pixels (smaller ones decode in one piece). */
export const AUTO_TILED_FROM_SIZE = 512;

/** One tile of a texture decoded in pieces. */
export interface DecodeTile {
  /** The latent rows and columns whose pixels the tile writes (its core). */
  readonly rows: CellSpan;
  readonly columns: CellSpan;
  /**
   * The latent window decoded for the tile: its core and a halo. On a tileable model it may start before 0 or
   * end past the grid: those cells wrap around.
   */
  readonly windowRows: CellSpan;
  readonly windowColumns: CellSpan;
  /** The pixels the tile writes: its core's cells times the stride. */
  readonly rect: PixelRect;
}

/** What a tile plan needs from the model. */
export interface DecodeTileGeometry {
  /** Output pixels per latent cell. */
  readonly stride: number;
  /** Latent cells a window needs beyond its core on each side (decoderHaloCells of the model's config). */
  readonly halo: number;
  /** Circular padding: windows wrap around the grid; otherwise they stop at its border. */
  readonly tileable: boolean;
}

/**
 * Checks a `decodeTileSize` option and returns the tile side in pixels, or 0 for one decode of the whole texture.
 * 'auto' gives AUTO_DECODE_TILE_SIZE tiles to a texture of at least AUTO_TILED_FROM_SIZE pixels when `autoTiles`
 * (the decode path draws on the render loop's GPU), 0 otherwise. A side at least `size` is one tile: 0.
 */
export function resolveDecodeTileSize(
  option: DecodeTileSizeOption,
  size: number,
  stride: number,
  autoTiles: boolean,
): number {
  if (option === 'auto') {
    return autoTiles && size >= AUTO_TILED_FROM_SIZE ? AUTO_DECODE_TILE_SIZE : 0;
  }
  if (
    typeof option !== 'number' ||
    !Number.isInteger(option) ||
    option < 0 ||
    option > MAX_TEXTURE_SIZE ||
    option % stride !== 0
  ) {
    throw new Error(
      `decodeTileSize must be 'auto', 0 (one decode) or a multiple of ${stride} (the model's stride) from ` +
        `${stride} to ${MAX_TEXTURE_SIZE} pixels, got ${typeof option === 'string' ? `'${option}'` : String(option)}`,
    );
  }
  return option >= size ? 0 : option;
}

/**
 * Splits a grid of `height` x `width` latent cells into tiles of at most `tileCells` cells a side, in near-equal
 * rows and columns (so the largest tile, which bounds the longest frame, is as small as the count allows), row
 * by row from the top. Each tile's window reaches `halo` cells past its core on a split axis, so its core's
 * pixels equal those of one decode of the whole grid (see windowSpan); an axis in one piece is decoded whole.
 * Returns one tile covering everything when nothing is split.
 */
export function planDecodeTiles(
  height: number,
  width: number,
  tileCells: number,
  geometry: DecodeTileGeometry,
): DecodeTile[] {
  for (const [what, value] of [
    ['height', height],
    ['width', width],
    ['tileCells', tileCells],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`planDecodeTiles ${what} must be a positive integer of latent cells, got ${value}`);
    }
  }
  const { stride, halo, tileable } = geometry;
  const rows = splitAxis(height, Math.ceil(height / tileCells));
  const columns = splitAxis(width, Math.ceil(width / tileCells));
  const tiles: DecodeTile[] = [];
  for (const row of rows) {
    const windowRows = windowSpan(row, height, rows.length, halo, tileable);
    for (const column of columns) {
      tiles.push({
        rows: row,
        columns: column,
        windowRows,
        windowColumns: windowSpan(column, width, columns.length, halo, tileable),
        rect: {
          x: column.start * stride,
          y: row.start * stride,
          width: column.size * stride,
          height: row.size * stride,
        },
      });
    }
  }
  return tiles;
}

/** The cells of `latent` in a window of rows and columns, wrapping around the grid where the window leaves it. */
export function cropLatent(latent: LatentGrid, rows: CellSpan, columns: CellSpan): LatentGrid {
  const { height, width, channels } = latent;
  const data = new Float32Array(rows.size * columns.size * channels);
  const wrap = (i: number, n: number) => ((i % n) + n) % n;
  for (let r = 0; r < rows.size; r++) {
    const from = wrap(rows.start + r, height) * width;
    for (let c = 0; c < columns.size; c++) {
      const cell = (from + wrap(columns.start + c, width)) * channels;
      data.set(latent.data.subarray(cell, cell + channels), (r * columns.size + c) * channels);
    }
  }
  return { data, height: rows.size, width: columns.size, channels };
}

/**
 * Decodes one tile: its latent window, then the core's pixels [1, rect.height, rect.width, C] in [0, 1], owned by
 * the caller (the window's decode is disposed).
 */
export function decodeTile(decoder: TextureDecoder, latent: LatentGrid, tile: DecodeTile): Tensor4D {
  const window = cropLatent(latent, tile.windowRows, tile.windowColumns);
  const s = decoder.stride;
  return tidy(() =>
    slice(
      decoder.decodeTensors(latentToTensor(window)),
      [
        0,
        (tile.rows.start - tile.windowRows.start) * s,
        (tile.columns.start - tile.windowColumns.start) * s,
        0,
      ],
      [1, tile.rect.height, tile.rect.width, -1],
    ),
  );
}
