export type { PixelImage } from './pixelImage.js';
