import type { Scene } from '@babylonjs/core/scene.js';
import * as tf from '@tensorflow/tfjs-core';
import { engineScope } from '../gpu/engineScope.js';
import type { TextureDecoder } from '../model/textureDecoder.js';
import { MAX_TEXTURE_SIZE } from '../model/textureVaeConfig.js';
import { TensorProceduralTexture } from '../textures/tensorProceduralTexture.js';
import type { AtlasLayout } from './atlasLayout.js';
import { computeAtlasLayout, tileUvRect } from './atlasLayout.js';
import type { AtlasManifest } from './atlasManifest.js';
import { createAtlasManifest } from './atlasManifest.js';
import type { AtlasOptions } from './bakeAtlas.js';
import { atlasTileSources, bakePages, resolveAtlasOptions } from './bakeAtlas.js';

export interface AtlasTextureOptions extends AtlasOptions {
  /** Texture name prefix; page p is `<name>-<p>` (default: 'atlas'). */
  name?: string;
  /**
   * Decode on the tfjs backend that shares the engine's WebGL2 context, so pages reach the textures with no CPU
   * copy; false, or an engine that cannot share (NullEngine, WebGPU, WebGL1), reads each page back once
   * (default: true).
   */
  useSharedContext?: boolean;
}

export interface AtlasTextureResult {
  /** One texture per page, with mipmaps, clamp addressing, trilinear sampling. The CALLER owns (disposes) them. */
  readonly textures: TensorProceduralTexture[];
  /** The manifest for these textures: pages are square (see {@link bakeAtlasTexture}), rects as in the layout. */
  readonly manifest: AtlasManifest;
}

/** The layout with every page widened to a square (content stays at the top left), UVs recomputed. */
function squareLayout(layout: AtlasLayout): AtlasLayout {
  const pages = layout.pages.map((p) => {
    const side = Math.max(p.width, p.height);
    return { ...p, width: side, height: side };
  });
  const tiles = layout.tiles.map((t) => ({
    ...t,
    uv: tileUvRect(t.rect, pages[t.page].width, pages[t.page].height),
  }));
  return { ...layout, pages, tiles };
}

/**
 * Bakes an atlas straight into Babylon textures: the page tensors from the batched bake go through the GPU
 * decode source (`src/gpu`: zero-copy on a shared WebGL2 context, one readback otherwise) and one shader pass
 * into Babylon-owned render targets, which then build their mipmaps. Orientation matches a page PNG loaded by
 * `new Texture(url)` (image top at v = 1), so `applyAtlasTile` and `createAtlasThinInstances` work the same
 * with either.
 *
 * The textures are square (TensorProceduralTexture is): a non-square page is padded with zeros at the right
 * or bottom, and the returned manifest says so (its page sizes and UVs differ from `bakeAtlas`'s, its pixel
 * rects do not). `maxTextureSize` defaults to the smaller of MAX_TEXTURE_SIZE (4096) and the engine's limit.
 */
export async function bakeAtlasTexture(
  scene: Scene,
  decoder: TextureDecoder,
  options: AtlasTextureOptions = {},
): Promise<AtlasTextureResult> {
  const engine = scene.getEngine();
  const name = options.name ?? 'atlas';
  const useSharedContext = options.useSharedContext ?? true;
  const o = resolveAtlasOptions(decoder, {
    ...options,
    maxTextureSize: options.maxTextureSize ?? Math.min(MAX_TEXTURE_SIZE, engine.getCaps().maxTextureSize),
  });
  const layout = computeAtlasLayout(o);
  const square = squareLayout(layout);
  const runSync = engineScope(engine, { useSharedContext }).run;
  const textures: TensorProceduralTexture[] = [];
  try {
    await bakePages(
      decoder,
      o,
      layout,
      async (page, index) => {
        const side = square.pages[index].width;
        const [, height, width] = page.shape;
        const texture = new TensorProceduralTexture(`${name}-${index}`, scene, {
          size: side,
          tileable: false,
          generateMipMaps: true,
          useSharedContext,
        });
        textures.push(texture);
        try {
          // `write` disposes what the callback returns: hand it a padded copy and keep ownership of `page`.
          await texture.write(() =>
            tf.pad(page, [
              [0, 0],
              [0, side - height],
              [0, side - width],
              [0, 0],
            ]),
          );
        } finally {
          runSync(() => page.dispose());
        }
      },
      runSync,
    );
  } catch (e) {
    for (const t of textures) t.dispose();
    throw e;
  }
  return { textures, manifest: createAtlasManifest(square, decoder.name, atlasTileSources(o)) };
}
