import { concat, gather, slice, type Tensor4D, tensor1d, tidy } from '@tensorflow/tfjs-core';

import { type DecoderShape, decoderHaloCells, decoderPassBytes } from './textureVaeConfig.js';

/**
 * Bytes of activations one decoder pass may use (default of `memoryBudget`): 128 MiB. Larger outputs decode in
 * tiles. It keeps the WASM heap (at most 4 GiB, and never shrinking) far from its limit, and a texture of up
 * to about 512 x 512 pixels of the default model still decodes in one pass.
 */
export const DEFAULT_DECODE_MEMORY_BUDGET = 128 * 1024 * 1024;

/**
 * Most bytes of decoded float32 pixels one `decodeTensors` call may return: 512 MiB, twice a 4096 x 4096 RGBA
 * texture. Assembling tiles holds the output about twice, so a call stays near 1 GiB plus one pass.
 */
export const MAX_DECODE_OUTPUT_BYTES = 512 * 1024 * 1024;

/** Latent cells [start, start + size) along one axis. */
export interface DecodeSpan {
  readonly start: number;
  readonly size: number;
}

/** How one decode is split into passes; each pass decodes a window of latents and keeps its core. */
export interface DecodeTilePlan {
  /** Latents per pass. */
  readonly batch: number;
  /** Core cells of the tiles along the height, in order; one span covering the grid when not split. */
  readonly rows: readonly DecodeSpan[];
  /** Core cells of the tiles along the width, in order. */
  readonly columns: readonly DecodeSpan[];
  /** Latent cells each window reaches beyond its core on a split axis (see decoderHaloCells). */
  readonly halo: number;
  /** Estimated peak bytes of the largest pass (see decoderPassBytes). */
  readonly passBytes: number;
}

type TiledDecoderConfig = Readonly<DecoderShape & { tileable: boolean }>;

/** `n` cells in `count` near-equal consecutive spans (the longer ones first). */
function splitAxis(n: number, count: number): DecodeSpan[] {
  const base = Math.floor(n / count);
  const longer = n % count;
  const spans: DecodeSpan[] = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    const size = base + (i < longer ? 1 : 0);
    spans.push({ start, size });
    start += size;
  }
  return spans;
}

/**
 * The window of latents decoded for a core span. An axis in one piece is decoded whole, so the decoder pads it
 * exactly as in a decode of the grid. On a split axis the window reaches `halo` cells beyond the core on
 * each side: around the grid for a tileable model (circular padding sees the same wrapped cells), and only up
 * to the grid's border otherwise, where the window's own zero padding is the padding of the whole decode
 * (zero latents would not do: the first convolution's bias and activation make them non-zero activations).
 */
function windowSpan(
  span: DecodeSpan,
  n: number,
  pieces: number,
  halo: number,
  tileable: boolean,
): DecodeSpan {
  if (pieces === 1) return { start: 0, size: n };
  if (tileable) return { start: span.start - halo, size: span.size + 2 * halo };
  const start = Math.max(0, span.start - halo);
  return { start, size: Math.min(n, span.start + span.size + halo) - start };
}

/**
 * Splits the decode of a [batch, height, width] latent grid into passes of at most `memoryBudget` estimated
 * bytes: the whole batch when it fits, else fewer latents per pass, else one latent per pass in square-ish
 * tiles of the largest core that fits. A tile of one latent cell with its halo is the smallest pass, used
 * even if its estimate exceeds the budget.
 */
export function planDecodeTiles(
  config: TiledDecoderConfig,
  batch: number,
  height: number,
  width: number,
  memoryBudget = DEFAULT_DECODE_MEMORY_BUDGET,
): DecodeTilePlan {
  if (typeof memoryBudget !== 'number' || !(memoryBudget >= 1)) {
    throw new Error(`memoryBudget must be a number of bytes >= 1, got ${memoryBudget}`);
  }
  const halo = decoderHaloCells(config);
  const whole = (n: number) => [{ start: 0, size: n }];
  const one = decoderPassBytes(config, 1, height, width);
  if (one <= memoryBudget) {
    const perPass = Math.max(1, Math.min(batch, Math.floor(memoryBudget / one)));
    return {
      batch: perPass,
      rows: whole(height),
      columns: whole(width),
      halo,
      passBytes: decoderPassBytes(config, perPass, height, width),
    };
  }
  const windowSide = (core: number, n: number) =>
    core >= n ? n : config.tileable ? core + 2 * halo : Math.min(n, core + 2 * halo);
  const bytes = (core: number) =>
    decoderPassBytes(config, 1, windowSide(core, height), windowSide(core, width));
  // The largest square core that fits; bytes() grows with the core.
  let lo = 1;
  let hi = Math.max(height, width);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (bytes(mid) <= memoryBudget) lo = mid;
    else hi = mid - 1;
  }
  const rows = splitAxis(height, Math.ceil(height / Math.min(lo, height)));
  const columns = splitAxis(width, Math.ceil(width / Math.min(lo, width)));
  const rowWindow = windowSpan(rows[0], height, rows.length, halo, config.tileable).size;
  const columnWindow = windowSpan(columns[0], width, columns.length, halo, config.tileable).size;
  return { batch: 1, rows, columns, halo, passBytes: decoderPassBytes(config, 1, rowWindow, columnWindow) };
}

/** Cell indices of a window along an axis of `n` cells, wrapped around the grid. */
function windowIndices(window: DecodeSpan, n: number): number[] {
  return Array.from({ length: window.size }, (_, i) => (((window.start + i) % n) + n) % n);
}

/** Concatenates `parts` along `axis` and disposes them; one part is returned as it is. */
function joinParts(parts: Tensor4D[], axis: number): Tensor4D {
  if (parts.length === 1) return parts[0];
  try {
    return concat(parts, axis);
  } finally {
    for (const p of parts) p.dispose();
  }
}

/**
 * Decodes `latents` [B, h, w, C] pass by pass as `plan` says, through `decodePass` (one synchronous decoder
 * run over a window of latents), and assembles the cores into [B, h * stride, w * stride, C']. The pixels
 * equal one whole decode's because every window holds its core's receptive field. The caller owns the result
 * and keeps `latents`; every intermediate tensor is disposed, also when a pass throws.
 */
export function decodeInTiles(
  config: TiledDecoderConfig,
  latents: Tensor4D,
  plan: DecodeTilePlan,
  decodePass: (window: Tensor4D) => Tensor4D,
): Tensor4D {
  const [count, height, width] = latents.shape;
  const s = config.stride;
  const index = (values: number[]) => tensor1d(values, 'int32');
  const chunks: Tensor4D[] = [];
  const rows: Tensor4D[] = [];
  const parts: Tensor4D[] = [];
  try {
    for (let b0 = 0; b0 < count; b0 += plan.batch) {
      const b = Math.min(plan.batch, count - b0);
      for (const row of plan.rows) {
        const rowWindow = windowSpan(row, height, plan.rows.length, plan.halo, config.tileable);
        const strip = tidy(() => {
          const batch = b === count ? latents : gather(latents, index(range(b0, b)), 0);
          return gather(batch, index(windowIndices(rowWindow, height)), 1) as Tensor4D;
        });
        try {
          for (const column of plan.columns) {
            const columnWindow = windowSpan(column, width, plan.columns.length, plan.halo, config.tileable);
            parts.push(
              tidy(() => {
                const window = gather(strip, index(windowIndices(columnWindow, width)), 2) as Tensor4D;
                const decoded = decodePass(window);
                return slice(
                  decoded,
                  [0, (row.start - rowWindow.start) * s, (column.start - columnWindow.start) * s, 0],
                  [b, row.size * s, column.size * s, -1],
                );
              }),
            );
          }
        } finally {
          strip.dispose();
        }
        rows.push(joinParts(parts.splice(0), 2));
      }
      chunks.push(joinParts(rows.splice(0), 1));
    }
    return joinParts(chunks.splice(0), 0);
  } finally {
    for (const t of [...parts, ...rows, ...chunks]) t.dispose();
  }
}

function range(start: number, length: number): number[] {
  return Array.from({ length }, (_, i) => start + i);
}
