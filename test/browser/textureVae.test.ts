import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import {
  AppendSceneAsync,
  Color3,
  type Engine,
  MeshBuilder,
  Scene,
  SceneSerializer,
  type StandardMaterial,
} from '@babylonjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runOnEngine } from '../../src/gpu/glHandoff.js';
import { peekSharedBackend } from '../../src/gpu/sharedBackend.js';
import type { LatentGrid } from '../../src/latent/latentGrid.js';
import type { PixelImage } from '../../src/model/pixelImage.js';
import { TextureVae } from '../../src/model/textureVae.js';
import { registerVaeModel } from '../../src/textures/vaeModelRegistry.js';
import {
  registerVaeProceduralTexture,
  VaeProceduralTexture,
} from '../../src/textures/vaeProceduralTexture.js';
import { createOrthoScene, unlitMaterial } from '../support/orthoScene.js';
import { maxError, texturePixels } from '../support/texturePixels.js';

const size = 32;
const tiny = { latentChannels: 4, stride: 4, encoderWidths: [8, 8, 8], decoderWidths: [8, 8, 8] };
const plainColour = new Color3(0.3, 0.5, 0.7);

function rgbaAsImage(rgba: Uint8Array): PixelImage {
  return { data: rgba, width: size, height: size, channels: 4 };
}

function latentOf(model: TextureVae, fill: (i: number) => number): LatentGrid {
  const grid = model.latentSize(size, size);
  const data = new Float32Array(grid.height * grid.width * model.latentChannels);
  for (let i = 0; i < data.length; i++) data[i] = fill(i);
  return { data, height: grid.height, width: grid.width, channels: model.latentChannels };
}

function nextGenerated(texture: VaeProceduralTexture): Promise<void> {
  return new Promise((resolve) => texture.onGeneratedObservable.addOnce(() => resolve()));
}

// On this software rasteriser 'auto' decodes in a worker (test/browser/workerDecode.test.ts): these tests are
// about the shared WebGL backend, so they ask for the zero-copy path by name.
describe('VaeProceduralTexture in Chromium', () => {
  let engine: Engine;
  let scene: Scene;
  let model: TextureVae;
  let twin: TextureVae;
  let other: TextureVae;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    ({ engine, scene } = createOrthoScene(3 * size, size));
    model = TextureVae.create({ ...tiny, name: 'tiny-a' }, { seed: 5 });
    // Same weights, never touched by the GPU: the reference decodes run on it, on the cpu backend.
    twin = TextureVae.create({ ...tiny, name: 'tiny-a' }, { seed: 5 });
    other = TextureVae.create({ ...tiny, name: 'tiny-b' }, { seed: 6 });
  });

  afterAll(() => {
    engine.dispose();
    model.dispose();
    twin.dispose();
    other.dispose();
  });

  test('zero-copy and readback paths give the model decode, within 2/255', async () => {
    const latent = model.sample({ width: size, height: size, seed: 9 });
    const zeroCopy = new VaeProceduralTexture('zero', scene, {
      decodePath: 'zero-copy',
      model,
      size,
      latent,
    });
    const readback = new VaeProceduralTexture('back', scene, {
      model,
      size,
      latent,
      useSharedContext: false,
    });
    expect(zeroCopy.source.kind).toBe('zero-copy');
    expect(readback.source.kind).toBe('readback');
    await Promise.all([zeroCopy.regenerate(), readback.regenerate()]);
    expect(zeroCopy.isReady()).toBe(true);
    const reference = await twin.decode(latent);
    const a = await texturePixels(zeroCopy);
    const b = await texturePixels(readback);
    expect(maxError(a, reference)).toBeLessThanOrEqual(2 / 255);
    expect(maxError(b, reference)).toBeLessThanOrEqual(2 / 255);
    expect(maxError(a, rgbaAsImage(b))).toBeLessThanOrEqual(2 / 255);
    zeroCopy.dispose();
    readback.dispose();
  });

  test('several textures and models share one backend; plain materials keep their exact colour', async () => {
    const before = Object.keys(tf.engine().registryFactory).filter((n) =>
      n.startsWith('babylon-webgl-'),
    ).length;
    const left = new VaeProceduralTexture('left', scene, {
      decodePath: 'zero-copy',
      model,
      size,
      latent: model.sample({ width: size, height: size, seed: 1 }),
      generateMipMaps: false,
    });
    const middle = new VaeProceduralTexture('middle', scene, {
      decodePath: 'zero-copy',
      model: other,
      size,
      latent: other.sample({ width: size, height: size, seed: 2 }),
      generateMipMaps: false,
    });
    const name = peekSharedBackend(engine)?.name;
    const right = MeshBuilder.CreatePlane('plain', { size: 2 }, scene);
    right.position.x = 2;
    const plain = unlitMaterial(scene, 'plain');
    plain.emissiveColor = plainColour;
    right.material = plain;
    for (const [i, texture] of [left, middle].entries()) {
      const plane = MeshBuilder.CreatePlane(`vae${i}`, { size: 2 }, scene);
      plane.position.x = -2 + 2 * i;
      const material = unlitMaterial(scene, `vae${i}`);
      material.emissiveTexture = texture;
      plane.material = material;
    }
    await Promise.all([left.regenerate(), middle.regenerate()]);
    for (let frame = 0; frame < 3; frame++) {
      await left.regenerate(model.sample({ width: size, height: size, seed: 10 + frame }));
      await scene.whenReadyAsync();
      scene.render();
      const gl = (engine as unknown as { _gl: WebGL2RenderingContext })._gl;
      const px = new Uint8Array(size * size * 4);
      gl.readPixels(2 * size, 0, size, size, gl.RGBA, gl.UNSIGNED_BYTE, px);
      const want = [plainColour.r, plainColour.g, plainColour.b].map((v) => Math.round(v * 255));
      let worst = 0;
      for (let p = 0; p < size * size; p++) {
        for (let c = 0; c < 3; c++)
          worst = Math.max(worst, Math.abs((px[p * 4 + c] as number) - (want[c] as number)));
      }
      expect(worst).toBeLessThanOrEqual(1);
    }
    expect(peekSharedBackend(engine)?.name).toBe(name);
    const after = Object.keys(tf.engine().registryFactory).filter((n) =>
      n.startsWith('babylon-webgl-'),
    ).length;
    expect(after - before).toBeLessThanOrEqual(1);
    const reference = await twin.decode(model.sample({ width: size, height: size, seed: 12 }));
    expect(maxError(await texturePixels(left), reference)).toBeLessThanOrEqual(2 / 255);
    left.dispose();
    middle.dispose();
  });

  test('N regenerations: tensors, GPU bytes and engine textures end where they began', async () => {
    const texture = new VaeProceduralTexture('leak', scene, {
      decodePath: 'zero-copy',
      model,
      size,
      latent: model.sample({ width: size, height: size }),
    });
    await texture.regenerate();
    const gpuBytes = () =>
      runOnEngine(engine, () => (tf.memory() as { numBytesInGPU?: number }).numBytesInGPU ?? -1);
    const tensors = tf.memory().numTensors;
    const bytes = gpuBytes();
    const textures = engine.getLoadedTexturesCache().length;
    for (let k = 0; k < 25; k++) await texture.regenerate(latentOf(model, (i) => Math.sin(i + k)));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(gpuBytes()).toBe(bytes);
    expect(engine.getLoadedTexturesCache().length).toBe(textures);
    texture.dispose();
    expect(engine.getLoadedTexturesCache().length).toBeLessThan(textures);
  });

  test('a lost and restored WebGL context gives back the same content', async () => {
    const texture = new VaeProceduralTexture('lost', scene, {
      decodePath: 'zero-copy',
      model,
      size,
      latent: model.sample({ width: size, height: size, seed: 21 }),
    });
    await texture.regenerate();
    const before = await texturePixels(texture);
    const gl = (engine as unknown as { _gl: WebGL2RenderingContext })._gl;
    const lose = gl.getExtension('WEBGL_lose_context');
    expect(lose).not.toBeNull();
    const lost = new Promise<void>((resolve) => engine.onContextLostObservable.addOnce(() => resolve()));
    lose?.loseContext();
    await lost;
    // Chromium allows restoring only once the lost event has finished dispatching.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const regenerated = nextGenerated(texture);
    lose?.restoreContext();
    await regenerated;
    const after = await texturePixels(texture);
    expect(maxError(after, rgbaAsImage(before))).toBeLessThanOrEqual(1 / 255);
    expect(maxError(after, await twin.decode(texture.latent))).toBeLessThanOrEqual(2 / 255);
    // The shared backend (and the model weights on it) work again for new textures.
    const fresh = new VaeProceduralTexture('fresh', scene, {
      decodePath: 'zero-copy',
      model,
      size,
      latent: model.sample({ width: size, height: size, seed: 22 }),
    });
    await fresh.regenerate();
    expect(maxError(await texturePixels(fresh), await twin.decode(fresh.latent))).toBeLessThanOrEqual(
      2 / 255,
    );
    fresh.dispose();
    texture.dispose();
  });

  test('a SceneSerializer round trip shows the same pixels', async () => {
    registerVaeProceduralTexture();
    registerVaeModel('tiny-a', model);
    const source = createOrthoScene(3 * size, size);
    const texture = new VaeProceduralTexture('saved', source.scene, {
      decodePath: 'zero-copy',
      model,
      size,
      latent: latentOf(model, (i) => Math.cos(i / 5)),
      colourSpace: 'srgb',
      generateMipMaps: false,
    });
    const plane = MeshBuilder.CreatePlane('saved', { size: 2 }, source.scene);
    const material = unlitMaterial(source.scene, 'saved');
    material.emissiveTexture = texture;
    plane.material = material;
    await texture.regenerate();
    const original = await texturePixels(texture);
    const json = JSON.stringify(SceneSerializer.Serialize(source.scene));
    const reloaded = new Scene(engine);
    await AppendSceneAsync(`data:${json}`, reloaded, { pluginExtension: '.babylon' });
    const loaded = reloaded.getMaterialByName('saved') as StandardMaterial;
    const copy = loaded.emissiveTexture as VaeProceduralTexture;
    expect(copy).toBeInstanceOf(VaeProceduralTexture);
    expect(copy.modelId).toBe('tiny-a');
    await copy.regenerate();
    expect(maxError(await texturePixels(copy), rgbaAsImage(original))).toBeLessThanOrEqual(1 / 255);
    reloaded.dispose();
    source.engine.dispose();
  });
});
