import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

import { io } from '@tensorflow/tfjs-core';

import { checkWeightsManifest, concatBytes } from '../model/io.js';
import { resolveWeightsFile } from './weightsFile.js';

/** One weights file of a model, as listed in its model.json. */
export interface WeightFile {
  /** The path in `weightsManifest[].paths`, relative to model.json, in normal form ("./a/../w.bin" -> "w.bin"). */
  readonly path: string;
  /** Absolute path on disk (before symbolic links, as a watcher reports it). */
  readonly file: string;
  readonly bytes: Uint8Array;
}

/** A tfjs model.json and every weights file its weightsManifest lists, read from disk and validated. */
export interface ModelFiles {
  /** Absolute path of model.json. */
  readonly file: string;
  readonly dir: string;
  /**
   * model.json as parsed; `weightsManifest` is known to be well formed and its paths are in normal form, each
   * naming a file inside the model's folder.
   */
  readonly json: ModelJson;
  /** Weight files in manifest order, each listed once. */
  readonly weights: readonly WeightFile[];
  /** sha256 (hex) over model.json and every weights file: changes whenever any of them does. */
  readonly hash: string;
}

/** The parts of a tfjs model.json the plugin reads; everything else is passed through untouched. */
export interface ModelJson {
  weightsManifest: { paths: string[]; weights: unknown[] }[];
  [key: string]: unknown;
}

const SAVE_HINT = 'save the model again with TextureVae.save (it writes model.json next to weights.bin)';

/**
 * Reads `file` (a tfjs model.json) and its weight shards. Throws an Error naming the file and the fix when the
 * JSON is malformed, has no usable weightsManifest, a weights path leaves the model's folder (also through a
 * symbolic link; see WEIGHTS_PATH_RULE), or a weights file is missing. Nothing outside the folder is read.
 */
export async function readModelFiles(file: string): Promise<ModelFiles> {
  const dir = dirname(file);
  const raw = await readFile(file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message}); ${SAVE_HINT}`);
  }
  const json = validateModelJson(file, parsed);
  const weights: WeightFile[] = [];
  const seen = new Set<string>();
  for (const [i, group] of json.weightsManifest.entries()) {
    for (const [j, path] of group.paths.entries()) {
      if (seen.has(path)) continue;
      seen.add(path);
      const abs = resolve(dir, path);
      const where = `${file}: weightsManifest[${i}].paths[${j}]`;
      const real = resolveWeightsFile(dir, path, where);
      let bytes: Uint8Array;
      try {
        if (!real) throw new Error('missing');
        bytes = await readFile(real);
      } catch {
        throw new Error(
          `${file} lists the weights file "${path}" but ${abs} cannot be read; put the weights file there ` +
            `or ${SAVE_HINT}`,
        );
      }
      weights.push({ path, file: abs, bytes });
    }
  }
  const hash = createHash('sha256');
  hashBytes(hash, raw);
  for (const w of weights) {
    hashBytes(hash, new TextEncoder().encode(w.path));
    hashBytes(hash, w.bytes);
  }
  return { file, dir, json, weights, hash: hash.digest('hex') };
}

function hashBytes(hash: ReturnType<typeof createHash>, bytes: Uint8Array): void {
  // The length prefix keeps ("ab", "c") and ("a", "bc") apart.
  hash.update(`${bytes.length}:`);
  hash.update(bytes);
}

function validateModelJson(file: string, parsed: unknown): ModelJson {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${file} must hold a JSON object (a tfjs model.json); ${SAVE_HINT}`);
  }
  const manifest = (parsed as { weightsManifest?: unknown }).weightsManifest;
  if (!Array.isArray(manifest) || manifest.length === 0) {
    throw new Error(
      `${file} has no weightsManifest (a non-empty array of { paths, weights } groups); ` +
        `it is not a tfjs model.json with separate weights files: ${SAVE_HINT}`,
    );
  }
  let groups: ModelJson['weightsManifest'];
  try {
    groups = checkWeightsManifest(manifest, file).map((group) => ({
      ...group,
      paths: [...group.paths],
      weights: [...group.weights],
    }));
  } catch (e) {
    throw new Error(`${(e as Error).message}; ${SAVE_HINT}`);
  }
  return { ...(parsed as Record<string, unknown>), weightsManifest: groups };
}

/**
 * A tf.io handler that loads the model from files already read by {@link readModelFiles} (the very bytes that
 * were hashed), without touching the disk again: `TextureVae.load(modelFilesHandler(files))`.
 */
export function modelFilesHandler(files: ModelFiles): io.IOHandler {
  const bytes = new Map(files.weights.map((w) => [w.path, w.bytes]));
  return {
    load: () =>
      io.getModelArtifactsForJSON(files.json as unknown as io.ModelJSON, async (manifest) => [
        manifest.flatMap((group) => group.weights),
        concatBytes(manifest.flatMap((group) => group.paths.map((path) => bytes.get(path) as Uint8Array))),
      ]),
  };
}
