/**
 * The package imports Babylon module by module, never the '@babylonjs/core' root (which registers everything).
 * This file loads only the package entry and deep Babylon imports, as a tree-shaken app does, so a Babylon side
 * effect the package needs but does not import fails here. Everything is imported inside the tests: the first
 * one looks at the state before anything else of Babylon is loaded.
 */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';

const engineExtensions = [
  'createRenderTargetTexture',
  'setAlphaMode',
  'updateRawTexture',
  '_readTexturePixels',
];

describe('the package on deep Babylon imports', () => {
  test('the entry brings the engine extensions and the shader its textures need, and not the Babylon root', async () => {
    const { ThinEngine } = await import('@babylonjs/core/Engines/thinEngine.js');
    const { ShaderStore } = await import('@babylonjs/core/Engines/shaderStore.js');
    const { GetClass } = await import('@babylonjs/core/Misc/typeStore.js');
    const prototype = ThinEngine.prototype as unknown as Record<string, unknown>;
    const missingBefore = engineExtensions.filter((name) => typeof prototype[name] !== 'function');
    expect(missingBefore).toEqual(engineExtensions);
    expect(ShaderStore.ShadersStore.proceduralVertexShader).toBeUndefined();

    await import('../../src/index.js');

    expect(engineExtensions.filter((name) => typeof prototype[name] !== 'function')).toEqual([]);
    expect(ShaderStore.ShadersStore.proceduralVertexShader).toBeTypeOf('string');
    // Registered only by modules the package does not use, so present only if the root index was loaded.
    expect(GetClass('BABYLON.NoiseProceduralTexture')).toBeUndefined();
    expect(GetClass('BABYLON.ArcRotateCamera')).toBeUndefined();
  });

  test('a material, a texture and a scene round trip work on a NullEngine', async () => {
    const { NullEngine } = await import('@babylonjs/core/Engines/nullEngine.js');
    const { Scene } = await import('@babylonjs/core/scene.js');
    const { Texture } = await import('@babylonjs/core/Materials/Textures/texture.js');
    const { CreateBox } = await import('@babylonjs/core/Meshes/Builders/boxBuilder.js');
    const { FreeCamera } = await import('@babylonjs/core/Cameras/freeCamera.js');
    const { Vector3 } = await import('@babylonjs/core/Maths/math.vector.js');
    const vae = await import('../../src/index.js');

    await tf.setBackend('cpu');
    const engine = new NullEngine();
    const scene = new Scene(engine);
    new FreeCamera('camera', new Vector3(0, 0, -3), scene);
    const model = vae.TextureVae.create(
      {
        latentChannels: 4,
        stride: 4,
        encoderWidths: [8, 8, 8],
        decoderWidths: [8, 8, 8],
        name: 'deep-imports',
      },
      { seed: 1 },
    );
    try {
      const box = CreateBox('box', { size: 1 }, scene);
      const swatch = vae.Swatch.fromLatent(model, model.sample({ width: 64, height: 64, seed: 3 }));
      for (const type of ['standard', 'pbr'] as const) {
        const material = vae.createVaeMaterial(scene, { model, swatch, size: 16, type, seed: 2 });
        box.material = material;
        const plugin = vae.VaeMaterialPlugin.get(material);
        expect(plugin?.getClassName()).toBe('VaeMaterialPlugin');
        await plugin?.whenReadyAsync();
        expect(plugin?.texture?.isReady()).toBe(true);
        scene.render();
        material.dispose(true, true);
      }

      vae.registerVaeProceduralTexture();
      vae.registerVaeModel('deep-imports', model);
      const texture = new vae.VaeProceduralTexture('vae', scene, { model, size: 16, swatch });
      await texture.regenerate();
      expect(texture.isReady()).toBe(true);
      // Texture.Parse finds the class through Babylon's type store, as the scene loader does.
      const parsed = Texture.Parse(JSON.parse(JSON.stringify(texture.serialize())), scene, '');
      expect(parsed?.getClassName()).toBe('VaeProceduralTexture');
      await (parsed as InstanceType<typeof vae.VaeProceduralTexture>).whenReadyAsync();
      expect(parsed?.isReady()).toBe(true);
      parsed?.dispose();
      texture.dispose();
    } finally {
      model.dispose();
      scene.dispose();
      engine.dispose();
    }
  });
});
