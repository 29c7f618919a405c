import '@tensorflow/tfjs-backend-cpu';
import { Constants, FreeCamera, NullEngine, Scene, Vector3 } from '@babylonjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { LatentGrid } from '../../src/latent/latentGrid.js';
import { Swatch } from '../../src/latent/swatch.js';
import { TextureVae } from '../../src/model/textureVae.js';
import {
  getVaeModel,
  getVaeSwatch,
  registerVaeModel,
  registerVaeSwatches,
} from '../../src/textures/vaeModelRegistry.js';
import {
  registerVaeProceduralTexture,
  VaeProceduralTexture,
} from '../../src/textures/vaeProceduralTexture.js';

const tiny = {
  latentChannels: 4,
  stride: 4,
  encoderWidths: [8, 8, 8],
  decoderWidths: [8, 8, 8],
  name: 'tiny-node',
};

function latentOf(model: TextureVae, size: number, fill: (i: number) => number): LatentGrid {
  const grid = model.latentSize(size, size);
  const data = new Float32Array(grid.height * grid.width * model.latentChannels);
  for (let i = 0; i < data.length; i++) data[i] = fill(i);
  return { data, height: grid.height, width: grid.width, channels: model.latentChannels };
}

describe('VaeProceduralTexture on a NullEngine (readback path, cpu backend)', () => {
  let engine: NullEngine;
  let scene: Scene;
  let model: TextureVae;
  let swatch: Swatch;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    engine = new NullEngine();
    scene = new Scene(engine);
    new FreeCamera('camera', Vector3.Zero(), scene);
    model = TextureVae.create(tiny, { seed: 3 });
    swatch = Swatch.fromLatent(model, model.sample({ width: 64, height: 64, seed: 7 }), { name: 'noise' });
  });

  afterAll(() => {
    model.dispose();
    scene.dispose();
    engine.dispose();
  });

  test('falls back to the readback source and generates', async () => {
    const texture = new VaeProceduralTexture('vae', scene, { model, size: 16, swatch });
    expect(texture.source.kind).toBe('readback');
    expect(texture.getClassName()).toBe('VaeProceduralTexture');
    const readyWhenGenerated: boolean[] = [];
    texture.onGeneratedObservable.add(() => readyWhenGenerated.push(texture.isReady()));
    await texture.regenerate();
    expect(texture.isReady()).toBe(true);
    expect(readyWhenGenerated).toEqual([true]);
    expect(texture.wrapU).toBe(Constants.TEXTURE_WRAP_ADDRESSMODE);
    texture.dispose();
    texture.dispose();
    expect(texture.isReady()).toBe(false);
  });

  test('options resolve with documented defaults and the caller object is untouched', () => {
    const options = { model, size: 8, swatch };
    const texture = new VaeProceduralTexture('defaults', scene, options);
    expect(options).toEqual({ model, size: 8, swatch });
    expect(texture.options).toMatchObject({
      size: 8,
      tileable: true,
      outputFormat: 'uint8',
      colourSpace: 'srgb',
      generateMipMaps: true,
      samplingMode: Constants.TEXTURE_TRILINEAR_SAMPLINGMODE,
      useSharedContext: true,
    });
    expect(Object.isFrozen(texture.options)).toBe(true);
    expect(texture.gammaSpace).toBe(true);
    texture.dispose();
  });

  test('bad input is refused with a message naming what is allowed', async () => {
    expect(() => new VaeProceduralTexture('bad', scene, { model, size: 18 })).toThrow(
      /VaeProceduralTexture size: must be a multiple of 4 between 4 and 4096, got 18/,
    );
    expect(() => new VaeProceduralTexture('big', scene, { model, size: 1 << 20 })).toThrow(/multiple of 4/);
    expect(
      () =>
        new VaeProceduralTexture('shape', scene, { model, size: 16, latent: latentOf(model, 8, () => 0) }),
    ).toThrow(/latent must be 4x4 cells for a 16px texture \(stride 4\), got 2x2/);
    const texture = new VaeProceduralTexture('nan', scene, { model, size: 16, swatch });
    const nan = latentOf(model, 16, (i) => (i === 5 ? Number.NaN : 0));
    await expect(texture.regenerate(nan)).rejects.toThrow(
      /latent values must be finite numbers, got NaN at index 5/,
    );
    expect(() => {
      texture.latent = nan;
    }).toThrow(/finite/);
    texture.dispose();
    await expect(texture.regenerate()).rejects.toThrow("VaeProceduralTexture 'nan' has been disposed");
    expect(() => new VaeProceduralTexture('none', scene, {} as never)).toThrow(/needs options.model/);
    expect(() => new VaeProceduralTexture('bare', scene, { model, size: 16 })).toThrow(
      'VaeProceduralTexture needs options.swatch (a Swatch, e.g. from loadPretrainedSwatches()) or options.latent (a LatentGrid)',
    );
    const stranger = TextureVae.create({ ...tiny, name: 'stranger' }, { seed: 1 });
    expect(() => new VaeProceduralTexture('alien', scene, { model: stranger, size: 16, swatch })).toThrow(
      "swatch 'noise' was made with model 'tiny-node'",
    );
    stranger.dispose();
  });

  test('a disposed model is refused', async () => {
    const doomed = TextureVae.create(tiny, { seed: 4 });
    const texture = new VaeProceduralTexture('doomed', scene, { model: doomed, size: 8, swatch });
    await texture.regenerate();
    doomed.dispose();
    await expect(texture.regenerate()).rejects.toThrow(
      "the TextureVae of VaeProceduralTexture 'doomed' has been disposed",
    );
    texture.dispose();
    expect(() => new VaeProceduralTexture('late', scene, { model: doomed, size: 8, swatch })).toThrow(
      /has been disposed/,
    );
  });

  test('requests coalesce: a burst of latents costs at most two decodes and ends on the last one', async () => {
    const texture = new VaeProceduralTexture('burst', scene, { model, size: 16, swatch });
    await texture.regenerate();
    let decodes = 0;
    const observer = texture.onBeforeGenerationObservable.add(() => decodes++);
    const last = latentOf(model, 16, (i) => Math.sin(i));
    const pending: Promise<void>[] = [];
    for (let k = 0; k < 10; k++)
      pending.push(texture.regenerate(latentOf(model, 16, (i) => Math.cos(i + k))));
    pending.push(texture.regenerate(last));
    await Promise.all(pending);
    expect(decodes).toBeLessThanOrEqual(2);
    expect(Array.from(texture.latent.data)).toEqual(Array.from(last.data));
    observer.remove();
    texture.dispose();
  });

  test('dispose in the middle of a decode: no leak, no error event, both requests reject by name', async () => {
    const texture = new VaeProceduralTexture('flight', scene, { model, size: 16, swatch });
    await texture.regenerate();
    const before = tf.memory().numTensors;
    const errors: Error[] = [];
    texture.onGenerationErrorObservable.add((e) => errors.push(e));
    // While the model computes the running request's image, a second request arrives (it waits: one decode per
    // texture at a time), the latent changes, and the texture goes away.
    let waiting: Promise<void> = Promise.resolve();
    const decode = model.decodeTensors.bind(model);
    const spy = vi.spyOn(model, 'decodeTensors').mockImplementationOnce((latent) => {
      waiting = texture.regenerate(latentOf(model, 16, () => -0.5));
      texture.latent = latentOf(model, 16, () => 0.25);
      texture.dispose();
      return decode(latent);
    });
    const running = texture.regenerate(latentOf(model, 16, () => 0.5));
    await expect(running).rejects.toThrow("VaeProceduralTexture 'flight' has been disposed");
    await expect(waiting).rejects.toThrow(
      "VaeProceduralTexture 'flight' was disposed before the regeneration ran",
    );
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
    expect(errors).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('N regenerations leave tensors and engine textures where they began', async () => {
    const texture = new VaeProceduralTexture('leak', scene, { model, size: 16, swatch });
    await texture.regenerate();
    const tensors = tf.memory().numTensors;
    const textures = engine.getLoadedTexturesCache().length;
    for (let k = 0; k < 20; k++) await texture.regenerate(latentOf(model, 16, (i) => Math.sin(i * k)));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(engine.getLoadedTexturesCache().length).toBe(textures);
    texture.dispose();
    const empty = tf.memory().numTensors;
    const created = new VaeProceduralTexture('again', scene, { model, size: 16, swatch });
    await created.regenerate();
    created.dispose();
    expect(tf.memory().numTensors).toBe(empty);
  });

  test('serialize / Parse keeps model id, latent, size and options', async () => {
    registerVaeProceduralTexture();
    registerVaeProceduralTexture();
    registerVaeModel('tiny-node', model);
    expect(getVaeModel('tiny-node')).toBe(model);
    const latent = latentOf(model, 16, (i) => Math.sin(i / 3));
    const texture = new VaeProceduralTexture('saved', scene, {
      model,
      size: 16,
      latent,
      colourSpace: 'linear',
      tileable: false,
      generateMipMaps: false,
      workerCpuShare: 0.5,
    });
    texture.level = 0.75;
    const serialized = texture.serialize();
    expect(serialized.customType).toBe('BABYLON.VaeProceduralTexture');
    const json = JSON.parse(JSON.stringify(serialized));
    const parsed = VaeProceduralTexture.Parse(json, scene, '');
    expect(parsed.getClassName()).toBe('VaeProceduralTexture');
    expect(parsed.model).toBe(model);
    expect(parsed.options).toEqual(texture.options);
    expect(parsed.level).toBe(0.75);
    expect(parsed.gammaSpace).toBe(false);
    expect(parsed.workerCpuShare).toBe(0.5);
    expect(Array.from(parsed.latent.data)).toEqual(Array.from(latent.data));
    await parsed.regenerate();
    expect(() =>
      VaeProceduralTexture.Parse({ ...json, vae: { ...json.vae, modelId: 'missing' } }, scene, ''),
    ).toThrow(
      "no TextureVae registered under 'missing': call registerVaeModel('missing', model) before loading",
    );
    expect(() =>
      VaeProceduralTexture.Parse({ ...json, vae: { ...json.vae, workerCpuShare: '1' } }, scene, ''),
    ).toThrow('workerCpuShare must be a number from 0.05 to 1, got 1');
    parsed.dispose();
    texture.dispose();
  });

  test('a texture drawn from a registered swatch stores its name, and Parse binds it again', async () => {
    registerVaeProceduralTexture();
    registerVaeModel('tiny-node', model);
    const unnamed = new VaeProceduralTexture('unnamed', scene, { model, size: 16, swatch, seed: 5 });
    expect(unnamed.swatch).toBe(swatch);
    expect(Array.from(unnamed.latent.data)).toEqual(Array.from(swatch.sample({ width: 16, seed: 5 }).data));
    expect(unnamed.serialize().vae.swatch).toBeUndefined();
    unnamed.dispose();

    registerVaeSwatches('tiny-node', Object.assign(Object.create(null), { rock: swatch }));
    expect(getVaeSwatch('tiny-node', 'rock')).toBe(swatch);
    expect(getVaeSwatch('tiny-node', 'toString')).toBeUndefined();
    const texture = new VaeProceduralTexture('rock', scene, { model, size: 16, swatch, seed: 5 });
    const json = JSON.parse(JSON.stringify(texture.serialize()));
    expect(json.vae.swatch).toBe('rock');
    const parsed = VaeProceduralTexture.Parse(json, scene, '');
    expect(parsed.swatch).toBe(swatch);
    expect(Array.from(parsed.latent.data)).toEqual(Array.from(texture.latent.data));
    await parsed.regenerate();
    expect(() =>
      VaeProceduralTexture.Parse({ ...json, vae: { ...json.vae, swatch: 'marble' } }, scene, ''),
    ).toThrow(
      "no swatch 'marble' registered for model 'tiny-node': call registerVaeSwatches('tiny-node', swatches) before loading",
    );
    expect(() => VaeProceduralTexture.Parse({ ...json, vae: { ...json.vae, swatch: 3 } }, scene, '')).toThrow(
      'VaeProceduralTexture.Parse: swatch must be a swatch name, got 3',
    );
    parsed.dispose();
    texture.dispose();
  });

  test('Parse checks the stored size and latent against the model before copying any value', () => {
    registerVaeProceduralTexture();
    registerVaeModel('tiny-node', model);
    const texture = new VaeProceduralTexture('stored', scene, { model, size: 16, swatch });
    const json = JSON.parse(JSON.stringify(texture.serialize()));
    texture.dispose();
    const tensors = tf.memory().numTensors;
    const textures = engine.getLoadedTexturesCache().length;
    const withVae = (vae: Record<string, unknown>) => ({ ...json, vae: { ...json.vae, ...vae } });
    const unread = {
      get length(): number {
        throw new Error('the declared data must not be read');
      },
    };
    for (const [vae, message] of [
      [
        { latent: undefined },
        'serialized latent must be an object {height, width, channels, data}, got undefined',
      ],
      [
        { latent: { ...json.vae.latent, data: unread } },
        'serialized latent data must be an array of 64 numbers, got object',
      ],
      [
        { latent: { ...json.vae.latent, height: 2500, width: 2500 } },
        'serialized latent must be 4x4x4 (height x width x channels) for this size and model, got 2500x2500x4',
      ],
      [
        { latent: { ...json.vae.latent, data: [1, 2] } },
        'serialized latent data must hold height*width*channels = 64 numbers, got 2',
      ],
      [
        { latent: { ...json.vae.latent, data: [...json.vae.latent.data.slice(1), 'x'] } },
        'serialized latent values must be finite numbers, got "x" at index 63',
      ],
      [{ size: 1e6 }, 'VaeProceduralTexture size: must be a multiple of 4 between 4 and 4096, got 1000000'],
      [
        { size: undefined },
        'VaeProceduralTexture size: must be a multiple of 4 between 4 and 4096, got undefined',
      ],
    ] as const) {
      expect(() => VaeProceduralTexture.Parse(withVae(vae), scene, '')).toThrow(message);
    }
    expect(() => VaeProceduralTexture.Parse({ ...json, vae: undefined }, scene, '')).toThrow(
      'VaeProceduralTexture.Parse needs the object VaeProceduralTexture.serialize() returned',
    );
    expect(tf.memory().numTensors).toBe(tensors);
    expect(engine.getLoadedTexturesCache().length).toBe(textures);
  });

  test('a latent of the wrong shape is refused before it is copied', () => {
    const unread = {
      get length(): number {
        throw new Error('the declared data must not be read');
      },
    };
    const latent = { data: unread, height: 4, width: 4, channels: 4 } as unknown as LatentGrid;
    expect(() => new VaeProceduralTexture('bad', scene, { model, size: 16, latent })).toThrow(
      'latent data must be a Float32Array',
    );
  });
});

describe('VaeProceduralTexture.CreateAsync', () => {
  test('takes a pretrained id, loads the model once and shares it, and resolves with content', async () => {
    await tf.setBackend('cpu');
    const engine = new NullEngine();
    const scene = new Scene(engine);
    new FreeCamera('camera', Vector3.Zero(), scene);
    const [a, b] = await Promise.all([
      VaeProceduralTexture.CreateAsync('a', scene, { model: 'default', swatch: 'moss', size: 32, seed: 1 }),
      VaeProceduralTexture.CreateAsync('b', scene, { model: 'default', swatch: 'rust', size: 32, seed: 2 }),
    ]);
    // A swatch name of the pretrained model resolves to its shipped swatch, registered for serialization.
    expect(a.swatch?.name).toBe('moss');
    expect(a.swatch).toBe(getVaeSwatch('default', 'moss'));
    expect(a.serialize().vae.swatch).toBe('moss');
    expect(a.model).toBe(b.model);
    expect(getVaeModel('default')).toBe(a.model);
    expect(a.modelId).toBe('default');
    expect(a.isReady()).toBe(true);
    await expect(
      VaeProceduralTexture.CreateAsync('c', scene, { model: 'granite', size: 32 }),
    ).rejects.toThrow("no VAE model 'granite'; registered or pretrained ids:");
    await expect(
      VaeProceduralTexture.CreateAsync('d', scene, { model: 'default', swatch: 'marble', size: 32 }),
    ).rejects.toThrow("no swatch 'marble' for model 'default'; known: bricks, concrete");
    a.dispose();
    b.dispose();
    a.model.dispose();
    scene.dispose();
    engine.dispose();
  });
});
