import { existsSync } from 'node:fs';

/** Where the test browser comes from: $CHROMIUM_PATH, else Debian's /usr/bin/chromium. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [env.CHROMIUM_PATH, '/usr/bin/chromium'].filter((p): p is string => !!p);
  for (const path of candidates) {
    if (existsSync(path)) return path;
  }
  throw new Error(
    `No Chromium found for the browser tests (looked at ${candidates.join(', ')}). ` +
      'Install Debian\'s Chromium with "apt-get update && apt-get install -y chromium", ' +
      'or set CHROMIUM_PATH to a Chromium or Chrome executable.',
  );
}

/**
 * Flags that give headless Chromium a clean WebGL2 context on SwiftShader, with no network chatter, and
 * WebGPU on SwiftShader's adapter (without --enable-unsafe-webgpu, requestAdapter() returns null here).
 */
export const chromiumArgs = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--ignore-gpu-blocklist',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--disable-dev-shm-usage',
];
