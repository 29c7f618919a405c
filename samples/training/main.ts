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
  type TrainingResult,
  type TrainOptions,
  trainTextureVae,
  VaeProceduralTexture,
} from '../../src/index.js';
import { acquireWorkerDecoder, type TrainingStart, WorkerTrainer } from '../../src/worker/index.js';
import { addInspector } from '../shared/inspector.js';
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
const lossCanvas = document.getElementById('loss') as HTMLCanvasElement;
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
  learningRate: url.number('lr', 0.0005),
  previewEvery: Math.round(url.number('preview', 10)),
  from: (url.get('from') === 'scratch' ? 'scratch' : 'embedded') as TrainingStart,
  thread: url.get('thread') === 'main' ? 'main' : 'worker',
  cpuShare: url.number('share', 0.25),
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

/** The embedded model: it makes a swatch of any photo at once, before any training. */
const embedded = loadPretrained();

/**
 * The model trained here: the embedded model's architecture, so the worker fine-tunes the embedded weights,
 * or a fresh small one (a step well under a second) when training starts from scratch.
 */
async function modelFor(from: TrainingStart): Promise<TextureVae> {
  if (from === 'scratch') {
    return TextureVae.create(
      { encoderWidths: [16, 32, 48, 64], decoderWidths: [48, 32, 16, 12], name: 'trained' },
      { seed: 1 },
    );
  }
  // A copy of the embedded model: the worker starts from the same weights (from 'embedded'), and so does
  // training on the main thread.
  const source = await embedded;
  const copy = TextureVae.create(source.config, { seed: 1 });
  const weights = source.getWeights();
  copy.setWeights(weights);
  tf.dispose(weights);
  return copy;
}

let model: TextureVae;
let trainer: WorkerTrainer;
/** The losses of the current model, one per step, for the plot. */
let losses: number[] = [];
let previewing = false;
/** How long the page took to show the last preview (reconstruction and mesh), in ms. */
let previewMs = 0;
let stepsPerSecond = 0;
/** The last finished step, while training too (`steps` is where the next run starts). */
let currentStep = 0;
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
  const blob = typeof source === 'string' ? await (await fetch(source)).blob() : source;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch (e) {
    throw new Error(
      `not an image this browser decodes (${blob.type || 'unknown type'}): ${(e as Error).message}`,
    );
  }
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
  try {
    exemplar = await loadImage(source);
  } catch (e) {
    // The photo trained on so far stays.
    status.textContent = `${label}: ${(e as Error).message}`;
    return;
  }
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
  const source = await embedded;
  const { latent } = await encodeInWorker(source, rgbOf(exemplar));
  swatch = Swatch.fromLatent(source, latent, { name: photoName });
  status.textContent = `swatch made in ${Math.round(performance.now() - start)} ms`;
  await meshTextureFor(await embedded, swatch.sample({ width: size, seed: params.seed }));
}

/**
 * Encodes `image` with `vae` in the decode worker (WASM), so the page never waits for it: the posterior mean
 * grid of its centre crop, and with `reconstruct` its decode.
 */
async function encodeInWorker(
  vae: TextureVae,
  image: PixelImage | { data: Float32Array; width: number; height: number; channels: 3 },
  reconstruct = false,
) {
  const lease = acquireWorkerDecoder(vae);
  try {
    return await lease.decoder.encode(image, { reconstruct });
  } finally {
    lease.release();
  }
}

/** decode(encode(crop)) of the model into the middle panel, computed in the decode worker. */
async function reconstruct(): Promise<void> {
  const { reconstruction: image } = await encodeInWorker(
    model,
    { data: crop, width: size, height: size, channels: 3 },
    true,
  );
  if (image) await reconstruction.writeImage(image);
}

/**
 * The same on Babylon's own WebGL2 context, as training on the main thread (the path before workers) does:
 * on a software rasteriser the scene waits for it.
 */
function reconstructOnPage(): Promise<void> {
  const pixels = crop;
  return reconstruction.write(() => {
    const image = tf.tensor4d(pixels, [1, size, size, 3]);
    const { mean, logVar } = model.encodeTensors(image);
    logVar.dispose();
    return model.decodeTensors(mean);
  });
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '…';
  const m = Math.floor(seconds / 60);
  const sec = Math.round(seconds % 60);
  return m > 0 ? `${m} min ${sec} s` : `${sec} s`;
}

function showProgress(p: TrainingProgress): void {
  progressBar.value = p.step / p.steps;
  lastLoss = p.loss;
  stepsPerSecond = p.stepsPerSecond;
  currentStep = p.step;
  losses.push(p.loss);
  drawLosses();
  status.textContent =
    `step ${p.step} / ${p.steps} · loss ${p.loss.toFixed(4)} (PSNR ${(-10 * Math.log10(p.reconstruction)).toFixed(1)} dB) · ` +
    `${p.stepsPerSecond.toFixed(2)} steps/s · ETA ${formatSeconds(p.etaSeconds)}`;
}

/** The loss of every step on a log scale, with the lowest and highest values written at the side. */
function drawLosses(): void {
  const context = lossCanvas.getContext('2d') as CanvasRenderingContext2D;
  const { width, height } = lossCanvas;
  context.clearRect(0, 0, width, height);
  context.fillStyle = 'rgba(0, 0, 0, 0.35)';
  context.fillRect(0, 0, width, height);
  const finite = losses.filter((l) => l > 0 && Number.isFinite(l));
  if (finite.length < 2) return;
  const low = Math.log(Math.min(...finite));
  const high = Math.log(Math.max(...finite));
  const span = Math.max(high - low, 1e-6);
  const left = 44;
  context.strokeStyle = '#7fd4ff';
  context.lineWidth = 1.5;
  context.beginPath();
  losses.forEach((l, i) => {
    const x = left + (i / (losses.length - 1)) * (width - left - 4);
    const y = 4 + (1 - (Math.log(l) - low) / span) * (height - 8);
    if (i === 0) context.moveTo(x, y);
    else context.lineTo(x, y);
  });
  context.stroke();
  context.fillStyle = '#ccc';
  context.font = '10px sans-serif';
  context.fillText(Math.exp(high).toPrecision(3), 2, 12);
  context.fillText(Math.exp(low).toPrecision(3), 2, height - 4);
}

/**
 * After each preview: the mesh when it shows the model being trained, and the reconstruction (the worker sends
 * its own with each preview; training on the main thread decodes it here).
 */
async function showPreview(withReconstruction = true): Promise<void> {
  if (withReconstruction) await reconstructOnPage();
  if (meshTexture?.model === model && swatch) {
    await meshTexture.regenerate(swatch.sample({ width: size, seed: params.seed }));
  }
}

async function train(): Promise<void> {
  if (controller || !exemplar) return;
  controller = new AbortController();
  status.textContent = 'starting the training worker…';
  try {
    if (steps === 0 && losses.length === 0 && swatch && params.from === 'embedded') {
      // Fine-tuning starts from the embedded weights: the mesh follows the model from its first preview.
      await meshTextureFor(model, swatch.sample({ width: size, seed: params.seed }));
    }
    const options = {
      steps: steps + params.steps,
      startStep: steps,
      batchSize: params.batchSize,
      patchSize: params.patchSize,
      learningRate: params.learningRate,
      signal: controller.signal,
    };
    const result =
      params.thread === 'worker'
        ? await trainer.train(exemplar, {
            ...options,
            previewEvery: params.previewEvery,
            cpuShare: params.cpuShare,
            from: steps === 0 ? params.from : 'model',
            // The worker reconstructs the crop with each preview: no decode on this page's render thread.
            previewImage: { data: crop, width: size, height: size, channels: 3 },
          })
        : { ...(await trainOnMainThread(exemplar, options)), backend: 'webgl', from: 'model' };
    steps = result.step;
    // The mesh keeps its swatch's latent (no re-encode of the whole photo on the page): 'use on the mesh'
    // makes the trained model's own swatch.
    await showPreview(params.thread !== 'worker');
    status.textContent =
      `${result.aborted ? 'stopped' : 'trained'} at step ${steps} in ${result.seconds.toFixed(1)} s ` +
      `(worker, ${result.backend}, from ${result.from}) · loss ${lastLoss.toFixed(4)}`;
  } catch (e) {
    status.textContent = `training failed: ${(e as Error).message}`;
    throw e;
  } finally {
    controller = null;
  }
}

/**
 * The path before workers, for comparison: every step on the tfjs backend that shares Babylon's context, the
 * scene rendering only between steps.
 */
function trainOnMainThread(image: ImageData, options: TrainOptions): Promise<TrainingResult> {
  return trainTextureVae(model, image, {
    ...options,
    scope: onEngine.run,
    onProgress: (p) => {
      showProgress(p);
      // Waiting for the preview keeps the weights still while they are read.
      if (p.step % params.previewEvery === 0) return showPreview();
    },
  });
}

/** A new model to train (from the embedded weights or from scratch); the old one is disposed. */
async function resetModel(): Promise<void> {
  if (controller) return;
  const old = model;
  await useModel(await modelFor(params.from));
  old?.dispose();
  await reconstruct();
}

async function useModel(next: TextureVae): Promise<void> {
  trainer?.dispose();
  if (meshTexture && meshTexture.model === model) await showSwatch();
  model = next;
  trainer = new WorkerTrainer(model);
  trainer.onProgressObservable.add(showProgress);
  trainer.onReconstructionObservable.add(({ image }) => run(reconstruction.writeImage(image)));
  // Each preview is tracked, so the sample is idle only once its textures show the latest weights; one that
  // arrives while the last is still drawn is skipped (the end of training draws the final weights anyway).
  trainer.onPreviewObservable.add(() => {
    if (previewing) return;
    previewing = true;
    const started = performance.now();
    run(
      showPreview(false).finally(() => {
        previewing = false;
        previewMs = Math.round(performance.now() - started);
      }),
    );
  });
  steps = 0;
  losses = [];
  drawLosses();
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
  const { latent } = await encodeInWorker(model, rgbOf(exemplar));
  swatch = Swatch.fromLatent(model, latent, { name: photoName });
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
  const showedOld = meshTexture?.model === old;
  if (showedOld) {
    meshTexture?.dispose();
    meshTexture = null;
  }
  await useModel(loaded);
  old.dispose();
  await reconstruct();
  if (showedOld) await applyToMesh();
  status.textContent = `loaded ${storeName}: ${loaded.config.encoderWidths.join('-')} / ${loaded.config.decoderWidths.join('-')}`;
}

const gui = new GUI({ title: 'training' });
addInspector(scene, gui);
const data = gui.addFolder('texture');
data
  .add(params, 'texture', Object.keys(textures))
  .name('shipped photo')
  .onChange((name: string) => run(useImage(textures[name], name)));
data.add(params, 'openImage').name('open an image… (or drop one)');
const training = gui.addFolder('training');
training
  .add(params, 'from', { 'embedded model (fine-tune)': 'embedded', 'scratch (small model)': 'scratch' })
  .name('start from')
  .onChange(() => run(resetModel()));
training
  .add(params, 'thread', { 'Web Worker': 'worker', 'main thread (WebGL, for comparison)': 'main' })
  .name('train on');
training.add(params, 'cpuShare', 0.05, 1, 0.05).name('worker CPU share');
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
  await useModel(await modelFor(params.from));
  await useImage(textures[params.texture], params.texture);
  await scene.whenReadyAsync();
}

const ready = start();
tracker = new SampleTracker(scene, ready, () => ({
  step: controller ? currentStep : steps,
  loss: lastLoss,
  training: controller !== null,
  stepsPerSecond,
  previewMs,
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
