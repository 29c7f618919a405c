import '@tensorflow/tfjs-backend-cpu';
import {
  FreeCamera,
  NullEngine,
  PBRMaterial,
  Scene,
  ShaderLanguage,
  ShaderMaterial,
  StandardMaterial,
  type UniformBuffer,
  Vector3,
} from '@babylonjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import type { LatentGrid } from '../../src/latent/latentGrid.js';
import { Swatch } from '../../src/latent/swatch.js';
import { VaeMaterialController } from '../../src/materials/vaeMaterialController.js';
import { VaeMaterialDefines, VaeMaterialPlugin } from '../../src/materials/vaeMaterialPlugin.js';
import type { VaeMaterialView } from '../../src/materials/vaeSwapChain.js';
import { TextureVae } from '../../src/model/textureVae.js';
import { registerVaeModel } from '../../src/textures/vaeModelRegistry.js';
import type { VaeProceduralTexture } from '../../src/textures/vaeProceduralTexture.js';

const tiny = {
  latentChannels: 4,
  stride: 4,
  encoderWidths: [8, 8, 8],
  decoderWidths: [8, 8, 8],
  name: 'tiny-controller',
};

let engine: NullEngine;
let scene: Scene;
let model: TextureVae;
let swatch: Swatch;
/** The time the controller and its swap chain read (performance.now), moved by the tests. */
let clock = 0;

beforeAll(async () => {
  await tf.setBackend('cpu');
  engine = new NullEngine();
  scene = new Scene(engine);
  new FreeCamera('camera', Vector3.Zero(), scene);
  model = TextureVae.create(tiny, { seed: 5 });
  registerVaeModel(tiny.name, model);
  swatch = Swatch.fromLatent(model, model.sample({ width: 64, height: 64, seed: 11 }), { name: 'a' });
  vi.spyOn(performance, 'now').mockImplementation(() => clock);
});

afterAll(() => {
  vi.restoreAllMocks();
  model.dispose();
  scene.dispose();
  engine.dispose();
});

/** Renders frames 10 ms apart until `done()`; decodes finish between frames. */
async function framesUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !done(); i++) {
    clock += 10;
    scene.render();
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(done()).toBe(true);
}

function latent(seed: number): LatentGrid {
  return swatch.sample({ width: 16, height: 16, seed });
}

describe('VaeMaterialController on a NullEngine, driving a plain view', () => {
  let material: StandardMaterial;
  let view: VaeMaterialView;
  let controller: VaeMaterialController;
  let tensors: number;
  let textures: number;

  beforeAll(async () => {
    tensors = tf.memory().numTensors;
    textures = scene.textures.length;
    material = new StandardMaterial('plain', scene);
    view = { texture: null, previousTexture: null, crossFade: 1 };
    controller = new VaeMaterialController(material, view);
    await expect(controller.whenReadyAsync()).rejects.toThrow('the VAE material has no source');
    const first = controller.setSource({ model, swatch, size: 16, seed: 3, normalStrength: 2 });
    expect(controller.isReady()).toBe(false);
    await framesUntil(() => controller.isReady());
    await first;
  });

  afterEach(() => {
    controller.onReadyObservable.clear();
  });

  test('the first texture is the swatch sample of the seed, with its normal map in the bump slot', () => {
    expect(view.texture?.getClassName()).toBe('VaeProceduralTexture');
    expect(view.previousTexture).toBe(null);
    expect(view.crossFade).toBe(1);
    expect(material.bumpTexture).toBe(controller.normalTexture);
    expect(Array.from(controller.latent?.data ?? [])).toEqual(Array.from(latent(3).data));
  });

  test('a cross-fade follows the clock: decode into the hidden texture, swap, fade, then ready', async () => {
    const shown = view.texture;
    // The hidden texture takes the shown texture's workerCpuShare, so a changed share survives the swap.
    (shown as VaeProceduralTexture).workerCpuShare = 0.5;
    const next = latent(40);
    let ready: LatentGrid | null = null;
    controller.onReadyObservable.add((l) => {
      ready = l;
    });
    const change = controller.setLatent(next, { duration: 100 });
    expect(controller.isReady()).toBe(false);
    await framesUntil(() => view.previousTexture === shown);
    expect(view.texture).not.toBe(shown);
    expect(view.crossFade).toBe(0);
    clock += 25;
    scene.render();
    expect(view.crossFade).toBe(0.25);
    expect(ready).toBe(null);
    clock += 75;
    scene.render();
    expect(view.crossFade).toBe(1);
    await change;
    expect(controller.isReady()).toBe(true);
    expect(Array.from((ready as unknown as LatentGrid).data)).toEqual(Array.from(next.data));
    expect((view.texture as VaeProceduralTexture).workerCpuShare).toBe(0.5);
  });

  test('a burst of changes coalesces: every promise resolves, at most two latents are shown, the last one last', async () => {
    const shown: LatentGrid[] = [];
    controller.onReadyObservable.add((l) => shown.push(l));
    const burst = [50, 51, 52, 53, 54, 55].map((seed) => controller.setLatent(latent(seed)));
    let settled = false;
    const all = Promise.all(burst).then(() => {
      settled = true;
    });
    await framesUntil(() => settled);
    await all;
    expect(shown.length).toBeLessThanOrEqual(2);
    expect(Array.from(shown[shown.length - 1].data)).toEqual(Array.from(latent(55).data));
    expect(Array.from(controller.latent?.data ?? [])).toEqual(Array.from(latent(55).data));
  });

  test('the latent given is copied: changing it afterwards changes nothing', async () => {
    const mine = latent(60);
    const change = controller.setLatent(mine);
    const expected = Array.from(mine.data);
    mine.data.fill(7);
    let done = false;
    void change.then(() => {
      done = true;
    });
    await framesUntil(() => done);
    expect(Array.from(controller.latent?.data ?? [])).toEqual(expected);
    expect(controller.serialize()?.latent.data).toEqual(expected);
  });

  test('a failed decode rejects its request, and the next latent is shown', async () => {
    const failing = vi.spyOn(model, 'decodeTensors').mockImplementationOnce(() => {
      throw new Error('decoder exploded');
    });
    await expect(controller.setLatent(latent(70))).rejects.toThrow('decoder exploded');
    failing.mockRestore();
    expect(controller.isReady()).toBe(false);
    await expect(controller.whenReadyAsync()).rejects.toThrow('decoder exploded');
    const again = controller.setLatent(latent(71));
    let done = false;
    void again.then(() => {
      done = true;
    });
    await framesUntil(() => done);
    expect(controller.isReady()).toBe(true);
  });

  test('bad input is refused before anything changes', async () => {
    const before = Array.from(controller.latent?.data ?? []);
    await expect(controller.setLatent(model.sample({ width: 8, height: 8 }))).rejects.toThrow(
      'latent must be 4x4 cells for this 16px material, got 2x2',
    );
    await expect(controller.setLatent(latent(1), { duration: -1 })).rejects.toThrow(
      'duration must be from 0 to 600000 ms, got -1',
    );
    await expect(controller.resample({ seed: 1.5 })).rejects.toThrow(
      'seed must be an integer from 0 to 4294967295, got 1.5',
    );
    expect(() => controller.animate({ mode: 'walk' }, { fade: Number.NaN })).toThrow(
      'duration must be from 0 to 600000 ms, got NaN',
    );
    expect(Array.from(controller.latent?.data ?? [])).toEqual(before);
    expect(controller.isReady()).toBe(true);
  });

  test('a walk animation shows new latents with the clock until stopped', async () => {
    const shown: LatentGrid[] = [];
    controller.onReadyObservable.add((l) => shown.push(l));
    controller.animate({ mode: 'walk', speed: 1, seed: 4 }, { fade: 0 });
    expect(controller.isAnimating).toBe(true);
    for (let step = 0; step < 3; step++) {
      clock += 500;
      const count = shown.length;
      await framesUntil(() => shown.length > count);
    }
    controller.stopAnimation();
    expect(controller.isAnimating).toBe(false);
    expect(new Set(shown.map((l) => l.data.join())).size).toBe(shown.length);
  });

  test('dispose releases both textures and the normal map: tensors and scene textures back where they began', async () => {
    // The material goes away while the model computes the next texture.
    const decode = model.decodeTensors.bind(model);
    const spy = vi.spyOn(model, 'decodeTensors').mockImplementationOnce((input) => {
      controller.dispose();
      return decode(input);
    });
    const pending = controller.setLatent(latent(80));
    const outcome = pending.then(
      () => 'resolved',
      (e: Error) => e.message,
    );
    await framesUntil(() => spy.mock.calls.length === 1);
    spy.mockRestore();
    expect(await outcome).toBe('the VAE material was disposed before the change was shown');
    controller.dispose();
    expect(controller.isReady()).toBe(false);
    expect(material.bumpTexture).toBe(null);
    material.dispose();
    // A decode already running finishes into its disposed texture; give it the frames it needs.
    await framesUntil(() => tf.memory().numTensors === tensors);
    expect(scene.textures.length).toBe(textures);
  });
});

describe('VaeMaterialPlugin rules on a NullEngine', () => {
  test('attaches to PBR and Standard materials only', () => {
    const shader = new ShaderMaterial('shader', scene, 'default', {});
    expect(() => new VaeMaterialPlugin(shader)).toThrow(
      'VaeMaterialPlugin attaches to a PBRMaterial or a StandardMaterial, got ShaderMaterial',
    );
    shader.dispose();
  });

  test('defines, custom code and textures follow the material type, the texture and isEnabled', async () => {
    const pbr = new PBRMaterial('pbr', scene);
    const plugin = new VaeMaterialPlugin(pbr);
    expect(plugin.isCompatible(ShaderLanguage.GLSL)).toBe(true);
    expect(plugin.isCompatible(ShaderLanguage.WGSL)).toBe(true);
    const defines = new VaeMaterialDefines();
    plugin.prepareDefinesBeforeAttributes(defines);
    expect(defines.VAE_TEXTURE).toBe(false);

    await plugin.setSource({ model, swatch, size: 16 });
    const texture = plugin.texture;
    expect(texture).not.toBe(null);
    plugin.prepareDefinesBeforeAttributes(defines);
    expect(defines.VAE_TEXTURE).toBe(true);
    expect(defines.VAE_GAMMA).toBe(true); // PBR lights in linear space; the texture is sRGB
    expect((defines as unknown as Record<string, unknown>).MAINUV1).toBe(true);
    expect(plugin.hasTexture(texture as never)).toBe(true);
    const active: unknown[] = [];
    plugin.getActiveTextures(active as never);
    expect(active).toEqual([texture]);

    const glsl = plugin.getCustomCode('fragment', ShaderLanguage.GLSL) as Record<string, string>;
    expect(glsl.CUSTOM_FRAGMENT_UPDATE_ALBEDO).toContain('surfaceAlbedo *= vaeAlbedo(vMainUV1)');
    expect(glsl.CUSTOM_FRAGMENT_DEFINITIONS).toContain('uniform sampler2D vaePrevSampler');
    const wgsl = plugin.getCustomCode('fragment', ShaderLanguage.WGSL) as Record<string, string>;
    expect(wgsl.CUSTOM_FRAGMENT_UPDATE_ALBEDO).toContain('vaeAlbedo(fragmentInputs.vMainUV1)');
    expect(plugin.getCustomCode('vertex')).toBe(null);

    plugin.isEnabled = false;
    plugin.prepareDefinesBeforeAttributes(defines);
    expect(defines.VAE_TEXTURE).toBe(false);
    pbr.dispose();

    const standard = new StandardMaterial('standard', scene);
    const std = new VaeMaterialPlugin(standard);
    const code = std.getCustomCode('fragment') as Record<string, string>;
    expect(code.CUSTOM_FRAGMENT_UPDATE_DIFFUSE).toContain('baseColor.rgb * vaeAlbedo(vMainUV1)');
    expect(code.CUSTOM_FRAGMENT_UPDATE_ALBEDO).toBeUndefined();
    await std.setSource({ model, swatch, size: 16 });
    std.prepareDefinesBeforeAttributes(defines);
    expect(defines.VAE_GAMMA).toBe(false); // Standard lights sRGB colours directly
    standard.dispose();
  });

  test('bind writes the clamped cross-fade, level and uvScale, and skips uniforms on a frozen material in sync', async () => {
    const material = new StandardMaterial('bind', scene);
    const plugin = new VaeMaterialPlugin(material);
    await plugin.setSource({ model, swatch, size: 16 });
    const calls: unknown[][] = [];
    const buffer = {
      useUbo: true,
      isSync: true,
      updateFloat4: (...args: unknown[]) => calls.push(['updateFloat4', ...args]),
      setTexture: (name: string, t: unknown) => calls.push(['setTexture', name, t]),
    } as unknown as UniformBuffer;
    plugin.crossFade = 1.5;
    plugin.level = 0.5;
    plugin.uvScale[0] = 2;
    plugin.bindForSubMesh(buffer, scene);
    expect(calls).toEqual([
      ['updateFloat4', 'vaeInfos', 1, 0.5, 2, 1],
      ['setTexture', 'vaeSampler', plugin.texture],
      ['setTexture', 'vaePrevSampler', plugin.texture],
    ]);
    calls.length = 0;
    material.freeze();
    plugin.bindForSubMesh(buffer, scene);
    expect(calls.map((c) => c[0])).toEqual(['setTexture', 'setTexture']);
    material.unfreeze();
    calls.length = 0;
    plugin.isEnabled = false;
    plugin.bindForSubMesh(buffer, scene);
    expect(calls).toEqual([]);
    material.dispose();
  });

  test('serialize stores the declared properties and the source; parse restores them', async () => {
    const material = new StandardMaterial('saved', scene);
    const plugin = new VaeMaterialPlugin(material);
    await plugin.setSource({ model, swatch, size: 16, seed: 6 });
    plugin.crossFade = 0.75;
    plugin.level = 0.5;
    plugin.isEnabled = false;
    plugin.uvScale[1] = 3;
    const json = JSON.parse(JSON.stringify(plugin.serialize()));
    expect(json).toMatchObject({ name: 'VaeMaterial', crossFade: 0.75, level: 0.5, isEnabled: false });
    expect(json.uvScale).toEqual([1, 3]);
    expect(json.vae).toMatchObject({ modelId: tiny.name, size: 16, seed: 6 });

    const other = new StandardMaterial('loaded', scene);
    const copy = new VaeMaterialPlugin(other);
    copy.parse({ ...json, vae: undefined }, scene, '');
    expect(copy.crossFade).toBe(0.75);
    copy.parse(json, scene, '');
    expect(copy.crossFade).toBe(1); // the stored source is shown fully, as after setSource
    expect(copy.level).toBe(0.5);
    expect(copy.isEnabled).toBe(false);
    expect(copy.uvScale).toEqual([1, 3]);
    expect(copy.seed).toBe(6);
    expect(Array.from(copy.latent?.data ?? [])).toEqual(Array.from(plugin.latent?.data ?? []));
    await copy.whenReadyAsync();
    material.dispose();
    other.dispose();
  });

  test('the Inspector properties act on the material', async () => {
    const material = new StandardMaterial('inspected', scene);
    const plugin = new VaeMaterialPlugin(material);
    await plugin.setSource({ model, swatch, size: 16, seed: 2 });
    const target = material as unknown as Record<string, number>;
    target.vaeCrossFade = 0.3;
    expect(plugin.crossFade).toBe(0.3);
    const mean = target.vaeLatentChannel1;
    target.vaeLatentChannel1 = mean + 1;
    expect(target.vaeLatentChannel1).toBeCloseTo(mean + 1, 4);
    await framesUntil(() => plugin.controller.isReady());
    target.vaeSeed = 9;
    expect(plugin.seed).toBe(9);
    await framesUntil(() => plugin.controller.isReady());
    expect(Array.from(plugin.latent?.data ?? [])).toEqual(
      Array.from(swatch.sample({ width: 16, height: 16, seed: 9 }).data),
    );
    const button = material.inspectableCustomProperties.find((p) => p.label === 'VAE resample');
    button?.callback?.();
    expect(plugin.seed).not.toBe(9);
    await framesUntil(() => plugin.controller.isReady());
    material.dispose();
  });
});
