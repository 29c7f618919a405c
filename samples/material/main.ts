import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import {
  ArcRotateCamera,
  Color3,
  Color4,
  DirectionalLight,
  Engine,
  HemisphericLight,
  type IInspectable,
  InspectableType,
  MeshBuilder,
  Scene,
  StandardMaterial,
  Vector3,
} from '@babylonjs/core';
import * as tf from '@tensorflow/tfjs-core';
import GUI from 'lil-gui';
import {
  createVaeMaterial,
  loadPretrained,
  loadPretrainedSwatches,
  VaeMaterialPlugin,
} from '../../src/index.js';
import { addInspector } from '../shared/inspector.js';
import { SampleTracker, sampleParams } from '../shared/sampleHook.js';

const url = sampleParams();
const size = url.number('size', 256);

// init
const canvas = document.getElementById('scene') as HTMLCanvasElement;
const status = document.getElementById('status') as HTMLDivElement;
const engine = new Engine(canvas, true, { stencil: true, preserveDrawingBuffer: true });
const scene = new Scene(engine);
scene.clearColor = new Color4(0.09, 0.1, 0.12, 1);
const camera = new ArcRotateCamera(
  'camera',
  -Math.PI / 2.3,
  Math.PI / 2.6,
  8.2,
  new Vector3(1.2, 0.1, 0),
  scene,
);
camera.attachControl(canvas, true);
camera.lowerRadiusLimit = 3;
camera.upperRadiusLimit = 20;
camera.wheelDeltaPercentage = 0.01;
const hemi = new HemisphericLight('sky', new Vector3(0.2, 1, -0.3), scene);
hemi.intensity = 0.7;
hemi.groundColor = new Color3(0.25, 0.22, 0.2);
const sun = new DirectionalLight('sun', new Vector3(-0.6, -1, 0.8), scene);
sun.intensity = 2.2;

const sphere = MeshBuilder.CreateSphere('sphere', { diameter: 1.8, segments: 48 }, scene);
sphere.position.x = -2.3;
const box = MeshBuilder.CreateBox('box', { size: 1.5 }, scene);
box.rotation.set(0.3, 0.6, 0);
const knot = MeshBuilder.CreateTorusKnot(
  'knot',
  { radius: 0.65, tube: 0.24, radialSegments: 160, tubularSegments: 24 },
  scene,
);
knot.position.x = 2.3;
const ground = MeshBuilder.CreateGround('ground', { width: 9, height: 4.5 }, scene);
ground.position.y = -1.1;
const floor = new StandardMaterial('floor', scene);
floor.diffuseColor = new Color3(0.16, 0.17, 0.19);
floor.specularColor = Color3.Black();
ground.material = floor;
const meshes = [sphere, box, knot];

const params = {
  swatch: url.get('swatch') ?? 'bricks',
  morphDuration: 800,
  seed: 1,
  crossFade: 500,
  resample: () => run(resample()),
  similarAmount: 0.3,
  similar: () => run(plugin().similar(params.similarAmount, { duration: params.crossFade })),
  normalStrength: 2,
  uvRepeat: 2,
  rotate: !url.still,
};

async function resample(): Promise<void> {
  await plugin().resample({ seed: params.seed, duration: params.crossFade });
}

let material: ReturnType<typeof createVaeMaterial> | null = null;
let tracker: SampleTracker;
function plugin(): VaeMaterialPlugin {
  return VaeMaterialPlugin.get(material as NonNullable<typeof material>) as VaeMaterialPlugin;
}

function run(action: Promise<unknown>): void {
  void tracker.track(action).then(() => {
    for (const controller of gui.controllersRecursive()) controller.updateDisplay();
  });
}

const gui = new GUI({ title: 'VAE material' });
addInspector(scene, gui);

async function start(): Promise<void> {
  // The model's weights start on the CPU; the first decode moves them to the tfjs backend that shares
  // Babylon's WebGL2 context, so no second WebGL context is made.
  await tf.setBackend('cpu');
  const [model, swatches] = await Promise.all([loadPretrained(), loadPretrainedSwatches()]);
  material = createVaeMaterial(scene, {
    model,
    swatches,
    swatch: params.swatch,
    size,
    normalStrength: params.normalStrength,
    name: 'vae',
    roughness: 0.75,
  });
  for (const mesh of meshes) mesh.material = material;
  const vae = plugin();
  vae.onErrorObservable.add((error) => console.error(error));
  vae.uvScale[0] = params.uvRepeat;
  vae.uvScale[1] = params.uvRepeat;
  const grid = model.latentSize(size, size);

  // Picking a swatch morphs to it: both swatches are sampled with one layout, so the objects change in place.
  gui
    .add(params, 'swatch', Object.keys(swatches))
    .name('swatch')
    .onChange((name: string) => {
      run(vae.morphTo(swatches[name], { duration: params.morphDuration, seed: params.seed }));
    });
  gui.add(params, 'morphDuration', 0, 4000, 50).name('morph duration (ms)');

  // The latent sliders are the material's own Inspector properties, so the Inspector and this GUI agree.
  const latentFolder = gui.addFolder('latent channels (mean offset)');
  const inspectables = (material.inspectableCustomProperties ?? []) as IInspectable[];
  for (const p of inspectables) {
    if (p.type === InspectableType.Slider && p.propertyName.startsWith('vaeLatentChannel')) {
      latentFolder
        .add(material as unknown as Record<string, number>, p.propertyName, p.min, p.max, p.step)
        .name(p.label.replace('VAE latent ', ''))
        .listen();
    }
  }

  const sampling = gui.addFolder('swatch samples');
  sampling.add(params, 'seed', 0, 1000, 1);
  sampling.add(params, 'crossFade', 0, 3000, 50).name('cross-fade (ms)');
  sampling.add(params, 'resample').name('resample');
  sampling.add(params, 'similarAmount', 0, 1, 0.01).name('similar amount');
  sampling.add(params, 'similar').name('similar');

  const look = gui.addFolder('look');
  look
    .add(params, 'normalStrength', 0, 10, 0.1)
    .name('normal strength')
    .onChange((v: number) => {
      if (vae.normalTexture) vae.normalTexture.strength = v;
    });
  look
    .add(params, 'uvRepeat', 1, 4, 1)
    .name('uv repeat')
    .onChange((v: number) => {
      vae.uvScale[0] = v;
      vae.uvScale[1] = v;
    });
  look.add(vae, 'level', 0, 1, 0.01).name('VAE level');
  look.add(params, 'rotate');

  vae.onReadyObservable.add(() => {
    status.textContent = `${size}x${size} texture, latent ${grid.width}x${grid.height}x${model.latentChannels}`;
  });
  await vae.whenReadyAsync();
  await scene.whenReadyAsync();
  status.textContent = `${size}x${size} texture, latent ${grid.width}x${grid.height}x${model.latentChannels}`;
}

const ready = start();
tracker = new SampleTracker(scene, ready, () => ({
  swatch: params.swatch,
  seed: plugin().seed,
  crossFade: plugin().crossFade,
}));
ready.catch((error: Error) => {
  status.textContent = `failed: ${error.message}`;
  console.error(error);
});

// resize handler
window.addEventListener('resize', () => engine.resize());

// render loop
engine.runRenderLoop(() => {
  if (params.rotate) {
    const dt = engine.getDeltaTime() / 1000;
    for (const mesh of meshes) mesh.rotation.y += dt * 0.3;
  }
  scene.render();
});
