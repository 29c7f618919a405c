// Module types for the imports of the `vaeTextures()` Vite plugin. Add to a project with
// `/// <reference types="babylon-vae-textures/vite-client" />` or "types": ["babylon-vae-textures/vite-client"].

/**
 * `import url from './stone/model.json?vae'`: the URL of the model.json (absolute in a page, since tf.io picks
 * its HTTP loader by the scheme); pass it to `TextureVae.load(url)`. The weights load from next to it.
 */
declare module '*?vae' {
  const modelUrl: string;
  export default modelUrl;
}

/**
 * `import atlas from './stone/model.json?vae-atlas'`: an atlas baked at build time (no parameters: the
 * atlas defaults). TypeScript allows one `*` per pattern, so with parameters put the flag LAST:
 * `'./stone/model.json?count=16&tileSize=128&seed=1&vae-atlas'` (matched by the `*&vae-atlas` declaration below).
 */
declare module '*?vae-atlas' {
  import type { AtlasManifest } from 'babylon-vae-textures';
  /** One URL per atlas page (PNG), in `manifest.pages` order. */
  export const urls: string[];
  /** Tile rectangles and UVs; `pages[i].file` is the page file relative to `manifestUrl`. */
  export const manifest: AtlasManifest;
  /** URL of the same manifest as a JSON file. */
  export const manifestUrl: string;
  const atlas: { urls: string[]; manifest: AtlasManifest; manifestUrl: string };
  export default atlas;
}

/** `import atlas from './stone/model.json?count=16&tileSize=128&vae-atlas'`: as `*?vae-atlas`, with parameters. */
declare module '*&vae-atlas' {
  import type { AtlasManifest } from 'babylon-vae-textures';
  export const urls: string[];
  export const manifest: AtlasManifest;
  export const manifestUrl: string;
  const atlas: { urls: string[]; manifest: AtlasManifest; manifestUrl: string };
  export default atlas;
}
