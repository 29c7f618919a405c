import type { SeededRandom } from './random.js';

/**
 * Image quilting (Efros and Freeman, SIGGRAPH 2001) of latent grids on a torus. The output is cut into a grid
 * of blocks; each block's patch, `overlap` cells wider than the block, is the best of `candidates` random
 * patches of the source, and joins its neighbours along minimum-error paths through the overlaps (dynamic
 * programming), never by blending. A candidate's score is its squared difference from what is already placed
 * in the overlap, divided by the energy of both sides (plain squared difference prefers flat, low-contrast
 * patches, which fit anything and wash a material out), plus a penalty for source cells already used more than
 * their share (without it the region that fits itself best takes over the whole texture).
 *
 * Every index wraps around the output, so the last block of a row cuts into the first one and the result is
 * tileable by construction; the finished grid is rolled by half a block so the wrap lies inside a block rather
 * than on a cut. Plain arithmetic on typed arrays and SeededRandom's integer stream: the same inputs give
 * bit-identical grids on every platform and tfjs backend.
 *
 * Several sources quilted together share one layout: each candidate is one relative position (u, v) in [0, 1)^2
 * used in every source, its score is the sum of the sources' scores, and the cuts follow the sum of their
 * squared differences (each scaled by `scale`). That is what makes morphs between two swatches line up.
 */
/** One latent grid that patches are cut from. */
export interface QuiltSource {
  readonly data: Float32Array;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** Cells along each edge never used (where a circular encoder mixed in the opposite edge); 0 when `wraps`. */
  readonly margin: number;
  /** Patches may wrap around the source's edges (a tileable exemplar). */
  readonly wraps: boolean;
  /** Weight of this source's squared differences in the shared cuts, e.g. 1 / its total variance. */
  readonly scale: number;
  /** Mean of each channel, the centre of the energies that normalise a candidate's error. */
  readonly means: Float32Array;
}

/** Fully resolved quilting settings, in latent cells. */
export interface QuiltSettings {
  /** Patch side including the overlap, at least 2. */
  readonly patchSize: number;
  /** Random candidate positions tried per block, at least 1. */
  readonly candidates: number;
  /**
   * Weight of the reuse penalty: a candidate's score is its normalised overlap error plus reuse times how often
   * its source cells were already used, relative to uniform use of the exemplar. 0 turns it off.
   */
  readonly reuse: number;
}

/** A fixed grid that some blocks keep instead of searching (used by similar()). */
export interface QuiltKeep {
  /** The grid kept, of the output size, one per source. */
  readonly grids: readonly Float32Array[];
  /** Whether block (row-major index) keeps the fixed grid's own content. */
  readonly keeps: (block: number) => boolean;
}

/** Block boundaries and overlap along one axis of the output. */
export interface AxisLayout {
  /** n + 1 boundaries from 0 to the output size. */
  readonly bounds: readonly number[];
  readonly overlap: number;
}

/** Overlap used for a patch side: a quarter of it, at least 1 (and 0 for a 1-cell patch). */
export function quiltOverlap(patchSize: number): number {
  return patchSize < 2 ? 0 : Math.max(1, Math.round(patchSize / 4));
}

/**
 * How `size` output cells are cut into blocks for patches of `patchSize` cells: at least two blocks (so every
 * block joins another along a cut, also across the wrap) of near-equal widths, none wider than
 * patchSize - overlap. Outputs under 4 cells are one block, a plain crop, whose wrap cannot be cut.
 */
export function axisLayout(size: number, patchSize: number): AxisLayout {
  if (size < 4) return { bounds: [0, size], overlap: 0 };
  const overlap0 = quiltOverlap(patchSize);
  const step = Math.max(1, patchSize - overlap0);
  const n = Math.max(2, Math.ceil(size / step));
  const bounds: number[] = [];
  for (let i = 0; i <= n; i++) bounds.push(Math.round((i * size) / n));
  return { bounds, overlap: Math.min(overlap0, Math.floor(size / n)) };
}

/** Number of blocks a quilt of this output size has, in row-major order. */
export function quiltBlockCount(height: number, width: number, patchSize: number): number {
  return (axisLayout(height, patchSize).bounds.length - 1) * (axisLayout(width, patchSize).bounds.length - 1);
}

/** Minimum-error path across a strip: one index per row (vertical path) from the strip's own columns. */
function minPath(
  cost: (along: number, across: number) => number,
  length: number,
  from: number,
  width: number,
): Int32Array {
  const acc = new Float64Array(length * width);
  for (let a = 0; a < width; a++) acc[a] = cost(0, from + a);
  for (let t = 1; t < length; t++) {
    for (let a = 0; a < width; a++) {
      let best = acc[(t - 1) * width + a];
      if (a > 0 && acc[(t - 1) * width + a - 1] < best) best = acc[(t - 1) * width + a - 1];
      if (a + 1 < width && acc[(t - 1) * width + a + 1] < best) best = acc[(t - 1) * width + a + 1];
      acc[t * width + a] = best + cost(t, from + a);
    }
  }
  const path = new Int32Array(length);
  let a = 0;
  for (let k = 1; k < width; k++) if (acc[(length - 1) * width + k] < acc[(length - 1) * width + a]) a = k;
  path[length - 1] = from + a;
  for (let t = length - 2; t >= 0; t--) {
    let next = a;
    for (const c of [a - 1, a + 1]) {
      if (c >= 0 && c < width && acc[t * width + c] < acc[t * width + next]) next = c;
    }
    a = next;
    path[t] = from + a;
  }
  return path;
}

/**
 * Quilts `height` x `width` cell grids from `sources` (all with one channel count); returns one grid per source,
 * row-major [height, width, channels]. `rng` draws two numbers per candidate, the same count whatever is kept.
 */
export function quilt(
  sources: readonly QuiltSource[],
  height: number,
  width: number,
  settings: QuiltSettings,
  rng: SeededRandom,
  keep?: QuiltKeep,
): Float32Array[] {
  const channels = sources[0].channels;
  const xs = axisLayout(width, settings.patchSize);
  const ys = axisLayout(height, settings.patchSize);
  const nx = xs.bounds.length - 1;
  const ny = ys.bounds.length - 1;
  const outs = sources.map(() => new Float32Array(height * width * channels));
  const filled = new Uint8Array(height * width);
  const loX = Math.floor(xs.overlap / 2);
  const loY = Math.floor(ys.overlap / 2);
  const maxPw = Math.max(...xs.bounds.slice(1).map((b, i) => b - xs.bounds[i])) + xs.overlap;
  const maxPh = Math.max(...ys.bounds.slice(1).map((b, i) => b - ys.bounds[i])) + ys.overlap;
  const cellError = new Float64Array(maxPw * maxPh);
  const take = new Uint8Array(maxPw * maxPh);
  const overlapCells = new Int32Array(maxPw * maxPh);
  const overlapOut = new Int32Array(maxPw * maxPh);
  const used = sources.map((src) => new Float32Array(src.height * src.width));
  const usable = sources.map((src) =>
    src.wraps ? src.height * src.width : (src.height - 2 * src.margin) * (src.width - 2 * src.margin),
  );
  const usedTables: Float64Array[] = sources.map(() => new Float64Array(0));
  let placed = 0;
  const sx = new Int32Array(sources.length);
  const sy = new Int32Array(sources.length);
  // The finished grid is rolled by (rx, ry) cells (see the end); a kept grid is read through the same roll.
  const rx = Math.floor((xs.bounds[1] - xs.bounds[0]) / 2);
  const ry = Math.floor((ys.bounds[1] - ys.bounds[0]) / 2);
  const keptIndex = (o: number): number => {
    const x = o % width;
    const y = (o - x) / width;
    return (((y - ry + height) % height) * width + ((x - rx + width) % width)) * channels;
  };

  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const block = j * nx + i;
      const x0 = xs.bounds[i] - loX;
      const y0 = ys.bounds[j] - loY;
      const pw = xs.bounds[i + 1] - xs.bounds[i] + xs.overlap;
      const ph = ys.bounds[j + 1] - ys.bounds[j] + ys.overlap;
      const outIndex = (lx: number, ly: number) =>
        (((y0 + ly + height) % height) * width + ((x0 + lx + width) % width)) | 0;

      let overlapCount = 0;
      for (let ly = 0; ly < ph; ly++) {
        for (let lx = 0; lx < pw; lx++) {
          const o = outIndex(lx, ly);
          if (!filled[o]) continue;
          overlapCells[overlapCount] = ly * pw + lx;
          overlapOut[overlapCount++] = o * channels;
        }
      }

      // Candidate draws come first and always in the same number, so keeping a block never shifts the stream.
      const draws = new Float64Array(settings.candidates * 2);
      for (let k = 0; k < draws.length; k++) draws[k] = rng.next();
      const kept = keep?.keeps(block) ?? false;
      const srcCell = (s: number, px: number, py: number, lx: number, ly: number): number => {
        const src = sources[s];
        const x = src.wraps ? (px + lx) % src.width : px + lx;
        const y = src.wraps ? (py + ly) % src.height : py + ly;
        return (y * src.width + x) * channels;
      };
      const position = (s: number, u: number, v: number): [number, number] => {
        const src = sources[s];
        if (src.wraps) return [Math.floor(u * src.width), Math.floor(v * src.height)];
        const rangeX = src.width - 2 * src.margin - pw + 1;
        const rangeY = src.height - 2 * src.margin - ph + 1;
        return [src.margin + Math.floor(u * rangeX), src.margin + Math.floor(v * rangeY)];
      };

      if (!kept) {
        // Squared difference over the overlap divided by the energy (around the source's mean) of both sides:
        // plain SSD would favour flat, low-contrast patches, which fit anything and wash a material out.
        const oldEnergy = sources.map((src, s) => {
          let e = 0;
          for (let o = 0; o < overlapCount; o++) {
            for (let c = 0; c < channels; c++) e += (outs[s][overlapOut[o] + c] - src.means[c]) ** 2;
          }
          return e;
        });
        // Per source, each overlap cell's offset inside an unwrapped patch, so the inner loop only adds.
        const offsets = sources.map((src) => {
          const off = new Int32Array(overlapCount);
          for (let o = 0; o < overlapCount; o++) {
            const lx = overlapCells[o] % pw;
            off[o] = (((overlapCells[o] - lx) / pw) * src.width + lx) * channels;
          }
          return off;
        });
        for (let s = 0; s < sources.length; s++)
          if (settings.reuse > 0) usedTables[s] = areaTable(used[s], sources[s]);
        let best = Number.POSITIVE_INFINITY;
        const px = new Int32Array(sources.length);
        const py = new Int32Array(sources.length);
        for (let k = 0; k < settings.candidates; k++) {
          let error = 0;
          for (let s = 0; s < sources.length; s++) {
            [px[s], py[s]] = position(s, draws[2 * k], draws[2 * k + 1]);
            const src = sources[s];
            const out = outs[s];
            const data = src.data;
            const means = src.means;
            let ssd = 0;
            let energy = 0;
            if (src.wraps) {
              for (let o = 0; o < overlapCount; o++) {
                const lx = overlapCells[o] % pw;
                const a = srcCell(s, px[s], py[s], lx, (overlapCells[o] - lx) / pw);
                const b = overlapOut[o];
                for (let c = 0; c < channels; c++) {
                  const v = data[a + c];
                  const d = v - out[b + c];
                  ssd += d * d;
                  energy += (v - means[c]) * (v - means[c]);
                }
              }
            } else {
              const base = (py[s] * src.width + px[s]) * channels;
              const off = offsets[s];
              for (let o = 0; o < overlapCount; o++) {
                const a = base + off[o];
                const b = overlapOut[o];
                for (let c = 0; c < channels; c++) {
                  const v = data[a + c];
                  const d = v - out[b + c];
                  ssd += d * d;
                  energy += (v - means[c]) * (v - means[c]);
                }
              }
            }
            error += ssd / (oldEnergy[s] + energy + 1e-12);
            if (settings.reuse > 0) {
              const count = areaSum(usedTables[s], src, px[s], py[s], pw, ph);
              error += (settings.reuse * count) / (pw * ph) / Math.max(1, placed / usable[s]);
            }
          }
          if (error < best) {
            best = error;
            sx.set(px);
            sy.set(py);
          }
        }
      }
      // The value a block puts at local cell (lx, ly) for source s.
      const valueIndex = (s: number, lx: number, ly: number): [Float32Array, number] =>
        kept
          ? [keep?.grids[s] as Float32Array, keptIndex(outIndex(lx, ly))]
          : [sources[s].data, srcCell(s, sx[s], sy[s], lx, ly)];

      cellError.fill(0, 0, pw * ph);
      for (let o = 0; o < overlapCount; o++) {
        const cell = overlapCells[o];
        const lx = cell % pw;
        const ly = (cell - lx) / pw;
        let e = 0;
        for (let s = 0; s < sources.length; s++) {
          const [values, a] = valueIndex(s, lx, ly);
          const b = overlapOut[o];
          let es = 0;
          for (let c = 0; c < channels; c++) {
            const d = values[a + c] - outs[s][b + c];
            es += d * d;
          }
          e += es * sources[s].scale;
        }
        cellError[cell] = e;
      }

      take.fill(1, 0, pw * ph);
      const ox = xs.overlap;
      const oy = ys.overlap;
      const err = (ly: number, lx: number) => cellError[ly * pw + lx];
      if (ox > 0 && i > 0) {
        const path = minPath(err, ph, 0, ox);
        for (let ly = 0; ly < ph; ly++) for (let lx = 0; lx < path[ly]; lx++) take[ly * pw + lx] = 0;
      }
      if (ox > 0 && i === nx - 1 && nx > 1) {
        const path = minPath(err, ph, pw - ox, ox);
        for (let ly = 0; ly < ph; ly++) for (let lx = path[ly] + 1; lx < pw; lx++) take[ly * pw + lx] = 0;
      }
      const errT = (lx: number, ly: number) => cellError[ly * pw + lx];
      if (oy > 0 && j > 0) {
        const path = minPath(errT, pw, 0, oy);
        for (let lx = 0; lx < pw; lx++) for (let ly = 0; ly < path[lx]; ly++) take[ly * pw + lx] = 0;
      }
      if (oy > 0 && j === ny - 1 && ny > 1) {
        const path = minPath(errT, pw, ph - oy, oy);
        for (let lx = 0; lx < pw; lx++) for (let ly = path[lx] + 1; ly < ph; ly++) take[ly * pw + lx] = 0;
      }

      for (let ly = 0; ly < ph; ly++) {
        for (let lx = 0; lx < pw; lx++) {
          const o = outIndex(lx, ly);
          if (filled[o] && !take[ly * pw + lx]) continue;
          if (!filled[o]) placed++;
          filled[o] = 1;
          if (!kept) {
            for (let s = 0; s < sources.length; s++) used[s][srcCell(s, sx[s], sy[s], lx, ly) / channels]++;
          }
          for (let s = 0; s < sources.length; s++) {
            const [values, a] = valueIndex(s, lx, ly);
            outs[s].set(values.subarray(a, a + channels), o * channels);
          }
        }
      }
    }
  }

  // Roll by half a block so the texture's own wrap seam (row 0 against the last row, column 0 against the
  // last) lies inside a block instead of on the first cut.
  if (rx === 0 && ry === 0) return outs;
  return outs.map((grid) => {
    const rolled = new Float32Array(grid.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const from = (((y + ry) % height) * width + ((x + rx) % width)) * channels;
        rolled.set(grid.subarray(from, from + channels), (y * width + x) * channels);
      }
    }
    return rolled;
  });
}

/**
 * Summed-area table of a source's use counts over the source doubled in both directions (so a patch that wraps
 * is one rectangle): entry (y, x) of the (2h + 1) x (2w + 1) table sums counts of cells above and left of it.
 */
function areaTable(counts: Float32Array, src: QuiltSource): Float64Array {
  const w = src.width;
  const h = src.height;
  const stride = 2 * w + 1;
  const table = new Float64Array((2 * h + 1) * stride);
  for (let y = 0; y < 2 * h; y++) {
    let row = 0;
    for (let x = 0; x < 2 * w; x++) {
      row += counts[(y % h) * w + (x % w)];
      table[(y + 1) * stride + x + 1] = table[y * stride + x + 1] + row;
    }
  }
  return table;
}

/** Sum of use counts over the pw x ph patch at (px, py) of a source, from its areaTable. */
function areaSum(
  table: Float64Array,
  src: QuiltSource,
  px: number,
  py: number,
  pw: number,
  ph: number,
): number {
  const stride = 2 * src.width + 1;
  const x1 = px + pw;
  const y1 = py + ph;
  return (
    table[y1 * stride + x1] - table[py * stride + x1] - table[y1 * stride + px] + table[py * stride + px]
  );
}
