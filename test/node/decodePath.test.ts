import '@tensorflow/tfjs-backend-cpu';
import { FreeCamera, NullEngine, Scene, Vector3 } from '@babylonjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  chooseDecodePath,
  type DecodeEnvironment,
  decodeEnvironment,
  isSoftwareRenderer,
} from '../../src/gpu/decodePath.js';
import { TextureVae } from '../../src/model/textureVae.js';
import { TensorProceduralTexture } from '../../src/textures/tensorProceduralTexture.js';
import { VaeProceduralTexture } from '../../src/textures/vaeProceduralTexture.js';

const swiftShader =
  'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)';
const llvmpipe = 'llvmpipe (LLVM 15.0.6, 256 bits)';
const hardware = 'ANGLE (NVIDIA, NVIDIA GeForce RTX 3070 (0x00002484) Direct3D11 vs_5_0 ps_5_0, D3D11)';

const webGL2: DecodeEnvironment = {
  webGLVersion: 2,
  isWebGPU: false,
  canShareContext: true,
  renderer: hardware,
  hasWorker: true,
};

describe('decode path selection', () => {
  test('software rasterisers are recognised by their renderer strings', () => {
    expect(isSoftwareRenderer(swiftShader)).toBe(true);
    expect(isSoftwareRenderer(llvmpipe)).toBe(true);
    expect(isSoftwareRenderer('Google SwiftShader')).toBe(true);
    expect(isSoftwareRenderer('Microsoft Basic Render Driver')).toBe(true);
    expect(isSoftwareRenderer(hardware)).toBe(false);
    expect(isSoftwareRenderer('Apple M2')).toBe(false);
    expect(isSoftwareRenderer(null)).toBe(false);
  });

  test("'auto' keeps zero-copy on a hardware WebGL2 context", () => {
    const choice = chooseDecodePath('auto', webGL2);
    expect(choice.path).toBe('zero-copy');
    expect(choice.reason).toContain(hardware);
    expect(choice.renderer).toBe(hardware);
    expect(Object.isFrozen(choice)).toBe(true);
  });

  test("'auto' decodes in a worker on SwiftShader and llvmpipe, and says why", () => {
    for (const renderer of [swiftShader, llvmpipe]) {
      const choice = chooseDecodePath('auto', { ...webGL2, renderer });
      expect(choice.path).toBe('worker');
      expect(choice.reason).toBe(
        `software rasteriser (${renderer}): WASM in a worker is faster than WebGL there`,
      );
    }
  });

  test("'auto' decodes in a worker without WebGL2, and on the main thread without workers", () => {
    const webGL1 = { ...webGL2, webGLVersion: 1, canShareContext: false };
    expect(chooseDecodePath('auto', webGL1).path).toBe('worker');
    expect(chooseDecodePath('auto', webGL1).reason).toMatch(/^no WebGL2/);
    expect(chooseDecodePath('auto', { ...webGL1, hasWorker: false }).path).toBe('readback');
    expect(chooseDecodePath('auto', { ...webGL2, renderer: swiftShader, hasWorker: false }).path).toBe(
      'zero-copy',
    );
  });

  test("'auto' reads back on WebGPU and engines without WebGL", () => {
    const webGPU = { ...webGL2, webGLVersion: 0, isWebGPU: true, canShareContext: false, renderer: null };
    expect(chooseDecodePath('auto', webGPU)).toMatchObject({ path: 'readback', reason: /WebGPU/ });
    const nullEngine = { ...webGPU, isWebGPU: false };
    expect(chooseDecodePath('auto', nullEngine)).toMatchObject({ path: 'readback', reason: /NullEngine/ });
  });

  test('a path asked for by name overrides the machine, with fallbacks that say why', () => {
    const software = { ...webGL2, renderer: swiftShader };
    expect(chooseDecodePath('zero-copy', software)).toMatchObject({
      path: 'zero-copy',
      reason: 'asked for by the decodePath option',
    });
    expect(chooseDecodePath('readback', software).path).toBe('readback');
    expect(chooseDecodePath('worker', webGL2).path).toBe('worker');
    const noFloat = { ...webGL2, canShareContext: false };
    expect(chooseDecodePath('zero-copy', noFloat)).toMatchObject({
      path: 'readback',
      reason:
        'zero-copy was asked for, but the engine cannot render to float textures (EXT_color_buffer_float)',
    });
    expect(() => chooseDecodePath('worker', { ...webGL2, hasWorker: false })).toThrow(
      "decodePath 'worker' needs module Web Workers (a browser); use 'auto' or 'readback' here",
    );
    expect(() => chooseDecodePath('gpu' as never, webGL2)).toThrow(
      "decodePath must be one of 'auto', 'zero-copy', 'worker', 'readback', got gpu",
    );
  });
});

describe('decode path of textures on a NullEngine', () => {
  let engine: NullEngine;
  let scene: Scene;
  let model: TextureVae;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    engine = new NullEngine();
    scene = new Scene(engine);
    new FreeCamera('camera', Vector3.Zero(), scene);
    model = TextureVae.create({
      latentChannels: 4,
      stride: 4,
      encoderWidths: [8, 8, 8],
      decoderWidths: [8, 8, 8],
    });
  });

  afterAll(() => {
    model.dispose();
    scene.dispose();
    engine.dispose();
  });

  test('Node has no WebGL and no workers: readback, reported with its reason', async () => {
    expect(decodeEnvironment(engine)).toEqual({
      webGLVersion: 0,
      isWebGPU: false,
      canShareContext: false,
      renderer: null,
      hasWorker: false,
    });
    const latent = model.sample({ width: 16, height: 16, seed: 1 });
    const texture = new VaeProceduralTexture('auto', scene, { model, size: 16, latent });
    expect(texture.decodePath).toEqual({
      path: 'readback',
      reason: 'engine without WebGL (NullEngine): decodes on the active tfjs backend',
      renderer: null,
    });
    expect(texture.options.decodePath).toBe('auto');
    await texture.whenReadyAsync();
    expect(texture.serialize().vae.decodePath).toBe('auto');
    texture.dispose();
  });

  test('bad decodePath values and the worker on a texture without a model fail before any allocation', () => {
    const textures = scene.textures.length;
    const latent = model.sample({ width: 16, height: 16, seed: 1 });
    expect(
      () => new VaeProceduralTexture('bad', scene, { model, size: 16, latent, decodePath: 'fast' as never }),
    ).toThrow("decodePath must be one of 'auto', 'zero-copy', 'worker', 'readback', got fast");
    expect(
      () => new VaeProceduralTexture('w', scene, { model, size: 16, latent, decodePath: 'worker' }),
    ).toThrow("decodePath 'worker' needs module Web Workers (a browser)");
    expect(() => new TensorProceduralTexture('t', scene, { size: 16, decodePath: 'worker' })).toThrow(
      "TensorProceduralTexture decodePath 'worker' needs a VaeProceduralTexture (a model to run in the worker)",
    );
    expect(
      new TensorProceduralTexture('r', scene, { size: 16, useSharedContext: false }).decodePath.path,
    ).toBe('readback');
    scene.textures.at(-1)?.dispose();
    expect(scene.textures.length).toBe(textures);
  });
});
