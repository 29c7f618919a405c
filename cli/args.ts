/** Argument helpers shared by the commands. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadPretrained, MAX_SEED, TextureVae } from '../src/index.js';
import { fileSystemHandler, useWasmBackend } from '../src/node/index.js';

/** Inclusive bounds of a numeric option. */
export interface Range {
  readonly min?: number;
  readonly max?: number;
}

const DECIMAL_INTEGER = /^[+-]?\d+$/;
const DECIMAL_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function rangeText(range: Range): string {
  if (range.min !== undefined && range.max !== undefined) return ` from ${range.min} to ${range.max}`;
  if (range.min !== undefined) return ` of at least ${range.min}`;
  if (range.max !== undefined) return ` of at most ${range.max}`;
  return '';
}

/**
 * An integer option written in decimal digits ("0x10", "1e3", "2.0" are refused) within `range`, or `fallback`
 * when absent. Throws an Error naming the option and what it accepts.
 */
export function integer(
  name: string,
  value: string | undefined,
  fallback: number,
  range: Range = {},
): number {
  if (value === undefined) return fallback;
  const n = Number(value.trim());
  if (
    !DECIMAL_INTEGER.test(value.trim()) ||
    !Number.isSafeInteger(n) ||
    n < (range.min ?? Number.NEGATIVE_INFINITY) ||
    n > (range.max ?? Number.POSITIVE_INFINITY)
  ) {
    throw new Error(`--${name} must be an integer${rangeText(range)}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** A number option in decimal notation ("1e-3" and "0.5" but not "0x10" or "Infinity"), or `fallback` when absent. */
export function number(name: string, value: string | undefined, fallback: number, range: Range = {}): number {
  if (value === undefined) return fallback;
  const n = Number(value.trim());
  if (
    !DECIMAL_NUMBER.test(value.trim()) ||
    !Number.isFinite(n) ||
    n < (range.min ?? Number.NEGATIVE_INFINITY) ||
    n > (range.max ?? Number.POSITIVE_INFINITY)
  ) {
    throw new Error(`--${name} must be a number${rangeText(range)}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** A comma-separated list of decimal integers within `range`. */
export function integerList(name: string, value: string, range: Range = {}): number[] {
  const items = value.split(',');
  try {
    return items.map((item) => integer(name, item, 0, range));
  } catch {
    throw new Error(
      `--${name} must be comma-separated integers${rangeText(range)}, got ${JSON.stringify(value)}`,
    );
  }
}

/** `--seed`: an integer from 0 to MAX_SEED (2^32 - 1), or `fallback` when absent. */
export function seedOption(value: string | undefined, fallback = 0): number {
  return integer('seed', value, fallback, { min: 0, max: MAX_SEED });
}

/** Throws unless `model` is `default` or a folder holding a model.json. */
export function checkModelArg(model: string): void {
  if (model !== 'default' && !existsSync(join(model, 'model.json'))) {
    throw new Error(`--model ${model} holds no model.json; pass a folder written by train, or default`);
  }
}

/** Loads `--model <dir|default>` on the WASM backend; the caller disposes the model. */
export async function loadModelArg(model: string): Promise<TextureVae> {
  checkModelArg(model);
  await useWasmBackend();
  // The packaged model is found next to its loader module, in the sources or in dist/.
  return model === 'default' ? loadPretrained('default') : TextureVae.load(fileSystemHandler(model));
}

/** Throws before anything is written when a path exists (unless `force`) or its folder is missing. */
export function checkWritable(paths: readonly string[], force: boolean): void {
  for (const path of paths) {
    if (existsSync(path) && !force) throw new Error(`${path} exists; pass --force to overwrite it`);
    const dir = dirname(path);
    if (!existsSync(dir)) throw new Error(`cannot write ${path}: folder ${dir} does not exist`);
  }
}
