import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  canvasPixels,
  changedFraction,
  launchChromium,
  type OpenSample,
  openSample,
  sampleState,
  startSamplesServer,
} from '../support/samplesHarness.js';

// Babylon's Inspector from the npm package on the material sample: the VAE material's own properties show in
// it, and changing one through the Inspector's UI changes what the page renders. Nothing may come from outside
// the samples' dev server (the Inspector loaded through scene.debugLayer would come from a CDN).
let server: Awaited<ReturnType<typeof startSamplesServer>>;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let browser: Browser;
let sample: OpenSample;
const foreign: string[] = [];

beforeAll(async () => {
  [server, chromium] = await Promise.all([startSamplesServer(), launchChromium()]);
  browser = chromium.browser;
  sample = await openSample(browser, server.url, 'material', {
    query: 'still&size=128',
    width: 1280,
    height: 720,
  });
  await sample.page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(server.url) || url.startsWith('data:') || url.startsWith('blob:'))
      return route.continue();
    foreign.push(url);
    return route.abort();
  });
  // A cold start pre-bundles Babylon, tfjs and the Inspector (React, Fluent UI) before the page loads.
}, 420_000);

afterAll(async () => {
  await sample?.close();
  await chromium?.close();
  await server?.close();
});

/** Waits until the canvas differs from `before` in more than 2% of its pixels, and returns that fraction. */
async function waitForChange(page: Page, before: Awaited<ReturnType<typeof canvasPixels>>): Promise<number> {
  let fraction = 0;
  await expect
    .poll(async () => (fraction = changedFraction(before, await canvasPixels(page))), { timeout: 60_000 })
    .toBeGreaterThan(0.02);
  return fraction;
}

describe('Inspector on the material sample', () => {
  test('"i" opens the Inspector; the VAE properties of the material change its texture', async () => {
    const { page } = sample;
    await page.keyboard.press('i');
    await page.getByText('Scene Explorer').first().waitFor({ timeout: 120_000 });

    // Scene Explorer > Materials > vae selects the material; its inspectable properties form a section.
    await page.locator('[data-fui-tree-item-value="root/Materials"] .fui-TreeItemLayout__expandIcon').click();
    await page.getByRole('treeitem', { name: 'vae', exact: true }).click();
    await page.getByText('VAE resample', { exact: true }).waitFor({ timeout: 30_000 });
    for (const label of ['VAE seed', 'VAE cross-fade', 'VAE latent channel 0']) {
      await expect(page.getByText(label, { exact: true }).count()).resolves.toBeGreaterThan(0);
    }

    const before = await canvasPixels(page);
    const seed = (await sampleState(page)).seed as number;
    await page.getByRole('button', { name: 'VAE resample', exact: true }).click();
    expect(await waitForChange(page, before)).toBeGreaterThan(0.02);
    expect((await sampleState(page)).seed).toBe(seed + 1);

    expect(foreign).toEqual([]);
    expect(sample.errors).toEqual([]);
  });
});
