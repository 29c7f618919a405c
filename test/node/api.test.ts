// The public API, name by name: adding or removing an export of an entry point is a deliberate change here.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const MAIN = [
  'AtlasUvMaterialPlugin',
  'DEFAULT_LOSS_RECIPE',
  'DEFAULT_TEXTURE_VAE_CONFIG',
  'MAX_EXEMPLAR_PIXELS',
  'MAX_EXEMPLAR_SIDE',
  'MAX_SEED',
  'MAX_TEXTURE_SIZE',
  'PRETRAINED_MODEL_IDS',
  'PatchDiscriminator',
  'SeededRandom',
  'Swatch',
  'TensorProceduralTexture',
  'TextureVae',
  'VaeMaterialPlugin',
  'VaeProceduralTexture',
  'VaeTextureBlock',
  'applyAtlasTile',
  'atlasRectBuffer',
  'atlasToBlobs',
  'bakeAtlas',
  'bakeAtlasTexture',
  'createAtlasThinInstances',
  'createVaeMaterial',
  'decoderFlopsPerPixel',
  'engineScope',
  'exportWithVaeTextures',
  'lerpLatent',
  'loadPretrained',
  'loadPretrainedSwatches',
  'offsetSeed',
  'parseAtlasManifest',
  'planAtlas',
  'pretrainedSwatch',
  'pretrainedSwatchNames',
  'registerAtlasUvMaterialPlugin',
  'registerVaeMaterialPlugin',
  'registerVaeModel',
  'registerVaeProceduralTexture',
  'registerVaeSwatches',
  'registerVaeTextureBlock',
  'resizeLatent',
  'sampleLatent',
  'similarLatent',
  'slerpLatent',
  'textureExemplar',
  'textureVaeParameterCount',
  'toExemplars',
  'trainTextureVae',
  'unregisterVaeModel',
];

const NODE = [
  'atlasFilePaths',
  'checkAtlasWritable',
  'encodePng',
  'fileSystemHandler',
  'modelFilesHandler',
  'readAtlas',
  'readExemplarFile',
  'readModelFiles',
  'readPng',
  'readSwatchFile',
  'useWasmBackend',
  'writeAtlas',
  'writePng',
  'writeSwatchFile',
];

const EVAL = [
  'Pca',
  'SwdReference',
  'cellGridRatio',
  'cellSeamScore',
  'cropImage',
  'downUpBlur',
  'fitCropPca',
  'gaussianBlur',
  'laplacianPyramid',
  'maxCrossCorrelation',
  'meanSquaredError',
  'normalisedSwd',
  'pcaCropSize',
  'pcaReconstructionPsnr',
  'pcaSamples',
  'psnr',
  'randomCrop',
  'randomCropRows',
  'repetitionScore',
  'seamScore',
  'slicedWassersteinDistance',
  'ssim',
  'toFloatRgb',
  'toPixelImage',
];

/** Internals that once leaked through the main entry: GL hand-off, tfjs kernels, shader strings, queues. */
const INTERNALS = [
  'prepareGlForTfjs',
  'restoreGlForBabylon',
  'setBackendSync',
  'runOnEngine',
  'canShareContext',
  'getSharedBackend',
  'createDecodeSource',
  'handoffFragmentSource',
  'conv2d',
  'conv2dBackpropFilterKernel',
  'conv2dFilterGradient',
  'PaddedConv2D',
  'registerTextureVaeLayers',
  'elbo',
  'reparameterize',
  'PatchSampler',
  'RegenerationQueue',
  'DecodeScheduler',
  'resolveAtlasOptions',
  'bakeAtlasTensors',
  'assemblePage',
  'decoderPassBytes',
  'checkTextureSize',
  'validateLatent',
  'latentToTensor',
];

describe('entry points', () => {
  test('the main entry exports exactly the public runtime names, at most 50', async () => {
    const names = Object.keys(await import('../../src/index.js')).sort();
    expect(names).toEqual([...MAIN].sort());
    expect(names.length).toBeLessThanOrEqual(50);
  });

  test('internals and the metrics stay out of the main entry', async () => {
    const main = await import('../../src/index.js');
    expect(INTERNALS.filter((name) => name in main)).toEqual([]);
    expect(EVAL.filter((name) => name in main)).toEqual([]);
  });

  test('the node and eval entries export exactly their names', async () => {
    expect(Object.keys(await import('../../src/node/index.js')).sort()).toEqual([...NODE].sort());
    expect(Object.keys(await import('../../src/eval/index.js')).sort()).toEqual([...EVAL].sort());
  });

  test('package.json maps every entry point to the build of its source, which tsconfig.build compiles', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      exports: Record<string, { types: string; import?: string }>;
    };
    const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as {
      include: string[];
    };
    const sources: Record<string, string> = {
      '.': 'src/index.ts',
      './node': 'src/node/index.ts',
      './eval': 'src/eval/index.ts',
      './worker': 'src/worker/index.ts',
      './vite': 'plugin/index.ts',
    };
    for (const [subpath, source] of Object.entries(sources)) {
      const built = `./dist/${source.replace(/\.ts$/, '')}`;
      expect(pkg.exports[subpath], subpath).toEqual({ types: `${built}.d.ts`, import: `${built}.js` });
      expect(existsSync(join(root, source)), source).toBe(true);
      expect(build.include, source).toContain(source.split('/')[0]);
    }
  });
});
