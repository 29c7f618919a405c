export { type CreateVaeMaterialOptions, createVaeMaterial } from './createVaeMaterial.js';
export { exportWithVaeTextures } from './exportWithVaeTextures.js';
export { HeightNormalTexture } from './heightNormalTexture.js';
export {
  type LatentAnimation,
  LatentAnimator,
  type LatentKeyframes,
  type LatentWalk,
} from './latentAnimator.js';
export {
  type LatentChangeOptions,
  type MorphOptions,
  VaeMaterialController,
} from './vaeMaterialController.js';
export {
  registerVaeMaterialPlugin,
  VAE_MATERIAL_PLUGIN_NAME,
  VaeMaterialPlugin,
} from './vaeMaterialPlugin.js';
export type { VaeMaterialSourceOptions } from './vaeMaterialSource.js';
export type { VaeMaterialView } from './vaeSwapChain.js';
export { registerVaeTextureBlock, VaeTextureBlock } from './vaeTextureBlock.js';
