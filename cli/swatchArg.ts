/** Where `--swatch S` finds its swatch: a swatch file, or a swatch shipped with the embedded model. */
import { existsSync } from 'node:fs';
import type { Swatch } from '../src/latent/swatch.js';
import type { TextureVae } from '../src/model/textureVae.js';
import { readSwatchFile } from '../src/node/swatchFiles.js';

/**
 * Swatches shipped with the embedded model, by name; each loads the swatch for that model. Empty until the
 * package ships them: a name then resolves here with no change to the commands.
 */
export const EMBEDDED_SWATCHES: Readonly<Record<string, (model: TextureVae) => Promise<Swatch>>> = {};

/** Loads `--swatch <file|name>` for `model`; names are looked up only with `--model default`. */
export async function loadSwatchArg(arg: string, model: TextureVae, modelArg: string): Promise<Swatch> {
  if (existsSync(arg)) return readSwatchFile(arg, model);
  const names = Object.keys(EMBEDDED_SWATCHES);
  const embedded = Object.hasOwn(EMBEDDED_SWATCHES, arg) ? EMBEDDED_SWATCHES[arg] : undefined;
  if (embedded) {
    if (modelArg !== 'default') {
      throw new Error(`--swatch ${arg} names a swatch of the embedded model; use it with --model default`);
    }
    return embedded(model);
  }
  throw new Error(
    `--swatch ${arg} is neither a swatch file nor a swatch of the embedded model (${names.length > 0 ? `names: ${names.join(', ')}` : 'it ships none yet'}); write one with 'babylon-vae-textures swatch <image> --out ${arg}'`,
  );
}
