import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

import type { AtlasManifest } from '../atlas/atlasManifest.js';
import { atlasPageFileName, parseAtlasManifest, withPageFiles } from '../atlas/atlasManifest.js';
import type { PixelImage } from '../model/pixelImage.js';
import { decodePng, encodePng } from './png.js';

export interface WriteAtlasOptions {
  /** Overwrite existing files (default: false). */
  force?: boolean;
}

/** The files `writeAtlas(prefix, ...)` writes for `pageCount` pages: the page PNGs, then the manifest. */
export function atlasFilePaths(prefix: string, pageCount: number): { pages: string[]; manifest: string } {
  if (typeof prefix !== 'string' || prefix === '' || prefix.endsWith('/')) {
    throw new Error(
      `atlas output prefix must be a file path without extension, got ${JSON.stringify(prefix)}`,
    );
  }
  const dir = dirname(prefix);
  const name = basename(prefix);
  return {
    pages: Array.from({ length: pageCount }, (_, p) => join(dir, atlasPageFileName(name, p, pageCount))),
    manifest: join(dir, `${name}.json`),
  };
}

const reasons: Record<string, string> = {
  EEXIST: 'a file is in the way of that folder',
  ENOTDIR: 'a file is in the way of that folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
};

/**
 * Checks, before any work, that the atlas files can be written: creates the folder if needed, refuses existing
 * files unless `force`, and throws an Error naming the path and the reason otherwise.
 */
export function checkAtlasWritable(prefix: string, pageCount: number, options: WriteAtlasOptions = {}): void {
  const force = options.force ?? false;
  const paths = atlasFilePaths(prefix, pageCount);
  const dir = dirname(resolve(paths.manifest));
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const reason = reasons[code] ?? (e as Error).message;
    throw new Error(`cannot write the atlas to ${dir}: ${reason}${code ? ` (${code})` : ''}`);
  }
  if (!force) {
    for (const path of [...paths.pages, paths.manifest]) {
      if (existsSync(path))
        throw new Error(`${path} already exists; pass force: true (--force) to overwrite it`);
    }
  }
}

/**
 * Writes `<prefix>.png` (one page) or `<prefix>-<page>.png` (several) and `<prefix>.json`, the manifest with
 * each page's `file` set relative to it. Never overwrites an existing file unless `force` is set; checks all
 * paths before writing any. Returns the written paths.
 */
export function writeAtlas(
  prefix: string,
  result: { pages: readonly PixelImage[]; manifest: AtlasManifest },
  options: WriteAtlasOptions = {},
): { pages: string[]; manifest: string } {
  const { pages, manifest } = result;
  if (pages.length !== manifest.pages.length) {
    throw new Error(`the manifest describes ${manifest.pages.length} pages, got ${pages.length} page images`);
  }
  checkAtlasWritable(prefix, pages.length, options);
  const paths = atlasFilePaths(prefix, pages.length);
  const named = withPageFiles(manifest, basename(prefix));
  try {
    pages.forEach((page, i) => {
      writeFileSync(paths.pages[i], encodePng(page));
    });
    writeFileSync(paths.manifest, `${JSON.stringify(named, null, 2)}\n`);
  } catch (e) {
    throw new Error(`cannot write the atlas ${paths.manifest}: ${(e as Error).message}`);
  }
  return paths;
}

/** PNG colour type byte of the IHDR chunk: 6 = RGBA, 2 = RGB (other types are read as RGB). */
function pngChannels(buffer: Uint8Array): 3 | 4 {
  return buffer[25] === 6 || buffer[25] === 4 ? 4 : 3;
}

/**
 * Reads a manifest written by {@link writeAtlas} and its page PNGs (paths relative to the manifest; a page
 * without `file` is looked up by the default name). Checks the page sizes against the manifest.
 */
export function readAtlas(manifestPath: string): { pages: PixelImage[]; manifest: AtlasManifest } {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read the atlas manifest ${manifestPath}: ${(e as Error).message}`);
  }
  const manifest = parseAtlasManifest(json, manifestPath);
  const dir = dirname(manifestPath);
  const name = basename(manifestPath).replace(/\.json$/i, '');
  const pages = manifest.pages.map((page, i) => {
    const path = join(dir, page.file ?? atlasPageFileName(name, i, manifest.pages.length));
    const buffer = readFileSync(path);
    // The page's header must match the manifest before it is decoded.
    return decodePng(buffer, pngChannels(buffer), path, (what, width, height) => {
      if (width !== page.width || height !== page.height) {
        throw new Error(
          `${what} is ${width}x${height}, but the manifest says page ${i} is ${page.width}x${page.height}`,
        );
      }
    });
  });
  return { pages, manifest };
}
