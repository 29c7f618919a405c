import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import {
  FragmentOutputBlock,
  InputBlock,
  type Material,
  MeshBuilder,
  NodeMaterial,
  NodeMaterialSystemValues,
  TransformBlock,
  VertexOutputBlock,
} from '@babylonjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { page } from 'vitest/browser';
import {
  createVaeMaterial,
  registerVaeModel,
  registerVaeProceduralTexture,
  registerVaeTextureBlock,
  Swatch,
  TextureVae,
  VaeMaterialPlugin,
  type VaeProceduralTexture,
  VaeTextureBlock,
} from '../../src/index.js';
import {
  createOrthoScene,
  maxAbsDiff,
  type OrthoScene,
  readRgb,
  renderReady,
  stdDev,
  type unlitMaterial,
} from '../support/orthoScene.js';

// Three 32-px squares side by side, one texel per pixel: the material plugin's rendering, the block's, and
// the block's derived normal.
const size = 32;
const width = size * 3;
const tiny = {
  latentChannels: 4,
  stride: 4,
  encoderWidths: [8, 8, 8],
  decoderWidths: [16, 12, 8],
  name: 'tiny-block',
  // Wrapping texture sampling, as HeightNormalTexture's filter assumes at the edges.
  tileable: true,
};

let ortho: OrthoScene;
let model: TextureVae;
let swatch: Swatch;

beforeAll(async () => {
  await tf.setBackend('cpu');
  model = TextureVae.create(tiny, { seed: 3 });
  swatch = Swatch.fromLatent(model, model.sample({ width: 64, height: 64, seed: 8 }), { name: 'noise' });
  registerVaeModel('tiny-block', model);
  registerVaeProceduralTexture();
  registerVaeTextureBlock();
  ortho = createOrthoScene(width, size);
});

afterAll(() => {
  ortho.scene.dispose();
  ortho.engine.dispose();
  model.dispose();
  ortho.canvas.remove();
});

/** A square of side 2 (one canvas height) centred on column `column` of three. */
function square(column: number, material: Material) {
  const mesh = MeshBuilder.CreatePlane(`square${column}`, { size: 2 }, ortho.scene);
  mesh.position.x = -2 + 2 * column;
  mesh.material = material;
  return mesh;
}

/** An unlit NodeMaterial that shows one output of a VaeTextureBlock on `texture`. */
function blockMaterial(name: string, texture: VaeProceduralTexture, output: 'rgb' | 'normal'): NodeMaterial {
  const material = new NodeMaterial(name, ortho.scene, { emitComments: false });
  const position = new InputBlock('position');
  position.setAsAttribute('position');
  const world = new InputBlock('world');
  world.setAsSystemValue(NodeMaterialSystemValues.World);
  const viewProjection = new InputBlock('viewProjection');
  viewProjection.setAsSystemValue(NodeMaterialSystemValues.ViewProjection);
  const worldPosition = new TransformBlock('worldPosition');
  position.connectTo(worldPosition);
  world.connectTo(worldPosition);
  const clipPosition = new TransformBlock('clipPosition');
  worldPosition.connectTo(clipPosition);
  viewProjection.connectTo(clipPosition);
  const vertexOutput = new VertexOutputBlock('vertexOutput');
  clipPosition.connectTo(vertexOutput);

  const uv = new InputBlock('uv');
  uv.setAsAttribute('uv');
  const vae = new VaeTextureBlock('vae');
  vae.texture = texture;
  uv.output.connectTo(vae.uv);
  const fragmentOutput = new FragmentOutputBlock('fragmentOutput');
  vae[output].connectTo(fragmentOutput.rgb);
  material.addOutputNode(vertexOutput);
  material.addOutputNode(fragmentOutput);
  material.build(false);
  return material;
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let total = 0;
  for (let i = 0; i < a.length; i++) total += Math.abs(a[i] - b[i]);
  return total / a.length;
}

/**
 * HeightNormalTexture's filter computed on the CPU from a square's RGB bytes (one texel per pixel, wrapping):
 * luminance as height, Sobel gradients scaled by `strength`, the normal as a normal-map colour.
 */
function sobelNormals(rgb: Uint8Array, strength: number): Uint8Array {
  const height = (x: number, y: number) => {
    const i = (((y + size) % size) * size + ((x + size) % size)) * 3;
    return (0.2126 * rgb[i] + 0.7152 * rgb[i + 1] + 0.0722 * rgb[i + 2]) / 255;
  };
  const out = new Uint8Array(rgb.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // Row 0 is the top of the square: +v (up) is the row above.
      const h = (dx: number, dv: number) => height(x + dx, y - dv);
      const gx = h(1, 1) + 2 * h(1, 0) + h(1, -1) - (h(-1, 1) + 2 * h(-1, 0) + h(-1, -1));
      const gy = h(-1, 1) + 2 * h(0, 1) + h(1, 1) - (h(-1, -1) + 2 * h(0, -1) + h(1, -1));
      const n = [-gx * strength, -gy * strength, 1];
      const length = Math.hypot(n[0], n[1], n[2]);
      for (let c = 0; c < 3; c++) out[(y * size + x) * 3 + c] = Math.round((n[c] / length / 2 + 0.5) * 255);
    }
  }
  return out;
}

describe('VaeTextureBlock', () => {
  test('renders the VAE texture as the material plugin does (within 2/255) and its derived normal', async () => {
    const { scene } = ortho;
    const pluginMaterial = createVaeMaterial(scene, {
      model,
      swatch,
      size,
      seed: 4,
      type: 'standard',
      name: 'pluginVae',
    });
    // Unlit with a white emissive colour: the plugin's diffuse colour, the texture as sampled, is shown as is.
    const standard = pluginMaterial as unknown as ReturnType<typeof unlitMaterial>;
    standard.disableLighting = true;
    standard.emissiveColor.set(1, 1, 1);
    standard.specularColor.set(0, 0, 0);
    const plugin = VaeMaterialPlugin.get(pluginMaterial) as VaeMaterialPlugin;
    await plugin.whenReadyAsync();
    const texture = plugin.texture as VaeProceduralTexture;

    const blockRgb = blockMaterial('blockRgb', texture, 'rgb');
    const blockNormal = blockMaterial('blockNormal', texture, 'normal');
    const meshes = [square(0, pluginMaterial), square(1, blockRgb), square(2, blockNormal)];
    await renderReady(ortho.scene);

    // For people: test-results/vaeTextureBlock.png shows what the test saw.
    await page.screenshot({ path: '../../test-results/vaeTextureBlock.png', element: ortho.canvas });
    const fromPlugin = readRgb(ortho, 0 * size, size);
    const fromBlock = readRgb(ortho, 1 * size, size);
    expect(stdDev(fromPlugin), 'the plugin square is textured').toBeGreaterThan(5);
    expect(maxAbsDiff(fromPlugin, fromBlock)).toBeLessThanOrEqual(2);

    const blockNormals = readRgb(ortho, 2 * size, size);
    expect(stdDev(blockNormals), 'the derived normal is not flat').toBeGreaterThan(2);
    expect(maxAbsDiff(sobelNormals(fromBlock, 2), blockNormals)).toBeLessThanOrEqual(2);

    // A regenerated texture shows through the block without a rebuild.
    await texture.regenerate(model.sample({ width: size, height: size, seed: 77 }));
    await renderReady(ortho.scene);
    const after = readRgb(ortho, 1 * size, size);
    expect(meanAbsDiff(after, fromBlock)).toBeGreaterThan(3);
    expect(maxAbsDiff(readRgb(ortho, 0 * size, size), after)).toBeLessThanOrEqual(2);

    for (const mesh of meshes) mesh.dispose();
    for (const material of [blockRgb, blockNormal]) material.dispose();
    pluginMaterial.dispose();
  });

  test('serialize and NodeMaterial.Parse rebuild the block with its texture and strength', async () => {
    const { scene } = ortho;
    const reference = createVaeMaterial(scene, { model, swatch, size, seed: 9, type: 'standard' });
    const plugin = VaeMaterialPlugin.get(reference) as VaeMaterialPlugin;
    await plugin.whenReadyAsync();
    const material = blockMaterial('saved', plugin.texture as VaeProceduralTexture, 'rgb');
    const block = material.getBlockByName('vae') as VaeTextureBlock;
    block.normalStrength = 5;
    square(0, material);
    await renderReady(ortho.scene);
    const before = readRgb(ortho, 0 * size, size);
    expect(stdDev(before), 'the block square is textured').toBeGreaterThan(5);

    const json = material.serialize();
    const stored = json.blocks.find(
      (b: { customType: string }) => b.customType === 'BABYLON.VaeTextureBlock',
    );
    expect(stored).toMatchObject({
      normalStrength: 5,
      texture: { customType: 'BABYLON.VaeProceduralTexture' },
    });
    const parsed = NodeMaterial.Parse(json, scene, '');
    const parsedBlock = parsed.getBlockByName('vae') as VaeTextureBlock;
    expect(parsedBlock).toBeInstanceOf(VaeTextureBlock);
    expect(parsedBlock.normalStrength).toBe(5);
    const parsedTexture = parsedBlock.texture as VaeProceduralTexture;
    expect(parsedTexture).not.toBe(plugin.texture);
    expect(Array.from(parsedTexture.latent.data)).toEqual(Array.from(plugin.latent?.data ?? []));
    await parsedTexture.whenReadyAsync();
    (scene.getMeshByName('square0') as ReturnType<typeof square>).material = parsed;
    await renderReady(ortho.scene);
    expect(maxAbsDiff(readRgb(ortho, 0 * size, size), before)).toBeLessThanOrEqual(2);

    expect(() => {
      block.normalStrength = -1;
    }).toThrow(/normalStrength must be a number from 0 to 100, got -1/);
    parsed.dispose(false, true);
    material.dispose();
    reference.dispose();
  });
});
