import type { TextureVaeConfig } from './textureVaeConfig.js';

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * A short fingerprint of a model's config (every field, keys sorted): 16 hex digits from two 32-bit FNV-1a
 * passes with different offsets. Files made with a model (swatches) carry it, so they are never used with a
 * model of another architecture or name. It does not cover the weights: two trainings of one config share it.
 */
export function textureVaeConfigHash(config: Readonly<TextureVaeConfig>): string {
  const text = canonicalJson(config);
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
