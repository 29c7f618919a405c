/**
 * The regenerate sample (25 objects, 128 px each) in one headless Chromium run (WebGL2 on SwiftShader here):
 * "regenerate once" timed on the decode path the machine chooses against the forced WebGL path
 * (`?decodePath=zero-copy`), and the frame times while regenerating against idle (requestAnimationFrame
 * intervals: a frame the decode blocks shows up as a long interval).
 *
 * With `--shares 0.5,0.25` the chosen path is also run at each worker CPU share (the sample's GUI slider: the
 * decode worker rests after each decode), in the same page, to show what steadier frames cost in regeneration
 * time.
 *
 *   npx tsx bench/decodePath.ts [--runs 3] [--shares 0.5] [--from-log FILE]
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright';
import {
  clickGui,
  idle,
  launchChromium,
  openSample,
  sampleState,
  setGuiNumber,
  startSamplesServer,
} from '../scripts/samplesHarness.ts';
import { machineLine, markdownTable, writeResultsSection } from './results.ts';

const runsFlag = process.argv.indexOf('--runs');
const runs = runsFlag >= 0 ? Number(process.argv[runsFlag + 1]) : 3;
const sharesFlag = process.argv.indexOf('--shares');
const shares = sharesFlag >= 0 ? (process.argv[sharesFlag + 1] as string).split(',').map(Number) : [];
if (shares.some((share) => !(share >= 0.05 && share < 1)))
  throw new Error('--shares: numbers from 0.05 to below 1');
const idleMs = 3000;

interface PathResult {
  query: string;
  path: string;
  reason: string;
  regenerateMs: number[];
  /** Click to two frames drawn after the last texture resolved: includes GPU work the promises do not wait for. */
  wallMs: number[];
  idleP95: number;
  busyP95: number;
  busyMax: number;
  frames: number;
}

/** requestAnimationFrame intervals (ms) recorded while `during` runs. */
async function frameIntervals(page: Page, during: () => Promise<void>): Promise<number[]> {
  // A string, not a function: tsx would wrap the inner function in a helper the page does not have.
  await page.evaluate(`(() => {
    window.__frames = [];
    window.__recording = true;
    let last = 0;
    const tick = (now) => {
      if (!window.__recording) return;
      window.__frames.push(now - last);
      last = now;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame((now) => {
      last = now;
      requestAnimationFrame(tick);
    });
  })()`);
  await during();
  return page.evaluate('window.__recording = false, window.__frames') as Promise<number[]>;
}

/**
 * A one-pixel read of the sample's canvas: it waits for every GPU command issued so far (SwiftShader runs them
 * lazily), so the zero-copy path's decodes do not spill into the next measurement.
 */
async function waitForGpu(page: Page): Promise<void> {
  await page.evaluate(() => {
    const canvas = document.querySelector('canvas#scene') as HTMLCanvasElement;
    const gl = canvas.getContext('webgl2') as WebGL2RenderingContext;
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
  });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

function median(values: number[]): number {
  return percentile(values, 0.5);
}

async function main(): Promise<void> {
  const [server, chromium] = await Promise.all([startSamplesServer(), launchChromium()]);
  const results: PathResult[] = [];
  try {
    for (const query of ['', 'decodePath=zero-copy']) {
      const sample = await openSample(chromium.browser, server.url, 'regenerate', {
        query: `still&${query}`,
        timeoutMs: 600_000,
      });
      const { page } = sample;
      const state = await sampleState(page);
      // The chosen (worker) path is also run at each of `shares`, in the same page, rows interleaved run by run,
      // against the same idle frames; the forced WebGL path ignores the share.
      const rowShares = query === '' ? [1, ...shares] : [1];
      // The first decodes' GPU work finishes before idle frames are counted.
      await waitForGpu(page);
      // At least `idleMs` and 10 frames: on a loaded machine one idle frame can take seconds.
      const idleFrames = await frameIntervals(page, async () => {
        await new Promise((r) => setTimeout(r, idleMs));
        await page.waitForFunction('window.__frames.length >= 10', undefined, { timeout: 600_000 });
      });
      const rows = rowShares.map(() => ({
        regenerateMs: [] as number[],
        wallMs: [] as number[],
        frames: [] as number[],
      }));
      for (let run = 0; run < runs; run++) {
        for (const [i, share] of rowShares.entries()) {
          const row = rows[i] as (typeof rows)[number];
          if (rowShares.length > 1) await setGuiNumber(page, 'worker CPU share', share);
          const frames = await frameIntervals(page, async () => {
            const start = performance.now();
            await clickGui(page, 'regenerate once');
            await idle(page);
            await waitForGpu(page);
            row.wallMs.push(performance.now() - start);
          });
          row.regenerateMs.push((await sampleState(page)).allDecodesMs as number);
          row.frames.push(...frames);
        }
      }
      if (sample.errors.length > 0) throw new Error(`page errors: ${sample.errors.join(' | ')}`);
      for (const [i, share] of rowShares.entries()) {
        const row = rows[i] as (typeof rows)[number];
        results.push({
          query: share < 1 ? `${query}&workerCpuShare=${share}`.replace(/^&/, '') : query || '(none: auto)',
          path: String(state.decodePath),
          reason: String(state.decodeReason),
          regenerateMs: row.regenerateMs,
          wallMs: row.wallMs,
          idleP95: percentile(idleFrames, 0.95),
          busyP95: percentile(row.frames, 0.95),
          busyMax: Math.max(...row.frames),
          frames: row.frames.length,
        });
        console.log(JSON.stringify(results.at(-1)));
      }
      await sample.close();
    }
  } finally {
    await chromium.close();
    await server.close();
  }
  report(results);
}

/** Writes the bench/RESULTS.md section from the two paths' results (the chosen path first). */
function report(results: PathResult[]): void {
  const auto = results[0] as PathResult;
  const webgl = results.at(-1) as PathResult;
  const sharesRun = results.slice(1, -1);
  const speedUp = median(webgl.wallMs) / median(auto.wallMs);
  const ratio = auto.busyP95 / auto.idleP95;
  const met = (ok: boolean) => (ok ? 'met' : 'not met');
  const markdown = [
    '## Decode path: the regenerate sample (25 objects, 128 px), chosen path vs forced WebGL',
    '',
    `Command: \`npx tsx bench/decodePath.ts --runs ${runs}${sharesRun.length > 0 ? ` --shares ${sharesRun.map((r) => r.query.split('=')[1]).join(',')}` : ''}\` (one headless Chromium run, WebGL2 on SwiftShader;`,
    `"regenerate once" clicked ${runs} time(s) per path, median; "click to drawn" ends two frames after the last`,
    "texture resolved, so it includes GPU work the sample's own timer does not wait for; frame times are",
    `requestAnimationFrame intervals, idle over ${idleMs / 1000} s and at least 10 frames).`,
    '',
    markdownTable(
      [
        'URL query',
        'decode path (reason)',
        'click to drawn, median (runs)',
        "sample's 'all objects' time",
        'p95 frame idle',
        'p95 frame regenerating',
        'longest frame',
      ],
      results.map((r) => [
        r.query,
        `${r.path} (${r.reason})`,
        `${median(r.wallMs).toFixed(0)} ms (${r.wallMs.map((ms) => ms.toFixed(0)).join(', ')})`,
        `${median(r.regenerateMs).toFixed(0)} ms`,
        `${r.idleP95.toFixed(1)} ms`,
        `${r.busyP95.toFixed(1)} ms`,
        `${r.busyMax.toFixed(0)} ms`,
      ]),
    ),
    '',
    `chosen path vs forced WebGL, regenerating 25 objects (click to drawn): ${speedUp.toFixed(2)}x (target >= 10x: ${met(speedUp >= 10)})`,
    '',
    `p95 frame time while regenerating / idle: ${ratio.toFixed(2)}`,
    '',
    `(target <= 1.5: ${met(ratio <= 1.5)}; on the forced WebGL path the whole regeneration was ${(webgl.busyMax / 1000).toFixed(0)} s without a frame)`,
    '',
    ...sharesRun.flatMap((r) => [
      `${r.query} (the decode worker rests after each decode): ${(median(webgl.wallMs) / median(r.wallMs)).toFixed(2)}x forced WebGL, p95 frame time while regenerating / idle ${(r.busyP95 / r.idleP95).toFixed(2)}`,
      '',
    ]),
    machineLine(),
  ].join('\n');
  writeResultsSection('decodePath', markdown);
  console.log(markdown);
}

// --from-log FILE: write the section again from the JSON lines a run printed.
const fromLog = process.argv.indexOf('--from-log');
const run =
  fromLog >= 0
    ? async () =>
        report(
          readFileSync(process.argv[fromLog + 1] as string, 'utf8')
            .split('\n')
            .filter((line) => line.startsWith('{"query"'))
            .map((line) => JSON.parse(line) as PathResult),
        )
    : main;

run().catch((error) => {
  console.error(error);
  process.exit(1);
});
