import { type LatentGrid, validateLatent } from '../latent/latentGrid.js';
import { Swatch } from '../latent/swatch.js';
import type { TextureVae } from '../model/textureVae.js';

/** Copies made here, with the model they were checked for: they are never handed to callers, so they stay valid. */
const checked = new WeakMap<LatentGrid, TextureVae>();

/**
 * The one entry of a latent into a texture or a material: checks `latent` against the grid of a `size` px
 * texture of `model` and returns a frozen private copy. A copy made here passes again for the same model with
 * only the cheap grid-size comparison, so a latent handed from a material to its textures is validated and
 * copied once. `what` names the target in the error, e.g. `a 16px texture (stride 4)`.
 */
export function checkedLatent(model: TextureVae, size: number, latent: LatentGrid, what: string): LatentGrid {
  const grid = model.latentSize(size, size);
  if (checked.get(latent) !== model) validateLatent(latent, model.latentChannels);
  if (latent.height !== grid.height || latent.width !== grid.width) {
    throw new Error(
      `latent must be ${grid.height}x${grid.width} cells for ${what}, got ${latent.height}x${latent.width}`,
    );
  }
  if (checked.get(latent) === model) return latent;
  const copy = copyLatent(latent);
  checked.set(copy, model);
  return copy;
}

/** A copy for a caller: getters hand these out, never the checked copy itself. */
export function copyLatent(latent: LatentGrid): LatentGrid {
  return Object.freeze({
    data: Float32Array.from(latent.data),
    height: latent.height,
    width: latent.width,
    channels: latent.channels,
  });
}

/**
 * Checks what a texture or a material draws from: a live model, and a swatch made for it or a latent (there is
 * no default look). `needs` and `given` name the target in the errors, e.g. `VaeProceduralTexture needs` and
 * `the TextureVae given to VaeProceduralTexture`; `checkSize` runs once the model is known, before the look is
 * checked. Returns the model and the swatch (null without one).
 */
export function checkModelAndLook(
  options: { model?: TextureVae; swatch?: Swatch; latent?: LatentGrid } | undefined,
  needs: string,
  given: string,
  checkSize: (model: TextureVae) => void = () => {},
): { model: TextureVae; swatch: Swatch | null } {
  const model = options?.model;
  if (!model || typeof model.decodeTensors !== 'function') {
    throw new Error(`${needs} options.model, a TextureVae`);
  }
  if (model.isDisposed) throw new Error(`${given} has been disposed`);
  checkSize(model);
  const swatch = options?.swatch ?? null;
  if (swatch !== null) {
    if (!(swatch instanceof Swatch)) throw new Error(`swatch must be a Swatch, got ${String(swatch)}`);
    swatch.checkModel(model);
  } else if (!options?.latent) {
    throw new Error(
      `${needs} options.swatch (a Swatch, e.g. from loadPretrainedSwatches()) or options.latent (a LatentGrid)`,
    );
  }
  return { model, swatch };
}
