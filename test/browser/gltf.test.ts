import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@babylonjs/loaders/glTF/index.js';
import {
  HemisphericLight,
  LoadAssetContainerAsync,
  Mesh,
  MeshBuilder,
  type PBRMaterial,
  Vector3,
} from '@babylonjs/core';
import { GLTF2Export } from '@babylonjs/serializers/glTF/2.0/index.js';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { page } from 'vitest/browser';
import {
  createVaeMaterial,
  exportWithVaeTextures,
  Swatch,
  TextureVae,
  VaeMaterialPlugin,
} from '../../src/index.js';
import {
  createOrthoScene,
  maxAbsDiff,
  type OrthoScene,
  readRgb,
  renderReady,
  stdDev,
} from '../support/orthoScene.js';

// Two 32-px squares, one texel per pixel: an unlit and a lit PBR VAE material. Exported as GLB with the
// package's helper, loaded back with Babylon's glTF loader, they must draw the same pixels.
const size = 32;
const width = size * 2;
const tiny = {
  latentChannels: 4,
  stride: 4,
  encoderWidths: [8, 8, 8],
  decoderWidths: [16, 12, 8],
  name: 'tiny-gltf',
};

let ortho: OrthoScene;
let model: TextureVae;
let swatch: Swatch;

beforeAll(async () => {
  await tf.setBackend('cpu');
  model = TextureVae.create(tiny, { seed: 5 });
  swatch = Swatch.fromLatent(model, model.sample({ width: 64, height: 64, seed: 2 }), { name: 'noise' });
  ortho = createOrthoScene(width, size);
  new HemisphericLight('light', new Vector3(0.3, 0.4, -1), ortho.scene).intensity = 1.2;
});

afterAll(() => {
  ortho.scene.dispose();
  ortho.engine.dispose();
  model.dispose();
  ortho.canvas.remove();
});

/** The JSON chunk of a GLB file. */
function glbJson(bytes: Uint8Array): { images?: unknown[]; materials?: Record<string, unknown>[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(12, true);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(20, 20 + length)));
}

describe('glTF export of VAE materials', () => {
  test('GLTF2Export writes the current VAE textures; re-imported, the meshes draw the same pixels', async () => {
    const { scene } = ortho;
    const unlit = createVaeMaterial(scene, { model, swatch, size, seed: 1, name: 'unlitVae' }) as PBRMaterial;
    unlit.unlit = true;
    const lit = createVaeMaterial(scene, { model, swatch, size, seed: 2, name: 'litVae' }) as PBRMaterial;
    const squares = [unlit, lit].map((material, column) => {
      const mesh = MeshBuilder.CreatePlane(`square${column}`, { size: 2 }, scene);
      mesh.position.x = -1 + 2 * column;
      mesh.material = material;
      return mesh;
    });
    await Promise.all(
      [unlit, lit].map((m) => (VaeMaterialPlugin.get(m) as VaeMaterialPlugin).whenReadyAsync()),
    );
    await renderReady(ortho.scene);
    const before = readRgb(ortho, 0, width);
    expect(stdDev(before), 'the squares are textured').toBeGreaterThan(5);

    const data = await exportWithVaeTextures(scene, () =>
      GLTF2Export.GLBAsync(scene, 'vae', { shouldExportNode: (node) => node instanceof Mesh }),
    );
    // The materials are as before the export.
    for (const material of [unlit, lit]) {
      expect(material.albedoTexture).toBeNull();
      expect((VaeMaterialPlugin.get(material) as VaeMaterialPlugin).isEnabled).toBe(true);
    }
    const glb = new Uint8Array(await (data.files['vae.glb'] as Blob).arrayBuffer());
    const json = glbJson(glb);
    expect(json.images).toHaveLength(2);
    expect(json.materials?.map((m) => m.pbrMetallicRoughness)).toEqual([
      expect.objectContaining({ baseColorTexture: expect.anything() }),
      expect.objectContaining({ baseColorTexture: expect.anything() }),
    ]);

    for (const mesh of squares) mesh.dispose();
    for (const material of [unlit, lit]) material.dispose();
    await renderReady(ortho.scene);
    expect(stdDev(readRgb(ortho, 0, width)), 'nothing drawn between export and import').toBe(0);

    // The loader's default sRGB texture formats decode exactly, while the scene before the export decoded
    // with Babylon's pow(2.2) (toLinearSpace): dark tones then differ by up to 7/255. Without sRGB buffers the
    // loaded materials decode like the originals.
    const container = await LoadAssetContainerAsync(glb, scene, {
      pluginExtension: '.glb',
      pluginOptions: { gltf: { useSRGBBuffers: false } },
    });
    container.addAllToScene();
    await renderReady(ortho.scene);
    const after = readRgb(ortho, 0, width);
    // For people: test-results/gltf.png shows the re-imported scene.
    await page.screenshot({ path: '../../test-results/gltf.png', element: ortho.canvas });
    expect(maxAbsDiff(before, after)).toBeLessThanOrEqual(2);
    container.dispose();
  });
});
