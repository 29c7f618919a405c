import type { PixelImage } from '../model/pixelImage.js';
import type { AtlasManifest } from './atlasManifest.js';
import { atlasPageFileName, withPageFiles } from './atlasManifest.js';

export interface AtlasBlobs {
  /** One PNG per page, named `files.pages[i]`. */
  readonly pages: Blob[];
  /** The manifest as JSON, its pages' `file` set to the page names. */
  readonly manifest: Blob;
  readonly files: { readonly pages: string[]; readonly manifest: string };
}

async function pngBlob(image: PixelImage): Promise<Blob> {
  const { width, height, channels, data } = image;
  const rgba = new Uint8ClampedArray(width * height * 4);
  if (channels === 4) rgba.set(data);
  else {
    for (let i = 0, n = width * height; i < n; i++) {
      rgba[i * 4] = data[i * 3];
      rgba[i * 4 + 1] = data[i * 3 + 1];
      rgba[i * 4 + 2] = data[i * 3 + 2];
      rgba[i * 4 + 3] = 255;
    }
  }
  const pixels = new ImageData(rgba, width, height);
  if (typeof OffscreenCanvas !== 'undefined') {
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d');
    if (!context) throw new Error('atlasToBlobs needs a 2D canvas context');
    context.putImageData(pixels, 0, 0);
    return canvas.convertToBlob({ type: 'image/png' });
  }
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d');
  if (!context) throw new Error('atlasToBlobs needs a 2D canvas context');
  context.putImageData(pixels, 0, 0);
  return new Promise((resolve, reject) => {
    canvas.toBlob(
      (blob) => (blob ? resolve(blob) : reject(new Error('canvas.toBlob produced no PNG'))),
      'image/png',
    );
  });
}

/**
 * Browser export of a baked atlas: PNG blobs of the pages (through a canvas) and the manifest JSON, ready for
 * download links, named `<name>.png` / `<name>-<page>.png` and `<name>.json`. RGB pages are written opaque;
 * RGBA pages keep their alpha, but canvas PNG encoding premultiplies, so colours of partly transparent pixels
 * may shift by rounding (use the Node `writeAtlas` for exact RGBA).
 */
export async function atlasToBlobs(
  result: { pages: readonly PixelImage[]; manifest: AtlasManifest },
  options: { name?: string } = {},
): Promise<AtlasBlobs> {
  const name = options.name ?? 'atlas';
  if (result.pages.length !== result.manifest.pages.length) {
    throw new Error(
      `the manifest describes ${result.manifest.pages.length} pages, got ${result.pages.length} page images`,
    );
  }
  const pages = await Promise.all(result.pages.map(pngBlob));
  const manifest = withPageFiles(result.manifest, name);
  return {
    pages,
    manifest: new Blob([`${JSON.stringify(manifest, null, 2)}\n`], { type: 'application/json' }),
    files: {
      pages: result.pages.map((_, i) => atlasPageFileName(name, i, result.pages.length)),
      manifest: `${name}.json`,
    },
  };
}
