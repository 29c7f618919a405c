import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { Color3, type Engine, Matrix, MeshBuilder, type Scene, StandardMaterial } from '@babylonjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { createAtlasThinInstances } from '../../src/atlas/atlasApply.js';
import { atlasToBlobs } from '../../src/atlas/atlasBlobs.js';
import { bakeAtlas } from '../../src/atlas/bakeAtlas.js';
import { bakeAtlasTexture } from '../../src/atlas/bakeAtlasTexture.js';
import type { PixelImage } from '../../src/model/pixelImage.js';
import { constantLatent, fakeDecoder } from '../node/atlasFakeDecoder.js';
import { createOrthoScene } from '../support/orthoScene.js';

const palette = [
  [240, 20, 20],
  [20, 240, 20],
  [20, 20, 240],
  [240, 240, 20],
  [20, 240, 240],
];
const latents = palette.map((c) =>
  constantLatent(
    2,
    3,
    c.map((v) => v / 255),
  ),
);
const bakeOptions = { latents, tileSize: 16, padding: 4 };
const square = 64;

let engine: Engine;
let scene: Scene;
let gl: WebGL2RenderingContext;
let cpuAtlas: { pages: PixelImage[] };

beforeAll(async () => {
  await tf.setBackend('cpu');
  cpuAtlas = await bakeAtlas(fakeDecoder({ latentChannels: 3 }), bakeOptions);
  ({ engine, scene, gl } = createOrthoScene(3 * square, square));
});

afterAll(() => {
  scene.dispose();
  engine.dispose();
});

/** Canvas pixels, top row first, RGBA. */
function readCanvas(): Uint8Array {
  const w = gl.drawingBufferWidth;
  const h = gl.drawingBufferHeight;
  const bottomUp = new Uint8Array(w * h * 4);
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, bottomUp);
  const topDown = new Uint8Array(bottomUp.length);
  for (let y = 0; y < h; y++) topDown.set(bottomUp.subarray((h - 1 - y) * w * 4, (h - y) * w * 4), y * w * 4);
  return topDown;
}

describe('bakeAtlasTexture', () => {
  test('pages go through the zero-copy source into textures equal to the CPU bake, image top at v = 1', async () => {
    const before = tf.memory().numTensors;
    const { textures, manifest } = await bakeAtlasTexture(
      scene,
      fakeDecoder({ latentChannels: 3 }),
      bakeOptions,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(textures).toHaveLength(1);
    expect(textures[0].source.kind).toBe('zero-copy');
    // 3 x 2 cells of 24 px = 72 x 48, padded to a 72 px square texture.
    expect(manifest.pages).toEqual([{ width: 72, height: 72 }]);
    expect(manifest.tiles[4].uv.v1).toBeCloseTo(1 - (24 + 4 + 0.5) / 72, 6);
    const pixels = (await textures[0].readPixels()) as Uint8Array;
    const page = cpuAtlas.pages[0];
    let worst = 0;
    for (let y = 0; y < 72; y++) {
      for (let x = 0; x < 72; x++) {
        // readPixels rows run bottom-up (v = 0 first).
        const got = pixels.subarray(((71 - y) * 72 + x) * 4, ((71 - y) * 72 + x) * 4 + 3);
        for (let c = 0; c < 3; c++) {
          const want = y < page.height ? page.data[(y * page.width + x) * 3 + c] : 0;
          worst = Math.max(worst, Math.abs(got[c] - want));
        }
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(tf.getBackend()).toBe('cpu');
    for (const t of textures) t.dispose();
  });

  test('thin instances of one mesh and one material each show their own tile', async () => {
    const { textures, manifest } = await bakeAtlasTexture(
      scene,
      fakeDecoder({ latentChannels: 3 }),
      bakeOptions,
    );
    const plane = MeshBuilder.CreatePlane('tiles', { size: 2 }, scene);
    const material = new StandardMaterial('atlas', scene);
    material.disableLighting = true;
    material.diffuseColor = Color3.Black();
    material.specularColor = Color3.Black();
    material.emissiveTexture = textures[0];
    plane.material = material;
    const tiles = [4, 0, 2];
    createAtlasThinInstances(
      plane,
      manifest,
      [-2, 0, 2].map((x) => Matrix.Translation(x, 0, 0)),
      tiles,
    );
    await scene.whenReadyAsync();
    scene.render();
    const canvas = readCanvas();
    tiles.forEach((tile, k) => {
      let worst = 0;
      for (let y = 2; y < square - 2; y++) {
        for (let x = k * square + 2; x < (k + 1) * square - 2; x++) {
          for (let c = 0; c < 3; c++) {
            worst = Math.max(worst, Math.abs(canvas[(y * 3 * square + x) * 4 + c] - palette[tile][c]));
          }
        }
      }
      expect(worst, `instance ${k} (tile ${tile})`).toBeLessThanOrEqual(2);
    });
    plane.dispose();
    material.dispose();
    for (const t of textures) t.dispose();
  });
});

describe('atlasToBlobs', () => {
  test('PNG blobs decode to the page pixels; the JSON blob is the manifest with file names', async () => {
    const atlas = await bakeAtlas(fakeDecoder({ latentChannels: 3 }), { ...bakeOptions, maxTextureSize: 48 });
    expect(atlas.pages).toHaveLength(2);
    const blobs = await atlasToBlobs(atlas, { name: 'stones' });
    expect(blobs.files).toEqual({ pages: ['stones-0.png', 'stones-1.png'], manifest: 'stones.json' });
    for (const [i, blob] of blobs.pages.entries()) {
      expect(blob.type).toBe('image/png');
      const bitmap = await createImageBitmap(blob);
      const page = atlas.pages[i];
      expect([bitmap.width, bitmap.height]).toEqual([page.width, page.height]);
      const canvas = new OffscreenCanvas(page.width, page.height);
      const context = canvas.getContext('2d') as OffscreenCanvasRenderingContext2D;
      context.drawImage(bitmap, 0, 0);
      const rgba = context.getImageData(0, 0, page.width, page.height).data;
      let worst = 0;
      for (let p = 0; p < page.width * page.height; p++) {
        for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(rgba[p * 4 + c] - page.data[p * 3 + c]));
      }
      expect(worst).toBe(0);
    }
    const manifest = JSON.parse(await blobs.manifest.text());
    expect(manifest.pages.map((p: { file: string }) => p.file)).toEqual(['stones-0.png', 'stones-1.png']);
    expect(manifest.tiles).toEqual(JSON.parse(JSON.stringify(atlas.manifest.tiles)));
  });
});
