/**
 * Renders every sample to docs/<name>.png (960x540, GUI included) through the samples' Vite dev server and
 * headless Chromium: `npm run screenshots [name...]`. The PNGs are posterised to 6 bits per channel before
 * compression so each stays well under 300 KB.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import {
  clickGui,
  decodePng,
  idle,
  launchChromium,
  openSample,
  type SampleName,
  sampleNames,
  startSamplesServer,
} from '../test/support/samplesHarness.js';

const docs = resolve(dirname(fileURLToPath(import.meta.url)), '../docs');
const width = 960;
const height = 540;

/**
 * How each sample is shown: its URL parameters and, where a picture needs it, a GUI button pressed first; then
 * the shot waits until the sample is idle, or `afterMs` after the click for an action still running then.
 */
const shots: Record<SampleName, { query: string; click?: string; afterMs?: number }> = {
  material: { query: 'still&size=256' },
  regenerate: { query: 'still&size=128&grid=5' },
  // Training in the worker, one minute after 'train': the mesh follows the fine-tuned model as it sharpens.
  training: {
    query: 'still&size=128&steps=2000&batch=4&patch=32&lr=0.0005&preview=5',
    click: 'train',
    afterMs: 60_000,
  },
  atlas: { query: 'still&count=64&tile=64' },
};

/** Drops the 2 low bits of every channel: deflate then finds far more repeats, the eye sees no difference. */
function compactPng(png: Buffer): Buffer {
  const image = decodePng(png);
  const out = new PNG({ width: image.width, height: image.height, colorType: 2 });
  for (let i = 0; i < image.data.length; i += 4) {
    for (let c = 0; c < 3; c++) out.data[i + c] = image.data[i + c] & 0xfc;
    out.data[i + 3] = 255;
  }
  return PNG.sync.write(out, { colorType: 2, deflateLevel: 9 });
}

async function main(names: string[]): Promise<number> {
  const unknown = names.filter((n) => !(sampleNames as readonly string[]).includes(n));
  if (unknown.length > 0) {
    console.error(`unknown sample ${unknown.join(', ')}; allowed: ${sampleNames.join(', ')}`);
    return 1;
  }
  const selected = (names.length > 0 ? names : sampleNames) as SampleName[];
  mkdirSync(docs, { recursive: true });
  const server = await startSamplesServer();
  const chromium = await launchChromium();
  let failed = 0;
  try {
    for (const name of selected) {
      const shot = shots[name];
      const started = Date.now();
      const sample = await openSample(chromium.browser, server.url, name, {
        query: shot.query,
        width,
        height,
      });
      if (shot.click) {
        await clickGui(sample.page, shot.click);
        if (shot.afterMs) await sample.page.waitForTimeout(shot.afterMs);
        else await idle(sample.page);
      }
      const png = compactPng(await sample.page.screenshot({ type: 'png' }));
      const path = join(docs, `${name}.png`);
      writeFileSync(path, png);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (sample.errors.length > 0) {
        failed++;
        console.error(`${name}: page errors: ${sample.errors.join(' | ')}`);
      }
      console.log(`${path}: ${(png.length / 1024).toFixed(0)} KB in ${seconds} s`);
      await sample.close();
    }
  } finally {
    await chromium.close();
    await server.close();
  }
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
