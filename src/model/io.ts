import type { io } from '@tensorflow/tfjs-core';

import {
  resolveTextureVaeConfig,
  type TextureVaeConfig,
  textureVaeWeightShapes,
} from './textureVaeConfig.js';
import { checkTextureVaeTopology } from './textureVaeTopology.js';

/** The key of model.json's userDefinedMetadata under which a TextureVae stores its config. */
export const TEXTURE_VAE_METADATA_KEY = 'textureVae';
/** Version of the saved format; bumped when the architecture encoded by a config changes meaning. */
export const TEXTURE_VAE_FORMAT = 1;

/** What a path in a weights manifest may be, as error messages state it. */
export const WEIGHTS_PATH_RULE =
  'a file name or a sub-path that stays inside the model\'s folder, such as "weights.bin" or "shards/1.bin" ' +
  '(no absolute path, URL, backslash, "%", "?", "#" or ":")';

/**
 * The normal form of a path from a weights manifest ("./shards/../weights.bin" -> "weights.bin"), or an Error
 * that names `where` (e.g. "model.json: weightsManifest[0].paths[1]") and the rule. Model files come from
 * strangers, and both the file system and HTTP servers resolve "..", "%2e%2e" and "\\": the rule keeps every
 * weights file inside the model's folder, on disk (symbolic links are checked by the Node side) and over HTTP.
 */
export function normaliseWeightsPath(path: unknown, where: string): string {
  const refuse = (why: string): never => {
    throw new Error(
      `${where} is ${JSON.stringify(path)}, which ${why}; a weights path must be ${WEIGHTS_PATH_RULE}`,
    );
  };
  if (typeof path !== 'string' || path === '') return refuse('is not a file name');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for.
  if (/[\u0000-\u001f\u007f]/.test(path)) refuse('holds a control character');
  if (path.includes('\\')) refuse('holds a backslash');
  if (/[%?#]/.test(path)) refuse('holds "%", "?" or "#", which URLs decode or cut off');
  if (path.includes(':')) refuse('holds ":" (a URL scheme or a drive)');
  if (path.startsWith('/')) refuse('is absolute');
  if (path.endsWith('/')) refuse('ends with "/", so names a folder');
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '..') {
      if (parts.length === 0) refuse("leaves the model's folder");
      parts.pop();
    } else if (part !== '.' && part !== '') {
      parts.push(part);
    }
  }
  if (parts.length === 0) refuse("names the model's folder, not a file in it");
  return parts.join('/');
}

/** A weights manifest group whose paths are in normal form. */
export interface WeightsGroup {
  readonly paths: readonly string[];
  readonly weights: readonly io.WeightsManifestEntry[];
}

/**
 * Checks the shape of model.json's weightsManifest (a non-empty array of groups, each with a non-empty `paths`
 * array and a `weights` array) and every path against WEIGHTS_PATH_RULE, before anything is read or fetched.
 * `source` names model.json in errors. Returns a copy whose paths are in normal form.
 */
export function checkWeightsManifest(manifest: unknown, source: string): WeightsGroup[] {
  if (!Array.isArray(manifest) || manifest.length === 0) {
    throw new Error(`${source} has no weightsManifest (a non-empty array of { paths, weights } groups)`);
  }
  return manifest.map((group: unknown, i) => {
    const paths = (group as { paths?: unknown } | null)?.paths;
    const weights = (group as { weights?: unknown } | null)?.weights;
    if (!Array.isArray(paths) || paths.length === 0 || !Array.isArray(weights)) {
      const got = Array.isArray(paths)
        ? `${paths.length} paths`
        : `paths ${JSON.stringify(paths) ?? 'undefined'}`;
      throw new Error(
        `${source}: weightsManifest[${i}] must have a non-empty "paths" array of file names and a "weights" array, got ${got.slice(0, 80)}`,
      );
    }
    return {
      ...(group as object),
      paths: paths.map((path, j) =>
        normaliseWeightsPath(path, `${source}: weightsManifest[${i}].paths[${j}]`),
      ),
      weights: weights as io.WeightsManifestEntry[],
    };
  });
}

const QUANTIZED_BYTES: Readonly<Record<string, number>> = { uint8: 1, uint16: 2, float16: 2 };
const ALLOWED_DTYPES = 'float32, or float32 quantized to uint8, uint16 or float16';

/**
 * Bytes one manifest entry occupies in the weights data (its quantized size when quantized). Throws unless the
 * entry is a float32 weight, stored as is or quantized to uint8 / uint16 (with finite scale and min) or
 * float16: every weight of a TextureVae is float32, and any other dtype would fail inside tfjs.
 */
export function weightEntryByteLength(entry: io.WeightsManifestEntry): number {
  const name = `'${String(entry?.name)}'`;
  const shape: unknown = entry?.shape;
  if (!Array.isArray(shape) || !shape.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new Error(
      `weight ${name} has shape ${JSON.stringify(shape)?.slice(0, 60)}; a shape is an array of integers >= 0`,
    );
  }
  const quantization: unknown = entry.quantization;
  const quantized = Object.hasOwn(entry, 'quantization');
  const stored = quantized ? (quantization as { dtype?: unknown } | null)?.dtype : entry.dtype;
  const bytes = quantized ? QUANTIZED_BYTES[String(stored)] : stored === 'float32' ? 4 : undefined;
  if (entry.dtype !== 'float32' || bytes === undefined) {
    const what = quantized
      ? `dtype '${String(entry.dtype)}' quantized to '${String(stored)}'`
      : `dtype '${String(entry.dtype)}'`;
    throw new Error(`weight ${name} has ${what}; allowed: ${ALLOWED_DTYPES}`);
  }
  if (stored === 'uint8' || stored === 'uint16') {
    const { scale, min } = quantization as { scale?: unknown; min?: unknown };
    if (
      typeof scale !== 'number' ||
      typeof min !== 'number' ||
      !Number.isFinite(scale) ||
      !Number.isFinite(min)
    ) {
      throw new Error(
        `weight ${name} is quantized to ${stored} without a finite scale and min (got scale ${JSON.stringify(scale)}, min ${JSON.stringify(min)})`,
      );
    }
  }
  return shape.reduce((a: number, b: number) => a * b, 1) * bytes;
}

/** Total bytes of weight data, whether one buffer or a list of shards. */
export function weightDataByteLength(data: io.WeightData): number {
  return Array.isArray(data) ? data.reduce((n, b) => n + b.byteLength, 0) : data.byteLength;
}

function oneBuffer(data: io.WeightData): ArrayBuffer {
  return Array.isArray(data) ? concatBytes(data.map((part) => new Uint8Array(part))) : data;
}

/**
 * The weight shards of a model, in manifest order, as the one buffer tfjs reads weights from. Each part may be
 * a view into a larger buffer (a Node Buffer usually is): only its own bytes are copied.
 */
export function concatBytes(parts: readonly Uint8Array[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out.buffer;
}

/**
 * Throws an Error naming the first weight whose values are not all finite. A NaN or infinite weight decodes
 * to black or garbage everywhere; the check reads the stored values (or the range a quantization maps to)
 * before any tensor exists.
 */
function checkFiniteWeights(specs: readonly io.WeightsManifestEntry[], data: ArrayBuffer): void {
  let offset = 0;
  for (const spec of specs) {
    const length = weightEntryByteLength(spec);
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const q = spec.quantization;
    const view = <T>(make: (b: ArrayBuffer, at: number, n: number) => T, align: number): T =>
      offset % align === 0 ? make(data, offset, count) : make(data.slice(offset, offset + length), 0, count);
    let bad = -1;
    if (!q) {
      const values = view((b, at, n) => new Float32Array(b, at, n), 4);
      for (let i = 0; i < count && bad < 0; i++) if (!Number.isFinite(values[i])) bad = i;
    } else if (q.dtype === 'float16') {
      const halves = view((b, at, n) => new Uint16Array(b, at, n), 2);
      // All exponent bits set: infinity or NaN.
      for (let i = 0; i < count && bad < 0; i++) if ((halves[i] & 0x7c00) === 0x7c00) bad = i;
    } else {
      // Dequantized values v * scale + min are float32 and monotonic in v: both ends finite means all are.
      const { scale, min } = q as { scale: number; min: number };
      const top = q.dtype === 'uint8' ? 255 : 65535;
      if (count > 0 && !Number.isFinite(Math.fround(scale * top + min))) {
        throw new Error(
          `weight '${spec.name}' is quantized with scale ${scale} and min ${min}, which map to values beyond ` +
            "float32's range; a model's weights must be finite",
        );
      }
    }
    if (bad >= 0) {
      throw new Error(
        `weight '${spec.name}' holds a NaN or infinite value (at index ${bad}); a model's weights must be ` +
          'finite: was it saved after training diverged?',
      );
    }
    offset += length;
  }
}

/** The metadata a saved TextureVae carries in model.json. */
export function textureVaeMetadata(config: Readonly<TextureVaeConfig>): Record<string, unknown> {
  return { [TEXTURE_VAE_METADATA_KEY]: { format: TEXTURE_VAE_FORMAT, config } };
}

/**
 * The resolved TextureVae config saved in a model.json's userDefinedMetadata (artifacts or the parsed JSON);
 * throws an Error that says what is missing or invalid. Checks nothing else of the model.
 */
export function textureVaeConfigOf(
  artifacts: Pick<io.ModelArtifacts, 'userDefinedMetadata'>,
): Readonly<TextureVaeConfig> {
  const meta = artifacts.userDefinedMetadata?.[TEXTURE_VAE_METADATA_KEY] as
    | { format?: unknown; config?: unknown }
    | undefined;
  if (!meta || typeof meta !== 'object' || !meta.config || typeof meta.config !== 'object') {
    throw new Error(
      `model.json is not a TextureVae model: userDefinedMetadata.${TEXTURE_VAE_METADATA_KEY}.config is missing`,
    );
  }
  if (meta.format !== TEXTURE_VAE_FORMAT) {
    throw new Error(
      `TextureVae model format must be ${TEXTURE_VAE_FORMAT}, got ${JSON.stringify(meta.format)}`,
    );
  }
  let config: Readonly<TextureVaeConfig>;
  try {
    // Configs saved before `upsample` existed describe nearest-upsampling decoders.
    const saved = meta.config as Partial<TextureVaeConfig>;
    config = resolveTextureVaeConfig('upsample' in saved ? saved : { ...saved, upsample: 'nearest' });
  } catch (e) {
    throw new Error(`model.json holds an invalid TextureVae config: ${(e as Error).message}`);
  }
  return config;
}

/**
 * Checks loaded artifacts against the architecture their config describes, before any tensor exists: a
 * TextureVae config in the metadata, a layers-model topology equal to the one the config describes (see
 * checkTextureVaeTopology), a weights manifest with exactly the expected names and shapes, float32 dtypes (or
 * their uint8 / uint16 / float16 quantization), weight data of exactly the manifest's byte count, and only
 * finite weight values. Returns the validated config.
 */
export function validateTextureVaeArtifacts(artifacts: io.ModelArtifacts): Readonly<TextureVaeConfig> {
  const config = textureVaeConfigOf(artifacts);
  if (!artifacts.modelTopology || typeof artifacts.modelTopology !== 'object') {
    throw new Error('model.json has no layers-model topology (modelTopology)');
  }
  const specs = artifacts.weightSpecs;
  if (!specs || specs.length === 0) throw new Error('model.json has no weights manifest (weightsManifest)');

  const expected = new Map(textureVaeWeightShapes(config).map((w) => [w.name, w.shape]));
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const spec of specs) {
    if (
      typeof spec !== 'object' ||
      spec === null ||
      typeof spec.name !== 'string' ||
      !Array.isArray(spec.shape)
    ) {
      problems.push(`entry ${JSON.stringify(spec)?.slice(0, 60)} is not a { name, shape, dtype } object`);
      continue;
    }
    const shape = expected.get(spec.name);
    if (!shape) {
      problems.push(`unexpected weight '${spec.name}'`);
      continue;
    }
    if (seen.has(spec.name)) problems.push(`duplicate weight '${spec.name}'`);
    seen.add(spec.name);
    if (shape.join() !== spec.shape.join()) {
      problems.push(`weight '${spec.name}' has shape [${spec.shape}], the architecture needs [${shape}]`);
    }
  }
  for (const name of expected.keys()) if (!seen.has(name)) problems.push(`missing weight '${name}'`);
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).join('; ');
    const more = problems.length > 5 ? `; and ${problems.length - 5} more` : '';
    throw new Error(
      `weights manifest does not match the TextureVae architecture of its config: ${shown}${more}`,
    );
  }

  checkTextureVaeTopology(artifacts.modelTopology, config);

  const needed = specs.reduce((n, s) => n + weightEntryByteLength(s), 0);
  if (artifacts.weightData == null) {
    throw new Error(
      `weight data is missing (the manifest needs ${needed} bytes): is the weights file missing?`,
    );
  }
  const got = weightDataByteLength(artifacts.weightData);
  if (got !== needed) {
    const why =
      got < needed ? 'the weights file is truncated' : 'the weights file is longer than its manifest';
    throw new Error(`weight data holds ${got} bytes, the manifest needs ${needed}: ${why}`);
  }
  checkFiniteWeights(specs, oneBuffer(artifacts.weightData));
  return config;
}
