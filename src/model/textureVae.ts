import {
  clipByValue,
  clone,
  expandDims,
  io,
  max,
  min,
  slice,
  stack,
  type Tensor,
  type Tensor3D,
  type Tensor4D,
  tensor,
  tensor4d,
  tidy,
  type Variable,
} from '@tensorflow/tfjs-core';
import {
  input,
  type LayersModel,
  layers,
  model as layersModel,
  type SymbolicTensor,
} from '@tensorflow/tfjs-layers';

import { type LatentGrid, latentToTensor, validateLatent } from '../latent/latentGrid.js';
import { lerpLatent, resizeLatent, sampleLatent, similarLatent, slerpLatent } from '../latent/latentOps.js';
import { checkSeed, SeededRandom } from '../latent/random.js';
import { httpModelHandler } from './httpModelHandler.js';
import { textureVaeMetadata, validateTextureVaeArtifacts } from './io.js';
import { PaddedConv2D } from './layers/paddedConv2D.js';
import { registerTextureVaeLayers } from './layers/registerTextureVaeLayers.js';
import { SmoothUpsample2D } from './layers/smoothUpsample2D.js';
import { type ElboTerms, elbo, type LossOptions, reparameterize } from './loss.js';
import { type PixelImage, toBytes } from './pixelImage.js';
import { requireBackend } from './requireBackend.js';
import type { TextureDecoder } from './textureDecoder.js';
import {
  checkTextureSize,
  decoderHaloCells,
  decoderPassBytes,
  encoderHaloCells,
  encoderPassBytes,
  resolveTextureVaeConfig,
  type TextureVaeConfig,
  textureVaeLayerSpecs,
} from './textureVaeConfig.js';
import { isSinglePass, MAX_DECODE_OUTPUT_BYTES, planTiles, runTiles, type TiledPass } from './tiledPasses.js';

/** logVar is clipped to this range so exp(logVar) stays finite early in training. */
const LOG_VAR_MIN = -20;
const LOG_VAR_MAX = 10;

/**
 * Builds the one layers model holding both halves: inputs [image, latent], outputs [moments, image]. If
 * anything throws part way, the weights of the layers built so far are disposed.
 */
function buildModel(config: Readonly<TextureVaeConfig>): LayersModel {
  registerTextureVaeLayers();
  const padding = config.tileable ? 'circular' : 'zeros';
  const built: PaddedConv2D[] = [];
  try {
    const image = input({ shape: [null, null, config.outputChannels], name: 'image' });
    const latent = input({ shape: [null, null, config.latentChannels], name: 'latent' });
    let x = image;
    let y = latent;
    for (const spec of textureVaeLayerSpecs(config)) {
      const conv = new PaddedConv2D({
        name: spec.name,
        filters: spec.filters,
        kernelSize: spec.kernelSize,
        strides: spec.strides,
        padding,
        activation: spec.activation,
      });
      built.push(conv);
      if (spec.part === 'encoder') {
        x = conv.apply(x) as SymbolicTensor;
      } else {
        if (spec.upsampleBefore) {
          const name = `${spec.name}_upsample`;
          const upsample =
            config.upsample === 'bilinear'
              ? new SmoothUpsample2D({ name, border: config.tileable ? 'circular' : 'edge' })
              : layers.upSampling2d({ size: [2, 2], interpolation: 'nearest', name });
          y = upsample.apply(y) as SymbolicTensor;
        }
        y = conv.apply(y) as SymbolicTensor;
      }
    }
    return layersModel({ inputs: [image, latent], outputs: [x, y], name: 'texture_vae' });
  } catch (e) {
    for (const layer of built) for (const weight of layer.weights) weight.dispose();
    throw e;
  }
}

/**
 * The model of validated artifacts: built from the config (whose topology the artifacts were checked to
 * match), then given the decoded weights. Decoding and assignment are synchronous inside one tidy, so a
 * failure at any step leaves no tensor behind.
 */
function modelFromArtifacts(config: Readonly<TextureVaeConfig>, artifacts: io.ModelArtifacts): LayersModel {
  const model = buildModel(config);
  try {
    tidy(() => {
      const weights = io.decodeWeights(artifacts.weightData as io.WeightData, artifacts.weightSpecs ?? []);
      for (const spec of textureVaeLayerSpecs(config)) {
        model.getLayer(spec.name).setWeights([weights[`${spec.name}/kernel`], weights[`${spec.name}/bias`]]);
      }
    });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

function isPixelImage(value: unknown): value is PixelImage {
  return typeof value === 'object' && value !== null && 'data' in value && !('dataId' in value);
}

/**
 * A convolutional VAE for textures with a spatial latent grid (see TextureVaeConfig for why).
 *
 * Encoder: 3x3 convolutions, log2(stride) of them with stride 2, ending in the posterior's mean and logVar per
 * latent cell. Decoder: fully convolutional (3x3 convolutions and 2x upsamples, sigmoid output), so it
 * decodes any size that is a multiple of `stride`. With `tileable` every convolution pads circularly, so decoded
 * textures wrap seamlessly on both axes. Latents are drawn on the CPU with SeededRandom: the same seed gives
 * the same texture on every backend.
 *
 * Tensor-level methods (`encodeTensors`, `decodeTensors`, `lossTensors`, `getWeights`) return tensors the
 * caller owns; high-level methods (`encode`, `decode`, `sample`, ...) manage their own tensors.
 */
export class TextureVae implements TextureDecoder {
  readonly config: Readonly<TextureVaeConfig>;
  private readonly _model: LayersModel;
  private readonly _encoder: LayersModel;
  private readonly _decoder: LayersModel;
  private readonly _noise: SeededRandom;
  private _variables: Variable[] | null = null;
  private _disposed = false;

  private constructor(config: Readonly<TextureVaeConfig>, model: LayersModel, noiseSeed: number) {
    this.config = config;
    this._model = model;
    // Both halves share the combined model's layers; only the combined model is ever disposed.
    this._encoder = layersModel({
      inputs: model.inputs[0],
      outputs: model.outputs[0],
      name: 'texture_vae_encoder',
    });
    this._decoder = layersModel({
      inputs: model.inputs[1],
      outputs: model.outputs[1],
      name: 'texture_vae_decoder',
    });
    this._noise = new SeededRandom(noiseSeed);
  }

  /**
   * A model with fresh weights (He-normal kernels, zero biases) drawn from `options.seed` (an integer from 0 to
   * 2^32 - 1, default: 0) on the CPU, so the same seed gives the same weights on every backend.
   */
  static create(config: Partial<TextureVaeConfig> = {}, options: { seed?: number } = {}): TextureVae {
    const resolved = resolveTextureVaeConfig(config);
    const seed = checkSeed(options.seed ?? 0);
    requireBackend('TextureVae.create()');
    const rng = new SeededRandom(seed);
    const model = buildModel(resolved);
    for (const spec of textureVaeLayerSpecs(resolved)) {
      const fanIn = spec.kernelSize * spec.kernelSize * spec.inChannels;
      // leaky ReLU (slope 0.2) keeps activations O(1) with gain 2 / (1 + 0.2^2); the posterior head starts small
      // so initial means are near 0 and variances near 1.
      const gain = spec.activation === 'leakyRelu' ? 2 / 1.04 : spec.name === 'encoder_moments' ? 0.01 : 1;
      const kernelSize = fanIn * spec.filters;
      const kernel = tensor(rng.gaussianArray(kernelSize, Math.sqrt(gain / fanIn)), [
        spec.kernelSize,
        spec.kernelSize,
        spec.inChannels,
        spec.filters,
      ]);
      const bias = tensor(new Float32Array(spec.filters));
      model.getLayer(spec.name).setWeights([kernel, bias]);
      kernel.dispose();
      bias.dispose();
    }
    return new TextureVae(resolved, model, seed + 0x5eed);
  }

  /**
   * Loads a model saved by `save`: a tf.io URL string ('indexeddb://name', 'http://.../model.json', ...) or an
   * IOHandler (in Node: `fileSystemHandler(dir)`). The topology, weights manifest, dtypes, byte counts and
   * weight values are checked against the architecture of the saved config before any tensor is made (see
   * validateTextureVaeArtifacts), and a load that fails leaves no tensor behind. An http(s) URL (or one without
   * a scheme) is fetched by a handler that refuses weights paths outside the model's folder before fetching
   * them (see httpModelHandler); an IOHandler passed in fetches its weights itself.
   */
  static async load(source: string | io.IOHandler): Promise<TextureVae> {
    requireBackend('TextureVae.load()');
    // A string without any scheme is a relative URL fetched over HTTP, as in tf.loadLayersModel.
    const handler =
      typeof source === 'string'
        ? io.isHTTPScheme(source) || !/^[a-z][a-z0-9+.-]*:/i.test(source)
          ? httpModelHandler(source)
          : io.getLoadHandlers(source)[0]
        : source;
    if (!handler || typeof handler.load !== 'function') {
      throw new Error(
        typeof source === 'string'
          ? `no tf.io load handler for '${source}'; use an http(s)://, indexeddb:// or localstorage:// URL, or pass an IOHandler (Node: fileSystemHandler(dir))`
          : 'load source must be a URL string or a tf.io.IOHandler with a load() method',
      );
    }
    const artifacts = await handler.load();
    const config = validateTextureVaeArtifacts(artifacts);
    const model = modelFromArtifacts(config, artifacts);
    try {
      return new TextureVae(config, model, 0x5eed);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  /** Saves model.json (topology, config, weights manifest) and the weights through tf.io. */
  async save(destination: string | io.IOHandler): Promise<io.SaveResult> {
    this._assertLive();
    const handler = typeof destination === 'string' ? io.getSaveHandlers(destination)[0] : destination;
    if (!handler || typeof handler.save !== 'function') {
      throw new Error(
        typeof destination === 'string'
          ? `no tf.io save handler for '${destination}'; use an indexeddb://, localstorage://, downloads:// or http(s):// URL, or pass an IOHandler (Node: fileSystemHandler(dir))`
          : 'save destination must be a URL string or a tf.io.IOHandler with a save() method',
      );
    }
    this._model.setUserDefinedMetadata(textureVaeMetadata(this.config));
    return this._model.save(handler);
  }

  get stride(): number {
    return this.config.stride;
  }

  get latentChannels(): number {
    return this.config.latentChannels;
  }

  get outputChannels(): 3 | 4 {
    return this.config.outputChannels;
  }

  /** The model id (`config.name`). */
  get name(): string {
    return this.config.name;
  }

  /** Decoded textures wrap seamlessly on both axes (`config.tileable`). */
  get tileable(): boolean {
    return this.config.tileable;
  }

  /** Estimated peak bytes of one decoder pass over a [batch, height, width] latent grid (see decoderPassBytes). */
  decodePassBytes(batch: number, height: number, width: number): number {
    return decoderPassBytes(this.config, batch, height, width);
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /**
   * Grid size for an output size; throws unless width and height are multiples of stride in
   * [stride, MAX_TEXTURE_SIZE].
   */
  latentSize(width: number, height: number): { width: number; height: number } {
    this._assertLive();
    this._checkSide('width', width);
    this._checkSide('height', height);
    return { width: width / this.stride, height: height / this.stride };
  }

  /**
   * Posterior of a batch: images [B, H, W, outputChannels] with values in [0, 1] (not checked here, to keep
   * training free of GPU readbacks; `encode` checks), H and W multiples of stride. Returns mean and logVar,
   * each [B, H/stride, W/stride, latentChannels], owned by the caller. An encode whose estimated activations
   * exceed `options.memoryBudget` bytes (default: 134217728, DEFAULT_MEMORY_BUDGET) runs in passes over fewer
   * images or overlapping tiles, with the same values as one pass.
   */
  encodeTensors(
    images: Tensor4D,
    options: { memoryBudget?: number } = {},
  ): { mean: Tensor4D; logVar: Tensor4D } {
    this._assertLive();
    this._checkImageTensor(images);
    const [b, h, w] = images.shape;
    const s = this.stride;
    const pass: TiledPass = {
      passBytes: (batch, height, width) => encoderPassBytes(this.config, batch, height, width),
      halo: encoderHaloCells(this.config),
      tileable: this.config.tileable,
      inputScale: s,
      outputScale: 1,
      run: (x) => this._encoder.apply(x) as Tensor4D,
    };
    const plan = planTiles(pass, b, h / s, w / s, options.memoryBudget);
    if (isSinglePass(plan, b)) return this._posterior(images);
    const moments = runTiles(images, plan, pass);
    try {
      return tidy(() => this._splitMoments(moments));
    } finally {
      moments.dispose();
    }
  }

  /**
   * Decodes latents [B, h, w, latentChannels] to images [B, h*stride, w*stride, outputChannels] in [0, 1],
   * owned by the caller. A decode whose estimated activations exceed `options.memoryBudget` bytes (default:
   * 134217728, DEFAULT_MEMORY_BUDGET) runs in passes over fewer latents or over overlapping tiles
   * of the grid, with the same pixels as one pass, so every size up to MAX_TEXTURE_SIZE decodes on every
   * backend. Throws before any backend work when the output would exceed MAX_DECODE_OUTPUT_BYTES (512 MiB).
   */
  decodeTensors(latents: Tensor4D, options: { memoryBudget?: number } = {}): Tensor4D {
    this._assertLive();
    if (latents.rank !== 4) {
      throw new Error(
        `latents must be a rank-4 tensor [batch, height, width, ${this.latentChannels}], got rank ${latents.rank}`,
      );
    }
    const [b, h, w, c] = latents.shape;
    if (c !== this.latentChannels) {
      throw new Error(
        `latents must have ${this.latentChannels} channels (the model's latentChannels), got ${c}`,
      );
    }
    this._checkSide('decoded height', h * this.stride);
    this._checkSide('decoded width', w * this.stride);
    const outputBytes = 4 * b * h * w * this.stride * this.stride * this.outputChannels;
    if (outputBytes > MAX_DECODE_OUTPUT_BYTES) {
      throw new Error(
        `one decodeTensors call returns at most ${MAX_DECODE_OUTPUT_BYTES / 2 ** 20} MiB of float pixels, ` +
          `got ${b} latents of ${w * this.stride}x${h * this.stride} (${Math.ceil(outputBytes / 2 ** 20)} MiB); ` +
          'decode fewer latents per call',
      );
    }
    const pass: TiledPass = {
      passBytes: (batch, height, width) => this.decodePassBytes(batch, height, width),
      halo: decoderHaloCells(this.config),
      tileable: this.config.tileable,
      inputScale: 1,
      outputScale: this.stride,
      run: (z) => this._decoder.apply(z) as Tensor4D,
    };
    const plan = planTiles(pass, b, h, w, options.memoryBudget);
    if (isSinglePass(plan, b)) return tidy(() => this._decoder.apply(latents) as Tensor4D);
    return runTiles(latents, plan, pass);
  }

  /**
   * Loss terms of a batch (see loss.ts for the reduction), differentiable with respect to `trainableVariables`;
   * use it inside `optimizer.minimize` or `tf.variableGrads`. The noise eps of the reparameterisation comes from
   * `options.seed`, or else from the model's own seeded stream (different on every call). beta defaults to
   * config.beta; `pixel`, `patchWeight` and `patchDirections` choose the other terms (see LossOptions). The caller
   * owns the returned scalars.
   */
  lossTensors(images: Tensor4D, options: { beta?: number; seed?: number } & LossOptions = {}): ElboTerms {
    this._assertLive();
    this._checkImageTensor(images);
    const beta = options.beta ?? this.config.beta;
    const rng = options.seed === undefined ? this._noise : new SeededRandom(options.seed);
    return tidy<ElboTerms>(() => {
      // One pass, never tiles: training batches are small, and the gradient needs only the model's own ops.
      const { mean, logVar } = this._posterior(images);
      const eps = tensor4d(rng.gaussianArray(mean.size), mean.shape);
      const decoded = this._decoder.apply(reparameterize(mean, logVar, eps)) as Tensor4D;
      return elbo(images, decoded, mean, logVar, beta, { ...options, stride: this.config.stride });
    });
  }

  /** The model's variables, in a fixed order (the same order as getWeights). Owned by the model. */
  get trainableVariables(): Variable[] {
    this._assertLive();
    this._variables ??= this._model.trainableWeights.map((w) => w.read() as Variable);
    return this._variables;
  }

  /** Copies of every weight, in trainableVariables order; the caller owns them. */
  getWeights(): Tensor[] {
    this._assertLive();
    return this._model.getWeights().map((w) => clone(w));
  }

  /** Replaces every weight with copies of `weights` (from getWeights); the caller keeps ownership of them. */
  setWeights(weights: Tensor[]): void {
    this._assertLive();
    const current = this._model.weights;
    if (!Array.isArray(weights) || weights.length !== current.length) {
      throw new Error(
        `setWeights needs ${current.length} tensors (as from getWeights), got ${weights?.length}`,
      );
    }
    weights.forEach((w, i) => {
      if (w.shape.join() !== current[i].shape.join()) {
        throw new Error(
          `weight ${i} ('${current[i].originalName}') must have shape [${current[i].shape}], got [${w.shape}]`,
        );
      }
    });
    this._model.setWeights(weights);
  }

  /**
   * Posterior mean of one image: a PixelImage, or a float tensor [H, W, C] / [1, H, W, C] with values in [0, 1];
   * C must equal outputChannels and H, W be multiples of stride.
   */
  async encode(image: PixelImage | Tensor3D | Tensor4D): Promise<LatentGrid> {
    this._assertLive();
    const owned = isPixelImage(image);
    let x: Tensor4D;
    if (isPixelImage(image)) {
      x = this._pixelsToTensor(image);
    } else if (image.rank === 3) {
      x = expandDims(image, 0) as Tensor4D;
    } else if (image.rank === 4) {
      if (image.shape[0] !== 1) {
        throw new Error(
          `encode takes one image, got a batch of ${image.shape[0]}; use encodeTensors for batches`,
        );
      }
      x = image as Tensor4D;
    } else {
      throw new Error(
        `image must be a PixelImage or a tensor of rank 3 [H, W, C] or 4 [1, H, W, C], got rank ${image.rank}`,
      );
    }
    const dispose = owned || x !== image;
    try {
      this._checkImageTensor(x);
      if (!owned) {
        const range = tidy(() => stack([min(x), max(x)]));
        const [lo, hi] = await range.data();
        range.dispose();
        if (!(lo >= 0 && hi <= 1)) {
          throw new Error(
            `image values must be in [0, 1] (8-bit pixels divided by 255), got min ${lo} and max ${hi}`,
          );
        }
      }
      this._assertLive();
      const mean = tidy(() => {
        const { mean: m, logVar } = this.encodeTensors(x);
        logVar.dispose();
        return m;
      });
      const [, height, width, channels] = mean.shape;
      const data = (await mean.data()) as Float32Array;
      mean.dispose();
      return { data, height, width, channels };
    } finally {
      if (dispose) x.dispose();
    }
  }

  /**
   * Decodes a latent grid to 8-bit pixels. Without width/height the output is the grid size times stride;
   * other sizes (multiples of stride) tile or crop the grid circularly first.
   */
  async decode(latent: LatentGrid, options: { width?: number; height?: number } = {}): Promise<PixelImage> {
    this._assertLive();
    validateLatent(latent, this.latentChannels);
    const width = options.width ?? latent.width * this.stride;
    const height = options.height ?? latent.height * this.stride;
    const size = this.latentSize(width, height);
    const grid =
      size.width === latent.width && size.height === latent.height
        ? latent
        : resizeLatent(latent, size.height, size.width);
    const out = tidy(() => {
      const z = latentToTensor(grid);
      return this.decodeTensors(z);
    });
    let values: Float32Array;
    try {
      values = (await out.data()) as Float32Array;
    } finally {
      out.dispose();
    }
    return { data: toBytes(values), width, height, channels: this.outputChannels };
  }

  /**
   * A prior sample N(0, temperature^2 I) for an output size (defaults: 256 x 256, temperature 1, seed 0; a seed
   * is an integer from 0 to 2^32 - 1).
   */
  sample(options: { width?: number; height?: number; temperature?: number; seed?: number } = {}): LatentGrid {
    const size = this.latentSize(options.width ?? 256, options.height ?? 256);
    return sampleLatent(
      options.seed ?? 0,
      size.height,
      size.width,
      this.latentChannels,
      options.temperature ?? 1,
    );
  }

  /**
   * A variation of `latent`: amount 0 = the same, 1 = an independent prior sample (seed: an integer from 0 to
   * 2^32 - 1, default: 0).
   */
  similar(latent: LatentGrid, amount: number, seed = 0): LatentGrid {
    this._assertLive();
    validateLatent(latent, this.latentChannels);
    return similarLatent(latent, amount, seed);
  }

  /** From a (t = 0) to b (t = 1); 'slerp' keeps prior samples' norm (default: 'slerp'). */
  interpolate(
    a: LatentGrid,
    b: LatentGrid,
    t: number,
    options: { method?: 'lerp' | 'slerp' } = {},
  ): LatentGrid {
    this._assertLive();
    validateLatent(a, this.latentChannels);
    const method = options.method ?? 'slerp';
    if (method === 'slerp') return slerpLatent(a, b, t);
    if (method === 'lerp') return lerpLatent(a, b, t);
    throw new Error(`interpolation method must be 'lerp' or 'slerp', got '${method}'`);
  }

  /** Frees every weight; calling it again is harmless, any other method afterwards throws. */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this._variables = null;
    this._model.dispose();
  }

  /** mean and logVar of one encoder pass over `images`; owned by the caller. */
  private _posterior(images: Tensor4D): { mean: Tensor4D; logVar: Tensor4D } {
    return tidy(() => this._splitMoments(this._encoder.apply(images) as Tensor4D));
  }

  private _splitMoments(moments: Tensor4D): { mean: Tensor4D; logVar: Tensor4D } {
    const c = this.latentChannels;
    const mean = slice(moments, [0, 0, 0, 0], [-1, -1, -1, c]);
    const logVar = clipByValue(slice(moments, [0, 0, 0, c], [-1, -1, -1, c]), LOG_VAR_MIN, LOG_VAR_MAX);
    return { mean, logVar };
  }

  private _assertLive(): void {
    if (this._disposed) throw new Error('TextureVae has been disposed');
  }

  private _checkSide(what: string, value: number): void {
    checkTextureSize(what, value, this.stride);
  }

  private _checkImageTensor(images: Tensor): void {
    const c = this.outputChannels;
    if (images.rank !== 4) {
      throw new Error(`images must be a rank-4 tensor [batch, height, width, ${c}], got rank ${images.rank}`);
    }
    if (images.dtype !== 'float32')
      throw new Error(`images must be float32 in [0, 1], got dtype ${images.dtype}`);
    const [, h, w, channels] = images.shape;
    if (channels !== c) {
      throw new Error(`images must have ${c} channels (the model's outputChannels), got ${channels}`);
    }
    this._checkSide('image height', h);
    this._checkSide('image width', w);
  }

  private _pixelsToTensor(image: PixelImage): Tensor4D {
    const { width, height, channels, data } = image;
    if (channels !== this.outputChannels) {
      throw new Error(
        `image must have ${this.outputChannels} channels (the model's outputChannels), got ${channels}`,
      );
    }
    this._checkSide('image width', width);
    this._checkSide('image height', height);
    if (
      !(data instanceof Uint8Array || data instanceof Uint8ClampedArray) ||
      data.length !== width * height * channels
    ) {
      throw new Error(
        `image data must be a Uint8Array of width*height*channels = ${width * height * channels} values, got ${data?.length}`,
      );
    }
    const values = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) values[i] = data[i] / 255;
    return tensor4d(values, [1, height, width, channels]);
  }
}
