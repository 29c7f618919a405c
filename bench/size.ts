/**
 * What the package adds to an app's JavaScript: a tiny app that deep-imports Babylon and tfjs (engine, scene,
 * camera, light, sphere, PBR material; tfjs-core, tfjs-layers, the WebGL backend) is built with `vite build`
 * without the package, then with it (createVaeMaterial with the pretrained model, and every export of the
 * package), and the JS output is compared: all chunks, and the initial chunks (the entry and its static
 * imports, what the page loads before it runs). The package is taken from dist/ as npm ships it (built first),
 * with its package.json `sideEffects: false`. Also times `import('babylon-vae-textures')` in Node.
 *
 *   npm run bench:size        (npx tsx bench/size.ts)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';
import { machineLine, markdownTable, writeResultsSection } from './results.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist/src/index.js');
const work = join(root, '.tmp/bench-size');
const budgetGzip = 150_000;

const babylonAndTfjs = `
import { ArcRotateCamera } from '@babylonjs/core/Cameras/arcRotateCamera.js';
import { Engine } from '@babylonjs/core/Engines/engine.js';
import { HemisphericLight } from '@babylonjs/core/Lights/hemisphericLight.js';
import { PBRMaterial } from '@babylonjs/core/Materials/PBR/pbrMaterial.js';
import { Vector3 } from '@babylonjs/core/Maths/math.vector.js';
import { CreateSphere } from '@babylonjs/core/Meshes/Builders/sphereBuilder.js';
import { Scene } from '@babylonjs/core/scene.js';
import '@tensorflow/tfjs-backend-webgl';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

const canvas = document.querySelector('canvas');
const engine = new Engine(canvas);
const scene = new Scene(engine);
new ArcRotateCamera('camera', 0, 1, 3, Vector3.Zero(), scene).attachControl(canvas, true);
new HemisphericLight('light', new Vector3(0, 1, 0), scene);
const sphere = CreateSphere('sphere', { diameter: 1.5 }, scene);
sphere.material = new PBRMaterial('plain', scene);
const own = await tfl.loadLayersModel('own/model.json');
tf.tidy(() => own.predict(tf.zeros([1, 8, 8, 3])));
engine.runRenderLoop(() => scene.render());
`;

const variants: { name: string; code: string }[] = [
  { name: 'Babylon + tfjs, without the package', code: babylonAndTfjs },
  {
    name: '+ createVaeMaterial with the pretrained model',
    code: `${babylonAndTfjs}
import { createVaeMaterial, loadPretrained, loadPretrainedSwatches } from 'babylon-vae-textures';
const model = await loadPretrained();
sphere.material = createVaeMaterial(scene, { model, swatch: 'bricks', swatches: await loadPretrainedSwatches() });
`,
  },
  {
    name: '+ every export of the package',
    code: `${babylonAndTfjs}
import * as vae from 'babylon-vae-textures';
console.log(Object.keys(vae).length);
`,
  },
];

interface Size {
  chunks: number;
  raw: number;
  gzip: number;
  initialRaw: number;
  initialGzip: number;
  preloads: number;
}

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
}

async function measure(name: string, code: string): Promise<Size> {
  const dir = join(work, String(variants.findIndex((v) => v.name === name)));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(
    join(dir, 'index.html'),
    '<!doctype html><html><body><canvas></canvas><script type="module" src="/src/main.js"></script></body></html>',
  );
  writeFileSync(join(dir, 'src/main.js'), code);
  await build({
    root: dir,
    configFile: false,
    logLevel: 'silent',
    resolve: { alias: { 'babylon-vae-textures': entry } },
    build: { outDir: join(dir, 'dist'), manifest: true, reportCompressedSize: false },
  });
  const manifest = JSON.parse(readFileSync(join(dir, 'dist/.vite/manifest.json'), 'utf8')) as Record<
    string,
    ManifestChunk
  >;
  const sizes = new Map<string, { raw: number; gzip: number }>();
  for (const chunk of Object.values(manifest)) {
    if (!chunk.file.endsWith('.js') || sizes.has(chunk.file)) continue;
    const bytes = readFileSync(join(dir, 'dist', chunk.file));
    sizes.set(chunk.file, { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length });
  }
  const initial = new Set<string>();
  const visit = (key: string) => {
    const chunk = manifest[key];
    if (!chunk || initial.has(chunk.file)) return;
    initial.add(chunk.file);
    for (const next of chunk.imports ?? []) visit(next);
  };
  for (const [key, chunk] of Object.entries(manifest)) if (chunk.isEntry) visit(key);
  const html = readFileSync(join(dir, 'dist/index.html'), 'utf8');
  const sum = (files: Iterable<string>, key: 'raw' | 'gzip') =>
    [...files].reduce((total, file) => total + (sizes.get(file)?.[key] ?? 0), 0);
  return {
    chunks: sizes.size,
    raw: sum(sizes.keys(), 'raw'),
    gzip: sum(sizes.keys(), 'gzip'),
    initialRaw: sum(initial, 'raw'),
    initialGzip: sum(initial, 'gzip'),
    preloads: html.match(/rel="modulepreload"/g)?.length ?? 0,
  };
}

/** Median wall time of `import('babylon-vae-textures')` in a fresh Node process, in ms. */
function nodeImportMs(runs: number): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(entry)}); console.log(performance.now() - t);`;
  const times = Array.from({ length: runs }, () =>
    Number(
      execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim(),
    ),
  ).sort((a, b) => a - b);
  return times[Math.floor(runs / 2)] as number;
}

const kB = (bytes: number) => (bytes / 1000).toFixed(1);
const signedKB = (bytes: number) => `${bytes >= 0 ? '+' : ''}${kB(bytes)}`;

if (!process.argv.includes('--no-build') || !existsSync(entry)) {
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
}
const results: Size[] = [];
for (const variant of variants) {
  results.push(await measure(variant.name, variant.code));
  console.log(variant.name, results.at(-1));
}
rmSync(work, { recursive: true, force: true });
const importMs = nodeImportMs(3);

const base = results[0] as Size;
const rows = variants.map((variant, i) => {
  const size = results[i] as Size;
  const added = i === 0 ? '' : ` (${signedKB(size.gzip - base.gzip)})`;
  const addedInitial = i === 0 ? '' : ` (${signedKB(size.initialGzip - base.initialGzip)})`;
  return [
    variant.name,
    size.chunks,
    kB(size.raw),
    `${kB(size.gzip)}${added}`,
    kB(size.initialRaw),
    `${kB(size.initialGzip)}${addedInitial}`,
    size.preloads,
  ];
});
const added = (results[1] as Size).gzip - base.gzip;
const markdown = [
  '## Bundle size: what the package adds to an app',
  '',
  'A tiny app that already deep-imports Babylon and tfjs, built with `vite build` (defaults, minified) without',
  'and with the package from dist/. Sizes are JavaScript only (the model weights are separate assets), in kB of',
  '1000 bytes, gzip -9; "initial" is the entry chunk and its static imports. In brackets: added to the app',
  `without the package. Budget: at most ${kB(budgetGzip)} kB gzip for createVaeMaterial with the pretrained`,
  `model: ${added <= budgetGzip ? 'met' : 'NOT met'} (${signedKB(added)} kB).`,
  '',
  markdownTable(
    ['app', 'JS chunks', 'all JS raw', 'all JS gzip', 'initial raw', 'initial gzip', 'modulepreload links'],
    rows,
  ),
  '',
  `\`import('babylon-vae-textures')\` in Node: ${Math.round(importMs)} ms (median of 3 fresh processes).`,
  '',
  `Command: \`npm run bench:size\`. ${machineLine()}, vite ${(await import('vite')).version}.`,
].join('\n');
writeResultsSection('size', markdown);
console.log(markdown);
