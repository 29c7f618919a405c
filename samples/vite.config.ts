import { readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = dirname(fileURLToPath(import.meta.url));

/** Every samples/<name>/index.html is a page of the build, beside the gallery index. */
function pages(): Record<string, string> {
  const input: Record<string, string> = { index: join(root, 'index.html') };
  for (const name of readdirSync(root)) {
    const page = join(root, name, 'index.html');
    if (statSync(join(root, name)).isDirectory() && safeExists(page)) input[name] = page;
  }
  return input;
}

function safeExists(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export default defineConfig({
  root,
  server: { host: '127.0.0.1', port: 5173, fs: { allow: [resolve(root, '..')] } },
  preview: { host: '127.0.0.1', port: 4173 },
  // Pre-bundled up front: a re-bundle found mid-session reloads the page and could give tfjs-layers its own
  // copy of tfjs-core.
  optimizeDeps: {
    include: [
      '@babylonjs/core',
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-layers',
      '@tensorflow/tfjs-backend-cpu',
      '@tensorflow/tfjs-backend-webgl',
      '@tensorflow/tfjs-backend-wasm',
      'lil-gui',
      '@babylonjs/inspector',
    ],
  },
  build: { outDir: resolve(root, '../dist/samples'), emptyOutDir: true, rollupOptions: { input: pages() } },
});
