#!/usr/bin/env bash
# Consumer test: packs the package (prepack builds it), installs the tarball into a fresh project with only the
# packages README's Install section names, and uses it as an app does: a Node decode, the CLI, TypeScript on a
# typed file without @types/node, and a `vite build` with the Vite plugin. Needs the npm registry (or a warm
# npm cache); prints the seconds each step took.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/bvt-consumer-XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$SECONDS
step() { echo "== consumer test: $1 (at $((SECONDS - start)) s)"; }
fail() { echo "consumer test FAILED: $1" >&2; exit 1; }

step "npm pack"
npm pack --pack-destination "$work" >"$work/pack.log" 2>&1 || { cat "$work/pack.log"; fail "npm pack"; }
tarball=$(ls "$work"/babylon-vae-textures-*.tgz)
contents=$(tar tzf "$tarball")
for required in package/dist/src/index.js package/dist/src/node/index.js package/dist/plugin/index.js \
  package/dist/cli/index.js package/dist/src/model/pretrained/default/weights.bin \
  package/dist/src/model/pretrained/default/swatches.bin package/dist/src/model/pretrained/default/swatches.json \
  package/LICENSE \
  package/NOTICE.md package/plugin/client.d.ts; do
  grep -qx "$required" <<<"$contents" || fail "the tarball lacks $required"
done
if grep -E '^package/(dist/)?(bench|test|samples)/' <<<"$contents"; then fail "the tarball ships bench/, test/ or samples/"; fi

app="$work/app"
mkdir -p "$app/src/model"
cd "$app"
echo '{ "name": "consumer", "private": true, "type": "module" }' >package.json

step "npm install"
npm install --prefer-offline --no-audit --no-fund --loglevel=error "$tarball" \
  @babylonjs/core @tensorflow/tfjs-core @tensorflow/tfjs-layers @tensorflow/tfjs-backend-webgl \
  @tensorflow/tfjs-backend-wasm vite typescript

step "Node decode"
cat >decode.mjs <<'EOF'
import { loadPretrained, loadPretrainedSwatches } from 'babylon-vae-textures';
import { readPng, useWasmBackend, writePng } from 'babylon-vae-textures/node';

await useWasmBackend();
const model = await loadPretrained();
const swatches = await loadPretrainedSwatches();
const image = await model.decode(swatches.bricks.sample({ width: 256, seed: 1 }));
writePng('bricks.png', image);
const back = readPng('bricks.png');
model.dispose();
if (back.width !== 256 || back.height !== 256) throw new Error(`bricks.png is ${back.width}x${back.height}`);
console.log(`decoded bricks.png, ${back.width}x${back.height}`);
EOF
node decode.mjs

step "Node decode without a backend"
cat >noBackend.mjs <<'EOF'
import { loadPretrained } from 'babylon-vae-textures';

try {
  await loadPretrained();
  throw new Error('loadPretrained() worked without a backend');
} catch (e) {
  if (!e.message.includes('useWasmBackend()')) throw e;
  console.log(`as expected: ${e.message}`);
}
EOF
node noBackend.mjs

step "CLI sample"
mkdir -p out
npx --no babylon-vae-textures sample --swatch bricks --count 2 --size 64 --seed 1 --out out/bricks
for i in 0 1; do [ -s "out/bricks-$i.png" ] || fail "the CLI did not write out/bricks-$i.png"; done

step "CLI sample without @tensorflow/tfjs-backend-wasm"
mv node_modules/@tensorflow/tfjs-backend-wasm "$work/wasm-aside"
set +e
message=$(npx --no babylon-vae-textures sample --count 1 --size 64 --out out/missing 2>&1)
status=$?
set -e
mv "$work/wasm-aside" node_modules/@tensorflow/tfjs-backend-wasm
[ "$status" -ne 0 ] || fail "the CLI worked without the WASM backend"
grep -q 'npm install @tensorflow/tfjs-backend-wasm' <<<"$message" || fail "no install command in: $message"
echo "as expected: $message"

step "tsc --noEmit, without @types/node"
cp node_modules/babylon-vae-textures/dist/src/model/pretrained/default/model.json \
  node_modules/babylon-vae-textures/dist/src/model/pretrained/default/weights.bin src/model/
cat >tsconfig.json <<'EOF'
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "ESNext",
    "moduleResolution": "Bundler",
    "lib": ["ES2022", "DOM", "DOM.Iterable"],
    "types": [],
    "strict": true,
    "skipLibCheck": true,
    "noEmit": true
  },
  "include": ["src", "vite.config.ts"]
}
EOF
cat >src/main.ts <<'EOF'
/// <reference types="babylon-vae-textures/vite-client" />
import { ArcRotateCamera } from '@babylonjs/core/Cameras/arcRotateCamera.js';
import { Engine } from '@babylonjs/core/Engines/engine.js';
import { HemisphericLight } from '@babylonjs/core/Lights/hemisphericLight.js';
import { Vector3 } from '@babylonjs/core/Maths/math.vector.js';
import { CreateSphere } from '@babylonjs/core/Meshes/Builders/sphereBuilder.js';
import { Scene } from '@babylonjs/core/scene.js';
import '@tensorflow/tfjs-backend-webgl';
import {
  type AtlasManifest,
  createVaeMaterial,
  loadPretrained,
  loadPretrainedSwatches,
  TextureVae,
  VaeMaterialPlugin,
} from 'babylon-vae-textures';
import atlas from './model/model.json?count=2&tileSize=32&vae-atlas';
import modelUrl from './model/model.json?vae';

async function start(canvas: HTMLCanvasElement): Promise<void> {
  const engine = new Engine(canvas);
  const scene = new Scene(engine);
  new ArcRotateCamera('camera', 0, 1, 3, Vector3.Zero(), scene).attachControl(canvas, true);
  new HemisphericLight('light', new Vector3(0, 1, 0), scene);
  const sphere = CreateSphere('sphere', { diameter: 1.5 }, scene);
  const model: TextureVae = await TextureVae.load(modelUrl);
  const material = createVaeMaterial(scene, { model, swatch: 'bricks', swatches: await loadPretrainedSwatches() });
  sphere.material = material;
  await VaeMaterialPlugin.get(material)?.whenReadyAsync();
  const manifest: AtlasManifest = atlas.manifest;
  console.log(`${manifest.tiles.length} atlas tiles on ${atlas.urls.length} page(s)`);
  (await loadPretrained()).dispose();
  engine.runRenderLoop(() => scene.render());
}

void start(document.querySelector('canvas') as HTMLCanvasElement);
EOF
cat >vite.config.ts <<'EOF'
import { vaeTextures } from 'babylon-vae-textures/vite';
import { defineConfig } from 'vite';

export default defineConfig({ plugins: [vaeTextures()], logLevel: 'warn' });
EOF
./node_modules/.bin/tsc -p tsconfig.json
# With skipLibCheck off, Babylon's, tfjs's and Vite's own declarations report errors of their own (DOM lib
# versions, Vite's need for @types/node); the package's declarations and the app must have none.
./node_modules/.bin/tsc -p tsconfig.json --skipLibCheck false >tsc-strict.log || true
if grep -E '^(src/|vite\.config\.ts|node_modules/babylon-vae-textures/)' tsc-strict.log; then
  fail "type errors in the app or in the package's declarations without @types/node"
fi

step "vite build"
cat >index.html <<'EOF'
<!doctype html>
<html><body><canvas style="width: 100%; height: 100%"></canvas><script type="module" src="/src/main.ts"></script></body></html>
EOF
./node_modules/.bin/vite build
assets=$(ls dist/assets)
grep -q '\.js$' <<<"$assets" || fail "vite build wrote no JavaScript"
# The model weights (the ?vae copy and the packaged default model are the same bytes, so one asset), the
# packaged swatches (index and grids), and the atlas baked at build time.
for asset in 'weights-.*\.bin' 'swatches-.*\.bin' 'model-atlas-.*\.png' 'model-atlas-.*\.json'; do
  grep -qE "^$asset$" <<<"$assets" || fail "vite build emitted no $asset"
done
# The swatch index (about 2 kB) is under Vite's assetsInlineLimit: emitted as a file or inlined as a data URL.
grep -qE '^swatches-.*\.json$' <<<"$assets" || grep -lq 'data:application/json;base64' dist/assets/*.js ||
  fail "vite build neither emitted nor inlined the swatch index swatches.json"
# The GLSL procedural vertex shader, imported by the package next to its procedural textures, is in the app's
# static chunks, not only in the chunk Babylon loads on demand: the bundler kept the package's side-effect imports.
grep -l 'proceduralVertexShader' dist/assets/*.js | grep -qv '/procedural\.vertex-' ||
  fail "the package's import of Babylon's procedural vertex shader was dropped from the bundle"
echo "vite build: $(grep -c '\.js$' <<<"$assets") JS chunks, and $(grep -v '\.js$' <<<"$assets" | tr '\n' ' ')"

step "passed"
