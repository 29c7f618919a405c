import { textureVaeConfigHash } from '../model/configHash.js';
import { centreCrop, type PixelImage } from '../model/pixelImage.js';
import type { TextureVae } from '../model/textureVae.js';
import { checkTextureSize, MAX_TEXTURE_SIZE, type TextureVaeConfig } from '../model/textureVaeConfig.js';
import { roundToFloat16 } from './float16.js';
import { type LatentGrid, validateLatent } from './latentGrid.js';
import { type QuiltSource, quilt, quiltBlockCount } from './quilt.js';
import { checkSeed, SeededRandom } from './random.js';
import {
  decodeSwatch,
  encodeSwatch,
  SWATCH_LIMITS,
  type SwatchContents,
  type SwatchSynthesis,
} from './swatchFormat.js';

/** Smallest exemplar side in pixels. */
export const MIN_SWATCH_IMAGE_SIZE = 64;
/** Default patch side in pixels; divided by the stride for the side in latent cells. */
const DEFAULT_PATCH_PIXELS = 128;
/**
 * Candidates per block. On the bricks photo (bench/swatch.ts --candidates): 32 left bricks and mortar in
 * fragments; 256 keeps whole bricks (two 256-px samples cross-correlate 0.17, cell seam 0.72 / 0.92 at 256 /
 * 512 px); 1024 was 3-5x slower for no gain (0.24; 1.06 / 1.06).
 */
const DEFAULT_CANDIDATES = 256;
/**
 * Weight of quilting's reuse penalty (see QuiltSettings.reuse), measured on bricks, moss and rock (bench/swatch.ts
 * with this constant at 0 and at 2): without it the best-fitting regions of an exemplar come back in every
 * sample, so two samples look more alike (largest cross-correlation of two 256-px samples 0.18-0.25 against
 * 0.16-0.25 with it; of a sample and a seed-9 sample 0.17-0.34 against 0.18-0.23) and less like the photo as
 * a whole (normalised SWD of 256-px windows 1.02-1.06x the reconstruction's against 0.98-1.01x).
 */
const REUSE = 2;

/** What a swatch needs to know of a model: a TextureVae, or anything carrying its config. */
export interface SwatchModel {
  readonly config: Readonly<TextureVaeConfig>;
}

/** Options of {@link Swatch.fromImage} and {@link Swatch.fromLatent}; every field has a default. */
export interface SwatchOptions {
  /**
   * The exemplar is itself tileable: patches may then wrap around its edges. Otherwise the outer 2 latent
   * cells, which a circular encoder mixes with the opposite edge, are never used (default: false).
   */
  tileable?: boolean;
  /**
   * Patch side in latent cells, a quarter of it overlapping its neighbours: larger patches keep larger
   * structures, smaller ones repeat less. Capped at the exemplar's usable size (default: 128 px / stride,
   * 16 cells for stride 8).
   */
  patchSize?: number;
  /** Random candidate patches tried per block; more fit better and vary less (default: 256). */
  candidates?: number;
  /** A short name saved with the swatch, 1 to 64 characters (default: null). */
  name?: string | null;
}

/** Options of {@link Swatch.sample}. */
export interface SwatchSampleOptions {
  /** Output width in pixels, a multiple of the stride from stride to 4096 (default: 256). */
  width?: number;
  /** Output height in pixels, a multiple of the stride from stride to 4096 (default: the width). */
  height?: number;
  /** An integer from 0 to 4294967295; the same seed gives the same grid everywhere (default: 0). */
  seed?: number;
}

/** A second, independent stream from the same seed (a 32-bit integer hash). */
function derivedSeed(seed: number, salt: number): number {
  let h = Math.imul(seed ^ salt, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Cells along each edge of a non-tileable exemplar grid that are not sampled (the encoder's wrap zone). */
function marginFor(cells: number): number {
  return Math.min(2, Math.max(0, Math.floor((cells - 4) / 2)));
}

/**
 * A swatch: the look of one material, made from one exemplar photo with one model, from which any number of
 * new, seamless latent grids of any size are synthesised. It holds the exemplar's whole latent grid (posterior
 * means, encoded in one pass, stored at float16 precision so a saved and reloaded swatch samples bit-identical
 * grids) and the settings of its synthesis. It never touches a model after it is made: `sample` and `similar`
 * are plain arithmetic on the CPU, identical on every tfjs backend; decode their grids with the model the
 * swatch was made for (`checkModel` says whether a model is that one).
 *
 * Why quilting in latent space (quilt.ts), measured with `npx tsx bench/swatch.ts` on the embedded model and
 * five of its photos (bricks, moss, rock, facade tiles, worn wood; 512 px each), against random-phase
 * (spectral) synthesis of the same latent grid (`--method spectral`):
 * - structure: quilted bricks keep whole bricks and their mortar; random phase turns them into horizontal
 *   streaks (seen in the PNGs; the normalised SWD of 256-px windows does not tell them apart: 0.98-1.01x the
 *   model's reconstruction of 256-px crops for both);
 * - diversity (largest cross-correlation of two 256-px samples, seeds 1 and 2): quilting 0.15-0.25, random
 *   phase 0.24-0.35, against 0.09-0.14 for two disjoint crops of the irregular photos; random phase misses the
 *   "crops + 0.15" target on moss (0.26) and rock (0.34), quilting meets it on all five;
 * - repeats at shifts >= 64 px in a 1024-px sample: quilting 0.06-0.07 on the irregular photos (photos
 *   0.06-0.22), random phase 0.08-0.15;
 * - both are seamless by construction; the cost is time: a 1024-px grid takes quilting about 0.2-1 s in
 *   Node, random phase 30-200 ms.
 * Random phase would only win on speed, and a swatch is sampled far less often than it is decoded.
 */
export class Swatch {
  /** The exemplar's latent grid (frozen; values are float16-exact). */
  readonly latent: LatentGrid;
  /** Pixels per latent cell of the model. */
  readonly stride: number;
  /** The model the swatch was made for: config.name and textureVaeConfigHash(config). */
  readonly model: { readonly name: string; readonly configHash: string };
  readonly tileable: boolean;
  /** Size in pixels of the exemplar image. */
  readonly source: { readonly width: number; readonly height: number };
  readonly synthesis: SwatchSynthesis;
  readonly name: string | null;
  private readonly _quiltSource: QuiltSource;

  private constructor(contents: SwatchContents) {
    const { latent } = contents;
    this.latent = Object.freeze({
      data: latent.data,
      height: latent.height,
      width: latent.width,
      channels: latent.channels,
    });
    this.stride = contents.stride;
    this.model = Object.freeze({ ...contents.model });
    this.tileable = contents.tileable;
    this.source = Object.freeze({ ...contents.source });
    this.synthesis = Object.freeze({ ...contents.synthesis });
    this.name = contents.name;
    const margin = this.tileable ? 0 : Math.min(marginFor(latent.height), marginFor(latent.width));
    this._quiltSource = Object.freeze({
      data: latent.data,
      height: latent.height,
      width: latent.width,
      channels: latent.channels,
      margin,
      wraps: this.tileable,
      ...channelStatistics(latent, margin),
    });
  }

  /**
   * Encodes `image` (8-bit pixels, the model's channel count, sides from 64 to 4096 px) with `model` in one
   * pass and makes a swatch of its latent grid. Sides that are not multiples of the stride lose up to
   * stride - 1 pixels to a centre crop.
   */
  static async fromImage(model: TextureVae, image: PixelImage, options: SwatchOptions = {}): Promise<Swatch> {
    if (image === null || typeof image !== 'object' || !image.data) {
      throw new Error('image must be a PixelImage {data, width, height, channels}');
    }
    const { width, height, channels } = image;
    for (const [key, value] of [
      ['width', width],
      ['height', height],
    ] as const) {
      if (!Number.isInteger(value) || value < MIN_SWATCH_IMAGE_SIZE || value > MAX_TEXTURE_SIZE) {
        throw new Error(
          `swatch image ${key} must be an integer from ${MIN_SWATCH_IMAGE_SIZE} to ${MAX_TEXTURE_SIZE} px, got ${value}`,
        );
      }
    }
    if (channels !== model.outputChannels) {
      throw new Error(
        `swatch image must have ${model.outputChannels} channels (the model's outputChannels), got ${channels}`,
      );
    }
    if (
      !(image.data instanceof Uint8Array || image.data instanceof Uint8ClampedArray) ||
      image.data.length !== width * height * channels
    ) {
      throw new Error(
        `image data must be a Uint8Array of width*height*channels = ${width * height * channels} values, got ${image.data.length}`,
      );
    }
    const resolved = resolveOptions(options, model.stride);
    const latent = await model.encode(centreCrop(image, model.stride));
    return Swatch._make(model, latent, resolved, { width, height });
  }

  /**
   * A swatch of an exemplar grid encoded elsewhere (for instance tile by tile): `latent` must be the posterior
   * mean grid of an image of at least 64 px made by `model`.
   */
  static fromLatent(model: SwatchModel, latent: LatentGrid, options: SwatchOptions = {}): Swatch {
    const { config } = model;
    validateLatent(latent, config.latentChannels);
    const min = Math.ceil(MIN_SWATCH_IMAGE_SIZE / config.stride);
    const max = MAX_TEXTURE_SIZE / config.stride;
    if (latent.height < min || latent.width < min || latent.height > max || latent.width > max) {
      throw new Error(
        `a swatch grid must be ${min} to ${max} cells per side (${MIN_SWATCH_IMAGE_SIZE} to ${MAX_TEXTURE_SIZE} px), got ${latent.height}x${latent.width}`,
      );
    }
    const source = { width: latent.width * config.stride, height: latent.height * config.stride };
    return Swatch._make(model, latent, resolveOptions(options, config.stride), source);
  }

  /** Reads a swatch file (see swatchFormat.ts) and checks that it was made for `model`. */
  static fromBytes(bytes: Uint8Array, model: SwatchModel): Swatch {
    const swatch = new Swatch(decodeSwatch(bytes));
    swatch.checkModel(model);
    if (swatch.latent.channels !== model.config.latentChannels || swatch.stride !== model.config.stride) {
      throw new Error(
        `swatch grid of ${swatch.latent.channels} channels at stride ${swatch.stride} does not fit model '${model.config.name}' (${model.config.latentChannels} channels, stride ${model.config.stride})`,
      );
    }
    return swatch;
  }

  /**
   * Grids with one shared layout, one per swatch: the same patch positions (relative to each exemplar) and
   * the same cuts, chosen for all swatches at once. Interpolating two of them (lerpLatent) morphs one material
   * into the other without ghosting two layouts over each other. The swatches must share stride and channels.
   */
  static sampleAligned(swatches: readonly Swatch[], options: SwatchSampleOptions = {}): LatentGrid[] {
    if (!Array.isArray(swatches) || swatches.length === 0 || !swatches.every((s) => s instanceof Swatch)) {
      throw new Error('sampleAligned needs a non-empty array of Swatch');
    }
    const first = swatches[0];
    for (const s of swatches) {
      if (s.stride !== first.stride || s.latent.channels !== first.latent.channels) {
        throw new Error(
          `aligned swatches must share stride and channels: ${first.stride}/${first.latent.channels} and ${s.stride}/${s.latent.channels}`,
        );
      }
    }
    const { width, height, seed } = first._resolveSample(options);
    const patchSize = Math.min(...swatches.map((s) => s._patchSize()));
    const candidates = Math.max(...swatches.map((s) => s.synthesis.candidates));
    const grids = quilt(
      swatches.map((s) => s._quiltSource),
      height,
      width,
      { patchSize, candidates, reuse: REUSE },
      new SeededRandom(seed),
    );
    return grids.map((data) => ({ data, height, width, channels: first.latent.channels }));
  }

  /**
   * A new latent grid for a width x height texture (pixels): seamless, with this swatch's look and a layout
   * of its own per seed. Layouts of two swatches correspond only when sampled together (sampleAligned).
   */
  sample(options: SwatchSampleOptions = {}): LatentGrid {
    return Swatch.sampleAligned([this], options)[0];
  }

  /**
   * A variation of `latent` (a grid of this swatch's channels, any size a texture may have): amount 0 returns
   * it unchanged, 1 returns `sample` of its size with `seed`; in between, a seeded random share `amount` of its
   * quilting blocks (rounded to whole blocks) is quilted anew from the exemplar, joined to the kept blocks along
   * minimum-error cuts, so larger amounts change more of the layout (the kept share, and with it the
   * correlation with the start, falls about linearly). The changed blocks for a smaller amount are always among
   * those for a larger one.
   */
  similar(latent: LatentGrid, amount: number, seed = 0): LatentGrid {
    validateLatent(latent, this.latent.channels);
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0 || amount > 1) {
      throw new Error(`amount must be a number from 0 to 1, got ${amount}`);
    }
    const { width, height } = this._resolveSample({
      width: latent.width * this.stride,
      height: latent.height * this.stride,
      seed,
    });
    if (amount === 0) return { ...latent, data: latent.data.slice() };
    const patchSize = this._patchSize();
    const blocks = quiltBlockCount(height, width, patchSize);
    // The round(amount * blocks) blocks of lowest seeded priority are quilted anew: a smaller amount's blocks
    // are among a larger one's, and even a 256-px texture of 9 blocks changes in steady steps.
    const priorities = blockPriorities(blocks, seed);
    const order = Array.from(priorities.keys()).sort((a, b) => priorities[a] - priorities[b] || a - b);
    const changed = new Uint8Array(blocks);
    for (let k = 0; k < Math.round(amount * blocks); k++) changed[order[k]] = 1;
    const [data] = quilt(
      [this._quiltSource],
      height,
      width,
      { patchSize, candidates: this.synthesis.candidates, reuse: REUSE },
      new SeededRandom(seed),
      { grids: [latent.data], keeps: (block) => changed[block] === 0 },
    );
    return { data, height, width, channels: latent.channels };
  }

  /** Throws unless `model` has the name and config this swatch was made with. */
  checkModel(model: SwatchModel): void {
    const config = model?.config;
    if (!config) throw new Error('checkModel needs a TextureVae (or an object with its config)');
    const hash = textureVaeConfigHash(config);
    if (config.name !== this.model.name || hash !== this.model.configHash) {
      throw new Error(
        `swatch${this.name ? ` '${this.name}'` : ''} was made with model '${this.model.name}' (config ${this.model.configHash}), not with model '${config.name}' (config ${hash}); make the swatch again with this model`,
      );
    }
  }

  /** Whether `model` is the one this swatch was made for (see checkModel). */
  isFor(model: SwatchModel): boolean {
    return (
      model.config.name === this.model.name && textureVaeConfigHash(model.config) === this.model.configHash
    );
  }

  /** The swatch file (header + float16 grid, see swatchFormat.ts); Swatch.fromBytes reads it back. */
  toBytes(): Uint8Array {
    return encodeSwatch(this);
  }

  private static _make(
    model: SwatchModel,
    latent: LatentGrid,
    options: Readonly<{ tileable: boolean; patchSize: number; candidates: number; name: string | null }>,
    source: { width: number; height: number },
  ): Swatch {
    return new Swatch({
      model: { name: model.config.name, configHash: textureVaeConfigHash(model.config) },
      stride: model.config.stride,
      latent: {
        data: roundToFloat16(latent.data),
        height: latent.height,
        width: latent.width,
        channels: latent.channels,
      },
      tileable: options.tileable,
      source,
      synthesis: { method: 'quilt', patchSize: options.patchSize, candidates: options.candidates },
      name: options.name,
    });
  }

  /**
   * Patch side actually used: the saved one, at most half the usable exemplar (but at least 4 cells where the
   * exemplar has them), so even a small exemplar offers many different patches rather than copies of itself.
   */
  private _patchSize(): number {
    const s = this._quiltSource;
    const usable = Math.min(s.width, s.height) - 2 * s.margin;
    const cap = Math.max(Math.min(4, usable), Math.floor(usable / 2));
    return Math.max(2, Math.min(this.synthesis.patchSize, cap));
  }

  private _resolveSample(options: SwatchSampleOptions): { width: number; height: number; seed: number } {
    if (options === null || typeof options !== 'object') {
      throw new Error(`sample options must be an object {width, height, seed}, got ${options}`);
    }
    const width = options.width ?? 256;
    const height = options.height ?? width;
    const seed = options.seed ?? 0;
    const s = this.stride;
    checkTextureSize('width', width, s);
    checkTextureSize('height', height, s);
    checkSeed(seed);
    return { width: width / s, height: height / s, seed };
  }
}

function blockPriorities(blocks: number, seed: number): Float64Array {
  const rng = new SeededRandom(derivedSeed(seed, 0x73696d69));
  const out = new Float64Array(blocks);
  for (let b = 0; b < blocks; b++) out[b] = rng.next();
  return out;
}

function resolveOptions(
  options: SwatchOptions,
  stride: number,
): Readonly<{ tileable: boolean; patchSize: number; candidates: number; name: string | null }> {
  if (options === null || typeof options !== 'object') {
    throw new Error(`swatch options must be an object, got ${options}`);
  }
  const tileable = options.tileable ?? false;
  if (typeof tileable !== 'boolean') throw new Error(`tileable must be true or false, got ${tileable}`);
  const { minPatchSize, maxPatchSize, maxCandidates, maxNameLength } = SWATCH_LIMITS;
  const patchSize = options.patchSize ?? Math.max(minPatchSize, Math.round(DEFAULT_PATCH_PIXELS / stride));
  if (!Number.isInteger(patchSize) || patchSize < minPatchSize || patchSize > maxPatchSize) {
    throw new Error(
      `patchSize must be an integer from ${minPatchSize} to ${maxPatchSize} cells, got ${patchSize}`,
    );
  }
  const candidates = options.candidates ?? DEFAULT_CANDIDATES;
  if (!Number.isInteger(candidates) || candidates < 1 || candidates > maxCandidates) {
    throw new Error(`candidates must be an integer from 1 to ${maxCandidates}, got ${candidates}`);
  }
  const name = options.name ?? null;
  if (name !== null && (typeof name !== 'string' || name.length < 1 || name.length > maxNameLength)) {
    throw new Error(`name must be a string of 1 to ${maxNameLength} characters, got ${JSON.stringify(name)}`);
  }
  return Object.freeze({ tileable, patchSize, candidates, name });
}

/**
 * Per-channel means inside the margin, and 1 / the sum over channels of their variances (the weight that makes
 * swatches of different contrast count alike in shared cuts).
 */
function channelStatistics(latent: LatentGrid, margin: number): { means: Float32Array; scale: number } {
  const { data, height, width, channels } = latent;
  const mean = new Float64Array(channels);
  const sq = new Float64Array(channels);
  let n = 0;
  for (let y = margin; y < height - margin; y++) {
    for (let x = margin; x < width - margin; x++) {
      const o = (y * width + x) * channels;
      for (let c = 0; c < channels; c++) {
        mean[c] += data[o + c];
        sq[c] += data[o + c] * data[o + c];
      }
      n++;
    }
  }
  let total = 0;
  for (let c = 0; c < channels; c++) total += Math.max(0, sq[c] / n - (mean[c] / n) ** 2);
  return { means: Float32Array.from(mean, (m) => m / n), scale: 1 / Math.max(total, 1e-12) };
}
