import '@tensorflow/tfjs-backend-cpu';
import { FreeCamera, NullEngine, Scene, type StandardMaterial, Vector3 } from '@babylonjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Swatch } from '../../src/latent/swatch.js';
import { createVaeMaterial } from '../../src/materials/createVaeMaterial.js';
import { VaeMaterialPlugin } from '../../src/materials/vaeMaterialPlugin.js';
import { TextureVae } from '../../src/model/textureVae.js';
import { registerVaeModel, registerVaeSwatches } from '../../src/textures/vaeModelRegistry.js';

const tiny = {
  latentChannels: 4,
  stride: 4,
  encoderWidths: [8, 8, 8],
  decoderWidths: [8, 8, 8],
  name: 'tiny-material',
};

/** An object whose length must never be read: a parser that copies before checking touches it. */
const unread = {
  get length(): number {
    throw new Error('the declared data must not be read');
  },
};

describe('VaeMaterialPlugin on a NullEngine: a refused source leaves the working one in place', () => {
  let engine: NullEngine;
  let scene: Scene;
  let model: TextureVae;
  let material: StandardMaterial;
  let plugin: VaeMaterialPlugin;
  let swatch: Swatch;
  let other: Swatch;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    engine = new NullEngine();
    scene = new Scene(engine);
    new FreeCamera('camera', Vector3.Zero(), scene);
    model = TextureVae.create(tiny, { seed: 5 });
    registerVaeModel(tiny.name, model);
    // Swatches of exemplar grids (64 px at stride 4): the material only samples them.
    swatch = Swatch.fromLatent(model, model.sample({ width: 64, height: 64, seed: 11 }), { name: 'a' });
    other = Swatch.fromLatent(model, model.sample({ width: 64, height: 64, seed: 12 }), { name: 'b' });
    material = createVaeMaterial(scene, {
      model,
      size: 16,
      type: 'standard',
      seed: 3,
      swatch,
    }) as StandardMaterial;
    plugin = VaeMaterialPlugin.get(material) as VaeMaterialPlugin;
    await plugin.whenReadyAsync();
  });

  afterAll(() => {
    material.dispose();
    model.dispose();
    scene.dispose();
    engine.dispose();
  });

  /** What must not change when a new source is refused. */
  function snapshot() {
    return {
      texture: plugin.texture?.uniqueId,
      latent: Array.from(plugin.latent?.data ?? []),
      crossFade: plugin.crossFade,
      level: plugin.level,
      tensors: tf.memory().numTensors,
      // The scene's list, not the engine cache: NullEngine keeps released internal textures in its cache.
      textures: scene.textures.length,
    };
  }

  async function expectStillWorking(before: ReturnType<typeof snapshot>): Promise<void> {
    expect(snapshot()).toEqual(before);
    expect(plugin.texture?.isReady()).toBe(true);
    expect(plugin.model).toBe(model);
    // The material still changes latents on its old textures.
    const next = model.sample({ width: 16, height: 16, seed: 99 });
    let done = false;
    const changed = plugin.setLatent(next).then(() => {
      done = true;
    });
    // The cut finishes on the next frame after the decode: render until it has.
    for (let i = 0; i < 500 && !done; i++) {
      scene.render();
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await changed;
    expect(Array.from(plugin.latent?.data ?? [])).toEqual(Array.from(next.data));
  }

  test('setSource with a bad size, latent or normal strength throws before anything is released', async () => {
    const before = snapshot();
    const latent = plugin.latent ?? undefined;
    expect(() => plugin.setSource({ model, size: 30, latent })).toThrow(
      'VaeProceduralTexture size: must be a multiple of 4 between 4 and 4096, got 30',
    );
    expect(() =>
      plugin.setSource({ model, size: 16, latent: model.sample({ width: 8, height: 8 }) }),
    ).toThrow('latent must be 4x4 cells for a 16px texture (stride 4), got 2x2');
    expect(() => plugin.setSource({ model, size: 16, swatch, normalStrength: 200 })).toThrow(
      'normal map strength must be a number from 0 to 100, got 200',
    );
    expect(() => plugin.setSource({ model, size: 16, swatch, seed: -1 })).toThrow(
      'seed must be an integer from 0 to 4294967295, got -1',
    );
    expect(() => plugin.setSource({ model, size: 16 })).toThrow(
      'VAE material source needs options.swatch (a Swatch, e.g. from loadPretrainedSwatches()) or options.latent (a LatentGrid)',
    );
    const stranger = TextureVae.create({ ...tiny, name: 'stranger' }, { seed: 1 });
    expect(() => plugin.setSource({ model: stranger, size: 16, swatch })).toThrow(
      "swatch 'a' was made with model 'tiny-material'",
    );
    stranger.dispose();
    await expectStillWorking(before);
  });

  test('the first latent is a swatch sample; named swatches are own keys only', () => {
    expect(plugin.swatch).toBe(swatch);
    const swatches = Object.freeze(Object.assign(Object.create(null), { bricks: swatch }));
    const materialCount = scene.materials.length;
    for (const name of ['toString', '__proto__', 'constructor', 'hasOwnProperty']) {
      expect(() => createVaeMaterial(scene, { model, size: 16, swatches, swatch: name })).toThrow(
        `unknown swatch '${name}'; allowed: bricks`,
      );
    }
    expect(() => createVaeMaterial(scene, { model, size: 16, swatch: 'bricks' })).toThrow(
      "swatch 'bricks' is a name: pass options.swatches",
    );
    expect(() => createVaeMaterial(scene, { model, size: 16 })).toThrow(/needs options.swatch/);
    expect(scene.materials.length).toBe(materialCount);
    const bricks = createVaeMaterial(scene, { model, size: 16, swatches, swatch: 'bricks', seed: 8 });
    expect(VaeMaterialPlugin.get(bricks)?.swatch).toBe(swatch);
    expect(Array.from(VaeMaterialPlugin.get(bricks)?.latent?.data ?? [])).toEqual(
      Array.from(swatch.sample({ width: 16, height: 16, seed: 8 }).data),
    );
    bricks.dispose();
  });

  /** Renders frames until `promise` settles (cuts and fades finish on frames). */
  async function settle<T>(promise: Promise<T>): Promise<T> {
    let done = false;
    const watched = promise.finally(() => {
      done = true;
    });
    for (let i = 0; i < 2000 && !done; i++) {
      scene.render();
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return watched;
  }

  test('resample and similar draw from the swatch; morphTo a swatch ends on its aligned sample', async () => {
    await settle(plugin.resample({ seed: 21 }));
    expect(plugin.seed).toBe(21);
    expect(Array.from(plugin.latent?.data ?? [])).toEqual(
      Array.from(swatch.sample({ width: 16, height: 16, seed: 21 }).data),
    );
    const start = plugin.latent as NonNullable<typeof plugin.latent>;
    await settle(plugin.similar(0.5, { seed: 4 }));
    expect(Array.from(plugin.latent?.data ?? [])).toEqual(Array.from(swatch.similar(start, 0.5, 4).data));

    const shown: number[][] = [];
    const observer = plugin.onReadyObservable.add((l) => shown.push(Array.from(l.data)));
    const morph = plugin.morphTo(other, { duration: 120, seed: 30 });
    expect(plugin.isMorphing).toBe(true);
    await settle(morph);
    plugin.onReadyObservable.remove(observer);
    const [from, to] = Swatch.sampleAligned([swatch, other], { width: 16, height: 16, seed: 30 });
    expect(plugin.swatch).toBe(other);
    expect(plugin.isMorphing).toBe(false);
    expect(Array.from(plugin.latent?.data ?? [])).toEqual(Array.from(to.data));
    // It passed through latents between the two aligned samples, not only a cut to the end.
    expect(shown.length).toBeGreaterThan(1);
    const between = shown[0].some((v, i) => v !== to.data[i] && v !== from.data[i]);
    expect(between).toBe(true);

    // A latent change interrupts a morph.
    const interrupted = plugin.morphTo(swatch, { duration: 5000 });
    const cut = plugin.setLatent(to);
    await expect(interrupted).rejects.toThrow('the morph was interrupted by another latent change');
    await settle(cut);
    expect(plugin.swatch).toBe(other);

    await expect(plugin.morphTo(swatch, { duration: -1 })).rejects.toThrow(
      'duration must be from 0 to 600000 ms, got -1',
    );
    await settle(plugin.morphTo(swatch, { duration: 0, seed: 2 }));
    expect(plugin.swatch).toBe(swatch);
  });

  test('a material drawn from a registered swatch serializes its name, and parse binds it again', async () => {
    const named = createVaeMaterial(scene, { model, size: 16, swatch: other, seed: 4, name: 'named' });
    const p = VaeMaterialPlugin.get(named) as VaeMaterialPlugin;
    await p.whenReadyAsync();
    expect(p.serialize().vae.swatch).toBeUndefined();
    registerVaeSwatches(tiny.name, { other });
    const json = JSON.parse(JSON.stringify(p.serialize()));
    expect(json.vae.swatch).toBe('other');
    expect(() => p.parse({ ...json, vae: { ...json.vae, swatch: 'gone' } }, scene, '')).toThrow(
      `no swatch 'gone' registered for model '${tiny.name}': call registerVaeSwatches('${tiny.name}', swatches) before loading`,
    );
    p.parse({ ...json, vae: { ...json.vae, seed: 9 } }, scene, '');
    expect(p.swatch).toBe(other);
    await settle(p.resample({ seed: 10 }));
    expect(Array.from(p.latent?.data ?? [])).toEqual(Array.from(other.sample({ width: 16, seed: 10 }).data));
    named.dispose();
  });

  test('keyframe animation takes swatches, sampled with one layout; a latent-only material cannot resample', async () => {
    plugin.animate({ mode: 'keyframes', keyframes: [swatch, other], period: 1 });
    expect(plugin.isAnimating).toBe(true);
    plugin.stopAnimation();
    const latentOnly = createVaeMaterial(scene, {
      model,
      size: 16,
      latent: model.sample({ width: 16, height: 16, seed: 2 }),
    });
    const p = VaeMaterialPlugin.get(latentOnly) as VaeMaterialPlugin;
    expect(p.swatch).toBe(null);
    await expect(p.resample()).rejects.toThrow(
      "resample() draws from the material's swatch, and this material was made from a latent",
    );
    await expect(p.similar(0.3)).rejects.toThrow(/similar\(\) draws from the material's swatch/);
    latentOnly.dispose();
  });

  test('parse checks the stored source before it touches the material or copies the latent', async () => {
    const json = JSON.parse(JSON.stringify(plugin.serialize()));
    const before = snapshot();
    const withVae = (vae: Record<string, unknown>) => ({
      ...json,
      crossFade: 0.25,
      vae: { ...json.vae, ...vae },
    });
    for (const [vae, message] of [
      [{ size: 30 }, 'VaeMaterialPlugin.parse: size must be a multiple of 4 between 4 and 4096, got 30'],
      [
        { latent: undefined },
        'serialized latent must be an object {height, width, channels, data}, got undefined',
      ],
      [
        { latent: { ...json.vae.latent, data: unread } },
        'serialized latent data must be an array of 64 numbers',
      ],
      [
        { latent: { ...json.vae.latent, height: 1e4 } },
        'serialized latent must be 4x4x4 (height x width x channels) for this size and model, got 10000x4x4',
      ],
      [{ normalStrength: 200 }, 'normal map strength must be a number from 0 to 100, got 200'],
      [{ modelId: 'gone' }, "no TextureVae registered under 'gone'"],
    ] as const) {
      expect(() => plugin.parse(withVae(vae), scene, '')).toThrow(message);
    }
    expect(() => plugin.parse({ ...json, vae: 'bricks' }, scene, '')).toThrow(
      'VaeMaterialPlugin.parse: vae must be the object VaeMaterialPlugin.serialize() wrote',
    );
    await expectStillWorking(before);

    // A good one replaces the source, and its latent comes back exactly.
    const stored = Array.from(json.vae.latent.data as number[]);
    const replaced = plugin.texture;
    plugin.parse(json, scene, '');
    await plugin.whenReadyAsync();
    expect(plugin.texture).not.toBe(replaced);
    expect(Array.from(plugin.latent?.data ?? [])).toEqual(Array.from(Float32Array.from(stored)));
  });
});
