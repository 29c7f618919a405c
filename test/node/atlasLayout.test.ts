import { describe, expect, test } from 'vitest';

import type { AtlasLayout } from '../../src/atlas/atlasLayout.js';
import {
  computeAtlasLayout,
  safeMipLevel,
  safeSampledMipLevel,
  tileUvRect,
} from '../../src/atlas/atlasLayout.js';

function expectConsistent(layout: AtlasLayout, count: number, maxTextureSize: number): void {
  expect(layout.tiles).toHaveLength(count);
  expect(layout.pages.reduce((n, p) => n + p.tiles.length, 0)).toBe(count);
  layout.tiles.forEach((t, i) => {
    expect(t.index).toBe(i);
    expect(layout.pages[t.page].tiles).toContain(i);
  });
  for (const [p, page] of layout.pages.entries()) {
    expect(page.width).toBeLessThanOrEqual(maxTextureSize);
    expect(page.height).toBeLessThanOrEqual(maxTextureSize);
    const cells = layout.tiles.filter((t) => t.page === p).map((t) => t.cell);
    for (const c of cells) {
      expect(c.x).toBeGreaterThanOrEqual(0);
      expect(c.y).toBeGreaterThanOrEqual(0);
      expect(c.x + c.width).toBeLessThanOrEqual(page.width);
      expect(c.y + c.height).toBeLessThanOrEqual(page.height);
    }
    let overlaps = 0;
    for (let a = 0; a < cells.length; a++) {
      for (let b = a + 1; b < cells.length; b++) {
        const A = cells[a];
        const B = cells[b];
        if (A.x < B.x + B.width && B.x < A.x + A.width && A.y < B.y + B.height && B.y < A.y + A.height)
          overlaps++;
      }
    }
    expect(overlaps).toBe(0);
  }
  for (const t of layout.tiles) {
    expect(t.rect.x - t.cell.x).toBe(layout.padding);
    expect(t.rect.y - t.cell.y).toBe(layout.padding);
    expect(t.rect.width).toBe(layout.tileSize);
    expect(t.cell.width).toBe(layout.tileSize + 2 * layout.padding);
  }
}

describe('computeAtlasLayout', () => {
  test('square layout of 64 tiles of 128 px with 8 px gutters: 8 x 8 cells of 144 px on one page', () => {
    const layout = computeAtlasLayout({ count: 64, tileSize: 128, padding: 8 });
    expect(layout.cellSize).toBe(144);
    expect(layout.pages).toHaveLength(1);
    expect(layout.pages[0]).toMatchObject({ columns: 8, rows: 8, width: 1152, height: 1152 });
    expect(layout.tiles[9].rect).toEqual({ x: 144 + 8, y: 144 + 8, width: 128, height: 128 });
    expectConsistent(layout, 64, 4096);
  });

  test('square layout picks ceil(sqrt(n)) columns and just enough rows', () => {
    const layout = computeAtlasLayout({ count: 10, tileSize: 32, padding: 4 });
    expect(layout.pages[0]).toMatchObject({ columns: 4, rows: 3, width: 160, height: 120 });
    expectConsistent(layout, 10, 4096);
  });

  test('row layout puts every tile of a page in one row', () => {
    const layout = computeAtlasLayout({ count: 5, tileSize: 16, padding: 2, layout: 'row' });
    expect(layout.pages[0]).toMatchObject({ columns: 5, rows: 1, width: 100, height: 20 });
    expectConsistent(layout, 5, 4096);
  });

  test('splits into several pages when the tiles do not fit maxTextureSize, spreading them evenly', () => {
    // 144 px cells in 512 px pages: 3 x 3 = 9 tiles per page; 20 tiles -> 3 pages of 7, 7, 6.
    const layout = computeAtlasLayout({ count: 20, tileSize: 128, padding: 8, maxTextureSize: 512 });
    expect(layout.pages.map((p) => p.tiles.length)).toEqual([7, 7, 6]);
    expect(layout.pages.map((p) => [p.columns, p.rows])).toEqual([
      [3, 3],
      [3, 3],
      [3, 2],
    ]);
    expect(layout.pages[2].tiles).toEqual([14, 15, 16, 17, 18, 19]);
    expectConsistent(layout, 20, 512);
  });

  test('row layout splits a strip longer than maxTextureSize into pages', () => {
    const layout = computeAtlasLayout({
      count: 7,
      tileSize: 64,
      padding: 0,
      layout: 'row',
      maxTextureSize: 256,
    });
    expect(layout.pages.map((p) => p.tiles.length)).toEqual([4, 3]);
    expect(layout.pages[0]).toMatchObject({ width: 256, height: 64 });
    expectConsistent(layout, 7, 256);
  });

  test('powerOfTwo rounds page sizes up and keeps the grid within the largest power of two', () => {
    const layout = computeAtlasLayout({ count: 10, tileSize: 32, padding: 4, powerOfTwo: true });
    expect(layout.pages[0]).toMatchObject({ width: 256, height: 128 });
    const split = computeAtlasLayout({
      count: 30,
      tileSize: 128,
      padding: 8,
      powerOfTwo: true,
      maxTextureSize: 1000,
    });
    // largest power of two <= 1000 is 512: 3 x 3 cells of 144 px per page.
    expect(split.pages.every((p) => p.width === 512 && p.height === 512)).toBe(true);
    expect(split.pages).toHaveLength(4);
    expectConsistent(split, 30, 1000);
  });

  test('a large count fills many pages without overlap', () => {
    const layout = computeAtlasLayout({ count: 1000, tileSize: 16, padding: 8, maxTextureSize: 320 });
    expect(layout.pages.length).toBe(Math.ceil(1000 / 100));
    expectConsistent(layout, 1000, 320);
  });

  test('rejects bad input with messages naming the allowed values', () => {
    expect(() => computeAtlasLayout({ count: 0, tileSize: 32 })).toThrow(
      'count must be an integer between 1 and 1000000, got 0',
    );
    expect(() => computeAtlasLayout({ count: 2, tileSize: 32, padding: -1 })).toThrow(
      'padding must be an integer (gutter pixels, at most half a tile) between 0 and 16, got -1',
    );
    expect(() => computeAtlasLayout({ count: 2, tileSize: 32, padding: 17 })).toThrow('got 17');
    expect(() => computeAtlasLayout({ count: 2, tileSize: 128, padding: 8, maxTextureSize: 100 })).toThrow(
      'maxTextureSize must be an integer at least one cell (tileSize + 2 * padding) between 144 and 65536, got 100',
    );
    expect(() => computeAtlasLayout({ count: 2, tileSize: 32, layout: 'grid' as 'row' })).toThrow(
      `layout must be 'square' or 'row', got "grid"`,
    );
  });
});

describe('UV rects and mip levels', () => {
  test('UVs are inset by half a texel and v is measured from the bottom of the image', () => {
    const uv = tileUvRect({ x: 8, y: 8, width: 16, height: 16 }, 64, 32);
    expect(uv.u0).toBeCloseTo(8.5 / 64, 12);
    expect(uv.u1).toBeCloseTo(23.5 / 64, 12);
    // rows 8..23 from the top of a 32-row image are rows 8..23 from the bottom too here; flip explicitly:
    expect(uv.v1).toBeCloseTo(1 - 8.5 / 32, 12);
    expect(uv.v0).toBeCloseTo(1 - 23.5 / 32, 12);
    const top = tileUvRect({ x: 0, y: 0, width: 4, height: 4 }, 4, 16);
    expect(top.v1).toBeCloseTo(1 - 0.5 / 16, 12);
    expect(top.v0).toBeGreaterThan(0.5);
  });

  test('safe mip levels follow the derived bounds', () => {
    expect([0, 1, 2, 3, 7, 8, 15, 16].map(safeMipLevel)).toEqual([0, 1, 1, 2, 3, 3, 4, 4]);
    expect([0, 1, 2, 4, 5, 8, 10, 11, 23].map(safeSampledMipLevel)).toEqual([0, 0, 1, 1, 2, 2, 2, 3, 4]);
  });
});
