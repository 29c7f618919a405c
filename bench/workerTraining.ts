/**
 * Frame times of the training sample (a mesh with a VaeProceduralTexture of the embedded model, two textured
 * panels) while idle, while the embedded model is fine-tuned in a Web Worker (WorkerTrainer, previews redrawing
 * the textures), and while it is fine-tuned on the main thread on Babylon's WebGL context (the path before
 * workers), in one headless Chromium run; and the training steps per second of both paths.
 *
 *   npx tsx bench/workerTraining.ts [seconds per phase, default 40]
 */
import type { Page } from 'playwright';
import {
  clickGui,
  launchChromium,
  openSample,
  sampleState,
  startSamplesServer,
} from '../scripts/samplesHarness.ts';
import { machineLine, markdownTable, writeResultsSection } from './results.ts';

const seconds = Number(process.argv[2] ?? 40);
/** The worker's CPU share the training sample starts with (samples/training/main.ts, `share`). */
const SAMPLE_CPU_SHARE = 0.25;
const query = 'still&size=128&steps=5000&batch=4&patch=32&lr=0.0005&preview=10';

/** Starts recording the time of every animation frame in the page. */
async function record(page: Page): Promise<void> {
  await page.evaluate(
    `window.__frames = []; (function frame(t) { window.__frames.push(t); requestAnimationFrame(frame); })(performance.now());`,
  );
}

/** The frame intervals recorded since `record`, in ms; recording goes on. */
async function intervals(page: Page): Promise<number[]> {
  const times = (await page.evaluate('window.__frames.splice(0)')) as number[];
  return times.slice(1).map((t, i) => t - times[i]);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface Phase {
  name: string;
  frames: number[];
  stepsPerSecond: number | null;
}

/**
 * One phase in a page of its own: `query` extra parameters, frames recorded for `seconds` (after the first
 * finished step when training: worker start-up and the first step are not steady state). Closing the page
 * ends the training and its worker, so a busy page never has to answer a "stop" click.
 */
async function phase(
  chromium: Awaited<ReturnType<typeof launchChromium>>,
  url: string,
  name: string,
  extra: string,
  train: boolean,
): Promise<Phase & { errors: string[] }> {
  console.error(`${new Date().toISOString()} ${name}`);
  const sample = await openSample(chromium.browser, url, 'training', {
    query: `${query}${extra}`,
    width: 640,
    height: 360,
  });
  const { page } = sample;
  // A busy page answers slowly: GUI clicks get minutes, not playwright's 30 s.
  page.setDefaultTimeout(600_000);
  await record(page);
  if (train) {
    await clickGui(page, 'train');
    await page.waitForFunction(() => Number(window.__sample?.state().step) >= 1, null, {
      timeout: 600_000,
      polling: 1000,
    });
  }
  await intervals(page);
  await page.waitForTimeout(seconds * 1000);
  const frames = await intervals(page);
  const state = await sampleState(page);
  console.error(`${new Date().toISOString()} ${frames.length} frames, state ${JSON.stringify(state)}`);
  await sample.close();
  return { name, frames, stepsPerSecond: train ? Number(state.stepsPerSecond) : null, errors: sample.errors };
}

async function main(): Promise<void> {
  const server = await startSamplesServer();
  const chromium = await launchChromium();
  try {
    const phases = [
      await phase(chromium, server.url, 'idle', '', false),
      await phase(chromium, server.url, 'training in the worker (cpuShare 0.25)', '&share=0.25', true),
      await phase(chromium, server.url, 'training in the worker (cpuShare 0.5)', '&share=0.5', true),
      await phase(chromium, server.url, 'training in the worker (cpuShare 1)', '&share=1', true),
      await phase(chromium, server.url, 'training on the main thread (WebGL)', '&thread=main', true),
    ];
    const errors = phases.flatMap((p) => p.errors);
    if (errors.length > 0) throw new Error(`page errors: ${errors.join(' | ')}`);
    report(phases, chromium.browser.version());
  } finally {
    await chromium.close();
    await server.close();
  }
}

function report(phases: Phase[], chromiumVersion: string): void {
  const idleP95 = percentile(phases[0].frames, 95);
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const rows = phases.map((p) => [
    p.name,
    String(p.frames.length),
    ms(percentile(p.frames, 50)),
    ms(percentile(p.frames, 95)),
    ms(Math.max(...p.frames)),
    (percentile(p.frames, 95) / idleP95).toFixed(2),
    p.stepsPerSecond === null ? '-' : p.stepsPerSecond.toFixed(3),
  ]);
  const worker = phases.find((p) => p.name.includes(`cpuShare ${SAMPLE_CPU_SHARE})`)) as Phase;
  const fullWorker = phases.find((p) => p.name.includes('cpuShare 1)')) as Phase;
  const mainThread = phases[phases.length - 1];
  const markdown = [
    '## Training in a Web Worker: frame times and steps per second',
    '',
    markdownTable(
      ['training sample, 640x360', 'frames', 'median frame', 'p95 frame', 'longest', 'p95 / idle', 'steps/s'],
      rows,
    ),
    '',
    `p95 frame time while training / idle: ${(percentile(worker.frames, 95) / idleP95).toFixed(2)}`,
    '',
    `Steps per second, worker (WASM, cpuShare 1) / main thread (WebGL): ${((fullWorker.stepsPerSecond ?? 0) / (mainThread.stepsPerSecond ?? 1)).toFixed(2)}`,
    '',
    `Fine-tuning the embedded model (batch 4, 32x32 patches, previews every 10 steps redraw the reconstruction and the mesh; the line above is the worker with cpuShare ${SAMPLE_CPU_SHARE}, the sample's default), ${seconds} s a phase after the first step, each phase in a fresh page; the worker chose WASM (WebGL here is SwiftShader). ${machineLine()}, Chromium ${chromiumVersion}, 2 cores: compare rows of one run only.`,
    '',
    `\`npx tsx bench/workerTraining.ts ${seconds}\``,
  ].join('\n');
  writeResultsSection('workerTraining', markdown);
  console.log(markdown);
}

await main();
