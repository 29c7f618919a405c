/**
 * Atlas layout math: where each tile goes, page sizes, UV rectangles and the mip level the gutters protect.
 * Pure functions on numbers, no tensors and no Babylon, so the CLI, the Vite plugin and tests can plan an atlas
 * (for example to check the output files before a long bake) without decoding anything.
 */

import { MAX_TEXTURE_SIZE } from '../model/textureVaeConfig.js';

/** A rectangle in pixels, y from the top row of the page image. */
export interface AtlasPixelRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * A rectangle in texture coordinates, Babylon convention: u grows to the right, v grows UPWARDS, v = 0 is the
 * bottom row of the page image. That is what a Babylon `Texture` loaded from the page PNG uses by default
 * (`invertY` defaults to `!scene.useOpenGLOrientationForUV`, i.e. true, which puts the image's top row at v = 1).
 * So `v0 < v1` and `v0` belongs to the bottom edge of the tile.
 */
export interface AtlasUvRect {
  readonly u0: number;
  readonly v0: number;
  readonly u1: number;
  readonly v1: number;
}

export type AtlasLayoutKind = 'square' | 'row';

/** Inputs of {@link computeAtlasLayout}. */
export interface AtlasLayoutOptions {
  /** Number of tiles, at least 1. */
  count: number;
  /** Tile content size in pixels (square tiles). */
  tileSize: number;
  /** Gutter pixels on each side of a tile, 0..tileSize/2 (default: 8). */
  padding?: number;
  /**
   * 'square': each page holds a grid of about sqrt(n) x sqrt(n) cells; 'row': each page is one row of cells
   * (default: 'square').
   */
  layout?: AtlasLayoutKind;
  /** Largest page width and height in pixels (default: 4096, MAX_TEXTURE_SIZE). */
  maxTextureSize?: number;
  /**
   * Round page sizes up to powers of two (the grid then fits the largest power of two not above
   * maxTextureSize); otherwise pages are exactly columns x cell by rows x cell pixels (default: false).
   */
  powerOfTwo?: boolean;
}

/** One page: a grid of cells, row-major; `tiles` lists the tile indices it holds in cell order. */
export interface AtlasPageLayout {
  readonly width: number;
  readonly height: number;
  readonly columns: number;
  readonly rows: number;
  readonly tiles: readonly number[];
}

/** Where one tile lives: its cell (content plus gutter) and its content rect, both in page pixels. */
export interface AtlasTilePlacement {
  readonly index: number;
  readonly page: number;
  readonly column: number;
  readonly row: number;
  readonly cell: AtlasPixelRect;
  readonly rect: AtlasPixelRect;
  readonly uv: AtlasUvRect;
}

export interface AtlasLayout {
  readonly tileSize: number;
  readonly padding: number;
  /** tileSize + 2 * padding. */
  readonly cellSize: number;
  readonly layout: AtlasLayoutKind;
  readonly pages: readonly AtlasPageLayout[];
  readonly tiles: readonly AtlasTilePlacement[];
}

function checkInteger(name: string, value: number, min: number, max: number, what = ''): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer${what} between ${min} and ${max}, got ${value}`);
  }
}

/** Throws unless `padding` is an integer in 0..tileSize/2. */
export function validatePadding(padding: number, tileSize: number): void {
  checkInteger('padding', padding, 0, Math.floor(tileSize / 2), ' (gutter pixels, at most half a tile)');
}

function largestPowerOfTwoAtMost(n: number): number {
  return 2 ** Math.floor(Math.log2(n));
}

function nextPowerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(n));
}

/**
 * Splits `count` tiles into pages and places them. Every page is a grid of cells of `tileSize + 2 * padding`
 * pixels; a tile's content rect sits `padding` pixels inside its cell. When the tiles do not fit one page of
 * `maxTextureSize`, they are spread evenly over as few pages as hold them all.
 */
export function computeAtlasLayout(options: AtlasLayoutOptions): AtlasLayout {
  const o = Object.freeze({
    count: options.count,
    tileSize: options.tileSize,
    padding: options.padding ?? 8,
    layout: options.layout ?? 'square',
    maxTextureSize: options.maxTextureSize ?? MAX_TEXTURE_SIZE,
    powerOfTwo: options.powerOfTwo ?? false,
  });
  checkInteger('count', o.count, 1, 1_000_000);
  checkInteger('tileSize', o.tileSize, 1, 16384);
  validatePadding(o.padding, o.tileSize);
  if (o.layout !== 'square' && o.layout !== 'row') {
    throw new Error(`layout must be 'square' or 'row', got ${JSON.stringify(o.layout)}`);
  }
  const cellSize = o.tileSize + 2 * o.padding;
  checkInteger(
    'maxTextureSize',
    o.maxTextureSize,
    cellSize,
    65536,
    ` at least one cell (tileSize + 2 * padding)`,
  );
  const limit = o.powerOfTwo ? largestPowerOfTwoAtMost(o.maxTextureSize) : o.maxTextureSize;
  const maxCells = Math.floor(limit / cellSize);
  if (maxCells < 1) {
    throw new Error(
      `a cell of ${cellSize} pixels does not fit a power-of-two page of at most ${o.maxTextureSize} pixels; ` +
        'raise maxTextureSize or lower tileSize / padding',
    );
  }
  const capacity = o.layout === 'row' ? maxCells : maxCells * maxCells;
  const pageCount = Math.ceil(o.count / capacity);
  const pages: AtlasPageLayout[] = [];
  const tiles: AtlasTilePlacement[] = [];
  let next = 0;
  for (let p = 0; p < pageCount; p++) {
    // Even split: the first (count % pageCount) pages take one tile more.
    const n = Math.floor(o.count / pageCount) + (p < o.count % pageCount ? 1 : 0);
    const columns = o.layout === 'row' ? n : Math.ceil(Math.sqrt(n));
    const rows = Math.ceil(n / columns);
    const gridWidth = columns * cellSize;
    const gridHeight = rows * cellSize;
    const width = o.powerOfTwo ? nextPowerOfTwo(gridWidth) : gridWidth;
    const height = o.powerOfTwo ? nextPowerOfTwo(gridHeight) : gridHeight;
    const pageTiles: number[] = [];
    for (let k = 0; k < n; k++, next++) {
      const column = k % columns;
      const row = Math.floor(k / columns);
      const cell = { x: column * cellSize, y: row * cellSize, width: cellSize, height: cellSize };
      const rect = { x: cell.x + o.padding, y: cell.y + o.padding, width: o.tileSize, height: o.tileSize };
      tiles.push({ index: next, page: p, column, row, cell, rect, uv: tileUvRect(rect, width, height) });
      pageTiles.push(next);
    }
    pages.push({ width, height, columns, rows, tiles: pageTiles });
  }
  return { tileSize: o.tileSize, padding: o.padding, cellSize, layout: o.layout, pages, tiles };
}

/**
 * UV rect of a pixel rect, inset by half a texel on every side, so bilinear sampling at the rect's edge reads
 * only the rect's own outermost texels (at mip level 0). v is flipped: v = 0 is the bottom of the page image.
 */
export function tileUvRect(rect: AtlasPixelRect, pageWidth: number, pageHeight: number): AtlasUvRect {
  return {
    u0: (rect.x + 0.5) / pageWidth,
    v0: 1 - (rect.y + rect.height - 0.5) / pageHeight,
    u1: (rect.x + rect.width - 0.5) / pageWidth,
    v1: 1 - (rect.y + 0.5) / pageHeight,
  };
}

/**
 * Deepest mip level whose texels overlapping a tile's rect hold only that tile's gutter and content, for any
 * cell alignment: floor(log2(padding + 1)) (padding 8 -> level 3, i.e. 1/8 resolution).
 *
 * Why: a level-L texel of a box-filtered chain averages an aligned block of 2^L x 2^L level-0 pixels. The
 * block holding the rect's first pixel (page x = cellStart + padding) starts at most 2^L - 1 pixels before
 * it, so it stays inside the cell, which starts `padding` pixels before the rect, when 2^L - 1 <= padding;
 * the same holds at the far edge. Cells whose origin and size are multiples of 2^L (e.g. tile 128, padding 8,
 * cell 144 = 9 * 16, page width a multiple of 16) stay clean deeper, up to the largest such 2^L.
 *
 * Filtered sampling reaches further: see {@link safeSampledMipLevel}.
 */
export function safeMipLevel(padding: number): number {
  return Math.floor(Math.log2(padding + 1));
}

/**
 * Deepest mip level at which bilinear (or trilinear) sampling anywhere inside a tile's half-texel-inset UV rect
 * reads no texel that holds a neighbour's pixels, for any cell alignment: the largest L with
 * 1.5 * 2^L - 1 <= padding (L = 0 always; padding 2 -> 1, 5 -> 2, 8 -> 2, 11 -> 3, 23 -> 4).
 *
 * Why: at level L (texel = s = 2^L pixels) a sample at page x reads texels k and k + 1 with
 * k = floor(x / s - 0.5), and texel k starts after x - 1.5 * s. The rect's edge sample is x = rect.x + 0.5,
 * so texel k starts at or after rect.x + 1 - 1.5 * s, which stays inside the cell (rect.x - padding) when
 * 1.5 * s - 1 <= padding.
 */
export function safeSampledMipLevel(padding: number): number {
  let level = 0;
  while (1.5 * 2 ** (level + 1) - 1 <= padding) level++;
  return level;
}
