import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import {
  ArcRotateCamera,
  Color3,
  Color4,
  DirectionalLight,
  Engine,
  HemisphericLight,
  type Mesh,
  MeshBuilder,
  Scene,
  StandardMaterial,
  Vector3,
  VertexBuffer,
} from '@babylonjs/core';
import * as tf from '@tensorflow/tfjs-core';
import GUI from 'lil-gui';
import {
  createVaeMaterial,
  type DecodePathOption,
  loadPretrained,
  loadPretrainedSwatches,
  type PretrainedSwatches,
  SeededRandom,
  type TextureVae,
  VaeMaterialPlugin,
  type VaeProceduralTexture,
} from '../../src/index.js';
import { addInspector } from '../shared/inspector.js';
import { SampleTracker, sampleParams } from '../shared/sampleHook.js';

const url = sampleParams();
const size = url.number('size', 128);
const side = Math.max(1, Math.min(8, Math.round(url.number('grid', 5))));
// ?decodePath=zero-copy|worker|readback overrides the machine's choice (default: auto).
const decodePath = (url.get('decodePath') ?? 'auto') as DecodePathOption;
// ?workerCpuShare=0.5: on the worker path the decode worker rests after each decode (steadier frames, slower).
const startShare = url.number('workerCpuShare', 1);

// init
const canvas = document.getElementById('scene') as HTMLCanvasElement;
const status = document.getElementById('status') as HTMLDivElement;
const engine = new Engine(canvas, true, { stencil: true, preserveDrawingBuffer: true });
const scene = new Scene(engine);
scene.clearColor = new Color4(0.08, 0.09, 0.11, 1);
const camera = new ArcRotateCamera(
  'camera',
  -Math.PI / 2,
  0.95,
  side * 3,
  new Vector3(side * 0.35, 0, 0),
  scene,
);
camera.attachControl(canvas, true);
camera.lowerRadiusLimit = 3;
camera.wheelDeltaPercentage = 0.01;
const hemi = new HemisphericLight('sky', new Vector3(0.1, 1, -0.2), scene);
hemi.intensity = 0.75;
hemi.groundColor = new Color3(0.2, 0.2, 0.22);
const sun = new DirectionalLight('sun', new Vector3(-0.5, -1, 0.6), scene);
sun.intensity = 2;
const ground = MeshBuilder.CreateGround('ground', { width: side * 2 + 1, height: side * 2 + 1 }, scene);
ground.position.y = -0.62;
const floor = new StandardMaterial('floor', scene);
floor.diffuseColor = new Color3(0.14, 0.15, 0.17);
floor.specularColor = Color3.Black();
ground.material = floor;

/** A rock: an icosphere with its vertices pushed in and out by a seeded noise, so each one differs. */
function rock(name: string, seed: number): Mesh {
  const mesh = MeshBuilder.CreateIcoSphere(name, { radius: 0.6, subdivisions: 3, flat: false }, scene);
  const rng = new SeededRandom(seed);
  const bumps = Array.from({ length: 5 }, () => ({
    dir: new Vector3(rng.gaussian(), rng.gaussian(), rng.gaussian()).normalize(),
    amount: 0.2 + 0.25 * rng.next(),
  }));
  const positions = Float32Array.from(mesh.getVerticesData(VertexBuffer.PositionKind) ?? []);
  for (let i = 0; i < positions.length; i += 3) {
    const p = new Vector3(positions[i], positions[i + 1], positions[i + 2]);
    const n = p.normalizeToNew();
    let scale = 1;
    for (const b of bumps) scale += b.amount * Math.max(0, Vector3.Dot(n, b.dir)) ** 2 - b.amount * 0.3;
    p.scaleInPlace(scale).multiplyInPlace(new Vector3(1.1, 0.8, 1));
    positions.set([p.x, p.y, p.z], i);
  }
  mesh.updateVerticesData(VertexBuffer.PositionKind, positions);
  mesh.createNormals(true);
  return mesh;
}

const params = {
  swatchA: 'stone',
  swatchB: 'moss',
  seed: 1,
  regenerateOnce: true,
  regenerate: () => run(regenerateAll()),
  walk: false,
  walkSpeed: 0.3,
  walkAmount: 0.3,
  morphDuration: 1500,
  morphToA: () => run(morphAll(params.swatchA)),
  morphToB: () => run(morphAll(params.swatchB)),
  lastDecodeMs: 0,
  allDecodesMs: 0,
  decodePath: '',
  workerCpuShare: startShare,
  rotate: !url.still,
};

interface Item {
  mesh: Mesh;
  plugin: VaeMaterialPlugin;
  seed: number;
}
const items: Item[] = [];
let model: TextureVae;
let swatches: PretrainedSwatches;
let tracker: SampleTracker;

/** Object i's seed: one swatch, one sample (its own layout) per object. */
function seedOf(item: { seed: number }): number {
  return params.seed * 1000 + item.seed;
}

/** Object i's new sample of swatch A: a resample, or a cut to swatch A when it shows another swatch. */
function regenerate(item: Item): Promise<void> {
  const swatch = swatches[params.swatchA];
  const seed = seedOf(item);
  return item.plugin.swatch === swatch
    ? item.plugin.resample({ seed })
    : item.plugin.morphTo(swatch, { duration: 0, seed });
}

/** The decode path the objects' textures use, and why (the machine's choice unless the URL names one). */
function pathOf(item: Item): string {
  const choice = (item.plugin.texture as VaeProceduralTexture | null)?.decodePath;
  if (!choice) return 'none';
  const share =
    choice.path === 'worker' && params.workerCpuShare < 1
      ? `, worker CPU share ${params.workerCpuShare}`
      : '';
  return `${choice.path} (${choice.reason}${share})`;
}

function showTimes(): void {
  const single = params.lastDecodeMs > 0 ? ` · last single decode ${params.lastDecodeMs} ms` : '';
  params.decodePath = items[0] ? pathOf(items[0]) : '';
  status.textContent = `${items.length} objects, ${size}x${size} each${single} · all ${items.length}: ${params.allDecodesMs} ms · decode path: ${params.decodePath}`;
  for (const controller of gui.controllersRecursive()) controller.updateDisplay();
}

/** Decode time of one object (call to resolution), then of all objects. */
async function regenerateAll(): Promise<void> {
  stopWalk();
  const start = performance.now();
  const [first, ...rest] = items;
  await regenerate(first);
  params.lastDecodeMs = Math.round(performance.now() - start);
  await Promise.all(rest.map((item) => regenerate(item)));
  params.allDecodesMs = Math.round(performance.now() - start);
  showTimes();
}

async function morphAll(name: string): Promise<void> {
  stopWalk();
  const start = performance.now();
  await Promise.all(
    items.map((item) =>
      item.plugin.morphTo(swatches[name], { duration: params.morphDuration, seed: seedOf(item) }),
    ),
  );
  params.allDecodesMs = Math.round(performance.now() - start);
  showTimes();
}

function stopWalk(): void {
  if (!params.walk) return;
  params.walk = false;
  for (const item of items) item.plugin.stopAnimation();
}

function setWalk(on: boolean): void {
  for (const item of items) {
    if (on) {
      item.plugin.animate(
        { mode: 'walk', speed: params.walkSpeed, amount: params.walkAmount, seed: item.seed },
        { fade: 400 },
      );
    } else {
      item.plugin.stopAnimation();
    }
  }
}

function run(action: Promise<unknown>): void {
  void tracker.track(action);
}

const gui = new GUI({ title: 'regenerate' });
addInspector(scene, gui);

async function start(): Promise<void> {
  // Weights start on the CPU and move once to the tfjs backend on Babylon's context (no second context).
  await tf.setBackend('cpu');
  [model, swatches] = await Promise.all([loadPretrained(), loadPretrainedSwatches()]);
  for (let z = 0; z < side; z++) {
    for (let x = 0; x < side; x++) {
      const index = z * side + x;
      const mesh =
        index % 3 === 2
          ? MeshBuilder.CreateBox(`box${index}`, { size: 0.95 }, scene)
          : rock(`rock${index}`, index + 1);
      mesh.position.set((x - (side - 1) / 2) * 2, 0, (z - (side - 1) / 2) * 2);
      mesh.rotation.y = index * 0.7;
      const seed = index + 1;
      const material = createVaeMaterial(scene, {
        model,
        size,
        swatch: swatches[params.swatchA],
        seed: seedOf({ seed }),
        normalStrength: 1.5,
        name: `vae${index}`,
        texture: { decodePath, workerCpuShare: params.workerCpuShare },
      });
      mesh.material = material;
      const plugin = VaeMaterialPlugin.get(material) as VaeMaterialPlugin;
      plugin.onErrorObservable.add((error) => console.error(error));
      items.push({ mesh, plugin, seed });
    }
  }
  const names = Object.keys(swatches);
  const variations = gui.addFolder('variations');
  variations
    .add(params, 'swatchA', names)
    .name('swatch A')
    .onFinishChange(() => autoRegenerate());
  variations.add(params, 'seed', 0, 1000, 1).onFinishChange(() => autoRegenerate());
  variations.add(params, 'regenerateOnce').name('regenerate once (button only)');
  variations.add(params, 'regenerate').name('regenerate once');

  const morph = gui.addFolder('morph');
  morph.add(params, 'swatchB', names).name('swatch B');
  morph.add(params, 'morphDuration', 0, 5000, 50).name('duration (ms)');
  morph.add(params, 'morphToA').name('morph to A');
  morph.add(params, 'morphToB').name('morph to B');

  const walk = gui.addFolder('latent walk');
  walk
    .add(params, 'walk')
    .name('walk')
    .listen()
    .onChange((on: boolean) => setWalk(on));
  walk
    .add(params, 'walkSpeed', 0.05, 2, 0.05)
    .name('speed')
    .onFinishChange(() => params.walk && setWalk(true));
  walk
    .add(params, 'walkAmount', 0.05, 1, 0.05)
    .name('amount')
    .onFinishChange(() => params.walk && setWalk(true));

  const timing = gui.addFolder('decode time');
  timing.add(params, 'lastDecodeMs').name('one object (ms)').disable();
  timing.add(params, 'allDecodesMs').name(`all objects (ms)`).disable();
  timing.add(params, 'decodePath').name('decode path').disable();
  // The worker path only: its decode worker rests after each decode, leaving the cores to rendering.
  timing
    .add(params, 'workerCpuShare', 0.05, 1, 0.05)
    .name('worker CPU share')
    .onChange((share: number) => {
      // The material's next textures take the shown texture's share.
      for (const item of items) {
        const texture = item.plugin.texture as VaeProceduralTexture | null;
        if (texture) texture.workerCpuShare = share;
      }
      showTimes();
    });
  gui.add(params, 'rotate');

  const start = performance.now();
  await Promise.all(items.map((item) => item.plugin.whenReadyAsync()));
  params.allDecodesMs = Math.round(performance.now() - start);
  await scene.whenReadyAsync();
  showTimes();
}

function autoRegenerate(): void {
  if (!params.regenerateOnce) run(regenerateAll());
}

const ready = start();
tracker = new SampleTracker(scene, ready, () => ({
  objects: items.length,
  lastDecodeMs: params.lastDecodeMs,
  allDecodesMs: params.allDecodesMs,
  decodePath: items[0] ? (items[0].plugin.texture as VaeProceduralTexture | null)?.decodePath.path : null,
  decodeReason: items[0] ? (items[0].plugin.texture as VaeProceduralTexture | null)?.decodePath.reason : null,
  workerCpuShare: params.workerCpuShare,
}));
ready.catch((error: Error) => {
  status.textContent = `failed: ${error.message}`;
  console.error(error);
});

// resize handler
window.addEventListener('resize', () => engine.resize());

// render loop
engine.runRenderLoop(() => {
  if (params.rotate) camera.alpha += (engine.getDeltaTime() / 1000) * 0.08;
  scene.render();
});
