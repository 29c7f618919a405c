/**
 * `babylon-vae-textures eval`: reconstruction, realism and tileability of a model on exemplar photos, against
 * a PCA baseline and real crops, as one Markdown report.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type FloatImage,
  fitCropPca,
  pcaSamples,
  psnr,
  randomCrop,
  type SwdOptions,
  SwdReference,
  seamScore,
  ssim,
  toFloatRgb,
} from '../src/eval/index.js';
import { offsetSeed, type PixelImage, SeededRandom, type TextureVae } from '../src/index.js';
import { readPng } from '../src/node/index.js';
import { checkModelArg, integer, loadModelArg, seedOption } from './args.js';
import { formatSeconds, ProgressBar } from './progress.js';
import { machineLine, markdownTable, writeResultsSection } from './resultsSection.js';

const help = `usage: babylon-vae-textures eval --images <dir> [options]

For every PNG in <dir> (the exemplar), in one run:
  reconstruction  PSNR and SSIM of encode -> decode on random crops (64, 128, 256 px)
  realism         normalised sliced Wasserstein distance (1.0 = as close as a real crop of the exemplar) of
                  prior samples and of similar(encode(crop), 0.25 | 0.5 | 0.75), decoded at --size
  tileability     seam score of the decoded textures (1.0 = seamless)
  baselines       PCA of 64 px exemplar crops with as many components as the model's latent for that crop
                  (reconstruction of the same crops; SWD of Gaussian samples), and random exemplar crops
                  (SWD, seam score)
prints a Markdown report and writes it into --results as the 'eval' section.

options:
  --model <dir|default>  model folder (model.json + weights.bin), or the model shipped in the package
                         (default: default)
  --images <dir>         folder of exemplar PNGs (required)
  --size <px>            side of the generated textures, a multiple of the stride, at least 56 and smaller
                         than every exemplar (default: 256)
  --limit <n>            evaluate only the first n images, by name (default: all)
  --seed <n>             seed of every crop, sample and projection, 0..4294967295 (default: 0)
  --pca-crops <n>        crops the PCA baseline is fitted on; its cost grows with n^3 (default: 1.5 k + 2 for
                         k components)
  --quick                fewer crops, samples, patches and PCA crops (at most 96), for smoke tests
  --results <file>       Markdown file whose 'eval' section is rewritten (default: bench/RESULTS.md, when
                         that folder exists)
  --no-results           print only
`;

const RECONSTRUCTION_SIZES = [64, 128, 256] as const;
const SIMILAR_AMOUNTS = [0.25, 0.5, 0.75] as const;
const PCA_CROP = 64;

/** How much of each measurement a run does. */
interface Settings {
  /** Random crops per reconstruction size. */
  readonly crops: number;
  /** Prior samples at --size and at 64 px, PCA samples, and random-crop baselines. */
  readonly samples: number;
  /** PCA training crops for k components, unless --pca-crops: min(1.5 k + 2, cap). */
  readonly pcaCropCap: number;
  readonly swd: SwdOptions;
}

const FULL: Settings = Object.freeze({
  crops: 4,
  samples: 3,
  pcaCropCap: Number.POSITIVE_INFINITY,
  swd: Object.freeze({ patches: 4096, directions: 128, referenceCrops: 4, projection: 'tfjs' as const }),
});

const QUICK: Settings = Object.freeze({
  crops: 1,
  samples: 1,
  pcaCropCap: 96,
  swd: Object.freeze({ patches: 512, directions: 16, referenceCrops: 1, projection: 'tfjs' as const }),
});

/** Every number measured on one exemplar; null where the exemplar is too small for that measurement. */
export interface ImageEvaluation {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  /** Mean PSNR (dB) and SSIM per reconstruction crop size. */
  readonly reconstruction: Readonly<Record<number, { psnr: number; ssim: number } | null>>;
  /** PCA on the same 64 px crops; `components` is below `requested` where the crops have lower rank. */
  readonly pcaReconstruction: {
    psnr: number;
    ssim: number;
    components: number;
    requested: number;
    trainingCrops: number;
  } | null;
  readonly sampleSwd: number;
  readonly similarSwd: readonly number[];
  readonly cropSwd: number;
  readonly sample64Swd: number | null;
  readonly pcaSampleSwd: number | null;
  readonly sampleSeam: number;
  readonly similarSeam: number;
  readonly cropSeam: number;
  readonly seconds: number;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function clampedImage(values: Float32Array, size: number): FloatImage {
  const data = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = Math.min(1, Math.max(0, values[i]));
  return { data, width: size, height: size, channels: 3 };
}

/** Runs every measurement of one exemplar; `exemplar` has the model's channel count. */
export async function evaluateImage(
  model: TextureVae,
  name: string,
  exemplar: PixelImage,
  options: { size: number; seed: number; settings: Settings; pcaCrops?: number },
): Promise<ImageEvaluation> {
  const start = Date.now();
  const { size, seed, settings } = options;
  const side = Math.min(exemplar.width, exemplar.height);
  const rgb = toFloatRgb(exemplar, name);
  const reference = SwdReference.fromExemplar(rgb, { ...settings.swd, seed });
  const sampleSeams: number[] = [];
  const similarSeams: number[] = [];

  const reconstruction: Record<number, { psnr: number; ssim: number } | null> = {};
  const crops64: PixelImage[] = [];
  for (const crop of RECONSTRUCTION_SIZES) {
    if (crop > side || crop % model.stride !== 0) {
      reconstruction[crop] = null;
      continue;
    }
    const rng = new SeededRandom(seed + crop);
    const scores = { psnr: 0, ssim: 0 };
    for (let i = 0; i < settings.crops; i++) {
      const original = randomCrop(exemplar, crop, crop, rng);
      const decoded = await model.decode(await model.encode(original), { width: crop, height: crop });
      scores.psnr += psnr(decoded, original) / settings.crops;
      scores.ssim += ssim(decoded, original) / settings.crops;
      if (crop === PCA_CROP) crops64.push(original);
    }
    reconstruction[crop] = scores;
  }

  const samples: number[] = [];
  for (let i = 0; i < settings.samples; i++) {
    const texture = await model.decode(
      model.sample({ width: size, height: size, seed: offsetSeed(seed, i) }),
    );
    samples.push(reference.normalised(texture));
    sampleSeams.push(seamScore(texture));
  }

  const source = await model.encode(randomCrop(exemplar, size, size, new SeededRandom(seed + 1)));
  const similarSwd: number[] = [];
  for (let a = 0; a < SIMILAR_AMOUNTS.length; a++) {
    const texture = await model.decode(model.similar(source, SIMILAR_AMOUNTS[a], offsetSeed(seed, a)));
    similarSwd.push(reference.normalised(texture));
    similarSeams.push(seamScore(texture));
  }

  const cropRng = new SeededRandom(seed + 2);
  const cropSwd: number[] = [];
  const cropSeam: number[] = [];
  for (let i = 0; i < settings.samples; i++) {
    const crop = randomCrop(exemplar, size, size, cropRng);
    cropSwd.push(reference.normalised(crop));
    cropSeam.push(seamScore(crop));
  }

  let sample64Swd: number | null = null;
  let pcaSampleSwd: number | null = null;
  let pcaReconstruction: ImageEvaluation['pcaReconstruction'] = null;
  if (crops64.length > 0) {
    const small: number[] = [];
    for (let i = 0; i < settings.samples; i++) {
      const texture = await model.decode(
        model.sample({ width: PCA_CROP, height: PCA_CROP, seed: offsetSeed(seed, i) }),
      );
      small.push(reference.normalised(texture));
    }
    sample64Swd = mean(small);

    const grid = model.latentSize(PCA_CROP, PCA_CROP);
    const components = grid.width * grid.height * model.latentChannels;
    const trainingCrops = options.pcaCrops ?? Math.min(Math.floor(1.5 * components) + 2, settings.pcaCropCap);
    const pca = fitCropPca(rgb, { components, cropSize: PCA_CROP, trainingCrops, seed: offsetSeed(seed, 3) });
    let pcaPsnr = 0;
    let pcaSsim = 0;
    for (const crop of crops64) {
      const original = toFloatRgb(crop);
      const restored = clampedImage(pca.reconstruct(original.data), PCA_CROP);
      pcaPsnr += psnr(restored, original) / crops64.length;
      pcaSsim += ssim(restored, original) / crops64.length;
    }
    pcaReconstruction = {
      psnr: pcaPsnr,
      ssim: pcaSsim,
      components: pca.components,
      requested: components,
      trainingCrops,
    };
    pcaSampleSwd = mean(pcaSamples(pca, settings.samples, seed).map((s) => reference.normalised(s)));
  }

  return {
    name,
    width: exemplar.width,
    height: exemplar.height,
    reconstruction,
    pcaReconstruction,
    sampleSwd: mean(samples),
    similarSwd,
    cropSwd: mean(cropSwd),
    sample64Swd,
    pcaSampleSwd,
    sampleSeam: mean(sampleSeams),
    similarSeam: mean(similarSeams),
    cropSeam: mean(cropSeam),
    seconds: (Date.now() - start) / 1000,
  };
}

function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined ? '-' : value.toFixed(digits);
}

function pair(scores: { psnr: number; ssim: number } | null | undefined): string {
  return scores ? `${scores.psnr.toFixed(2)} / ${scores.ssim.toFixed(3)}` : '-';
}

/** Mean of the non-null values, or null when there are none. */
function meanOf(values: (number | null | undefined)[]): number | null {
  const present = values.filter((v): v is number => typeof v === 'number');
  return present.length > 0 ? mean(present) : null;
}

function meanPair(values: ({ psnr: number; ssim: number } | null | undefined)[]) {
  const present = values.filter((v): v is { psnr: number; ssim: number } => !!v);
  return present.length > 0
    ? { psnr: mean(present.map((v) => v.psnr)), ssim: mean(present.map((v) => v.ssim)) }
    : null;
}

/** The two Markdown tables (reconstruction; realism and tileability) with a mean row each. */
export function formatReport(results: readonly ImageEvaluation[], size: number): string {
  const k = results.find((r) => r.pcaReconstruction)?.pcaReconstruction?.requested;
  const pcaCell = (p: ImageEvaluation['pcaReconstruction']) =>
    p && p.components !== p.requested ? `${pair(p)} (k = ${p.components})` : pair(p);
  const reconstructionRows = results.map((r) => [
    r.name,
    ...RECONSTRUCTION_SIZES.map((s) => pair(r.reconstruction[s])),
    pcaCell(r.pcaReconstruction),
  ]);
  reconstructionRows.push([
    '**mean**',
    ...RECONSTRUCTION_SIZES.map((s) => pair(meanPair(results.map((r) => r.reconstruction[s])))),
    pair(meanPair(results.map((r) => r.pcaReconstruction))),
  ]);
  const realism = (r: {
    sampleSwd: number | null;
    similarSwd: readonly (number | null)[];
    cropSwd: number | null;
    sample64Swd: number | null;
    pcaSampleSwd: number | null;
    sampleSeam: number | null;
    similarSeam: number | null;
    cropSeam: number | null;
  }) => [
    fixed(r.sampleSwd, 2),
    ...r.similarSwd.map((v) => fixed(v, 2)),
    fixed(r.cropSwd, 2),
    fixed(r.sample64Swd, 2),
    fixed(r.pcaSampleSwd, 2),
    fixed(r.sampleSeam, 2),
    fixed(r.similarSeam, 2),
    fixed(r.cropSeam, 2),
  ];
  const realismRows = results.map((r) => [r.name, ...realism(r)]);
  realismRows.push([
    '**mean**',
    ...realism({
      sampleSwd: meanOf(results.map((r) => r.sampleSwd)),
      similarSwd: SIMILAR_AMOUNTS.map((_, a) => meanOf(results.map((r) => r.similarSwd[a]))),
      cropSwd: meanOf(results.map((r) => r.cropSwd)),
      sample64Swd: meanOf(results.map((r) => r.sample64Swd)),
      pcaSampleSwd: meanOf(results.map((r) => r.pcaSampleSwd)),
      sampleSeam: meanOf(results.map((r) => r.sampleSeam)),
      similarSeam: meanOf(results.map((r) => r.similarSeam)),
      cropSeam: meanOf(results.map((r) => r.cropSeam)),
    }),
  ]);
  return [
    `Reconstruction of random exemplar crops, PSNR (dB) / SSIM (luminance): VAE encode -> decode at three crop sizes, and PCA with k = ${k ?? '-'} components (the model's latent size for a 64 px crop; fewer, as marked, where the fitted crops have lower rank) fitted on other random crops and applied to the same 64 px crops.`,
    '',
    markdownTable(
      ['exemplar', 'VAE 64', 'VAE 128', 'VAE 256', `PCA 64 (k = ${k ?? '-'})`],
      reconstructionRows,
    ),
    '',
    `Realism: normalised SWD (1.0 = as close as a real crop of the exemplar; a 2x-blurred exemplar scores about 2-3, colour noise about 6). Tileability: seam score (1.0 = seamless) of prior samples, and of similar() variations of an encoded photo crop (these inherit the crop's own seam through its latent). VAE textures are decoded at ${size} px unless marked 64.`,
    '',
    markdownTable(
      [
        'exemplar',
        `VAE sample ${size}`,
        ...SIMILAR_AMOUNTS.map((a) => `similar ${a}`),
        `real crop ${size}`,
        'VAE sample 64',
        'PCA sample 64',
        'seam sample',
        'seam similar',
        'seam crop',
      ],
      realismRows,
    ),
  ].join('\n');
}

function listImages(folder: string): string[] {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new Error(`--images ${folder} is not a folder`);
  }
  const files = readdirSync(folder)
    .filter((f) => f.toLowerCase().endsWith('.png'))
    .sort();
  if (files.length === 0) throw new Error(`--images ${folder} holds no .png files`);
  return files.map((f) => join(folder, f));
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', default: 'default' },
      images: { type: 'string' },
      size: { type: 'string' },
      limit: { type: 'string' },
      seed: { type: 'string' },
      'pca-crops': { type: 'string' },
      quick: { type: 'boolean', default: false },
      results: { type: 'string' },
      'no-results': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (!values.images) throw new Error('--images <dir> is required (a folder of exemplar PNGs)');
  const size = integer('size', values.size, 256);
  const seed = seedOption(values.seed);
  const limit = integer('limit', values.limit, Number.MAX_SAFE_INTEGER);
  const pcaCrops =
    values['pca-crops'] === undefined ? undefined : integer('pca-crops', values['pca-crops'], 0);
  if (pcaCrops !== undefined && pcaCrops < 2)
    throw new Error(`--pca-crops must be at least 2, got ${pcaCrops}`);
  if (limit < 1) throw new Error(`--limit must be at least 1, got ${limit}`);
  const modelArg = values.model ?? 'default';
  checkModelArg(modelArg);
  const files = listImages(values.images).slice(0, limit);
  const settings = values.quick ? QUICK : FULL;
  const resultsPath = values['no-results'] ? null : resolve(values.results ?? join('bench', 'RESULTS.md'));

  const model = await loadModelArg(modelArg);
  try {
    model.latentSize(size, size);
    if (size < 56) throw new Error(`--size must be at least 56 for the 4-level SWD pyramid, got ${size}`);
    const exemplars = files.map((file) => {
      const image = readPng(file, model.outputChannels);
      if (image.width <= size || image.height <= size) {
        throw new Error(
          `${file} is ${image.width}x${image.height}; exemplars must be larger than --size ${size} on both sides`,
        );
      }
      return { name: basename(file, '.png'), image };
    });
    const start = Date.now();
    const bar = new ProgressBar(exemplars.length, 'eval');
    bar.update(0);
    const results: ImageEvaluation[] = [];
    for (const { name, image } of exemplars) {
      results.push(await evaluateImage(model, name, image, { size, seed, settings, pcaCrops }));
      bar.update(results.length, { last: name });
    }
    bar.finish();
    const seconds = (Date.now() - start) / 1000;
    const grid = model.latentSize(size, size);
    const command = `npm run eval -- ${argv.join(' ')}`;
    const markdown = [
      `### Texture quality: model '${model.config.name}' (stride ${model.stride}, ${model.latentChannels} latent channels; ${grid.width}x${grid.height}x${model.latentChannels} latent for ${size} px)`,
      '',
      formatReport(results, size),
      '',
      `${exemplars.length} exemplars${values.quick ? ', --quick' : ''}: ${settings.crops} crop(s) per size, ${settings.samples} sample(s) per figure, SWD on ${settings.swd.patches} 7x7 patches x ${settings.swd.directions} directions x 4 Laplacian levels, normaliser from ${settings.swd.referenceCrops} crop(s) per size; PCA fitted on ${results.find((r) => r.pcaReconstruction)?.pcaReconstruction?.trainingCrops ?? '-'} crops; ${formatSeconds(seconds)} in all. ${machineLine()}, tfjs WASM backend.`,
      '',
      `Command: \`${command}\``,
    ].join('\n');
    process.stdout.write(`${markdown}\n`);
    if (resultsPath) {
      if (values.results !== undefined || existsSync(dirname(resultsPath))) {
        writeResultsSection('eval', markdown, resultsPath);
        process.stderr.write(`wrote the 'eval' section of ${resultsPath}\n`);
      }
    }
    return 0;
  } finally {
    model.dispose();
  }
}
