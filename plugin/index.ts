import type { Plugin } from 'vite';

import { createContext, type VaeTexturesContext, type VaeTexturesOptions } from './context.js';

export type {
  PluginHost,
  ResolvedVaeTexturesOptions,
  VaeTexturesContext,
  VaeTexturesOptions,
  VaeTexturesStats,
} from './context.js';
export { createContext } from './context.js';

/** What the plugin exposes to other plugins and tests through `plugin.api`. */
export interface VaeTexturesApi {
  readonly context: VaeTexturesContext;
}

/**
 * Vite plugin: `import url from './stone/model.json?vae'` gives a model.json URL that `TextureVae.load(url)`
 * fetches (weights emitted with hashed names in a build, served in dev), and
 * `import atlas from './stone/model.json?vae-atlas&count=16&tileSize=128'` bakes an atlas at build time.
 * Add `/// <reference types="babylon-vae-textures/vite-client" />` for the import types.
 */
export function vaeTextures({
  cacheDir = 'node_modules/.vite-vae-textures',
}: VaeTexturesOptions = {}): Plugin<VaeTexturesApi> {
  const context = createContext({ cacheDir });
  return {
    name: 'vae-textures',
    enforce: 'pre',
    api: { context },
    configResolved(config) {
      context.configResolved(config);
    },
    resolveId(source, importer) {
      return context.resolveId(this, source, importer);
    },
    load(id) {
      return context.load(this, id);
    },
    configureServer(server) {
      context.configureServer(server);
    },
    hotUpdate({ file }) {
      return context.hotUpdate(this.environment, file);
    },
  };
}
