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
  registerVaeMaterialPlugin,
  VAE_MATERIAL_PLUGIN_NAME,
  VaeMaterialPlugin,
  type VaeMaterialSourceOptions,
} from './vaeMaterialPlugin.js';
export { registerVaeTextureBlock, VaeTextureBlock } from './vaeTextureBlock.js';
