import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import {
  ArcRotateCamera,
  Color3,
  Color4,
  DirectionalLight,
  Engine,
  HemisphericLight,
  Matrix,
  type Mesh,
  MeshBuilder,
  Quaternion,
  Scene,
  StandardMaterial,
  Vector3,
  VertexBuffer,
} from '@babylonjs/core';
import * as tf from '@tensorflow/tfjs-core';
import GUI from 'lil-gui';
import {
  type AtlasManifest,
  atlasToBlobs,
  bakeAtlasTexture,
  createAtlasThinInstances,
  loadPretrained,
  loadPretrainedSwatches,
  type PixelImage,
  type PretrainedSwatches,
  SeededRandom,
  type TensorProceduralTexture,
  type TextureVae,
} from '../../src/index.js';
import { addInspector } from '../shared/inspector.js';
import { SampleTracker, sampleParams } from '../shared/sampleHook.js';

const url = sampleParams();

// init
const canvas = document.getElementById('scene') as HTMLCanvasElement;
const status = document.getElementById('status') as HTMLDivElement;
const pngLink = document.getElementById('png') as HTMLAnchorElement;
const jsonLink = document.getElementById('json') as HTMLAnchorElement;
const engine = new Engine(canvas, true, { stencil: true, preserveDrawingBuffer: true });
const scene = new Scene(engine);
scene.clearColor = new Color4(0.08, 0.09, 0.11, 1);
const camera = new ArcRotateCamera('camera', -Math.PI / 2, 1.0, 20, new Vector3(-1.2, 0.3, 0), scene);
camera.attachControl(canvas, true);
camera.wheelDeltaPercentage = 0.01;
const hemi = new HemisphericLight('sky', new Vector3(0.2, 1, -0.3), scene);
hemi.intensity = 0.8;
hemi.groundColor = new Color3(0.2, 0.2, 0.22);
new DirectionalLight('sun', new Vector3(-0.4, -1, 0.5), scene).intensity = 1.6;

// The whole atlas page, unlit, standing on the left.
const page = MeshBuilder.CreatePlane('page', { size: 5 }, scene);
page.position.set(-9.2, 2.4, 0.5);
page.rotation.y = -0.5;
const pageMaterial = new StandardMaterial('page', scene);
pageMaterial.disableLighting = true;
pageMaterial.diffuseColor = Color3.Black();
pageMaterial.specularColor = Color3.Black();
page.material = pageMaterial;

// One tile mesh and one rock mesh, each drawn many times as thin instances of one material.
const tile = MeshBuilder.CreateBox('tile', { width: 0.96, depth: 0.96, height: 0.12 }, scene);
const tileMaterial = new StandardMaterial('tiles', scene);
tileMaterial.specularColor = new Color3(0.05, 0.05, 0.05);
tile.material = tileMaterial;
const rock = MeshBuilder.CreateIcoSphere('rock', { radius: 0.45, subdivisions: 2 }, scene);
const rockPositions = Float32Array.from(rock.getVerticesData(VertexBuffer.PositionKind) ?? []);
const jitter = new SeededRandom(7);
for (let i = 0; i < rockPositions.length; i += 3) rockPositions[i + 1] *= 0.65 + 0.1 * jitter.next();
rock.updateVerticesData(VertexBuffer.PositionKind, rockPositions);
rock.createNormals(true);
const rockMaterial = new StandardMaterial('rocks', scene);
rockMaterial.specularColor = new Color3(0.05, 0.05, 0.05);
rock.material = rockMaterial;

const params = {
  swatch: url.get('swatch') ?? 'cliff',
  count: Math.round(url.number('count', 64)),
  tileSize: url.number('tile', 64),
  padding: 8,
  seed: 1,
  bake: () => run(bake()),
  shuffle: () => run(shuffle()),
  floor: 12,
  rocks: 24,
  downloadPng: () => pngLink.click(),
  downloadManifest: () => jsonLink.click(),
  bakeMs: 0,
  rotate: !url.still,
};

let model: TextureVae;
let swatches: PretrainedSwatches;
let atlas: { textures: TensorProceduralTexture[]; manifest: AtlasManifest } | null = null;
let layoutSeed = 1;
let pngBytes = 0;
let tracker: SampleTracker;

function run(action: Promise<unknown>): void {
  void tracker.track(action).then(() => {
    for (const controller of gui.controllersRecursive()) controller.updateDisplay();
  });
}

async function bake(): Promise<void> {
  const start = performance.now();
  const result = await bakeAtlasTexture(scene, model, {
    count: params.count,
    tileSize: params.tileSize,
    padding: params.padding,
    seed: params.seed,
    // Tile i is a sample of the swatch with seed + i: the same material, a layout of its own per tile.
    swatch: swatches[params.swatch],
  });
  params.bakeMs = Math.round(performance.now() - start);
  if (atlas) for (const texture of atlas.textures) texture.dispose();
  atlas = result;
  const texture = result.textures[0];
  pageMaterial.emissiveTexture = texture;
  tileMaterial.diffuseTexture = texture;
  rockMaterial.diffuseTexture = texture;
  await shuffle();
  const side = texture.getSize().width;
  status.textContent =
    `${params.count} tiles of ${params.tileSize} px (+${params.padding} px gutters) on ${result.textures.length} ` +
    `page(s) of ${side} px, baked in ${params.bakeMs} ms`;
  await exportBlobs();
  for (const controller of gui.controllersRecursive()) controller.updateDisplay();
}

/** Every floor tile and rock gets a random tile of the first page; one draw call per mesh. */
async function shuffle(): Promise<void> {
  if (!atlas) return;
  const manifest = atlas.manifest;
  const onFirstPage = manifest.tiles.filter((t) => t.page === 0).map((t) => t.index);
  const rng = new SeededRandom(layoutSeed++);
  const pick = () => onFirstPage[rng.int(onFirstPage.length)];
  const floorMatrices: Matrix[] = [];
  const n = params.floor;
  for (let z = 0; z < n; z++) {
    for (let x = 0; x < n; x++)
      floorMatrices.push(Matrix.Translation(x - (n - 1) / 2, -0.06, z - (n - 1) / 2));
  }
  place(tile, manifest, floorMatrices, floorMatrices.map(pick));
  const rockMatrices: Matrix[] = [];
  const placement = new SeededRandom(3);
  for (let i = 0; i < params.rocks; i++) {
    const s = 0.5 + placement.next() * 0.9;
    rockMatrices.push(
      Matrix.Compose(
        new Vector3(s, s, s),
        Quaternion.RotationYawPitchRoll(placement.next() * 6.28, 0, 0),
        new Vector3((placement.next() - 0.5) * (n - 1), 0.1 * s, (placement.next() - 0.5) * (n - 1)),
      ),
    );
  }
  place(rock, manifest, rockMatrices, rockMatrices.map(pick));
  await scene.whenReadyAsync();
}

function place(mesh: Mesh, manifest: AtlasManifest, matrices: Matrix[], tiles: number[]): void {
  createAtlasThinInstances(mesh, manifest, matrices, tiles);
}

/** The page as a PNG and the manifest as JSON, behind the two download links. */
async function exportBlobs(): Promise<void> {
  if (!atlas) return;
  const pages: PixelImage[] = [];
  for (const texture of atlas.textures) {
    const side = texture.getSize().width;
    const rgba = (await texture.readPixels()) as Uint8Array;
    // readPixels rows run bottom-up (v = 0 first); PNG rows top-down.
    const data = new Uint8Array(side * side * 4);
    for (let y = 0; y < side; y++)
      data.set(rgba.subarray((side - 1 - y) * side * 4, (side - y) * side * 4), y * side * 4);
    pages.push({ data, width: side, height: side, channels: 4 });
  }
  const blobs = await atlasToBlobs({ pages, manifest: atlas.manifest }, { name: 'atlas' });
  for (const link of [pngLink, jsonLink]) if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
  pngLink.href = URL.createObjectURL(blobs.pages[0]);
  pngLink.download = blobs.files.pages[0];
  pngLink.textContent = blobs.files.pages[0];
  jsonLink.href = URL.createObjectURL(blobs.manifest);
  jsonLink.download = blobs.files.manifest;
  jsonLink.textContent = blobs.files.manifest;
  pngBytes = blobs.pages[0].size;
}

const gui = new GUI({ title: 'atlas' });
addInspector(scene, gui);

async function start(): Promise<void> {
  // Weights start on the CPU and move once to the tfjs backend on Babylon's context (no second context).
  await tf.setBackend('cpu');
  [model, swatches] = await Promise.all([loadPretrained(), loadPretrainedSwatches()]);
  const baking = gui.addFolder('bake');
  baking.add(params, 'swatch', Object.keys(swatches));
  baking.add(params, 'count', 1, 256, 1);
  baking.add(params, 'tileSize', [32, 64, 128, 256]).name('tile size');
  baking.add(params, 'padding', 0, 16, 1).name('gutter (px)');
  baking.add(params, 'seed', 0, 1000, 1);
  baking.add(params, 'bake').name('bake atlas');
  baking.add(params, 'bakeMs').name('bake time (ms)').disable();
  const scatter = gui.addFolder('thin instances');
  scatter
    .add(params, 'floor', 2, 30, 1)
    .name('floor side')
    .onFinishChange(() => run(shuffle()));
  scatter.add(params, 'rocks', 0, 200, 1).onFinishChange(() => run(shuffle()));
  scatter.add(params, 'shuffle').name('shuffle tiles');
  const files = gui.addFolder('download');
  files.add(params, 'downloadPng').name('atlas PNG');
  files.add(params, 'downloadManifest').name('manifest JSON');
  gui.add(params, 'rotate');
  await bake();
}

const ready = start();
tracker = new SampleTracker(scene, ready, () => ({
  tiles: atlas?.manifest.tiles.length ?? 0,
  pages: atlas?.textures.length ?? 0,
  bakeMs: params.bakeMs,
  pngBytes,
}));
ready.catch((error: Error) => {
  status.textContent = `failed: ${error.message}`;
  console.error(error);
});

// resize handler
window.addEventListener('resize', () => engine.resize());

// render loop
engine.runRenderLoop(() => {
  if (params.rotate) camera.alpha += (engine.getDeltaTime() / 1000) * 0.06;
  scene.render();
});
