import { Matrix, MeshBuilder, NullEngine, Scene, StandardMaterial, Texture, Vector3 } from '@babylonjs/core';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';

import { applyAtlasTile, atlasRectBuffer, createAtlasThinInstances } from '../../src/atlas/atlasApply.js';
import { computeAtlasLayout } from '../../src/atlas/atlasLayout.js';
import { createAtlasManifest } from '../../src/atlas/atlasManifest.js';
import { ATLAS_UV_PLUGIN_NAME, AtlasUvMaterialPlugin } from '../../src/atlas/atlasUvMaterialPlugin.js';

let engine: NullEngine;
let scene: Scene;

beforeEach(() => {
  engine = new NullEngine();
  scene = new Scene(engine);
});

afterEach(() => {
  scene.dispose();
  engine.dispose();
});

function manifest(count = 6, maxTextureSize = 4096) {
  const layout = computeAtlasLayout({ count, tileSize: 32, padding: 4, maxTextureSize });
  return createAtlasManifest(
    layout,
    'test',
    layout.tiles.map((t) => ({ seed: t.index })),
  );
}

function uvRange(uvs: ArrayLike<number>) {
  const u = Array.from(uvs).filter((_, i) => i % 2 === 0);
  const v = Array.from(uvs).filter((_, i) => i % 2 === 1);
  return { u0: Math.min(...u), u1: Math.max(...u), v0: Math.min(...v), v1: Math.max(...v) };
}

describe('applyAtlasTile', () => {
  test('texture: the texture matrix maps UV 0..1 onto the tile UV rect', () => {
    const m = manifest();
    const texture = new Texture(null, scene);
    applyAtlasTile(texture, m, 4);
    const t = texture.getTextureMatrix().m;
    const map = (u: number, v: number) => [u * t[0] + v * t[4] + t[8], u * t[1] + v * t[5] + t[9]];
    const { u0, v0, u1, v1 } = m.tiles[4].uv;
    expect(map(0, 0)[0]).toBeCloseTo(u0, 6);
    expect(map(0, 0)[1]).toBeCloseTo(v0, 6);
    expect(map(1, 1)[0]).toBeCloseTo(u1, 6);
    expect(map(1, 1)[1]).toBeCloseTo(v1, 6);
  });

  test('mesh: UVs are remapped from the original ones each time; shared geometry is left alone', () => {
    const m = manifest();
    const plane = MeshBuilder.CreatePlane('p', { size: 1 }, scene);
    const twin = plane.clone('twin');
    const before = Array.from(twin.getVerticesData('uv') ?? []);
    applyAtlasTile(plane, m, 1);
    expect(uvRange(plane.getVerticesData('uv') ?? [])).toEqual(
      Object.fromEntries(Object.entries(m.tiles[1].uv).map(([k, v]) => [k, expect.closeTo(v, 6)])),
    );
    applyAtlasTile(plane, m, 5);
    const r = uvRange(plane.getVerticesData('uv') ?? []);
    expect(r.u0).toBeCloseTo(m.tiles[5].uv.u0, 6);
    expect(r.v1).toBeCloseTo(m.tiles[5].uv.v1, 6);
    expect(Array.from(twin.getVerticesData('uv') ?? [])).toEqual(before);
  });

  test('bad tile index or target', () => {
    const m = manifest();
    const texture = new Texture(null, scene);
    expect(() => applyAtlasTile(texture, m, 6)).toThrow(
      'tile index must be an integer between 0 and 5, got 6',
    );
    const noUv = MeshBuilder.CreateLines('l', { points: [Vector3.Zero(), Vector3.One()] }, scene);
    expect(() => applyAtlasTile(noUv, m, 0)).toThrow(
      'applyAtlasTile needs a Texture or a mesh with UVs, got l',
    );
  });
});

describe('createAtlasThinInstances', () => {
  test('sets matrix and atlasRect buffers and attaches one plugin to the material', () => {
    const m = manifest();
    const box = MeshBuilder.CreateBox('b', { size: 1 }, scene);
    const material = new StandardMaterial('m', scene);
    box.material = material;
    const matrices = [0, 1, 2].map((i) => Matrix.Translation(i * 2, 0, 0));
    const plugin = createAtlasThinInstances(box, m, matrices, [3, 0, 5]);
    expect(plugin).toBeInstanceOf(AtlasUvMaterialPlugin);
    expect(material.pluginManager?.getPlugin(ATLAS_UV_PLUGIN_NAME)).toBe(plugin);
    expect(box.thinInstanceCount).toBe(3);
    expect(box.isVerticesDataPresent('atlasRect')).toBe(true);
    const rects = box.getVertexBuffer('atlasRect')?.getData() as Float32Array;
    const { u0, v0, u1, v1 } = m.tiles[5].uv;
    expect(Array.from(rects.subarray(8, 12))).toEqual(
      Array.from(new Float32Array([u0, v0, u1 - u0, v1 - v0])),
    );
    const again = createAtlasThinInstances(box, m, new Float32Array(16), [1]);
    expect(again).toBe(plugin);
    expect(box.thinInstanceCount).toBe(1);
  });

  test('the plugin declares the attribute and remaps uvUpdated in GLSL and WGSL', () => {
    const box = MeshBuilder.CreateBox('b', { size: 1 }, scene);
    const plugin = new AtlasUvMaterialPlugin(new StandardMaterial('m', scene));
    const attributes: string[] = [];
    plugin.getAttributes(attributes, scene, box);
    expect(attributes).toEqual([]);
    box.thinInstanceSetBuffer('atlasRect', new Float32Array(4), 4);
    plugin.getAttributes(attributes, scene, box);
    expect(attributes).toEqual(['atlasRect']);
    const glsl = plugin.getCustomCode('vertex');
    expect(glsl?.CUSTOM_VERTEX_DEFINITIONS).toContain('attribute vec4 atlasRect;');
    expect(glsl?.CUSTOM_VERTEX_UPDATE_POSITION).toContain(
      'uvUpdated = atlasRect.xy + uvUpdated * atlasRect.zw;',
    );
    const wgsl = plugin.getCustomCode('vertex', 1);
    expect(wgsl?.CUSTOM_VERTEX_DEFINITIONS).toContain('attribute atlasRect: vec4f;');
    expect(wgsl?.CUSTOM_VERTEX_UPDATE_POSITION).toContain('vertexInputs.atlasRect.xy');
    expect(plugin.getCustomCode('fragment')).toBeNull();
    plugin.isEnabled = false;
    const none: string[] = [];
    plugin.getAttributes(none, scene, box);
    expect(none).toEqual([]);
  });

  test('rejects tiles on different pages and mismatched matrices', () => {
    const m = manifest(20, 120);
    expect(m.pages.length).toBeGreaterThan(1);
    const last = m.tiles[m.tiles.length - 1];
    expect(() => atlasRectBuffer(m, [0, last.index])).toThrow(
      `tile ${last.index} is on page ${last.page}, tile 0 on page 0`,
    );
    const box = MeshBuilder.CreateBox('b', { size: 1 }, scene);
    box.material = new StandardMaterial('m', scene);
    expect(() => createAtlasThinInstances(box, m, new Float32Array(16), [0, 1])).toThrow(
      '2 tiles need 32 floats, got 16',
    );
  });
});
