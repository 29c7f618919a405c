import type { Material } from '@babylonjs/core/Materials/material.js';
import { type IInspectable, InspectableType } from '@babylonjs/core/Misc/iInspectable.js';
import type { LatentGrid } from '../latent/latentGrid.js';
import type { VaeMaterialController } from './vaeMaterialController.js';
import type { VaeMaterialView } from './vaeSwapChain.js';

/**
 * Adds the VAE controls to a material's Inspector panel (`inspectableCustomProperties`): a slider per latent
 * channel (its mean, shifted as a whole), the seed (resamples the swatch), the cross-fade, and a resample
 * button. Each control is a property defined on the material, so setting it from code acts the same.
 */
export function addVaeInspectables(
  material: Material,
  controller: VaeMaterialController,
  view: VaeMaterialView,
): void {
  const target = material as unknown as Record<string, unknown>;
  const props: IInspectable[] = [];
  const define = (propertyName: string, get: () => number, set: (v: number) => void) =>
    Object.defineProperty(target, propertyName, { configurable: true, get, set });
  const slider = (label: string, propertyName: string, min: number, max: number, step: number) =>
    props.push({ label, propertyName, type: InspectableType.Slider, min, max, step });

  for (let c = 0; c < 4; c++) {
    define(
      `vaeLatentChannel${c}`,
      () => channelMean(controller.latent, c),
      (v) => {
        const latent = controller.latent;
        if (!latent || c >= latent.channels) return;
        controller.latent = shiftChannel(latent, c, v - channelMean(latent, c));
      },
    );
    slider(`VAE latent channel ${c}`, `vaeLatentChannel${c}`, -3, 3, 0.05);
  }
  define(
    'vaeSeed',
    () => controller.seed,
    (v) => {
      if (controller.swatch) report(controller, controller.resample({ seed: Math.round(v) }));
    },
  );
  slider('VAE seed', 'vaeSeed', 0, 1000, 1);
  define(
    'vaeCrossFade',
    () => view.crossFade,
    (v) => {
      view.crossFade = v;
    },
  );
  slider('VAE cross-fade', 'vaeCrossFade', 0, 1, 0.01);
  props.push({
    label: 'VAE resample',
    propertyName: 'vaeResample',
    type: InspectableType.Button,
    callback: () => {
      if (controller.swatch) report(controller, controller.resample({ duration: 500 }));
    },
  });
  material.inspectableCustomProperties = [...(material.inspectableCustomProperties ?? []), ...props];
}

function report(controller: VaeMaterialController, promise: Promise<void>): void {
  promise.catch((e: Error) => controller.onErrorObservable.notifyObservers(e));
}

function channelMean(latent: LatentGrid | null, channel: number): number {
  if (!latent || channel >= latent.channels) return 0;
  let sum = 0;
  for (let i = channel; i < latent.data.length; i += latent.channels) sum += latent.data[i];
  return sum / (latent.height * latent.width);
}

function shiftChannel(latent: LatentGrid, channel: number, delta: number): LatentGrid {
  const data = Float32Array.from(latent.data);
  for (let i = channel; i < data.length; i += latent.channels) data[i] += delta;
  return { data, height: latent.height, width: latent.width, channels: latent.channels };
}
