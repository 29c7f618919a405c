import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import {
  Color3,
  Constants,
  DynamicTexture,
  type Engine,
  type Mesh,
  MeshBuilder,
  type Scene,
  type Texture,
} from '@babylonjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TinyDecoder, tinyOutputSize } from '../../samples/hello/tinyDecoder.js';
import { runOnEngine } from '../../src/gpu/glHandoff.js';
import { getSharedBackend } from '../../src/gpu/sharedBackend.js';
import { TensorProceduralTexture } from '../../src/textures/tensorProceduralTexture.js';
import { createOrthoScene, unlitMaterial } from '../support/orthoScene.js';

const size = tinyOutputSize;
const boxColour = new Color3(0.2, 0.6, 0.8);

interface Stage {
  engine: Engine;
  scene: Scene;
  gl: WebGL2RenderingContext;
  textured: Mesh;
}

/** A 2*size x size canvas: the textured plane fills the left square, a plain-coloured plane the right one. */
function makeStage(): Stage {
  const { engine, scene, gl } = createOrthoScene(2 * size, size);
  const textured = MeshBuilder.CreatePlane('textured', { size: 2 }, scene);
  textured.position.x = -1;
  const box = MeshBuilder.CreatePlane('box', { size: 2 }, scene);
  box.position.x = 1;
  box.material = unlitMaterial(scene, 'plain', boxColour);
  return { engine, scene, gl, textured };
}

function showTexture(stage: Stage, texture: Texture): void {
  const material = unlitMaterial(stage.scene, 'unlit');
  material.emissiveTexture = texture;
  stage.textured.material = material;
}

/** Renders one frame once every material is ready and reads the canvas, top row first, RGBA bytes. */
async function renderAndRead(stage: Stage): Promise<Uint8Array> {
  await stage.scene.whenReadyAsync();
  stage.scene.render();
  const { gl } = stage;
  const w = gl.drawingBufferWidth;
  const h = gl.drawingBufferHeight;
  const bottomUp = new Uint8Array(w * h * 4);
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, bottomUp);
  const topDown = new Uint8Array(bottomUp.length);
  for (let y = 0; y < h; y++) topDown.set(bottomUp.subarray((h - 1 - y) * w * 4, (h - y) * w * 4), y * w * 4);
  return topDown;
}

/** Largest difference (in 0..1 units) between the left square of the canvas and an RGB image, row 0 on top. */
function maxErrorAgainst(canvas: Uint8Array, canvasWidth: number, image: Float32Array): number {
  let worst = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        const got = (canvas[(y * canvasWidth + x) * 4 + c] as number) / 255;
        const want = image[(y * size + x) * 3 + c] as number;
        worst = Math.max(worst, Math.abs(got - want));
      }
    }
  }
  return worst;
}

/** Largest difference between the right square of the canvas and the plain box colour. */
function boxError(canvas: Uint8Array, canvasWidth: number): number {
  const want = [boxColour.r, boxColour.g, boxColour.b];
  let worst = 0;
  for (let y = 0; y < size; y++) {
    for (let x = size; x < 2 * size; x++) {
      for (let c = 0; c < 3; c++) {
        worst = Math.max(
          worst,
          Math.abs((canvas[(y * canvasWidth + x) * 4 + c] as number) / 255 - (want[c] as number)),
        );
      }
    }
  }
  return worst;
}

/**
 * Largest difference (0..1 units) between a square render target read back (row 0 the image's bottom row,
 * RGBA bytes) and an image's row-major float values, over the image's channels.
 */
function targetError(raw: Uint8Array, side: number, channels: number, values: Float32Array): number {
  let worst = 0;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const got = raw.subarray(((side - 1 - y) * side + x) * 4);
      for (let c = 0; c < channels; c++) {
        const want = values[(y * side + x) * channels + c] as number;
        worst = Math.max(worst, Math.abs((got[c] as number) / 255 - want));
      }
    }
  }
  return worst;
}

async function cpuDecode(decoder: TinyDecoder, latent: Float32Array): Promise<Float32Array> {
  const image = decoder.decode(latent);
  const data = (await image.data()) as Float32Array;
  image.dispose();
  return data;
}

describe('zero-copy hand-off into a Babylon texture', () => {
  let stage: Stage;
  let texture: TensorProceduralTexture;
  const gpuDecoder = new TinyDecoder(7);
  const cpuDecoder = new TinyDecoder(7);

  beforeAll(async () => {
    await tf.setBackend('cpu');
    stage = makeStage();
    texture = new TensorProceduralTexture('decoded', stage.scene, {
      size,
      generateMipMaps: false,
      samplingMode: Constants.TEXTURE_NEAREST_SAMPLINGMODE,
    });
    showTexture(stage, texture);
  });

  afterAll(() => {
    texture.dispose();
    gpuDecoder.dispose();
    stage.engine.dispose();
    cpuDecoder.dispose();
  });

  test('uses the zero-copy source on a WebGL2 engine', () => {
    expect(texture.source.kind).toBe('zero-copy');
    expect(texture.isReady()).toBe(false);
  });

  test('three decodes in a row: canvas equals the decoder output, upright; the plain mesh keeps its colour', async () => {
    const errors: number[] = [];
    const boxErrors: number[] = [];
    for (const seed of [11, 12, 13]) {
      const latent = TinyDecoder.latent(seed);
      await texture.write(() => gpuDecoder.decode(latent));
      expect(texture.isReady()).toBe(true);
      const canvas = await renderAndRead(stage);
      const expected = await cpuDecode(cpuDecoder, latent);
      errors.push(maxErrorAgainst(canvas, 2 * size, expected));
      boxErrors.push(boxError(canvas, 2 * size));
      // Upside down would be far off: the decoded pattern is not symmetric.
      const flipped = new Float32Array(expected.length);
      for (let y = 0; y < size; y++) {
        flipped.set(expected.subarray((size - 1 - y) * size * 3, (size - y) * size * 3), y * size * 3);
      }
      expect(maxErrorAgainst(canvas, 2 * size, flipped)).toBeGreaterThan(0.1);
    }
    expect(Math.max(...errors)).toBeLessThanOrEqual(2 / 255);
    expect(Math.max(...boxErrors)).toBeLessThanOrEqual(1 / 255);
    // tfjs is active again on the backend that was active before.
    expect(tf.getBackend()).toBe('cpu');
  });

  test('a Babylon texture upload that flips Y just before does not flip the decode', async () => {
    const dynamic = new DynamicTexture('flips', { width: 4, height: 4 }, stage.scene, false);
    dynamic.update(true);
    const latent = TinyDecoder.latent(21);
    await texture.write(() => gpuDecoder.decode(latent));
    const canvas = await renderAndRead(stage);
    expect(maxErrorAgainst(canvas, 2 * size, await cpuDecode(cpuDecoder, latent))).toBeLessThanOrEqual(
      2 / 255,
    );
    dynamic.dispose();
  });

  test('no CPU readback between the decode and the texture', async () => {
    const { gl } = stage;
    const shared = getSharedBackend(stage.engine);
    const calls: string[] = [];
    const restores: (() => void)[] = [];
    const spy = (target: object, name: string) => {
      const holder = target as Record<string, unknown>;
      const original = holder[name] as (...args: unknown[]) => unknown;
      holder[name] = function (this: unknown, ...args: unknown[]) {
        calls.push(name);
        return original.apply(this, args);
      };
      restores.push(() => {
        holder[name] = original;
      });
    };
    spy(gl, 'readPixels');
    spy(gl, 'getBufferSubData');
    spy(gl, 'clientWaitSync');
    spy(shared.backend, 'readSync');
    spy(shared.backend, 'read');
    spy(tf.Tensor.prototype, 'dataSync');
    spy(tf.Tensor.prototype, 'data');
    spy(tf.Tensor.prototype, 'array');
    spy(tf.Tensor.prototype, 'arraySync');
    try {
      await texture.write(() => gpuDecoder.decode(TinyDecoder.latent(31)));
    } finally {
      for (const restore of restores) restore();
    }
    expect(calls).toEqual([]);
  });

  test('no tensors or GPU bytes leak across decodes', async () => {
    await texture.write(() => gpuDecoder.decode(TinyDecoder.latent(40)));
    const before = tf.memory().numTensors;
    const texturesBefore = stage.engine.getLoadedTexturesCache().length;
    for (const seed of [41, 42, 43, 44]) {
      await texture.write(() => gpuDecoder.decode(TinyDecoder.latent(seed)));
      await renderAndRead(stage);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(stage.engine.getLoadedTexturesCache().length).toBe(texturesBefore);
  });

  test('RGBA images and widths that cannot pack RGB land the same on both sources', async () => {
    for (const [side, channels] of [
      [30, 3],
      [32, 4],
      [32, 3],
    ] as const) {
      const values = Float32Array.from({ length: side * side * channels }, (_, i) => ((i * 37) % 101) / 100);
      for (const useSharedContext of [true, false]) {
        const target = new TensorProceduralTexture(`t${side}`, stage.scene, {
          size: side,
          generateMipMaps: false,
          useSharedContext,
        });
        await target.write(() => tf.tensor4d(values, [1, side, side, channels]));
        const worst = targetError((await target.readPixels()) as Uint8Array, side, channels, values);
        expect(worst, `${side}px, ${channels} channels, shared ${useSharedContext}`).toBeLessThanOrEqual(
          1 / 255,
        );
        target.dispose();
      }
    }
  });

  test('the pass reads tfjs tensors in their own texture layout, packed or not, with no repack pass', async () => {
    const backend = getSharedBackend(stage.engine).backend as unknown as {
      decode: (...args: unknown[]) => unknown;
      texData: { get(dataId: object): { isPacked: boolean } };
    };
    const decode = backend.decode;
    let repacks = 0;
    backend.decode = function (this: unknown, ...args: unknown[]) {
      repacks++;
      return decode.apply(this, args);
    };
    const layouts = new Set<boolean>();
    try {
      for (const [side, channels] of [
        [31, 3],
        [32, 3],
        [30, 4],
        [33, 4],
      ] as const) {
        const values = Float32Array.from({ length: side * side * channels }, (_, i) => ((i * 53) % 97) / 96);
        // relu on WebGL writes a packed texture (WEBGL_PACK_UNARY_OPERATIONS); values from the CPU upload unpacked.
        for (const op of ['upload', 'relu'] as const) {
          const target = new TensorProceduralTexture(`own${side}${op}`, stage.scene, {
            size: side,
            generateMipMaps: false,
          });
          await target.write(() => {
            const uploaded = tf.tensor4d(values, [1, side, side, channels]);
            const image = op === 'upload' ? uploaded : tf.relu(uploaded);
            if (op === 'relu') layouts.add(backend.texData.get(image.dataId).isPacked);
            else layouts.add(false);
            return image;
          });
          const raw = (await target.readPixels()) as Uint8Array;
          const worst = targetError(raw, side, channels, values);
          // RGB images are opaque: alpha 1 in every texel.
          if (channels === 3) expect(raw.filter((_, i) => i % 4 === 3).every((a) => a === 255)).toBe(true);
          expect(worst, `${side}px, ${channels} channels, ${op}`).toBeLessThanOrEqual(1 / 255);
          target.dispose();
        }
      }
    } finally {
      backend.decode = decode;
    }
    expect(repacks).toBe(0);
    expect([...layouts].sort()).toEqual([false, true]);
  });

  test('runOnEngine refuses async work', () => {
    expect(() => runOnEngine(stage.engine, async () => 1)).toThrow(/synchronous/);
  });
});
