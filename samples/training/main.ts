import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import {
  ArcRotateCamera,
  Color3,
  Color4,
  DynamicTexture,
  Engine,
  HemisphericLight,
  MeshBuilder,
  Scene,
  StandardMaterial,
  Texture,
  Vector3,
} from '@babylonjs/core';
import * as tf from '@tensorflow/tfjs-core';
import GUI from 'lil-gui';
import {
  engineScope,
  type LatentGrid,
  loadPretrained,
  type PixelImage,
  Swatch,
  type TensorProceduralTexture,
  TensorProceduralTexture as TensorTexture,
  TextureVae,
  type TrainingProgress,
  trainTextureVae,
  VaeProceduralTexture,
} from '../../src/index.js';
import { SampleTracker, sampleParams } from '../shared/sampleHook.js';

const url = sampleParams();
/** Side of the training crop shown and reconstructed, and of the mesh's texture. */
const size = url.number('size', 128);
const storeName = 'indexeddb://babylon-vae-textures-training-sample';

// Shipped CC0 photos, served (and bundled) by Vite as asset URLs.
const textures: Record<string, string> = {
  bricks: new URL('../../assets/textures/bricks_bricks102.png', import.meta.url).href,
  concrete: new URL('../../assets/textures/concrete_concrete_wall_001.png', import.meta.url).href,
  moss: new URL('../../assets/textures/moss_mossy_rock053.png', import.meta.url).href,
  wood: new URL('../../assets/textures/wood_wood_table_worn.png', import.meta.url).href,
};

// init
const canvas = document.getElementById('scene') as HTMLCanvasElement;
const status = document.getElementById('status') as HTMLDivElement;
const progressBar = document.getElementById('progress') as HTMLProgressElement;
const fileInput = document.getElementById('file') as HTMLInputElement;
const engine = new Engine(canvas, true, { stencil: true, preserveDrawingBuffer: true });
// Training, encoding and the previews run where the scene draws: on the engine's own WebGL2 context.
const onEngine = engineScope(engine);
const scene = new Scene(engine);
scene.clearColor = new Color4(0.08, 0.09, 0.11, 1);
const camera = new ArcRotateCamera(
  'camera',
  -Math.PI / 2,
  Math.PI / 2,
  8.5,
  new Vector3(1.4, -0.3, 0),
  scene,
);
camera.attachControl(canvas, true);
camera.wheelDeltaPercentage = 0.01;
new HemisphericLight('light', new Vector3(0.3, 1, -0.6), scene).intensity = 1.1;

/** An unlit plane that shows a texture as it is. */
function panel(name: string, x: number): StandardMaterial {
  const plane = MeshBuilder.CreatePlane(name, { size: 1.8 }, scene);
  plane.position.x = x;
  const material = new StandardMaterial(name, scene);
  material.disableLighting = true;
  material.diffuseColor = Color3.Black();
  material.specularColor = Color3.Black();
  plane.material = material;
  return material;
}
const cropPanel = panel('crop', -2.2);
const reconstructionPanel = panel('reconstruction', 0);
const cropTexture = new DynamicTexture('crop', size, scene, false, Texture.NEAREST_SAMPLINGMODE);
cropPanel.emissiveTexture = cropTexture;
const reconstruction: TensorProceduralTexture = new TensorTexture('reconstruction', scene, {
  size,
  generateMipMaps: false,
});
reconstructionPanel.emissiveTexture = reconstruction;

const knot = MeshBuilder.CreateTorusKnot(
  'knot',
  { radius: 0.6, tube: 0.22, radialSegments: 128, tubularSegments: 20 },
  scene,
);
knot.position.x = 2.4;
const knotMaterial = new StandardMaterial('knot', scene);
knotMaterial.specularColor = new Color3(0.15, 0.15, 0.15);
knot.material = knotMaterial;

const params = {
  texture: 'bricks',
  openImage: () => fileInput.click(),
  steps: Math.round(url.number('steps', 300)),
  batchSize: Math.round(url.number('batch', 8)),
  patchSize: Math.round(url.number('patch', 64)),
  learningRate: url.number('lr', 0.002),
  previewEvery: Math.round(url.number('preview', 10)),
  train: () => run(train()),
  stop: () => controller?.abort(),
  applyToMesh: () => run(applyToMesh()),
  resample: () => run(resampleMesh()),
  useEmbedded: () => run(showSwatch()),
  seed: 1,
  download: () => run(model.save('downloads://vae-texture')),
  saveToIndexedDb: () => run(saveToIndexedDb()),
  loadFromIndexedDb: () => run(loadFromIndexedDb()),
  rotate: !url.still,
};

/** The fresh model trained here: small enough that a step takes well under a second on a software GPU. */
function freshModel(): TextureVae {
  return TextureVae.create(
    { encoderWidths: [16, 32, 48, 64], decoderWidths: [48, 32, 16, 12], name: 'trained' },
    { seed: 1 },
  );
}

let model = freshModel();
/** The embedded model: it makes a swatch of any photo at once, before any training. */
const embedded = loadPretrained();
/** The swatch the mesh shows: of the embedded model first, of the trained model once it is applied. */
let swatch: Swatch | null = null;
/** Name of the photo the swatches are made of. */
let photoName = 'photo';
let meshTexture: VaeProceduralTexture | null = null;
let exemplar: ImageData | null = null;
let crop: Float32Array = new Float32Array(size * size * 3);
let controller: AbortController | null = null;
let steps = 0;
let lastLoss = Number.NaN;
let tracker: SampleTracker;

function run(action: Promise<unknown>): void {
  void tracker.track(action);
}

/** Reads an image into pixels, the longer side at most 512 (training cuts small patches from it). */
async function loadImage(source: string | Blob): Promise<ImageData> {
  const bitmap = await createImageBitmap(
    typeof source === 'string' ? await (await fetch(source)).blob() : source,
  );
  const scale = Math.min(1, 512 / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(size, Math.round(bitmap.width * scale));
  const height = Math.max(size, Math.round(bitmap.height * scale));
  const scratch = new OffscreenCanvas(width, height);
  const context = scratch.getContext('2d') as OffscreenCanvasRenderingContext2D;
  context.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  return context.getImageData(0, 0, width, height);
}

/** The centre crop: drawn on the left panel and kept as floats for reconstructions. */
function showCrop(image: ImageData): void {
  const x0 = Math.floor((image.width - size) / 2);
  const y0 = Math.floor((image.height - size) / 2);
  const rgba = new Uint8ClampedArray(size * size * 4);
  crop = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const from = ((y0 + y) * image.width + x0 + x) * 4;
      rgba.set(image.data.subarray(from, from + 4), (y * size + x) * 4);
      for (let c = 0; c < 3; c++) crop[(y * size + x) * 3 + c] = image.data[from + c] / 255;
    }
  }
  const context = cropTexture.getContext() as unknown as CanvasRenderingContext2D;
  context.putImageData(new ImageData(rgba, size, size), 0, 0);
  cropTexture.update(true);
}

/** RGB bytes of an ImageData, as the models encode them. */
function rgbOf(image: ImageData): PixelImage {
  const data = new Uint8Array(image.width * image.height * 3);
  for (let i = 0, j = 0; i < data.length; i += 3, j += 4) data.set(image.data.subarray(j, j + 3), i);
  return { data, width: image.width, height: image.height, channels: 3 };
}

async function useImage(source: string | Blob, label: string): Promise<void> {
  exemplar = await loadImage(source);
  photoName = label.replace(/\.[^.]*$/, '').slice(0, 64) || 'photo';
  showCrop(exemplar);
  await reconstruct();
  await showSwatch();
  status.textContent = `${label}: ${exemplar.width}x${exemplar.height} px, on the mesh as a swatch of the embedded model; press train`;
}

/** The photo becomes a swatch of the embedded model (one encode of the whole photo) and the mesh shows it. */
async function showSwatch(): Promise<void> {
  if (!exemplar) return;
  const start = performance.now();
  swatch = await Swatch.fromImage(await embedded, rgbOf(exemplar), { name: photoName });
  status.textContent = `swatch made in ${Math.round(performance.now() - start)} ms`;
  await meshTextureFor(await embedded, swatch.sample({ width: size, seed: params.seed }));
}

/** decode(encode(crop)) straight into the middle panel's texture, on Babylon's own WebGL2 context. */
function reconstruct(): Promise<void> {
  const pixels = crop;
  return reconstruction.write(() => {
    const image = tf.tensor4d(pixels, [1, size, size, 3]);
    const { mean, logVar } = model.encodeTensors(image);
    logVar.dispose();
    return model.decodeTensors(mean);
  });
}

/**
 * The posterior mean of the whole photo (cut to a multiple of the stride), computed on the engine's backend
 * where the trained weights live.
 */
function encodeExemplar(image: PixelImage): LatentGrid {
  const width = image.width - (image.width % model.stride);
  const height = image.height - (image.height % model.stride);
  const pixels = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++)
        pixels[(y * width + x) * 3 + c] = image.data[(y * image.width + x) * 3 + c] / 255;
    }
  }
  return onEngine.run(() => {
    const input = tf.tensor4d(pixels, [1, height, width, 3]);
    const { mean, logVar } = model.encodeTensors(input);
    const data = mean.dataSync() as Float32Array;
    const [, rows, columns, channels] = mean.shape;
    tf.dispose([input, mean, logVar]);
    return { data: Float32Array.from(data), height: rows, width: columns, channels };
  });
}

function showProgress(p: TrainingProgress): void {
  progressBar.value = p.step / p.steps;
  lastLoss = p.loss;
  status.textContent =
    `step ${p.step} / ${p.steps} · loss ${p.loss.toFixed(4)} (PSNR ${(-10 * Math.log10(p.reconstruction)).toFixed(1)} dB) · ` +
    `${p.stepsPerSecond.toFixed(2)} steps/s · ETA ${Math.round(p.etaSeconds)} s`;
}

async function train(): Promise<void> {
  if (controller || !exemplar) return;
  controller = new AbortController();
  status.textContent = 'training…';
  try {
    const result = await trainTextureVae(model, exemplar, {
      steps: steps + params.steps,
      startStep: steps,
      batchSize: params.batchSize,
      patchSize: params.patchSize,
      learningRate: params.learningRate,
      signal: controller.signal,
      // Every step runs on the engine's context; the scene renders between steps.
      scope: onEngine.run,
      onProgress: (p) => {
        showProgress(p);
        // Waiting for the preview keeps the weights still while they are read.
        if (p.step % params.previewEvery === 0) return reconstruct();
      },
    });
    steps = result.step;
    await reconstruct();
    // The mesh keeps its swatch: a model trained for minutes is far behind the embedded one at first.
    if (meshTexture?.model === model) await applyToMesh();
    status.textContent =
      `${result.aborted ? 'stopped' : 'trained'} at step ${steps} in ${result.seconds.toFixed(1)} s · ` +
      `loss ${lastLoss.toFixed(4)} · 'use on the mesh' shows the trained model's swatch`;
  } finally {
    controller = null;
  }
}

function meshTextureFor(decoder: TextureVae, latent: LatentGrid): Promise<void> {
  if (meshTexture && meshTexture.model === decoder) return meshTexture.regenerate(latent);
  meshTexture?.dispose();
  meshTexture = new VaeProceduralTexture('knotTexture', scene, { model: decoder, size, latent });
  // The texture wraps seamlessly: repeat it along the knot so its detail is not stretched.
  meshTexture.uScale = 4;
  knotMaterial.diffuseTexture = meshTexture;
  return meshTexture.regenerate();
}

/** The mesh shows a sample of the trained model's swatch of the photo. */
async function applyToMesh(): Promise<void> {
  if (!exemplar) return;
  swatch = Swatch.fromLatent(model, encodeExemplar(rgbOf(exemplar)), { name: photoName });
  await meshTextureFor(model, swatch.sample({ width: size, seed: params.seed }));
}

/** A new sample of the mesh's swatch: the same material with a layout of its own. */
async function resampleMesh(): Promise<void> {
  if (!swatch || !meshTexture) return;
  params.seed++;
  await meshTextureFor(meshTexture.model, swatch.sample({ width: size, seed: params.seed }));
}

async function saveToIndexedDb(): Promise<void> {
  await model.save(storeName);
  status.textContent = `saved to ${storeName}`;
}

async function loadFromIndexedDb(): Promise<void> {
  if (controller) return;
  const loaded = await TextureVae.load(storeName);
  const old = model;
  model = loaded;
  const showedOld = meshTexture?.model === old;
  if (showedOld) {
    meshTexture?.dispose();
    meshTexture = null;
  }
  old.dispose();
  await reconstruct();
  if (showedOld) await applyToMesh();
  status.textContent = `loaded ${storeName}: ${loaded.config.encoderWidths.join('-')} / ${loaded.config.decoderWidths.join('-')}`;
}

const gui = new GUI({ title: 'training' });
const data = gui.addFolder('texture');
data
  .add(params, 'texture', Object.keys(textures))
  .name('shipped photo')
  .onChange((name: string) => run(useImage(textures[name], name)));
data.add(params, 'openImage').name('open an image… (or drop one)');
const training = gui.addFolder('training');
training.add(params, 'steps', 1, 5000, 1).name('steps per run');
training.add(params, 'batchSize', 1, 32, 1).name('batch size');
training.add(params, 'patchSize', 16, 128, 8).name('patch size');
training.add(params, 'learningRate', 0.0001, 0.01, 0.0001).name('learning rate');
training.add(params, 'previewEvery', 1, 100, 1).name('preview every (steps)');
training.add(params, 'train').name('train');
training.add(params, 'stop').name('stop');
const result = gui.addFolder('result');
result.add(params, 'applyToMesh').name('use on the mesh');
result.add(params, 'resample').name('mesh: new swatch sample');
result.add(params, 'useEmbedded').name('mesh: embedded model swatch');
result.add(params, 'download').name('download model');
result.add(params, 'saveToIndexedDb').name('save to IndexedDB');
result.add(params, 'loadFromIndexedDb').name('load from IndexedDB');
gui.add(params, 'rotate');

fileInput.addEventListener('change', () => {
  const file = fileInput.files?.[0];
  if (file) run(useImage(file, file.name));
});
window.addEventListener('dragover', (event) => {
  event.preventDefault();
  document.body.classList.add('dragging');
});
window.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
window.addEventListener('drop', (event) => {
  event.preventDefault();
  document.body.classList.remove('dragging');
  const file = event.dataTransfer?.files[0];
  if (file?.type.startsWith('image/')) run(useImage(file, file.name));
});

async function start(): Promise<void> {
  // New tensors start on the CPU; training and decodes move them to the backend on Babylon's context.
  await tf.setBackend('cpu');
  await useImage(textures[params.texture], params.texture);
  await scene.whenReadyAsync();
}

const ready = start();
tracker = new SampleTracker(scene, ready, () => ({
  step: steps,
  loss: lastLoss,
  training: controller !== null,
}));
ready.catch((error: Error) => {
  status.textContent = `failed: ${error.message}`;
  console.error(error);
});

// resize handler
window.addEventListener('resize', () => engine.resize());

// render loop
engine.runRenderLoop(() => {
  if (params.rotate) knot.rotation.y += (engine.getDeltaTime() / 1000) * 0.5;
  scene.render();
});
