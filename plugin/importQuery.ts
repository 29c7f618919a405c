import { MAX_SEED, MAX_TEXTURE_SIZE, pretrainedSwatchNames } from '../src/index.js';

/** Which import query a module id carries: `?vae` (the model's URL) or `?vae-atlas` (an atlas baked at build). */
export type ImportKind = 'vae' | 'vae-atlas';

/** An import of a model.json with one of the plugin's queries, split into its parts. */
export interface VaeImport {
  readonly path: string;
  readonly kind: ImportKind;
  /** The query without the leading `?` and without the `vae` / `vae-atlas` flag. */
  readonly params: string;
}

/** Atlas options taken from a `?vae-atlas` query; only what the query sets, the atlas defaults fill the rest. */
export interface AtlasQuery {
  /** A swatch of the embedded model by name: tile i is its sample with seed + i. */
  swatch?: string;
  count?: number;
  tileSize?: number;
  seed?: number;
  padding?: number;
  temperature?: number;
  layout?: 'square' | 'row';
}

/** Splits `stone/model.json?vae-atlas&count=4`; null for any import without a `vae` / `vae-atlas` flag. */
export function splitImport(source: string): VaeImport | null {
  const q = source.indexOf('?');
  if (q < 0) return null;
  const params = new URLSearchParams(source.slice(q + 1));
  const atlas = params.has('vae-atlas');
  if (!atlas && !params.has('vae')) return null;
  params.delete(atlas ? 'vae-atlas' : 'vae');
  return { path: source.slice(0, q), kind: atlas ? 'vae-atlas' : 'vae', params: params.toString() };
}

interface IntegerRule {
  readonly option: 'count' | 'tileSize' | 'seed' | 'padding';
  readonly min: number;
  readonly max: number;
}

const INTEGERS: Readonly<Record<string, IntegerRule>> = {
  count: { option: 'count', min: 1, max: 4096 },
  tileSize: { option: 'tileSize', min: 8, max: MAX_TEXTURE_SIZE },
  seed: { option: 'seed', min: 0, max: MAX_SEED },
  padding: { option: 'padding', min: 0, max: 2048 },
};
const KEYS = ['swatch', 'count', 'tileSize', 'seed', 'padding', 'temperature', 'layout'];
const MAX_TEMPERATURE = 10;

/**
 * Parses and validates the parameters of a `?vae-atlas` import. Throws an Error that names the file, the
 * parameter and what is allowed.
 */
export function parseAtlasQuery(file: string, params: string): AtlasQuery {
  const where = `${file}?vae-atlas`;
  const query: AtlasQuery = {};
  const seen = new Set<string>();
  for (const [key, value] of new URLSearchParams(params)) {
    if (!KEYS.includes(key)) {
      throw new Error(`${where}: unknown parameter "${key}"; allowed: ${KEYS.join(', ')}`);
    }
    if (seen.has(key)) throw new Error(`${where}: parameter "${key}" is given twice; keep one`);
    seen.add(key);
    const rule = INTEGERS[key];
    if (rule) {
      const n = Number(value);
      if (value.trim() === '' || !Number.isInteger(n) || n < rule.min || n > rule.max) {
        throw new Error(
          `${where}: ${key} must be an integer between ${rule.min} and ${rule.max}, got "${value}"`,
        );
      }
      query[rule.option] = n;
    } else if (key === 'swatch') {
      const names = pretrainedSwatchNames('default');
      if (!names.includes(value)) {
        throw new Error(
          `${where}: swatch must name a swatch of the embedded model (${names.join(', ')}), got "${value}"`,
        );
      }
      query.swatch = value;
    } else if (key === 'temperature') {
      const t = Number(value);
      if (value.trim() === '' || !Number.isFinite(t) || t < 0 || t > MAX_TEMPERATURE) {
        throw new Error(
          `${where}: temperature must be a number between 0 and ${MAX_TEMPERATURE}, got "${value}"`,
        );
      }
      query.temperature = t;
    } else {
      if (value !== 'square' && value !== 'row') {
        throw new Error(`${where}: layout must be "square" or "row", got "${value}"`);
      }
      query.layout = value;
    }
  }
  if (query.swatch !== undefined && query.temperature !== undefined) {
    throw new Error(`${where}: temperature is a setting of prior samples; a swatch atlas has none`);
  }
  if (query.padding !== undefined && query.tileSize !== undefined && query.padding > query.tileSize / 2) {
    throw new Error(
      `${where}: padding must be at most half the tile size (${query.tileSize / 2}), got ${query.padding}`,
    );
  }
  return query;
}

/** Rejects any parameter on a `?vae` import, which takes none. */
export function checkModelQuery(file: string, params: string): void {
  const keys = [...new URLSearchParams(params).keys()];
  if (keys.length > 0) {
    throw new Error(
      `${file}?vae takes no parameters, got "${keys.join('", "')}"; ` +
        `for a baked atlas import "${file}?vae-atlas&count=16&tileSize=128"`,
    );
  }
}

/** The query in one canonical form (sorted keys), so equal queries share a cache entry. */
export function normaliseAtlasQuery(query: AtlasQuery): string {
  const entries = Object.entries(query).sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify(Object.fromEntries(entries));
}
