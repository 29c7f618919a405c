import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import {
  Color3,
  type Engine,
  MeshBuilder,
  Observable,
  RawTexture,
  type Scene,
  Texture,
} from '@babylonjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { runOnEngine } from '../../src/gpu/glHandoff.js';
import { toExemplars } from '../../src/model/exemplars.js';
import { TextureVae } from '../../src/model/textureVae.js';
import { type TrainingProgress, trainTextureVae } from '../../src/model/train.js';
import { textureExemplar } from '../../src/textures/textureExemplar.js';
import { createOrthoScene, unlitMaterial } from '../support/orthoScene.js';
import { stripes } from '../support/stripes.js';

const size = 32;
const colour = new Color3(0.2, 0.6, 0.8);
const tinyConfig = { stride: 4, encoderWidths: [4, 8, 8], decoderWidths: [8, 8, 4], latentChannels: 2 };

describe('training inside a rendering Babylon scene', () => {
  let engine: Engine;
  let scene: Scene;
  let gl: WebGL2RenderingContext;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    ({ engine, scene, gl } = createOrthoScene(size, size));
    const plane = MeshBuilder.CreatePlane('plane', { size: 2 }, scene);
    plane.material = unlitMaterial(scene, 'plain', colour);
    await scene.whenReadyAsync();
  });

  afterAll(() => {
    engine.stopRenderLoop();
    engine.dispose();
  });

  test('frames keep coming while a model trains on the engine context, and the scene renders exactly', async () => {
    const frames: number[] = [];
    engine.runRenderLoop(() => {
      scene.render();
      frames.push(performance.now());
    });
    const vae = TextureVae.create(tinyConfig, { seed: 1 });
    const observable = new Observable<TrainingProgress>();
    const stepTimes: number[] = [];
    observable.add(() => stepTimes.push(performance.now()));
    const before = tf.memory().numTensors;
    const result = await trainTextureVae(vae, stripes(), {
      steps: 12,
      batchSize: 2,
      patchSize: 16,
      learningRate: 0.01,
      progressObservable: observable,
      scope: (work) => runOnEngine(engine, () => work()),
    });
    engine.stopRenderLoop();
    expect(result.step).toBe(12);
    expect(result.history.every((h) => Number.isFinite(h.loss))).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.getBackend()).toBe('cpu');
    // The render loop ran during training, not only before and after it.
    const during = frames.filter((t) => t > stepTimes[1] && t < stepTimes[10]);
    expect(during.length).toBeGreaterThanOrEqual(3);

    scene.render();
    const pixels = new Uint8Array(size * size * 4);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.readPixels(0, 0, size, size, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
    const expected = [colour.r, colour.g, colour.b].map((c) => Math.round(c * 255));
    for (let i = 0; i < size * size; i++) {
      expect(Array.from(pixels.subarray(i * 4, i * 4 + 3))).toEqual(expected);
    }
    vae.dispose();
  });

  test('toExemplars reads ImageData, an ImageBitmap and a decoded image element', async () => {
    const pixels = new Uint8ClampedArray([
      255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255,
    ]);
    const imageData = new ImageData(pixels, 2, 2);
    const expected = [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1];
    const [fromData] = await toExemplars(imageData);
    expect(Array.from(fromData.data)).toEqual(expected);
    const bitmap = await createImageBitmap(imageData);
    const [fromBitmap] = await toExemplars(bitmap);
    expect(Array.from(fromBitmap.data)).toEqual(expected);
    const canvas = document.createElement('canvas');
    canvas.width = 2;
    canvas.height = 2;
    canvas.getContext('2d')?.putImageData(imageData, 0, 0);
    const element = new Image();
    element.src = canvas.toDataURL('image/png');
    await element.decode();
    const [fromElement] = await toExemplars(element, { channels: 4 });
    expect(fromElement).toMatchObject({ width: 2, height: 2, channels: 4 });
    expect(Array.from(fromElement.data.subarray(0, 8))).toEqual([1, 0, 0, 1, 0, 1, 0, 1]);
    await expect(toExemplars(new Image())).rejects.toThrow(
      'exemplar has not finished loading (await image.decode() before training)',
    );
  });

  test('textureExemplar reads a texture once, top row first', async () => {
    // RGBA rows bottom-up in GPU memory as uploaded: row 0 (red) is the bottom of a texture without invertY.
    const data = new Uint8Array([255, 0, 0, 255, 255, 0, 0, 255, 0, 0, 255, 255, 0, 0, 255, 255]);
    const raw = RawTexture.CreateRGBATexture(data, 2, 2, scene, false, false, Texture.NEAREST_SAMPLINGMODE);
    const image = await textureExemplar(raw, { flipY: true });
    expect(image).toMatchObject({ width: 2, height: 2, channels: 3 });
    expect(Array.from(image.data)).toEqual([0, 0, 255, 0, 0, 255, 255, 0, 0, 255, 0, 0]);
    const asStored = await textureExemplar(raw, { channels: 4, flipY: false });
    expect(Array.from(asStored.data.subarray(0, 4))).toEqual([255, 0, 0, 255]);
    raw.dispose();
  });
});
