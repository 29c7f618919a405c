/// <reference path="../samples/shared/sampleHook.ts" />
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright';
import { PNG } from 'pngjs';
import { createServer, type ViteDevServer } from 'vite';
import { chromiumArgs, findChromium } from './chromium.js';

const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** The four samples of the gallery (samples/<name>/index.html). */
export const sampleNames = ['material', 'regenerate', 'training', 'atlas'] as const;
export type SampleName = (typeof sampleNames)[number];

/** The samples' Vite dev server on an ephemeral port of 127.0.0.1, with no file watching and no HMR. */
export async function startSamplesServer(): Promise<{
  url: string;
  server: ViteDevServer;
  close(): Promise<void>;
}> {
  const server = await createServer({
    configFile: join(repoRoot, 'samples/vite.config.ts'),
    logLevel: 'warn',
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, watch: null },
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string')
    throw new Error('the samples dev server did not report a port');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    server,
    close: () => server.close(),
  };
}

/** Headless Chromium on SwiftShader, its HOME and XDG dirs in a temp folder removed on close. */
export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const home = mkdtempSync(join(tmpdir(), 'bvt-samples-'));
  const browser = await chromium.launch({
    executablePath: findChromium(),
    args: chromiumArgs,
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: home, XDG_CACHE_HOME: home },
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** An open sample page and the errors it reported (console errors and uncaught exceptions). */
export interface OpenSample {
  readonly page: Page;
  readonly errors: string[];
  close(): Promise<void>;
}

/**
 * Opens `samples/<name>/` with `query` (for example 'still&size=128') and waits for `window.__sample.ready`.
 * Fails with the page's errors when it does not become ready within `timeoutMs`.
 */
export async function openSample(
  browser: Browser,
  baseUrl: string,
  name: string,
  options: { query?: string; width?: number; height?: number; timeoutMs?: number } = {},
): Promise<OpenSample> {
  const page = await browser.newPage({
    viewport: { width: options.width ?? 640, height: options.height ?? 360 },
    deviceScaleFactor: 1,
    acceptDownloads: true,
  });
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`${error.name}: ${error.message}`));
  const query = options.query ? `?${options.query}` : '';
  // The first visit waits for Vite to pre-bundle Babylon and tfjs.
  await page.goto(`${baseUrl}${name}/${query}`, { waitUntil: 'load', timeout: 240_000 });
  await page.waitForFunction(() => window.__sample !== undefined, undefined, { timeout: 60_000 });
  try {
    await page.evaluate(
      ([timeout]) =>
        Promise.race([
          window.__sample?.ready,
          new Promise((_, reject) =>
            setTimeout(() => reject(new Error(`not ready after ${timeout} ms`)), timeout),
          ),
        ]),
      [options.timeoutMs ?? 120_000],
    );
  } catch (error) {
    throw new Error(
      `sample '${name}' did not start: ${(error as Error).message}; page errors: ${errors.join(' | ')}`,
    );
  }
  await idle(page);
  return { page, errors, close: () => page.close() };
}

/** Waits until the sample's GUI actions finished and two more frames were drawn. */
export async function idle(page: Page): Promise<void> {
  await page.evaluate(() => window.__sample?.idle());
}

/** The sample's reported state (see samples/shared/sampleHook.ts). */
export async function sampleState(page: Page): Promise<Record<string, unknown>> {
  return page.evaluate(() => window.__sample?.state() ?? {});
}

/** The lil-gui controller whose label is exactly `label`. */
function guiController(page: Page, label: string) {
  const exact = new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  return page
    .locator('.lil-gui .lil-controller')
    .filter({ has: page.locator('.lil-name', { hasText: exact }) });
}

/**
 * Clicks the lil-gui button labelled `label`. The click is dispatched in the page's next task rather than as
 * input: an action that keeps the page busy (training, baking) would otherwise hold up the input round trip.
 * Resolves once the click handler ran, so a following `idle` sees the action it started.
 */
export async function clickGui(page: Page, label: string): Promise<void> {
  await guiController(page, label)
    .locator('button')
    .evaluate(
      (button) =>
        new Promise<void>((resolve) => {
          setTimeout(() => {
            (button as HTMLButtonElement).click();
            resolve();
          }, 0);
        }),
    );
}

/** Types `value` into the lil-gui number controller labelled `label` and confirms it (Enter). */
export async function setGuiNumber(page: Page, label: string, value: number): Promise<void> {
  const input = guiController(page, label).locator('input');
  await input.fill(String(value));
  await input.press('Enter');
}

/** Picks `option` in the lil-gui dropdown labelled `label`. */
export async function selectGui(page: Page, label: string, option: string): Promise<void> {
  await guiController(page, label).locator('select').selectOption({ label: option });
}

/** Decoded RGBA pixels of an image, row 0 at the top. */
export interface Rgba {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

export function decodePng(png: Buffer): Rgba {
  const image = PNG.sync.read(png);
  return { width: image.width, height: image.height, data: new Uint8Array(image.data) };
}

/** The WebGL canvas alone (no page overlays), read with toDataURL (the samples preserve the drawing buffer). */
export async function canvasPixels(page: Page, selector = 'canvas#scene'): Promise<Rgba> {
  const url = await page.evaluate(
    (s) => (document.querySelector(s) as HTMLCanvasElement).toDataURL('image/png'),
    selector,
  );
  return decodePng(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64'));
}

/** A PNG of the canvas element `selector` as shown on the page, overlays (GUI, captions) included. */
export async function canvasPng(page: Page, selector = 'canvas#scene'): Promise<Buffer> {
  return page.locator(selector).screenshot({ type: 'png' });
}

/** Standard deviation of the RGB values and the number of distinct colours (quantised to 5 bits). */
export function imageStats(image: Rgba): { stdDev: number; colours: number; mean: number } {
  const { data } = image;
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  const colours = new Set<number>();
  for (let i = 0; i < data.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      sum += data[i + c];
      sumSq += data[i + c] * data[i + c];
      n++;
    }
    colours.add(((data[i] >> 3) << 10) | ((data[i + 1] >> 3) << 5) | (data[i + 2] >> 3));
  }
  const mean = sum / n;
  return { stdDev: Math.sqrt(Math.max(0, sumSq / n - mean * mean)), colours: colours.size, mean };
}

/** Fraction of pixels whose R, G or B differs by more than `threshold` levels between two images of one size. */
export function changedFraction(a: Rgba, b: Rgba, threshold = 8): number {
  sameSize(a, b);
  let changed = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      if (Math.abs(a.data[i + c] - b.data[i + c]) > threshold) {
        changed++;
        break;
      }
    }
  }
  return changed / (a.data.length / 4);
}

function sameSize(a: Rgba, b: Rgba): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`images differ in size: ${a.width}x${a.height} and ${b.width}x${b.height}`);
  }
}

/** Mean absolute RGB difference of two images of one size. */
export function meanAbsDiff(a: Rgba, b: Rgba): number {
  sameSize(a, b);
  let total = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    for (let c = 0; c < 3; c++) total += Math.abs(a.data[i + c] - b.data[i + c]);
  }
  return total / ((a.data.length / 4) * 3);
}
