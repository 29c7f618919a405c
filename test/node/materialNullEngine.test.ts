import '@tensorflow/tfjs-backend-cpu';
import { FreeCamera, NullEngine, Scene, type StandardMaterial, Vector3 } from '@babylonjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createVaeMaterial } from '../../src/materials/createVaeMaterial.js';
import { VaeMaterialPlugin } from '../../src/materials/vaeMaterialPlugin.js';
import { TextureVae } from '../../src/model/textureVae.js';
import { registerVaeModel } from '../../src/textures/vaeModelRegistry.js';

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

  beforeAll(async () => {
    await tf.setBackend('cpu');
    engine = new NullEngine();
    scene = new Scene(engine);
    new FreeCamera('camera', Vector3.Zero(), scene);
    model = TextureVae.create(tiny, { seed: 5 });
    registerVaeModel(tiny.name, model);
    material = createVaeMaterial(scene, { model, size: 16, type: 'standard', seed: 3 }) as StandardMaterial;
    plugin = VaeMaterialPlugin.get(material) as VaeMaterialPlugin;
    await plugin.whenReady;
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
    expect(() => plugin.setSource({ model, size: 16, normalStrength: 200 })).toThrow(
      'normal map strength must be a number from 0 to 100, got 200',
    );
    expect(() => plugin.setSource({ model, size: 16, seed: -1 })).toThrow(
      'seed must be an integer from 0 to 4294967295, got -1',
    );
    await expectStillWorking(before);
  });

  test('named materials are own keys only', () => {
    const materials = { bricks: model.sample({ width: 16, height: 16, seed: 1 }) };
    const materialCount = scene.materials.length;
    for (const name of ['toString', '__proto__', 'constructor', 'hasOwnProperty']) {
      expect(() => createVaeMaterial(scene, { model, size: 16, materials, material: name })).toThrow(
        `unknown material '${name}'; allowed: bricks`,
      );
    }
    expect(scene.materials.length).toBe(materialCount);
    const bricks = createVaeMaterial(scene, { model, size: 16, materials, material: 'bricks' });
    expect(Array.from(VaeMaterialPlugin.get(bricks)?.latent?.data ?? [])).toEqual(
      Array.from(materials.bricks.data),
    );
    bricks.dispose();
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
    await plugin.whenReady;
    expect(plugin.texture).not.toBe(replaced);
    expect(Array.from(plugin.latent?.data ?? [])).toEqual(Array.from(Float32Array.from(stored)));
  });
});
