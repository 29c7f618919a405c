// The layering rules of the repository, checked on the import specifiers of every TypeScript file.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ENTRY_POINTS = ['src/index.ts', 'src/node/index.ts', 'src/eval/index.ts', 'src/worker/index.ts'];

function tsFiles(folder: string): string[] {
  return readdirSync(join(root, folder), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name))
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'));
}

/** Repository paths (no extension) of the local modules `file` imports: static, side-effect and dynamic. */
function localImports(file: string, text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"]([^'"]+)['"]/g)) {
    const spec = m[1];
    if (!spec.startsWith('.') && !spec.startsWith('/')) continue;
    const path = spec.startsWith('/') ? join(root, spec) : resolve(root, dirname(file), spec);
    found.push(
      relative(root, path)
        .split(sep)
        .join('/')
        .replace(/\.(js|ts)$/, ''),
    );
  }
  return found;
}

/** `file -> target` for every import of a file under `folders` whose target breaks `allowed`. */
function violations(folders: string[], allowed: (target: string) => boolean): string[] {
  const out: string[] = [];
  for (const folder of folders) {
    for (const file of tsFiles(folder)) {
      for (const target of localImports(file, readFileSync(join(root, file), 'utf8'))) {
        if (!allowed(target)) out.push(`${file} -> ${target}`);
      }
    }
  }
  return out;
}

const entries = new Set(ENTRY_POINTS.map((p) => p.replace(/\.ts$/, '')));
const under = (target: string, folder: string) => target === folder || target.startsWith(`${folder}/`);

describe('import boundaries', () => {
  test('the scanner sees static, dynamic, side-effect and root-relative imports', () => {
    const text = [
      "import { a } from '../src/index.js';",
      "import type { B } from '../src/model/textureVae.js';",
      "import '../test/support/x.js';",
      "const m = await import('../bench/results.js');",
      "import { c } from '/src/gpu/glHandoff.ts';",
      "import { d } from '@babylonjs/core/scene.js';",
    ].join('\n');
    expect(localImports('cli/x.ts', text)).toEqual([
      'src/index',
      'src/model/textureVae',
      'test/support/x',
      'bench/results',
      'src/gpu/glHandoff',
    ]);
  });

  test('cli/, plugin/ and samples/ reach src/ only through its entry points', () => {
    const found = violations(['cli', 'plugin', 'samples'], (t) => !under(t, 'src') || entries.has(t));
    expect(found).toEqual([]);
    // Not vacuous: the command line does import the entry points.
    expect(localImports('cli/eval.ts', readFileSync(join(root, 'cli/eval.ts'), 'utf8'))).toContain(
      'src/eval/index',
    );
  });

  test('nothing in src/, cli/, plugin/ or samples/ imports bench/ or test/', () => {
    const found = violations(
      ['src', 'cli', 'plugin', 'samples'],
      (t) => !under(t, 'bench') && !under(t, 'test'),
    );
    expect(found).toEqual([]);
  });

  test('bench/ and scripts/ do not import test/', () => {
    expect(violations(['bench', 'scripts'], (t) => !under(t, 'test'))).toEqual([]);
  });

  test('only src/gpu chooses between the shared context and other backends', () => {
    // glHandoff (runOnEngine) and sharedBackend (canShareContext) stay inside src/gpu; the rest of the
    // package goes through engineScope, the decode sources and the hand-off shader.
    const branching = new Set(['src/gpu/glHandoff', 'src/gpu/sharedBackend']);
    const found = violations(
      ['src/atlas', 'src/textures', 'src/materials', 'src/model', 'src/latent', 'src/node', 'src/eval'],
      (t) => !branching.has(t),
    );
    expect(found).toEqual([]);
  });

  test('src/model and src/latent import neither Babylon nor the GPU bridge', () => {
    const found: string[] = [];
    for (const file of [...tsFiles('src/model'), ...tsFiles('src/latent')]) {
      const text = readFileSync(join(root, file), 'utf8');
      if (/from ['"]@babylonjs\//.test(text)) found.push(`${file} -> @babylonjs`);
      for (const t of localImports(file, text)) {
        if (!under(t, 'src/model') && !under(t, 'src/latent')) found.push(`${file} -> ${t}`);
      }
    }
    expect(found).toEqual([]);
  });
});
