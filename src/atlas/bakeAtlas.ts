import * as tf from '@tensorflow/tfjs-core';

import type { LatentGrid } from '../latent/latentGrid.js';
import { validateLatent } from '../latent/latentGrid.js';
import { sampleLatent } from '../latent/latentOps.js';
import { checkSeed, offsetSeed } from '../latent/random.js';
import { Swatch } from '../latent/swatch.js';
import type { PixelImage } from '../model/pixelImage.js';
import type { TextureDecoder } from '../model/textureDecoder.js';
import { checkTextureSize, MAX_TEXTURE_SIZE } from '../model/textureVaeConfig.js';
import { DEFAULT_MEMORY_BUDGET, MAX_DECODE_OUTPUT_BYTES } from '../model/tiledPasses.js';
import type { AtlasLayout, AtlasLayoutKind } from './atlasLayout.js';
import { computeAtlasLayout, validatePadding } from './atlasLayout.js';
import type { AtlasManifest, AtlasTileSource } from './atlasManifest.js';
import { createAtlasManifest } from './atlasManifest.js';
import { assemblePage, padTiles, readPagePixels } from './atlasTensors.js';

export interface AtlasOptions {
  /**
   * The look of the tiles: tile i is `swatch.sample({width: tileSize, height: tileSize, seed: seed + i})`, a
   * seamless variation with a layout of its own. The swatch must be made for the model (default: none).
   */
  swatch?: Swatch;
  /**
   * Explicit variations, one tile each; every grid must be tileSize/stride square with the model's channels.
   * Excludes `swatch` (default: none).
   */
  latents?: readonly LatentGrid[];
  /**
   * Number of tiles; must equal latents.length when both are given (default: 16). Without a swatch or latents
   * the tiles are prior samples (coloured noise for most models: for inspecting a model only).
   */
  count?: number;
  /** Tile i is drawn with seed + i (wrapping past 2^32 - 1); an integer from 0 to 2^32 - 1 (default: 0). */
  seed?: number;
  /** Prior standard deviation, for prior samples only (default: 1). */
  temperature?: number;
  /** Tile content size in pixels, a multiple of the model stride between stride and 4096 (MAX_TEXTURE_SIZE) (default: 128). */
  tileSize?: number;
  /** Gutter pixels on each side of a tile, 0..tileSize/2 (default: 8). */
  padding?: number;
  /** (default: 'square') */
  layout?: AtlasLayoutKind;
  /** Page size limit; more tiles than fit go to further pages (default: 4096, MAX_TEXTURE_SIZE). */
  maxTextureSize?: number;
  /** Round page sizes up to powers of two (default: false). */
  powerOfTwo?: boolean;
  /**
   * Tiles per decode call, at most MAX_DECODE_OUTPUT_BYTES (512 MiB) of decoded pixels (default: as many as
   * fit `memoryBudget`, see {@link atlasBatchSize}).
   */
  batchSize?: number;
  /**
   * Bytes of activations one decoder pass may use: sets the default batchSize and is passed to
   * `decodeTensors` (default: 134217728, DEFAULT_MEMORY_BUDGET).
   */
  memoryBudget?: number;
  /** Called after every decoded batch with tiles done so far and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** Options after defaults and validation (frozen). */
export interface ResolvedAtlasOptions {
  readonly swatch: Swatch | null;
  readonly latents: readonly LatentGrid[] | null;
  readonly count: number;
  readonly seed: number;
  readonly temperature: number;
  readonly tileSize: number;
  readonly padding: number;
  readonly layout: AtlasLayoutKind;
  readonly maxTextureSize: number;
  readonly powerOfTwo: boolean;
  readonly batchSize: number;
  readonly memoryBudget: number;
  readonly onProgress: ((done: number, total: number) => void) | null;
}

export interface AtlasResult {
  /** 8-bit pages, row 0 at the top (what PNG files hold). */
  readonly pages: PixelImage[];
  readonly manifest: AtlasManifest;
}

export interface AtlasTensorResult {
  /** [1, H, W, outputChannels] float pages in [0, 1], row 0 = top of the image. The CALLER owns them. */
  readonly pages: tf.Tensor4D[];
  readonly manifest: AtlasManifest;
}

/**
 * Tiles per decode call: as many as one decoder pass of `memoryBudget` bytes holds (the decoder's own estimate,
 * its decodePassBytes), and no more than MAX_DECODE_OUTPUT_BYTES of decoded pixels. Default config, 128 px
 * tiles: 8.4 MiB per tile, so 15 tiles per 128 MiB. At least 1.
 */
export function atlasBatchSize(
  decoder: TextureDecoder,
  tileSize: number,
  memoryBudget = DEFAULT_MEMORY_BUDGET,
): number {
  const side = tileSize / decoder.stride;
  const byActivations = Math.floor(memoryBudget / decoder.decodePassBytes(1, side, side));
  return Math.max(1, Math.min(byActivations, maxBatchSize(decoder, tileSize)));
}

/** Most tiles one decode call may return (MAX_DECODE_OUTPUT_BYTES of float pixels). */
function maxBatchSize(decoder: TextureDecoder, tileSize: number): number {
  return Math.floor(MAX_DECODE_OUTPUT_BYTES / (4 * tileSize * tileSize * decoder.outputChannels));
}

function checkNumber(name: string, value: number, min: number, allowed: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new Error(`${name} must be ${allowed}, got ${value}`);
  }
}

/** Applies defaults and checks every option against the decoder; throws naming the bad option. */
export function resolveAtlasOptions(
  decoder: TextureDecoder,
  options: AtlasOptions = {},
): ResolvedAtlasOptions {
  const stride = decoder.stride;
  const tileSize = options.tileSize ?? 128;
  checkTextureSize('tileSize', tileSize, stride);
  const padding = options.padding ?? 8;
  validatePadding(padding, tileSize);
  const swatch = options.swatch ?? null;
  if (swatch !== null) {
    if (!(swatch instanceof Swatch)) throw new Error(`swatch must be a Swatch, got ${String(swatch)}`);
    if (options.latents !== undefined) throw new Error('give swatch or latents, not both');
    if (options.temperature !== undefined) {
      throw new Error('temperature is a setting of prior samples; a swatch bake has none');
    }
    if (swatch.stride !== stride || swatch.latent.channels !== decoder.latentChannels) {
      throw new Error(
        `swatch grid of ${swatch.latent.channels} channels at stride ${swatch.stride} does not fit model '${decoder.name}' (${decoder.latentChannels} channels, stride ${stride})`,
      );
    }
    // A TextureVae carries its whole config: then the swatch must have been made with this very model.
    if (decoder.config !== undefined) swatch.checkModel({ config: decoder.config });
  }
  const latents = options.latents ?? null;
  if (latents !== null && latents.length < 1)
    throw new Error('latents must hold at least 1 latent grid, got 0');
  const count = options.count ?? latents?.length ?? 16;
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`count must be an integer of at least 1, got ${count}`);
  if (latents !== null && count !== latents.length) {
    throw new Error(`count must equal latents.length (${latents.length}) when both are given, got ${count}`);
  }
  if (latents !== null) {
    const side = tileSize / stride;
    const c = decoder.latentChannels;
    latents.forEach((l, i) => {
      if (l === null || typeof l !== 'object')
        throw new Error(`latents[${i}] must be a LatentGrid, got ${l}`);
      if (l.height !== side || l.width !== side || l.channels !== c || l.data.length !== side * side * c) {
        throw new Error(
          `latents[${i}] must be ${side}x${side}x${c} (tileSize ${tileSize} / stride ${stride}, ${c} latent channels), ` +
            `got ${l.height}x${l.width}x${l.channels} with ${l.data?.length} values`,
        );
      }
      validateLatent(l, c);
    });
  }
  const seed = options.seed ?? 0;
  checkSeed(seed);
  const temperature = options.temperature ?? 1;
  checkNumber('temperature', temperature, 0, 'a finite number >= 0');
  const memoryBudget = options.memoryBudget ?? DEFAULT_MEMORY_BUDGET;
  checkNumber('memoryBudget', memoryBudget, 1, 'a number of bytes >= 1');
  const batchSize = options.batchSize ?? Math.min(count, atlasBatchSize(decoder, tileSize, memoryBudget));
  const maxBatch = maxBatchSize(decoder, tileSize);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > maxBatch) {
    throw new Error(
      `batchSize must be an integer from 1 to ${maxBatch} (${MAX_DECODE_OUTPUT_BYTES / 2 ** 20} MiB of decoded ${tileSize} px tiles), got ${batchSize}`,
    );
  }
  return Object.freeze({
    swatch,
    latents,
    count,
    seed,
    temperature,
    tileSize,
    padding,
    layout: options.layout ?? 'square',
    maxTextureSize: options.maxTextureSize ?? MAX_TEXTURE_SIZE,
    powerOfTwo: options.powerOfTwo ?? false,
    batchSize,
    memoryBudget,
    onProgress: options.onProgress ?? null,
  });
}

/** The layout a bake with these options will produce (pages, rects), without decoding anything. */
export function planAtlas(decoder: TextureDecoder, options: AtlasOptions = {}): AtlasLayout {
  const o = resolveAtlasOptions(decoder, options);
  return computeAtlasLayout(o);
}

/**
 * The latent values of tile i, written into `out`: its explicit latent, `swatch.sample` with seed + i, or the
 * grid `model.sample({seed: seed + i})` draws.
 */
function fillLatent(
  o: ResolvedAtlasOptions,
  index: number,
  side: number,
  channels: number,
  out: Float32Array,
): void {
  if (o.latents !== null) {
    out.set(o.latents[index].data);
    return;
  }
  if (o.swatch !== null) {
    const size = side * o.swatch.stride;
    out.set(o.swatch.sample({ width: size, height: size, seed: offsetSeed(o.seed, index) }).data);
    return;
  }
  out.set(sampleLatent(offsetSeed(o.seed, index), side, side, channels, o.temperature).data);
}

/**
 * Decodes all tiles batch by batch and hands each finished page to `onPage` (which owns the page tensor from
 * then on). Pages hold consecutive tile indices, so they finish in order and at most one page of padded
 * cells is alive at a time. A batch stays one tensor (or one slice per page it spans) until its page is
 * assembled, so the work per tile does not grow with the batch size. Every synchronous block of tensor work
 * runs inside `runSync` (for example on the tfjs backend that shares Babylon's WebGL context); nothing is
 * awaited inside it.
 */
export async function bakePages(
  decoder: TextureDecoder,
  o: ResolvedAtlasOptions,
  layout: AtlasLayout,
  onPage: (page: tf.Tensor4D, index: number) => Promise<void>,
  runSync: <T>(fn: () => T) => T = (fn) => fn(),
): Promise<void> {
  const side = o.tileSize / decoder.stride;
  const c = decoder.latentChannels;
  const perTile = side * side * c;
  const mode = decoder.tileable ? 'circular' : 'edge';
  // Padded cells of the page being filled, as batches of consecutive tiles.
  let cells: tf.Tensor4D[] = [];
  let cellCount = 0;
  let pageIndex = 0;
  try {
    for (let start = 0; start < o.count; start += o.batchSize) {
      const b = Math.min(o.batchSize, o.count - start);
      const values = new Float32Array(b * perTile);
      for (let i = 0; i < b; i++)
        fillLatent(o, start + i, side, c, values.subarray(i * perTile, (i + 1) * perTile));
      const padded = runSync(() =>
        tf.tidy(() => {
          const decoded = decoder.decodeTensors(tf.tensor4d(values, [b, side, side, c]), {
            memoryBudget: o.memoryBudget,
          });
          const expected = [b, o.tileSize, o.tileSize];
          if (expected.some((v, i) => decoded.shape[i] !== v)) {
            throw new Error(`decodeTensors returned shape [${decoded.shape}], expected [${expected},C]`);
          }
          return padTiles(decoded, o.padding, mode);
        }),
      );
      let used = 0;
      // A batch that lies within one page joins it whole; otherwise each page gets a slice.
      let whole = false;
      try {
        while (used < b) {
          const page = layout.pages[pageIndex];
          const take = Math.min(b - used, page.tiles.length - cellCount);
          const first = used;
          whole = take === b;
          cells.push(whole ? padded : runSync(() => tf.slice(padded, [first, 0, 0, 0], [take, -1, -1, -1])));
          used += take;
          cellCount += take;
          if (cellCount === page.tiles.length) {
            const done = cells;
            cells = [];
            cellCount = 0;
            const assembled = runSync(() => {
              try {
                return assemblePage(done, page);
              } finally {
                tf.dispose(done);
              }
            });
            await onPage(assembled, pageIndex);
            pageIndex++;
          }
        }
      } finally {
        if (!whole) runSync(() => padded.dispose());
      }
      o.onProgress?.(start + b, o.count);
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
    }
  } finally {
    const left = cells;
    if (left.length > 0) runSync(() => tf.dispose(left));
  }
}

/** Provenance of every tile: its swatch and seed, its prior seed, or its index in `latents`. */
export function atlasTileSources(o: ResolvedAtlasOptions): AtlasTileSource[] {
  return Array.from({ length: o.count }, (_, i) =>
    o.latents !== null
      ? { latentIndex: i }
      : o.swatch !== null
        ? { swatch: o.swatch.name, seed: offsetSeed(o.seed, i) }
        : { seed: offsetSeed(o.seed, i) },
  );
}

/**
 * Bakes `count` prior samples (or the given `latents`) into atlas pages kept as tensors, for a zero-copy hand-off
 * to the GPU. Each batch of latents is ONE `decodeTensors` call; gutters and placement are tensor ops. The
 * CALLER owns the returned page tensors ([1, H, W, C] floats in [0, 1], row 0 = top).
 */
export async function bakeAtlasTensors(
  decoder: TextureDecoder,
  options: AtlasOptions = {},
): Promise<AtlasTensorResult> {
  const o = resolveAtlasOptions(decoder, options);
  const layout = computeAtlasLayout(o);
  const pages: tf.Tensor4D[] = [];
  try {
    await bakePages(decoder, o, layout, async (page) => {
      pages.push(page);
    });
  } catch (e) {
    tf.dispose(pages);
    throw e;
  }
  return { pages, manifest: createAtlasManifest(layout, decoder.name, atlasTileSources(o)) };
}

/**
 * Bakes an atlas on the active tfjs backend (Node: WASM) and reads every page back once as 8-bit pixels.
 * Manages all its tensors.
 */
export async function bakeAtlas(decoder: TextureDecoder, options: AtlasOptions = {}): Promise<AtlasResult> {
  const o = resolveAtlasOptions(decoder, options);
  const layout = computeAtlasLayout(o);
  const pages: PixelImage[] = [];
  await bakePages(decoder, o, layout, async (page) => {
    try {
      pages.push(await readPagePixels(page));
    } finally {
      page.dispose();
    }
  });
  return { pages, manifest: createAtlasManifest(layout, decoder.name, atlasTileSources(o)) };
}
