import type { Browser } from 'playwright';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  canvasPixels,
  changedFraction,
  clickGui,
  idle,
  imageStats,
  launchChromium,
  type OpenSample,
  openSample,
  type Rgba,
  sampleState,
  setGuiNumber,
  startSamplesServer,
} from '../support/samplesHarness.js';

// One dev server and one browser for every sample; each sample runs `still` (no motion), so only a GUI
// action can change its pixels, with small textures so a software GPU keeps up.
let server: Awaited<ReturnType<typeof startSamplesServer>>;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let browser: Browser;

beforeAll(async () => {
  [server, chromium] = await Promise.all([startSamplesServer(), launchChromium()]);
  browser = chromium.browser;
});

afterAll(async () => {
  await chromium?.close();
  await server?.close();
});

function expectNotBlank(image: Rgba): void {
  const stats = imageStats(image);
  expect(stats.stdDev, 'pixel standard deviation').toBeGreaterThan(8);
  expect(stats.colours, 'distinct colours').toBeGreaterThan(50);
}

/** Opens a sample, checks it draws something and holds still, and returns its first frame. */
async function openStill(name: string, query: string): Promise<{ sample: OpenSample; first: Rgba }> {
  const sample = await openSample(browser, server.url, name, { query });
  const first = await canvasPixels(sample.page);
  expectNotBlank(first);
  await idle(sample.page);
  expect(changedFraction(first, await canvasPixels(sample.page)), 'a still frame drawn twice').toBe(0);
  return { sample, first };
}

describe('samples gallery', () => {
  test('the index links every sample', async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    const links = await page.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(links).toEqual(
      expect.arrayContaining(['./hello/', './material/', './regenerate/', './training/', './atlas/']),
    );
    await page.close();
  });

  test('material: lit objects render textured; resample changes them', async () => {
    const { sample, first } = await openStill('material', 'still&size=128');
    const { page } = sample;
    expect(await sampleState(page)).toMatchObject({ swatch: 'bricks' });
    await clickGui(page, 'resample');
    await idle(page);
    expect(await sampleState(page)).toMatchObject({ seed: 1, crossFade: 1 });
    expect(changedFraction(first, await canvasPixels(page))).toBeGreaterThan(0.02);
    expect(sample.errors).toEqual([]);
    await sample.close();
  });

  test('regenerate: a seed change waits for "regenerate once", which decodes every object', async () => {
    const { sample, first } = await openStill('regenerate', 'still&size=64&grid=3');
    const { page } = sample;
    expect(await sampleState(page)).toMatchObject({ objects: 9, lastDecodeMs: 0 });
    await setGuiNumber(page, 'seed', 7);
    await idle(page);
    expect(changedFraction(first, await canvasPixels(page)), 'before the button').toBe(0);
    await clickGui(page, 'regenerate once');
    await idle(page);
    const state = await sampleState(page);
    expect(state.lastDecodeMs).toBeGreaterThan(0);
    expect(state.allDecodesMs).toBeGreaterThanOrEqual(state.lastDecodeMs as number);
    expect(changedFraction(first, await canvasPixels(page)), 'after the button').toBeGreaterThan(0.02);
    expect(await page.locator('#status').textContent()).toContain(
      `last single decode ${state.lastDecodeMs} ms`,
    );
    expect(sample.errors).toEqual([]);
    await sample.close();
  });

  test('training: a few steps update the reconstruction, then the mesh; the model round-trips IndexedDB', async () => {
    const { sample, first } = await openStill(
      'training',
      'still&size=64&steps=3&batch=2&patch=32&preview=1&from=scratch&lr=0.002',
    );
    const { page } = sample;
    await clickGui(page, 'train');
    await idle(page);
    const state = await sampleState(page);
    expect(state).toMatchObject({ step: 3, training: false });
    expect(Number.isFinite(state.loss)).toBe(true);
    // The mesh shows the photo's swatch of the embedded model until the trained model's swatch is applied.
    await clickGui(page, 'use on the mesh');
    await idle(page);
    const trained = await canvasPixels(page);
    expect(changedFraction(first, trained)).toBeGreaterThan(0.02);
    expect(await page.locator('#progress').evaluate((p) => (p as HTMLProgressElement).value)).toBe(1);
    await clickGui(page, 'save to IndexedDB');
    await idle(page);
    await clickGui(page, 'load from IndexedDB');
    await idle(page);
    expect(await page.locator('#status').textContent()).toContain('loaded indexeddb://');
    // The loaded weights are the saved ones: the same reconstruction and mesh texture.
    expect(changedFraction(trained, await canvasPixels(page))).toBe(0);
    expect(sample.errors).toEqual([]);
    await sample.close();
  });

  test('atlas: a baked atlas is shown and exported; shuffling moves tiles between instances', async () => {
    const { sample, first } = await openStill('atlas', 'still&count=16&tile=64');
    const { page } = sample;
    const state = await sampleState(page);
    expect(state).toMatchObject({ tiles: 16, pages: 1 });
    expect(state.pngBytes).toBeGreaterThan(1000);
    expect(await page.locator('#png').getAttribute('href')).toMatch(/^blob:/);
    expect(await page.locator('#json').getAttribute('download')).toBe('atlas.json');
    await clickGui(page, 'shuffle tiles');
    await idle(page);
    expect(changedFraction(first, await canvasPixels(page))).toBeGreaterThan(0.02);
    expect(sample.errors).toEqual([]);
    await sample.close();
  });
});
