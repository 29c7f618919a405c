export * from './atlas/index.js';
export * from './eval/index.js';
export * from './gpu/index.js';
export * from './latent/index.js';
export * from './materials/index.js';
export * from './model/index.js';
export * from './textures/index.js';
export * from './worker/index.js';
