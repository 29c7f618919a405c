/** Argument helpers shared by the commands. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadPretrained } from '../src/model/pretrained/pretrained.js';
import { TextureVae } from '../src/model/textureVae.js';
import { fileSystemHandler } from '../src/node/fileHandler.js';
import { useWasmBackend } from '../src/node/wasmBackend.js';

/** An integer option, or `fallback` when absent. */
export function integer(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n)) {
    throw new Error(`--${name} must be an integer, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** A finite number option, or `fallback` when absent. */
export function number(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) {
    throw new Error(`--${name} must be a number, got ${JSON.stringify(value)}`);
  }
  return n;
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
