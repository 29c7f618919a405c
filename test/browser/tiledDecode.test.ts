import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import type { Engine, Scene } from '@babylonjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { LatentGrid } from '../../src/latent/latentGrid.js';
import { TextureVae } from '../../src/model/textureVae.js';
import { DecodeScheduler } from '../../src/textures/decodeScheduler.js';
import {
  VaeProceduralTexture,
  type VaeProceduralTextureOptions,
} from '../../src/textures/vaeProceduralTexture.js';
import { createOrthoScene, maxAbsDiff } from '../support/orthoScene.js';
import { texturePixels } from '../support/texturePixels.js';

// 40 px at stride 4 is 10 latent cells a side; 16 px tiles (4 cells) split each axis 4, 3, 3: nine uneven tiles.
const size = 40;
const tileSize = 16;
const tiny = { latentChannels: 4, stride: 4, encoderWidths: [8, 8, 8], decoderWidths: [8, 8, 8] };

/** Renders frames until `promise` settles (at most `max`); returns how many it took. */
async function framesUntil(scene: Scene, promise: Promise<unknown>, max = 200): Promise<number> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  let frames = 0;
  while (!settled && frames < max) {
    scene.render();
    frames++;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return frames;
}

// On this software rasteriser 'auto' decodes in a worker: these tests ask for the GPU paths by name.
describe('VaeProceduralTexture decoded in tiles over frames', () => {
  let engine: Engine;
  let scene: Scene;
  let frame = 0;
  const models: Record<'tileable' | 'plain', TextureVae> = {} as never;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    ({ engine, scene } = createOrthoScene(size, size));
    // Turns come from frames only (no idle turns), so the tests can count them.
    DecodeScheduler.forScene(scene, { idleFrameMs: 1e9 });
    scene.onBeforeRenderObservable.add(() => frame++);
    models.tileable = TextureVae.create({ ...tiny, tileable: true, name: 'tiled-a' }, { seed: 5 });
    models.plain = TextureVae.create({ ...tiny, tileable: false, name: 'tiled-b' }, { seed: 6 });
  });

  afterAll(() => {
    engine.dispose();
    models.tileable.dispose();
    models.plain.dispose();
  });

  function texture(
    name: string,
    model: TextureVae,
    latent: LatentGrid,
    options: Partial<VaeProceduralTextureOptions> = {},
  ): VaeProceduralTexture {
    return new VaeProceduralTexture(name, scene, {
      decodePath: 'zero-copy',
      decodeTileSize: tileSize,
      generateMipMaps: false,
      model,
      size,
      latent,
      ...options,
    });
  }

  /** Counts the model's decodes and the frame each ran in while `fn` runs. */
  async function countingDecodes<T>(
    model: TextureVae,
    fn: () => Promise<T>,
  ): Promise<{ frames: number[]; result: T }> {
    const frames: number[] = [];
    const original = model.decodeTensors;
    model.decodeTensors = function (this: TextureVae, ...args: Parameters<TextureVae['decodeTensors']>) {
      frames.push(frame);
      return original.apply(this, args);
    };
    try {
      return { frames, result: await fn() };
    } finally {
      model.decodeTensors = original;
    }
  }

  for (const kind of ['tileable', 'plain'] as const) {
    for (const decodePath of ['zero-copy', 'readback'] as const) {
      test(`tiles give the pixels of one whole decode (${kind} model, ${decodePath})`, async () => {
        const model = models[kind];
        const latent = model.sample({ width: size, height: size, seed: 9 });
        const whole = texture('whole', model, latent, { decodeTileSize: 0, decodePath });
        const tiled = texture('tiled', model, latent, { decodePath });
        const linear = texture('linear', model, latent, { decodePath, colourSpace: 'linear' });
        const wholeLinear = texture('wholeLinear', model, latent, {
          decodePath,
          colourSpace: 'linear',
          decodeTileSize: 0,
        });
        expect(whole.decodeTiles).toEqual([]);
        expect(tiled.decodeTiles.map((t) => t.rect.width)).toEqual([16, 12, 12, 16, 12, 12, 16, 12, 12]);
        const ready = Promise.all([whole, tiled, linear, wholeLinear].map((t) => t.whenReadyAsync()));
        await framesUntil(scene, ready);
        await ready;
        expect(tiled.source.kind).toBe(decodePath);
        const a = await texturePixels(whole);
        const b = await texturePixels(tiled);
        expect(maxAbsDiff(a, b)).toBe(0);
        expect(maxAbsDiff(await texturePixels(wholeLinear), await texturePixels(linear))).toBe(0);
        // Not a blank image that would equal anything.
        expect(new Set(a).size).toBeGreaterThan(20);
        for (const t of [whole, tiled, linear, wholeLinear]) t.dispose();
      });
    }
  }

  test('a regenerate decodes one tile per frame and shows nothing new until every tile is written', async () => {
    const model = models.tileable;
    const first = model.sample({ width: size, height: size, seed: 1 });
    const second = model.sample({ width: size, height: size, seed: 2 });
    const tiled = texture('frames', model, first);
    const reference = texture('reference', model, second, { decodeTileSize: 0 });
    await framesUntil(scene, Promise.all([tiled.whenReadyAsync(), reference.whenReadyAsync()]));
    const before = await texturePixels(tiled);
    let generated = 0;
    tiled.onGeneratedObservable.add(() => generated++);
    const { frames } = await countingDecodes(model, async () => {
      const done = tiled.regenerate(second);
      // Mid-way the texture still shows the old content, whole.
      while (frame < 1e9) {
        await framesUntil(scene, done, 1);
        if (generated > 0) break;
        expect(tiled.isReady()).toBe(true);
        expect(maxAbsDiff(await texturePixels(tiled), before)).toBe(0);
      }
      await done;
    });
    expect(frames.length).toBe(9);
    expect(new Set(frames).size).toBe(9);
    expect(generated).toBe(1);
    expect(maxAbsDiff(await texturePixels(tiled), await texturePixels(reference))).toBe(0);
    tiled.dispose();
    reference.dispose();
  });

  test('a regenerate in flight is superseded by a newer one; nothing leaks, also on dispose mid-way', async () => {
    const model = models.plain;
    const latents = [3, 4, 5].map((seed) => model.sample({ width: size, height: size, seed }));
    const reference = texture('reference', model, latents[2], { decodeTileSize: 0 });
    const tiled = texture('supersede', model, latents[0]);
    await framesUntil(scene, Promise.all([tiled.whenReadyAsync(), reference.whenReadyAsync()]));
    // Warm: the tile buffer exists and every program is compiled.
    await framesUntil(scene, tiled.regenerate(latents[1]));
    const tensors = tf.memory().numTensors;
    const textures = engine.getLoadedTexturesCache().length;
    const { frames } = await countingDecodes(model, async () => {
      const older = tiled.regenerate(latents[1]);
      for (let i = 0; i < 3; i++) await framesUntil(scene, older, 1);
      const newer = tiled.regenerate(latents[2]);
      await framesUntil(scene, Promise.all([older, newer]));
      await Promise.all([older, newer]);
    });
    // The older regenerate's three tiles, then all nine of the newer one.
    expect(frames.length).toBe(12);
    expect(maxAbsDiff(await texturePixels(tiled), await texturePixels(reference))).toBe(0);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(engine.getLoadedTexturesCache().length).toBe(textures);

    const inFlight = tiled.regenerate(latents[0]);
    for (let i = 0; i < 2; i++) await framesUntil(scene, inFlight, 1);
    tiled.dispose();
    await expect(inFlight).rejects.toThrow(/disposed/);
    await framesUntil(scene, new Promise(() => {}), 3);
    expect(tf.memory().numTensors).toBe(tensors);
    // The texture's render target and its tile buffer are gone.
    expect(engine.getLoadedTexturesCache().length).toBe(textures - 2);
    reference.dispose();
  });

  test('a bad decodeTileSize throws before anything is allocated', () => {
    const model = models.tileable;
    const latent = model.sample({ width: size, height: size, seed: 1 });
    const textures = engine.getLoadedTexturesCache().length;
    for (const bad of [6, -4, 2.5, 'big']) {
      expect(() => texture('bad', model, latent, { decodeTileSize: bad as number })).toThrow(
        `decodeTileSize must be 'auto', 0 (one decode) or a multiple of 4 (the model's stride) from 4 to 4096 pixels, got ${typeof bad === 'string' ? `'${bad}'` : bad}`,
      );
    }
    expect(engine.getLoadedTexturesCache().length).toBe(textures);
  });
});
