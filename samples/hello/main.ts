import '@tensorflow/tfjs-backend-webgl';
import {
  ArcRotateCamera,
  Color3,
  Color4,
  Engine,
  MeshBuilder,
  Scene,
  StandardMaterial,
  Vector3,
} from '@babylonjs/core';
import GUI from 'lil-gui';
import { TensorProceduralTexture } from '../../src/index.js';
import { addInspector } from '../shared/inspector.js';
import { TinyDecoder, tinyOutputSize } from './tinyDecoder.js';

const params = {
  seed: 1,
  regenerateOnce: true,
  source: '',
  lastDecodeMs: 0,
  decodeNew: () => decodeNew(),
};

// init
const canvas = document.getElementById('scene') as HTMLCanvasElement;
const status = document.getElementById('status') as HTMLSpanElement;
const engine = new Engine(canvas, true, { stencil: true, preserveDrawingBuffer: true });
const scene = new Scene(engine);
scene.clearColor = new Color4(0.07, 0.07, 0.08, 1);
const camera = new ArcRotateCamera('camera', -Math.PI / 2, Math.PI / 2, 3.2, Vector3.Zero(), scene);
camera.attachControl(canvas, true);
camera.lowerRadiusLimit = 1.5;

const plane = MeshBuilder.CreatePlane('plane', { size: 2 }, scene);
const material = new StandardMaterial('decoded', scene);
material.disableLighting = true;
material.diffuseColor = Color3.Black();
material.specularColor = Color3.Black();
material.backFaceCulling = false;
plane.material = material;

const decoder = new TinyDecoder(1);
const texture = new TensorProceduralTexture('decoded', scene, { size: tinyOutputSize });
material.emissiveTexture = texture;
params.source = texture.source.kind;

let busy = false;

/** Decodes the latent of `params.seed` into the texture; the GPU hand-off needs no CPU copy. */
async function decode(): Promise<void> {
  if (busy) return;
  busy = true;
  status.textContent = `decoding seed ${params.seed}…`;
  const latent = TinyDecoder.latent(params.seed);
  const start = performance.now();
  try {
    await texture.write(() => decoder.decode(latent));
    params.lastDecodeMs = Math.round(performance.now() - start);
    status.textContent = `seed ${params.seed}: ${params.lastDecodeMs} ms (${texture.source.kind})`;
  } catch (error) {
    status.textContent = `decode failed: ${(error as Error).message}`;
  } finally {
    busy = false;
    for (const controller of gui.controllersRecursive()) controller.updateDisplay();
  }
}

function decodeNew(): void {
  params.seed = Math.floor(Math.random() * 1e6);
  void decode();
}

const gui = new GUI({ title: 'hello' });
addInspector(scene, gui);
gui.add(params, 'seed', 0, 1e6, 1).onFinishChange(() => {
  if (!params.regenerateOnce) void decode();
});
gui.add(params, 'regenerateOnce').name('regenerate once (button only)');
gui.add(params, 'decodeNew').name('decode a new latent');
gui.add(params, 'source').name('source').disable();
gui.add(params, 'lastDecodeMs').name('last decode (ms)').disable();
document.getElementById('decode')?.addEventListener('click', decodeNew);

// resize handler
window.addEventListener('resize', () => engine.resize());

// render loop
engine.runRenderLoop(() => scene.render());
void decode();
