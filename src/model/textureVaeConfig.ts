import type { PaddedConv2DActivation } from './layers/paddedConv2D.js';

/**
 * Architecture and training hyper-parameters of a TextureVae; every field is validated.
 *
 * Why a spatial latent grid (as in latent-diffusion VAEs) rather than one latent vector: a grid keeps the
 * model fully convolutional, so one set of weights encodes and decodes any size that is a multiple of
 * `stride`, a grid wraps around for tileable output, and its cost grows with the texture's area. With the
 * defaults a 64x64 training patch (12,288 values) maps to an 8x8x8 grid = 512 latent dims (24x compression),
 * a 512x512 texture to 64x64x8 = 32,768 dims; a single vector large enough for 512x512 detail would need a
 * dense layer of tens of millions of weights and could not change size. The decoder costs
 * `decoderFlopsPerPixel` = 16,858 FLOP per output pixel with the defaults (4.4 GFLOP for 512x512),
 * under the 20 kFLOP budget that keeps runtime regeneration cheap on WebGL.
 */
export interface TextureVaeConfig {
  /** Channels of the spatial latent grid (default: 8). */
  readonly latentChannels: number;
  /** Output pixels per latent cell along each axis: a power of two from 2 to 32 (default: 8). */
  readonly stride: number;
  /**
   * Encoder widths: a 3x3 convolution at full resolution, then one stride-2 3x3 convolution per halving, so
   * log2(stride) + 1 entries (default: [32, 64, 128, 192]). The encoder carries most of the parameters: it
   * runs only when encoding, while the decoder runs on every regeneration.
   */
  readonly encoderWidths: readonly number[];
  /**
   * Decoder widths: a 3x3 convolution at latent resolution, then per doubling a nearest 2x upsample and a 3x3
   * convolution, so log2(stride) + 1 entries; a final 3x3 convolution with a sigmoid makes the pixels
   * (default: [64, 48, 24, 16]).
   */
  readonly decoderWidths: readonly number[];
  /** Circular padding in every convolution, so decoded textures wrap seamlessly (default: true). */
  readonly tileable: boolean;
  /**
   * The decoder's 2x upsampling: 'bilinear' (half-pixel centres, wrapping when tileable; leaves no latent-cell
   * grid in the output) or 'nearest' (the first embedded model's; prints the cell grid faintly) (default:
   * 'bilinear'). Models saved before this field existed load as 'nearest'.
   */
  readonly upsample: 'bilinear' | 'nearest';
  /** 3 for RGB, 4 for RGBA (default: 3). */
  readonly outputChannels: 3 | 4;
  /** KL weight of the loss, >= 0; see loss.ts for its scale (default: 0.005). */
  readonly beta: number;
  /** Model id saved with the weights, 1 to 64 characters (default: 'default'). */
  readonly name: string;
}

export const DEFAULT_TEXTURE_VAE_CONFIG: Readonly<TextureVaeConfig> = Object.freeze({
  latentChannels: 8,
  stride: 8,
  encoderWidths: Object.freeze([32, 64, 128, 192]),
  decoderWidths: Object.freeze([64, 48, 24, 16]),
  tileable: true,
  upsample: 'bilinear',
  outputChannels: 3,
  beta: 0.005,
  name: 'default',
});

/** Largest supported output side in pixels, and so the largest image side the encoder accepts. */
export const MAX_TEXTURE_SIZE = 4096;

/**
 * The one check of a side in pixels against a model's stride: an integer multiple of `stride` from `stride` to
 * `max` (default: MAX_TEXTURE_SIZE). Throws "`what` must be a multiple of 8 between 8 and 4096, got 300".
 */
export function checkTextureSize(what: string, value: number, stride: number, max = MAX_TEXTURE_SIZE): void {
  if (!Number.isInteger(value) || value < stride || value > max || value % stride !== 0) {
    throw new Error(`${what} must be a multiple of ${stride} between ${stride} and ${max}, got ${value}`);
  }
}

const MAX_WIDTH = 1024;

function checkWidths(key: string, widths: unknown, count: number, stride: number): number[] {
  if (!Array.isArray(widths) || widths.length !== count) {
    throw new Error(
      `${key} must be an array of log2(stride) + 1 = ${count} widths for stride ${stride}, got ${JSON.stringify(widths)}`,
    );
  }
  for (const w of widths) {
    if (!Number.isInteger(w) || w < 1 || w > MAX_WIDTH) {
      throw new Error(
        `${key} entries must be integers from 1 to ${MAX_WIDTH}, got ${JSON.stringify(widths)}`,
      );
    }
  }
  return [...widths];
}

/** Fills defaults and validates; returns a new frozen config and never changes `config`. */
export function resolveTextureVaeConfig(config: Partial<TextureVaeConfig> = {}): Readonly<TextureVaeConfig> {
  if (config === null || typeof config !== 'object') {
    throw new Error(`TextureVae config must be an object, got ${config === null ? 'null' : typeof config}`);
  }
  const known = Object.keys(DEFAULT_TEXTURE_VAE_CONFIG);
  for (const key of Object.keys(config)) {
    if (!known.includes(key))
      throw new Error(`unknown TextureVae config key '${key}'; allowed: ${known.join(', ')}`);
  }
  const d = DEFAULT_TEXTURE_VAE_CONFIG;
  const latentChannels = config.latentChannels ?? d.latentChannels;
  if (!Number.isInteger(latentChannels) || latentChannels < 1 || latentChannels > 64) {
    throw new Error(`latentChannels must be an integer from 1 to 64, got ${latentChannels}`);
  }
  const stride = config.stride ?? d.stride;
  if (![2, 4, 8, 16, 32].includes(stride)) {
    throw new Error(`stride must be a power of two from 2 to 32, got ${stride}`);
  }
  const levels = Math.log2(stride) + 1;
  const encoderWidths = checkWidths('encoderWidths', config.encoderWidths ?? d.encoderWidths, levels, stride);
  const decoderWidths = checkWidths('decoderWidths', config.decoderWidths ?? d.decoderWidths, levels, stride);
  const tileable = config.tileable ?? d.tileable;
  if (typeof tileable !== 'boolean') throw new Error(`tileable must be true or false, got ${tileable}`);
  const upsample = config.upsample ?? d.upsample;
  if (upsample !== 'bilinear' && upsample !== 'nearest') {
    throw new Error(`upsample must be 'bilinear' or 'nearest', got ${JSON.stringify(upsample)}`);
  }
  const outputChannels = config.outputChannels ?? d.outputChannels;
  if (outputChannels !== 3 && outputChannels !== 4) {
    throw new Error(`outputChannels must be 3 (RGB) or 4 (RGBA), got ${outputChannels}`);
  }
  const beta = config.beta ?? d.beta;
  if (typeof beta !== 'number' || !Number.isFinite(beta) || beta < 0) {
    throw new Error(`beta must be a finite number >= 0, got ${beta}`);
  }
  const name = config.name ?? d.name;
  if (typeof name !== 'string' || name.length < 1 || name.length > 64) {
    throw new Error(`name must be a string of 1 to 64 characters, got ${JSON.stringify(name)}`);
  }
  return Object.freeze({
    latentChannels,
    stride,
    encoderWidths: Object.freeze(encoderWidths),
    decoderWidths: Object.freeze(decoderWidths),
    tileable,
    upsample,
    outputChannels,
    beta,
    name,
  });
}

/** One convolution of the architecture, in model order. */
export interface ConvLayerSpec {
  readonly name: string;
  readonly part: 'encoder' | 'decoder';
  readonly inChannels: number;
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  /** A 2x upsample (config.upsample) runs right before this convolution. */
  readonly upsampleBefore: boolean;
  /** Output pixels per cell of this layer's output grid along each axis (1 = full resolution). */
  readonly cellSize: number;
  readonly activation: PaddedConv2DActivation;
}

/** The part of a TextureVaeConfig the decoder's layers depend on. */
export type DecoderShape = Pick<
  TextureVaeConfig,
  'stride' | 'latentChannels' | 'decoderWidths' | 'outputChannels'
> & { readonly upsample?: TextureVaeConfig['upsample'] };

/** The convolutions of a resolved config, encoder first; the single source of the architecture. */
export function textureVaeLayerSpecs(config: Readonly<TextureVaeConfig>): ConvLayerSpec[] {
  return [...encoderLayerSpecs(config), ...decoderLayerSpecs(config)];
}

/** The encoder's convolutions, in model order (the encoder part of textureVaeLayerSpecs). */
export function encoderLayerSpecs(config: Readonly<TextureVaeConfig>): ConvLayerSpec[] {
  const { stride, encoderWidths: enc, latentChannels, outputChannels } = config;
  const specs: ConvLayerSpec[] = [];
  const conv = (s: Omit<ConvLayerSpec, 'kernelSize'>) => specs.push({ ...s, kernelSize: 3 });
  conv({
    name: 'encoder_conv_0',
    part: 'encoder',
    inChannels: outputChannels,
    filters: enc[0],
    strides: 1,
    upsampleBefore: false,
    cellSize: 1,
    activation: 'leakyRelu',
  });
  for (let i = 1; i < enc.length; i++) {
    conv({
      name: `encoder_down_${i}`,
      part: 'encoder',
      inChannels: enc[i - 1],
      filters: enc[i],
      strides: 2,
      upsampleBefore: false,
      cellSize: 2 ** i,
      activation: 'leakyRelu',
    });
  }
  conv({
    name: 'encoder_moments',
    part: 'encoder',
    inChannels: enc[enc.length - 1],
    filters: 2 * latentChannels,
    strides: 1,
    upsampleBefore: false,
    cellSize: stride,
    activation: 'linear',
  });
  return specs;
}

/** The decoder's convolutions, in model order (the decoder part of textureVaeLayerSpecs). */
export function decoderLayerSpecs(config: Readonly<DecoderShape>): ConvLayerSpec[] {
  const { stride, decoderWidths: dec, latentChannels, outputChannels } = config;
  const specs: ConvLayerSpec[] = [];
  const conv = (s: Omit<ConvLayerSpec, 'kernelSize'>) => specs.push({ ...s, kernelSize: 3 });
  conv({
    name: 'decoder_conv_0',
    part: 'decoder',
    inChannels: latentChannels,
    filters: dec[0],
    strides: 1,
    upsampleBefore: false,
    cellSize: stride,
    activation: 'leakyRelu',
  });
  for (let i = 1; i < dec.length; i++) {
    conv({
      name: `decoder_up_${i}`,
      part: 'decoder',
      inChannels: dec[i - 1],
      filters: dec[i],
      strides: 1,
      upsampleBefore: true,
      cellSize: stride / 2 ** i,
      activation: 'leakyRelu',
    });
  }
  conv({
    name: 'decoder_output',
    part: 'decoder',
    inChannels: dec[dec.length - 1],
    filters: outputChannels,
    strides: 1,
    upsampleBefore: false,
    cellSize: 1,
    activation: 'sigmoid',
  });
  return specs;
}

/**
 * Latent cells a region of a model half's output needs beyond its own on each side for its values to equal
 * those of a pass over the whole grid (its halo). A k x k convolution reads (k - 1) / 2 cells of its input
 * grid on each side: cellSize / strides pixels each. Nearest upsamples and stride-2 convolutions add nothing
 * when the region starts on a latent cell boundary. The sum in whole latent cells, rounded up: 2 for both
 * halves and every stride of the architecture (the decoder's stride + stride / 2 + ... + 1 + 1 and the
 * encoder's 1 + 1 + 2 + ... + stride / 2 + stride pixels are both 2 * stride).
 */
function haloCells(specs: readonly ConvLayerSpec[], stride: number): number {
  let pixels = 0;
  for (const l of specs) pixels += ((l.cellSize / l.strides) * (l.kernelSize - 1)) / 2;
  return Math.ceil(pixels / stride);
}

/**
 * The decoder's halo in latent cells: how far one latent cell's influence reaches past its own stride x stride
 * pixels, followed layer by layer as an interval of that layer's grid (a k x k convolution widens it by
 * (k - 1) / 2 each side; a nearest 2x upsample maps [lo, hi] to [2 lo, 2 hi + 1]; a half-pixel bilinear one,
 * whose output 2j - 1 .. 2j + 2 reads input j, to [2 lo - 1, 2 hi + 2]). 2 with nearest upsampling, 3 with
 * bilinear, for every stride.
 */
export function decoderHaloCells(config: Readonly<DecoderShape>): number {
  const bilinear = (config.upsample ?? 'nearest') === 'bilinear';
  let lo = 0;
  let hi = 0;
  for (const l of decoderLayerSpecs(config)) {
    if (l.upsampleBefore) {
      lo = bilinear ? 2 * lo - 1 : 2 * lo;
      hi = bilinear ? 2 * hi + 2 : 2 * hi + 1;
    }
    const r = (l.kernelSize - 1) / 2;
    lo -= Math.floor(r);
    hi += Math.ceil(r);
  }
  return Math.ceil(Math.max(-lo, hi - (config.stride - 1)) / config.stride);
}

/** The encoder's halo in latent cells (see haloCells): 2. */
export function encoderHaloCells(config: Readonly<TextureVaeConfig>): number {
  return haloCells(encoderLayerSpecs(config), config.stride);
}

/**
 * Estimated peak bytes of one pass of a model half over [batch, height, width] latent cells: the largest
 * layer's float32 values alive at once. Per value of a layer's input grid 3 (the input and its two circular
 * pad copies); per value of its output grid 3 (the convolution, bias and activation results) plus k * k per
 * cell for the convolution's scratch (XNNPACK's indirection buffer on WASM); and the previous layer's output
 * while it is upsampled. For the default config tfjs's own count of a pass (tf.profile's peakBytes on the CPU
 * backend) is 10% (decoder) to 20% (encoder) lower; the budgets it is held to leave a wide margin anyway.
 */
function passBytes(
  specs: readonly ConvLayerSpec[],
  stride: number,
  batch: number,
  height: number,
  width: number,
): number {
  const cells = batch * height * width;
  let peak = 0;
  let previous = 0;
  for (const l of specs) {
    const inputCells = cells * (stride / (l.cellSize / l.strides)) ** 2;
    const outputCells = cells * (stride / l.cellSize) ** 2;
    const floats =
      inputCells * 3 * l.inChannels +
      outputCells * (3 * l.filters + l.kernelSize * l.kernelSize) +
      (l.upsampleBefore ? previous : 0);
    peak = Math.max(peak, floats);
    previous = outputCells * l.filters;
  }
  return 4 * peak;
}

/** Estimated peak bytes of one decoder pass over a [batch, height, width] latent grid (see passBytes). */
export function decoderPassBytes(
  config: Readonly<DecoderShape>,
  batch: number,
  height: number,
  width: number,
): number {
  return passBytes(decoderLayerSpecs(config), config.stride, batch, height, width);
}

/**
 * Estimated peak bytes of one encoder pass over images of [batch, height, width] latent cells, i.e.
 * height * stride by width * stride pixels (see passBytes).
 */
export function encoderPassBytes(
  config: Readonly<TextureVaeConfig>,
  batch: number,
  height: number,
  width: number,
): number {
  return passBytes(encoderLayerSpecs(config), config.stride, batch, height, width);
}

/** Names and shapes of every weight, as saved in model.json's weights manifest. */
export function textureVaeWeightShapes(
  config: Readonly<TextureVaeConfig>,
): { name: string; shape: number[] }[] {
  return textureVaeLayerSpecs(config).flatMap((l) => [
    { name: `${l.name}/kernel`, shape: [l.kernelSize, l.kernelSize, l.inChannels, l.filters] },
    { name: `${l.name}/bias`, shape: [l.filters] },
  ]);
}

/** Number of weights of the whole model (encoder and decoder). */
export function textureVaeParameterCount(config: Partial<TextureVaeConfig> = {}): number {
  return textureVaeWeightShapes(resolveTextureVaeConfig(config)).reduce(
    (n, w) => n + w.shape.reduce((a, b) => a * b, 1),
    0,
  );
}

/**
 * Decoder cost per output pixel, in FLOP: per output value of each convolution 2 per multiply-add
 * (2 * k * k * inChannels), 1 for the bias and 1 for the activation, divided by the pixels each value covers
 * (cellSize^2); nearest upsamples copy values and count 0, bilinear ones 6 per value (two axes, 2 multiplies and
 * 1 add each) at their output resolution. Defaults: 144 + 3456 + 5184 + 6912 + 864
 * multiply-add FLOP plus 58 for biases and activations = 16,618 FLOP per pixel, plus 240 for the bilinear
 * upsamples = 16,858.
 */
export function decoderFlopsPerPixel(config: Partial<TextureVaeConfig> = {}): number {
  const resolved = resolveTextureVaeConfig(config);
  let flops = 0;
  for (const l of textureVaeLayerSpecs(resolved)) {
    if (l.part !== 'decoder') continue;
    const perValue = 2 * l.kernelSize * l.kernelSize * l.inChannels + 1 + (l.activation === 'linear' ? 0 : 1);
    flops += (perValue * l.filters) / (l.cellSize * l.cellSize);
    if (l.upsampleBefore && resolved.upsample === 'bilinear')
      flops += (6 * l.inChannels) / (l.cellSize * l.cellSize);
  }
  return flops;
}
