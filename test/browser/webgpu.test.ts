import { WebGPUEngine } from '@babylonjs/core';
import { describe, expect, test } from 'vitest';

// What the test Chromium offers for WebGPU (see the README's engine table): SwiftShader's adapter, exposed by
// --enable-unsafe-webgpu (test/support/chromium.ts). Here the device is lost within seconds of the first
// render, so the VAE texture paths are not tested on a WebGPUEngine; this test keeps the adapter claim true.
describe('WebGPU in the test browser', () => {
  test('a WebGPUEngine starts on the software adapter, fetching nothing', async () => {
    const gpu = (
      navigator as unknown as {
        gpu?: { requestAdapter(): Promise<{ info: { architecture: string } } | null> };
      }
    ).gpu;
    expect(gpu, 'navigator.gpu').toBeDefined();
    const adapter = await gpu?.requestAdapter();
    expect(adapter?.info.architecture).toBe('swiftshader');

    const canvas = document.createElement('canvas');
    canvas.width = 16;
    canvas.height = 16;
    document.body.appendChild(canvas);
    const engine = new WebGPUEngine(canvas, { antialias: false });
    await engine.initAsync();
    expect(engine.isWebGPU).toBe(true);
    const foreign = performance
      .getEntriesByType('resource')
      .map((entry) => entry.name)
      .filter((name) => !name.startsWith(location.origin));
    expect(foreign).toEqual([]);
    engine.dispose();
    canvas.remove();
  });
});
