/** Where `--swatch S` finds its swatch: a swatch file, or a swatch shipped with the embedded model. */
import { existsSync } from 'node:fs';
import {
  loadPretrainedSwatches,
  pretrainedSwatch,
  pretrainedSwatchNames,
  type Swatch,
  type TextureVae,
} from '../src/index.js';
import { readSwatchFile } from '../src/node/index.js';

/** Names of the swatches shipped with the embedded model (bricks, moss, ...). */
export const EMBEDDED_SWATCHES: readonly string[] = pretrainedSwatchNames('default');

/** Loads `--swatch <file|name>` for `model`; names are looked up only with `--model default`. */
export async function loadSwatchArg(arg: string, model: TextureVae, modelArg: string): Promise<Swatch> {
  if (existsSync(arg)) return readSwatchFile(arg, model);
  if (EMBEDDED_SWATCHES.includes(arg)) {
    if (modelArg !== 'default') {
      throw new Error(`--swatch ${arg} names a swatch of the embedded model; use it with --model default`);
    }
    const swatch = pretrainedSwatch(await loadPretrainedSwatches('default'), arg);
    swatch.checkModel(model);
    return swatch;
  }
  throw new Error(
    `--swatch ${arg} is neither a swatch file nor a swatch of the embedded model (names: ${EMBEDDED_SWATCHES.join(', ')}); write one with 'babylon-vae-textures swatch <image> --out ${arg}'`,
  );
}
