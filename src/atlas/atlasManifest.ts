import type { AtlasLayout, AtlasPixelRect, AtlasUvRect } from './atlasLayout.js';
import { safeMipLevel, safeSampledMipLevel } from './atlasLayout.js';

/** One tile of an atlas manifest. */
export interface AtlasManifestTile {
  readonly index: number;
  readonly page: number;
  /** Content only (no gutter), in page pixels, y from the top row of the page image. */
  readonly rect: AtlasPixelRect;
  /** Babylon UV convention (v = 0 at the bottom of the page image), inset by half a texel. */
  readonly uv: AtlasUvRect;
  /** Seed of this tile's sample: of the swatch when `swatch` is set, else of the model's prior. */
  readonly seed?: number;
  /** Name of the swatch the tile is a sample of (tiles drawn from a swatch; null for an unnamed swatch). */
  readonly swatch?: string | null;
  /** Index into the caller's `latents` (tiles from explicit latents). */
  readonly latentIndex?: number;
}

/**
 * The JSON that describes a baked atlas (written next to the page PNGs). Version 1 fields per the team
 * contract; `safeMipLevel` / `safeSampledMipLevel` are additions that readers may ignore.
 */
export interface AtlasManifest {
  readonly version: 1;
  /** Model id (`model.config.name`). */
  readonly model: string;
  readonly tileSize: number;
  readonly padding: number;
  /** `file` is the page image's path relative to the manifest (set when written to files or blobs). */
  readonly pages: readonly { readonly width: number; readonly height: number; readonly file?: string }[];
  readonly tiles: readonly AtlasManifestTile[];
  /** Deepest box-filtered mip level whose texels over a tile's rect hold only that tile (see layout). */
  readonly safeMipLevel?: number;
  /** Deepest mip level safe for bilinear sampling inside the UV rects (see layout). */
  readonly safeSampledMipLevel?: number;
}

/** Per-tile provenance: a swatch sample's seed, a prior seed or the index of an explicit latent. */
export type AtlasTileSource =
  | { swatch: string | null; seed: number }
  | { seed: number }
  | { latentIndex: number };

/** Builds the manifest of a layout. `sources[i]` describes tile i. */
export function createAtlasManifest(
  layout: AtlasLayout,
  model: string,
  sources: readonly AtlasTileSource[],
): AtlasManifest {
  if (sources.length !== layout.tiles.length) {
    throw new Error(`sources must hold one entry per tile (${layout.tiles.length}), got ${sources.length}`);
  }
  return {
    version: 1,
    model,
    tileSize: layout.tileSize,
    padding: layout.padding,
    pages: layout.pages.map((p) => ({ width: p.width, height: p.height })),
    tiles: layout.tiles.map((t) => ({
      index: t.index,
      page: t.page,
      rect: { ...t.rect },
      uv: { ...t.uv },
      ...sources[t.index],
    })),
    safeMipLevel: safeMipLevel(layout.padding),
    safeSampledMipLevel: safeSampledMipLevel(layout.padding),
  };
}

/** Page file name for `prefix`: `<prefix>.png` for a single page, `<prefix>-<page>.png` otherwise. */
export function atlasPageFileName(prefix: string, page: number, pageCount: number): string {
  return pageCount === 1 ? `${prefix}.png` : `${prefix}-${page}.png`;
}

/** A copy of the manifest whose pages name their files `<name>.png` / `<name>-<page>.png`. */
export function withPageFiles(manifest: AtlasManifest, name: string): AtlasManifest {
  return {
    ...manifest,
    pages: manifest.pages.map((p, i) => ({ ...p, file: atlasPageFileName(name, i, manifest.pages.length) })),
  };
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function isRect(v: unknown, keys: string[]): boolean {
  return (
    typeof v === 'object' &&
    v !== null &&
    keys.every((k) => isFiniteNumber((v as Record<string, unknown>)[k]))
  );
}

/**
 * Checks parsed JSON against the manifest format and returns it typed; throws naming the first field that is
 * wrong (`what` names the source in the message).
 */
export function parseAtlasManifest(json: unknown, what = 'atlas manifest'): AtlasManifest {
  const fail = (msg: string): never => {
    throw new Error(`${what}: ${msg}`);
  };
  if (typeof json !== 'object' || json === null) fail('must be a JSON object');
  const m = json as Record<string, unknown>;
  if (m.version !== 1) fail(`version must be 1, got ${JSON.stringify(m.version)}`);
  if (typeof m.model !== 'string') fail('model must be a string');
  if (!isFiniteNumber(m.tileSize) || !isFiniteNumber(m.padding)) fail('tileSize and padding must be numbers');
  if (!Array.isArray(m.pages) || m.pages.length === 0) fail('pages must be a non-empty array');
  (m.pages as unknown[]).forEach((p, i) => {
    if (!isRect(p, ['width', 'height'])) fail(`pages[${i}] needs numeric width and height`);
    const file = (p as Record<string, unknown>).file;
    if (file !== undefined && typeof file !== 'string') fail(`pages[${i}].file must be a string`);
  });
  if (!Array.isArray(m.tiles)) fail('tiles must be an array');
  const pageCount = (m.pages as unknown[]).length;
  (m.tiles as unknown[]).forEach((t, i) => {
    const tile = t as Record<string, unknown>;
    if (typeof t !== 'object' || t === null || tile.index !== i) fail(`tiles[${i}].index must be ${i}`);
    if (!Number.isInteger(tile.page) || (tile.page as number) < 0 || (tile.page as number) >= pageCount) {
      fail(`tiles[${i}].page must be an integer between 0 and ${pageCount - 1}`);
    }
    if (!isRect(tile.rect, ['x', 'y', 'width', 'height'])) fail(`tiles[${i}].rect needs x, y, width, height`);
    if (!isRect(tile.uv, ['u0', 'v0', 'u1', 'v1'])) fail(`tiles[${i}].uv needs u0, v0, u1, v1`);
  });
  return m as unknown as AtlasManifest;
}
