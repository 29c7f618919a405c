import { concat, gather, slice, type Tensor4D, tensor1d, tidy } from '@tensorflow/tfjs-core';

/**
 * Bytes of activations one model pass may use (default of `memoryBudget`): 128 MiB. Larger encodes and decodes
 * run in several passes. It keeps the WASM heap (at most 4 GiB, and never shrinking) far from its limit, and a
 * texture of up to about 512 x 512 pixels of the default model still decodes in one pass.
 */
export const DEFAULT_MEMORY_BUDGET = 128 * 1024 * 1024;

/**
 * Most bytes of decoded float32 pixels one `decodeTensors` call may return: 512 MiB, twice a 4096 x 4096 RGBA
 * texture. Assembling tiles holds the output about twice, so a call stays near 1 GiB plus one pass.
 */
export const MAX_DECODE_OUTPUT_BYTES = 512 * 1024 * 1024;

/** Latent cells [start, start + size) along one axis. */
export interface CellSpan {
  readonly start: number;
  readonly size: number;
}

/** How one encode or decode is split into passes; each pass runs on a window of cells and keeps its core. */
export interface TilePlan {
  /** Batch entries per pass. */
  readonly batch: number;
  /** Core latent cells of the tiles along the height, in order; one span covering the grid when not split. */
  readonly rows: readonly CellSpan[];
  /** Core latent cells of the tiles along the width, in order. */
  readonly columns: readonly CellSpan[];
  /** Latent cells each window reaches beyond its core on a split axis (see decoderHaloCells). */
  readonly halo: number;
  /** Estimated peak bytes of the largest pass. */
  readonly passBytes: number;
}

/**
 * One half of the model as a function on latent-cell grids, the geometry `planTiles` and `runTiles` need: an
 * input or output of `cells` latent cells along an axis has `cells * scale` values there.
 */
export interface TiledPass {
  /** Estimated peak bytes of one pass over [batch, height, width] latent cells. */
  readonly passBytes: (batch: number, height: number, width: number) => number;
  /** Latent cells a window needs beyond its core on each side. */
  readonly halo: number;
  /** Circular padding: windows wrap around the grid. */
  readonly tileable: boolean;
  /** Input values per latent cell along each axis (decoder: 1, encoder: stride). */
  readonly inputScale: number;
  /** Output values per latent cell along each axis (decoder: stride, encoder: 1). */
  readonly outputScale: number;
  /** One synchronous pass over a window; its result is disposed by the caller. */
  readonly run: (window: Tensor4D) => Tensor4D;
}

/** `n` cells in `count` near-equal consecutive spans (the longer ones first). */
export function splitAxis(n: number, count: number): CellSpan[] {
  const base = Math.floor(n / count);
  const longer = n % count;
  const spans: CellSpan[] = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    const size = base + (i < longer ? 1 : 0);
    spans.push({ start, size });
    start += size;
  }
  return spans;
}

/**
 * The window of cells a core span is computed from. An axis in one piece is taken whole, so the model pads it
 * exactly as in one pass over the grid. On a split axis the window reaches `halo` cells beyond the core on
 * each side: around the grid when tileable (circular padding sees the same wrapped cells), and only up to the
 * grid's border otherwise, where the window's own zero padding is that of one pass (padding the input with
 * zeros would not do: after the first convolution's bias and activation the padded cells are not zero).
 */
export function windowSpan(
  span: CellSpan,
  n: number,
  pieces: number,
  halo: number,
  tileable: boolean,
): CellSpan {
  if (pieces === 1) return { start: 0, size: n };
  if (tileable) return { start: span.start - halo, size: span.size + 2 * halo };
  const start = Math.max(0, span.start - halo);
  return { start, size: Math.min(n, span.start + span.size + halo) - start };
}

/**
 * Splits a pass over [batch, height, width] latent cells into passes of at most `memoryBudget` estimated
 * bytes: all of it when it fits, else fewer batch entries per pass, else one entry per pass in square-ish
 * tiles of the largest core that fits. A tile of one latent cell with its halo is the smallest pass, used
 * even if its estimate exceeds the budget.
 */
export function planTiles(
  pass: Pick<TiledPass, 'passBytes' | 'halo' | 'tileable'>,
  batch: number,
  height: number,
  width: number,
  memoryBudget = DEFAULT_MEMORY_BUDGET,
): TilePlan {
  if (typeof memoryBudget !== 'number' || !(memoryBudget >= 1)) {
    throw new Error(`memoryBudget must be a number of bytes >= 1, got ${memoryBudget}`);
  }
  const { halo, tileable } = pass;
  const whole = (n: number) => [{ start: 0, size: n }];
  const one = pass.passBytes(1, height, width);
  if (one <= memoryBudget) {
    const perPass = Math.max(1, Math.min(batch, Math.floor(memoryBudget / one)));
    return {
      batch: perPass,
      rows: whole(height),
      columns: whole(width),
      halo,
      passBytes: pass.passBytes(perPass, height, width),
    };
  }
  const windowSide = (core: number, n: number) =>
    core >= n ? n : tileable ? core + 2 * halo : Math.min(n, core + 2 * halo);
  const bytes = (core: number) => pass.passBytes(1, windowSide(core, height), windowSide(core, width));
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
  const rowWindow = windowSpan(rows[0], height, rows.length, halo, tileable).size;
  const columnWindow = windowSpan(columns[0], width, columns.length, halo, tileable).size;
  return { batch: 1, rows, columns, halo, passBytes: pass.passBytes(1, rowWindow, columnWindow) };
}

/** Whether a plan is one pass over everything. */
export function isSinglePass(plan: TilePlan, batch: number): boolean {
  return plan.batch >= batch && plan.rows.length === 1 && plan.columns.length === 1;
}

/** Indices of the values of a window of cells along an axis of `n` cells, wrapped around the grid. */
function windowIndices(window: CellSpan, n: number, scale: number): number[] {
  const indices: number[] = [];
  for (let i = 0; i < window.size; i++) {
    const cell = (((window.start + i) % n) + n) % n;
    for (let k = 0; k < scale; k++) indices.push(cell * scale + k);
  }
  return indices;
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

function range(start: number, length: number): number[] {
  return Array.from({ length }, (_, i) => start + i);
}

/**
 * Runs `pass` over `input` [B, h * inputScale, w * inputScale, C] window by window as `plan` says and assembles
 * the cores into [B, h * outputScale, w * outputScale, C']. The values equal one pass's because every window
 * holds its core's receptive field. The caller owns the result and keeps `input`; every intermediate tensor
 * is disposed, also when a pass throws.
 */
export function runTiles(input: Tensor4D, plan: TilePlan, pass: TiledPass): Tensor4D {
  const [count, inHeight, inWidth] = input.shape;
  const height = inHeight / pass.inputScale;
  const width = inWidth / pass.inputScale;
  const { halo, tileable, inputScale, outputScale } = pass;
  const index = (values: number[]) => tensor1d(values, 'int32');
  const chunks: Tensor4D[] = [];
  const rows: Tensor4D[] = [];
  const parts: Tensor4D[] = [];
  try {
    for (let b0 = 0; b0 < count; b0 += plan.batch) {
      const b = Math.min(plan.batch, count - b0);
      for (const row of plan.rows) {
        const rowWindow = windowSpan(row, height, plan.rows.length, halo, tileable);
        const strip = tidy(() => {
          const batch = b === count ? input : gather(input, index(range(b0, b)), 0);
          return gather(batch, index(windowIndices(rowWindow, height, inputScale)), 1) as Tensor4D;
        });
        try {
          for (const column of plan.columns) {
            const columnWindow = windowSpan(column, width, plan.columns.length, halo, tileable);
            parts.push(
              tidy(() => {
                const window = gather(strip, index(windowIndices(columnWindow, width, inputScale)), 2);
                return slice(
                  pass.run(window as Tensor4D),
                  [
                    0,
                    (row.start - rowWindow.start) * outputScale,
                    (column.start - columnWindow.start) * outputScale,
                    0,
                  ],
                  [b, row.size * outputScale, column.size * outputScale, -1],
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
