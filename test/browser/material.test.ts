import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import {
  Color4,
  Engine,
  FreeCamera,
  HemisphericLight,
  type Material,
  MeshBuilder,
  PBRMaterial,
  Scene,
  StandardMaterial,
  Vector3,
} from '@babylonjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { page } from 'vitest/browser';
import type { LatentGrid } from '../../src/latent/latentGrid.js';
import { Swatch } from '../../src/latent/swatch.js';
import { createVaeMaterial } from '../../src/materials/createVaeMaterial.js';
import { registerVaeMaterialPlugin, VaeMaterialPlugin } from '../../src/materials/vaeMaterialPlugin.js';
import { TextureVae } from '../../src/model/textureVae.js';
import { registerVaeModel } from '../../src/textures/vaeModelRegistry.js';

const width = 160;
const height = 80;
const tiny = {
  latentChannels: 4,
  stride: 4,
  encoderWidths: [8, 8, 8],
  decoderWidths: [16, 12, 8],
  name: 'tiny-mat',
};

let canvas: HTMLCanvasElement;
let engine: Engine;
let scene: Scene;
let model: TextureVae;
let swatch: Swatch;

beforeAll(async () => {
  await tf.setBackend('cpu');
  model = TextureVae.create(tiny, { seed: 11 });
  // A swatch of a 64-px exemplar grid: the materials sample their latents from it.
  swatch = Swatch.fromLatent(model, model.sample({ width: 64, height: 64, seed: 5 }), { name: 'noise' });
  registerVaeModel('tiny-mat', model);
  registerVaeMaterialPlugin();
  canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  document.body.appendChild(canvas);
  engine = new Engine(canvas, false, { preserveDrawingBuffer: true, stencil: true }, false);
  scene = new Scene(engine);
  scene.clearColor = new Color4(0, 0, 0, 1);
  const camera = new FreeCamera('camera', new Vector3(0, 0, -4), scene);
  camera.setTarget(Vector3.Zero());
  new HemisphericLight('light', new Vector3(0, 0, -1), scene).intensity = 1;
});

afterAll(() => {
  scene.dispose();
  engine.dispose();
  model.dispose();
  canvas.remove();
});

/** RGB bytes of the canvas, row 0 at the top. */
function canvasPixels(): Uint8Array {
  const gl = engine._gl as WebGL2RenderingContext;
  const rgba = new Uint8Array(width * height * 4);
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  gl.readPixels(0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE, rgba);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = ((height - 1 - y) * width + x) * 4;
      out.set(rgba.subarray(from, from + 3), (y * width + x) * 3);
    }
  }
  return out;
}

/** Pixels of a region [x0, x1) x [y0, y1). */
function region(px: Uint8Array, x0: number, x1: number, y0: number, y1: number): number[] {
  const out: number[] = [];
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++) out.push(...px.subarray((y * width + x) * 3, (y * width + x) * 3 + 3));
  return out;
}

function stdDev(values: number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
}

async function renderUntil(done: () => boolean, frames = 400): Promise<void> {
  for (let i = 0; i < frames && !done(); i++) {
    scene.render();
    await new Promise((r) => setTimeout(r, 5));
  }
  scene.render();
}

async function readyMaterial(material: Material): Promise<VaeMaterialPlugin> {
  const plugin = VaeMaterialPlugin.get(material) as VaeMaterialPlugin;
  await plugin.whenReadyAsync();
  await renderUntil(() => scene.isReady());
  return plugin;
}

describe('VAE material', () => {
  let pbr: PBRMaterial;
  let standard: StandardMaterial;

  test('a lit PBR sphere and a Standard box render textured, non-blank images', async () => {
    pbr = createVaeMaterial(scene, { model, swatch, size: 32, seed: 1, name: 'pbrVae' }) as PBRMaterial;
    standard = createVaeMaterial(scene, {
      model,
      swatch,
      size: 32,
      seed: 2,
      type: 'standard',
      name: 'stdVae',
    }) as StandardMaterial;
    expect(pbr).toBeInstanceOf(PBRMaterial);
    expect(standard).toBeInstanceOf(StandardMaterial);
    const sphere = MeshBuilder.CreateSphere('sphere', { diameter: 1.8 }, scene);
    sphere.position.x = -1.9;
    sphere.material = pbr;
    const box = MeshBuilder.CreateBox('box', { size: 1.6 }, scene);
    box.position.x = 1.9;
    box.material = standard;
    await readyMaterial(pbr);
    await readyMaterial(standard);
    const px = canvasPixels();
    // For people: test-results/material.png shows what the test saw.
    await page.screenshot({ path: '../../test-results/material.png', element: canvas });
    const sphereRegion = region(px, 25, 55, 25, 55);
    const boxRegion = region(px, 105, 135, 25, 55);
    expect(stdDev(sphereRegion)).toBeGreaterThan(2);
    expect(stdDev(boxRegion)).toBeGreaterThan(2);
    expect(Math.max(...sphereRegion)).toBeGreaterThan(20);
    expect(Math.max(...boxRegion)).toBeGreaterThan(20);
    // Textured, not just lit: turning the plugin off changes both meshes' pixels.
    for (const m of [pbr, standard]) (VaeMaterialPlugin.get(m) as VaeMaterialPlugin).isEnabled = false;
    await renderUntil(() => scene.isReady());
    const plain = canvasPixels();
    for (const m of [pbr, standard]) (VaeMaterialPlugin.get(m) as VaeMaterialPlugin).isEnabled = true;
    await renderUntil(() => scene.isReady());
    const meanAbsDiff = (a: number[], b: number[]) =>
      a.reduce((n, v, i) => n + Math.abs(v - (b[i] as number)), 0) / a.length;
    expect(meanAbsDiff(sphereRegion, region(plain, 25, 55, 25, 55))).toBeGreaterThan(10);
    expect(meanAbsDiff(boxRegion, region(plain, 105, 135, 25, 55))).toBeGreaterThan(10);
  });

  test('a latent change changes the pixels; a frame mid-morph is the blend of the two ends', async () => {
    const plugin = VaeMaterialPlugin.get(standard) as VaeMaterialPlugin;
    await renderUntil(() => false, 2);
    const before = region(canvasPixels(), 100, 140, 20, 60);
    const target = model.sample({ width: 32, height: 32, seed: 99 });
    let morphed = false;
    const morph = plugin.morphTo(target, { duration: 1500 }).then(() => {
      morphed = true;
    });
    let mid: number[] | null = null;
    let fade = 0;
    for (let i = 0; i < 2000 && !mid; i++) {
      scene.render();
      if (plugin.previousTexture && plugin.crossFade > 0.3 && plugin.crossFade < 0.7) {
        fade = plugin.crossFade;
        mid = region(canvasPixels(), 100, 140, 20, 60);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await renderUntil(() => morphed);
    await morph;
    await renderUntil(() => false, 2);
    const after = region(canvasPixels(), 100, 140, 20, 60);
    expect(stdDev(after.map((v, i) => v - (before[i] as number)))).toBeGreaterThan(3);
    expect(mid).not.toBeNull();
    // Standard lighting is linear in the diffuse colour, so the frame is the linear blend of the two ends.
    let worst = 0;
    (mid as number[]).forEach((v, i) => {
      worst = Math.max(
        worst,
        Math.abs(v - ((1 - fade) * (before[i] as number) + fade * (after[i] as number))),
      );
    });
    expect(worst).toBeLessThanOrEqual(3);
    expect(Array.from(plugin.latent?.data ?? [])).toEqual(Array.from(target.data));
  });

  test('serialize / parse restores the latent and the plugin settings', async () => {
    const plugin = VaeMaterialPlugin.get(pbr) as VaeMaterialPlugin;
    plugin.level = 0.8;
    plugin.uvScale[0] = 2;
    plugin.uvScale[1] = 3;
    const serialized = pbr.serialize();
    const restored = PBRMaterial.Parse(serialized, scene, '');
    const copy = VaeMaterialPlugin.get(restored) as VaeMaterialPlugin;
    expect(copy).toBeInstanceOf(VaeMaterialPlugin);
    expect(copy.level).toBe(0.8);
    expect(copy.uvScale).toEqual([2, 3]);
    expect(copy.model).toBe(model);
    expect(Array.from(copy.latent?.data ?? [])).toEqual(Array.from(plugin.latent?.data ?? []));
    await copy.whenReadyAsync();
    restored.dispose(false, true);
  });

  test('a burst of 1000 latent changes keeps memory flat and ends on the last latent', async () => {
    const plugin = VaeMaterialPlugin.get(standard) as VaeMaterialPlugin;
    await renderUntil(() => false, 2);
    const tensors = tf.memory().numTensors;
    const textures = engine.getLoadedTexturesCache().length;
    const changes: Promise<void>[] = [];
    let last: LatentGrid | null = null;
    const start = performance.now();
    for (let i = 0; i < 1000; i++) {
      last = model.sample({ width: 32, height: 32, seed: 1000 + i });
      changes.push(plugin.setLatent(last).catch(() => undefined));
      if (i % 50 === 0) {
        scene.render();
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    expect(performance.now() - start).toBeLessThan(10_000);
    for (
      let i = 0;
      i < 400 && !(await Promise.race([Promise.all(changes).then(() => true), Promise.resolve(false)]));
      i++
    ) {
      scene.render();
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(changes);
    await renderUntil(() => false, 2);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(engine.getLoadedTexturesCache().length).toBe(textures);
    expect(Array.from(plugin.latent?.data ?? [])).toEqual(Array.from((last as LatentGrid).data));
    // The texture shown is the decode of the last latent.
    const shown = (await plugin.texture?.readPixels()) as Uint8Array;
    const reference = await model.decode(last as LatentGrid);
    let worst = 0;
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        for (let c = 0; c < 3; c++) {
          const a = shown[((31 - y) * 32 + x) * 4 + c] as number;
          const b = reference.data[(y * 32 + x) * 3 + c] as number;
          worst = Math.max(worst, Math.abs(a - b));
        }
      }
    }
    expect(worst).toBeLessThanOrEqual(2);
  });

  test('the material exposes Inspector properties that act on it', async () => {
    const plugin = VaeMaterialPlugin.get(pbr) as VaeMaterialPlugin;
    const labels = (pbr.inspectableCustomProperties ?? []).map((p) => p.label);
    expect(labels).toEqual(expect.arrayContaining(['VAE latent channel 0', 'VAE seed', 'VAE resample']));
    const target = pbr as unknown as Record<string, number>;
    for (const p of pbr.inspectableCustomProperties ?? []) {
      if (p.type !== 6) expect(typeof target[p.propertyName]).toBe('number');
    }
    target.vaeCrossFade = 0.4;
    expect(plugin.crossFade).toBe(0.4);
    const mean = target.vaeLatentChannel0 as number;
    target.vaeLatentChannel0 = mean + 0.5;
    expect(target.vaeLatentChannel0).toBeCloseTo(mean + 0.5, 4);
    target.vaeSeed = 12;
    expect(plugin.seed).toBe(12);
    await renderUntil(() => plugin.controller.isReady());
    expect(plugin.controller.isReady()).toBe(true);
    expect(plugin.crossFade).toBe(1);
  });

  test('bad input gets clear errors', async () => {
    const plugin = VaeMaterialPlugin.get(pbr) as VaeMaterialPlugin;
    await expect(plugin.setLatent(model.sample({ width: 16, height: 16 }))).rejects.toThrow(
      'latent must be 8x8 cells for this 32px material, got 4x4',
    );
    await expect(plugin.morphTo(model.sample({ width: 32, height: 32 }), { duration: -1 })).rejects.toThrow(
      'duration must be from 0 to 600000 ms, got -1',
    );
    expect(() => createVaeMaterial(scene, { model, swatch: 'bricks' })).toThrow(
      "swatch 'bricks' is a name: pass options.swatches (await loadPretrainedSwatches()) to pick it from, or a Swatch",
    );
    expect(() => createVaeMaterial(scene, { model })).toThrow(
      'VAE material source needs options.swatch (a Swatch, e.g. from loadPretrainedSwatches()) or options.latent (a LatentGrid)',
    );
    expect(() => createVaeMaterial(scene, { model, swatch, type: 'glass' as 'pbr' })).toThrow(
      "type must be 'pbr' or 'standard', got glass",
    );
  });
});
