import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { chromiumArgs, findChromium } from './test/support/chromium.ts';

const wantsBrowser = !process.argv.includes('--project') || process.argv.includes('browser');

function browserLaunch() {
  const executablePath = findChromium();
  // Chromium writes to ~/.config and ~/.cache even with its own profile dir: keep it in a temp folder.
  const home = mkdtempSync(join(tmpdir(), 'bvt-chromium-'));
  return {
    executablePath,
    args: chromiumArgs,
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: home, XDG_CACHE_HOME: home },
  };
}

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/node/**/*.test.ts', 'test/plugin/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 240_000,
          pool: 'forks',
        },
      },
      ...(wantsBrowser
        ? [
            {
              // Every dependency pre-bundled up front: a mid-run re-bundle would give tfjs-layers its own tfjs-core,
              // and invalidates the chunks of Babylon's lazily imported shaders that pages already hold. The
              // crawl of every browser test finds the package's `@babylonjs/core/...` deep imports.
              optimizeDeps: {
                entries: ['test/browser/**/*.test.ts'],
                include: [
                  '@tensorflow/tfjs-core',
                  '@tensorflow/tfjs-layers',
                  '@tensorflow/tfjs-backend-cpu',
                  '@tensorflow/tfjs-backend-webgl',
                  '@tensorflow/tfjs-backend-wasm',
                  '@babylonjs/core',
                  '@babylonjs/loaders/glTF/index.js',
                  '@babylonjs/serializers/glTF/2.0/index.js',
                ],
              },
              test: {
                name: 'browser',
                include: ['test/browser/**/*.test.ts'],
                testTimeout: 120_000,
                hookTimeout: 120_000,
                fileParallelism: false,
                browser: {
                  enabled: true,
                  headless: true,
                  screenshotFailures: false,
                  provider: playwright({ launchOptions: browserLaunch() }),
                  instances: [{ browser: 'chromium' as const }],
                },
              },
            },
          ]
        : []),
    ],
  },
});
