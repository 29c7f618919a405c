import type { Texture } from '@babylonjs/core/Materials/Textures/texture.js';
import type { Matrix } from '@babylonjs/core/Maths/math.vector.js';
import type { AbstractMesh } from '@babylonjs/core/Meshes/abstractMesh.js';
import type { Mesh } from '@babylonjs/core/Meshes/mesh.js';

import type { AtlasUvRect } from './atlasLayout.js';
import type { AtlasManifest } from './atlasManifest.js';
import { ATLAS_RECT_KIND, ATLAS_UV_PLUGIN_NAME, AtlasUvMaterialPlugin } from './atlasUvMaterialPlugin.js';

function tileUv(manifest: AtlasManifest, index: number): AtlasUvRect {
  const tile = manifest.tiles[index];
  if (!Number.isInteger(index) || tile === undefined) {
    throw new Error(`tile index must be an integer between 0 and ${manifest.tiles.length - 1}, got ${index}`);
  }
  return tile.uv;
}

/** The UVs each remapped mesh had before its first remap, so applying another tile does not compound. */
const originalUvs = new WeakMap<object, Float32Array>();

function isTexture(target: object): target is Texture {
  return 'uScale' in target && 'vOffset' in target;
}

/**
 * Shows tile `index` of an atlas page on a texture or a mesh; the page texture must use Babylon's default
 * orientation (a page PNG loaded with `invertY` true, the default, or a page from `bakeAtlasTexture`).
 *
 * - Texture: sets uScale / vScale / uOffset / vOffset so UVs 0..1 map onto the tile's UV rect (Babylon's
 *   texture matrix is `uv * scale + offset` without rotation). Every material using that texture object shows
 *   the tile; clone the texture to show different tiles of one page (clones share the GPU texture).
 * - Mesh: rewrites the mesh's UV buffer to `u0 + u * (u1 - u0)`, `v0 + v * (v1 - v0)`, always from the UVs it
 *   had before its first remap. A geometry shared with other meshes is made unique first. UVs outside 0..1
 *   (repeats) would reach neighbouring tiles: an atlas tile cannot repeat, use the tile texture itself for that.
 */
export function applyAtlasTile(target: AbstractMesh | Texture, manifest: AtlasManifest, index: number): void {
  const { u0, v0, u1, v1 } = tileUv(manifest, index);
  if (isTexture(target)) {
    target.uScale = u1 - u0;
    target.vScale = v1 - v0;
    target.uOffset = u0;
    target.vOffset = v0;
    return;
  }
  const mesh = target as Mesh;
  if (typeof mesh.getVerticesData !== 'function' || !mesh.isVerticesDataPresent('uv')) {
    throw new Error(`applyAtlasTile needs a Texture or a mesh with UVs, got ${mesh?.name ?? String(target)}`);
  }
  if (typeof mesh.makeGeometryUnique === 'function' && (mesh.geometry?.meshes.length ?? 0) > 1) {
    const saved = originalUvs.get(mesh.geometry as object);
    mesh.makeGeometryUnique();
    if (saved) originalUvs.set(mesh.geometry as object, saved);
  }
  const key = (mesh.geometry ?? mesh) as object;
  let source = originalUvs.get(key);
  if (!source) {
    source = Float32Array.from(mesh.getVerticesData('uv') ?? []);
    originalUvs.set(key, source);
  }
  const uvs = new Float32Array(source.length);
  for (let i = 0; i < source.length; i += 2) {
    uvs[i] = u0 + source[i] * (u1 - u0);
    uvs[i + 1] = v0 + source[i + 1] * (v1 - v0);
  }
  mesh.setVerticesData('uv', uvs, true);
}

/**
 * Per-instance tile rects as the 'atlasRect' buffer wants them: (u0, v0, u1 - u0, v1 - v0) per instance.
 * All tiles must lie on one page (one material samples one page texture).
 */
export function atlasRectBuffer(manifest: AtlasManifest, tileIndices: ArrayLike<number>): Float32Array {
  const rects = new Float32Array(tileIndices.length * 4);
  let page = -1;
  for (let i = 0; i < tileIndices.length; i++) {
    const index = tileIndices[i];
    const { u0, v0, u1, v1 } = tileUv(manifest, index);
    const tilePage = manifest.tiles[index].page;
    if (page >= 0 && tilePage !== page) {
      throw new Error(
        `thin instances of one mesh share one material and so one atlas page; tile ${index} is on page ${tilePage}, ` +
          `tile ${tileIndices[0]} on page ${page}`,
      );
    }
    page = tilePage;
    rects.set([u0, v0, u1 - u0, v1 - v0], i * 4);
  }
  return rects;
}

/**
 * Makes thin instances of `mesh`, instance i at `matrices[i]` showing tile `tileIndices[i]`, all with the mesh's
 * one material: sets the 'matrix' and 'atlasRect' thin instance buffers and attaches an
 * {@link AtlasUvMaterialPlugin} to the material if it has none (Standard or PBR material; the page texture
 * must be on the material already). Returns the plugin.
 */
export function createAtlasThinInstances(
  mesh: Mesh,
  manifest: AtlasManifest,
  matrices: Float32Array | readonly Matrix[],
  tileIndices: ArrayLike<number>,
): AtlasUvMaterialPlugin {
  const matrixData =
    matrices instanceof Float32Array
      ? matrices
      : Float32Array.from(matrices.flatMap((m) => Array.from(m.asArray())));
  if (matrixData.length !== tileIndices.length * 16) {
    throw new Error(
      `matrices must hold one 4x4 matrix (16 floats) per tile index: ${tileIndices.length} tiles need ` +
        `${tileIndices.length * 16} floats, got ${matrixData.length}`,
    );
  }
  const material = mesh.material;
  if (!material) throw new Error(`mesh ${mesh.name} needs a material (with the atlas page texture) first`);
  const rects = atlasRectBuffer(manifest, tileIndices);
  const attached = findPlugin(material) ?? new AtlasUvMaterialPlugin(material);
  attached.isEnabled = true;
  mesh.thinInstanceSetBuffer('matrix', matrixData, 16, true);
  mesh.thinInstanceSetBuffer(ATLAS_RECT_KIND, rects, 4, true);
  return attached;
}

function findPlugin(material: NonNullable<Mesh['material']>): AtlasUvMaterialPlugin | null {
  const plugin = material.pluginManager?.getPlugin(ATLAS_UV_PLUGIN_NAME);
  return plugin instanceof AtlasUvMaterialPlugin ? plugin : null;
}
