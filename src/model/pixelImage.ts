/**
 * 8-bit pixels in memory, row-major, `channels` values per pixel, row 0 at the top of the image.
 * The one CPU-side image type of the package: PNG files, exemplars, decoded textures and atlases use it.
 */
export interface PixelImage {
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
  readonly channels: 3 | 4;
}
