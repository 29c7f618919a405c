import { realpathSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';

import { WEIGHTS_PATH_RULE } from '../model/io.js';

/**
 * The real path of the weights file `name` (a path in normal form, from checkWeightsManifest) of the model
 * whose model.json lies in `dir`, or undefined when there is no such file. Throws an Error naming `where`
 * when a symbolic link on the way leads outside the real path of `dir`: a manifest that passes the path rule
 * must still not read a file the model's folder only links to.
 */
export function resolveWeightsFile(dir: string, name: string, where: string): string | undefined {
  let file: string;
  try {
    file = realpathSync(join(dir, name));
  } catch {
    return undefined;
  }
  const folder = realpathSync(dir);
  const inside = relative(folder, file);
  if (inside === '' || inside.split(sep)[0] === '..' || isAbsolute(inside)) {
    throw new Error(
      `${where} is ${JSON.stringify(name)}, which resolves through a symbolic link to ${file}, not a file ` +
        `inside the model's folder ${folder}; a weights path must be ${WEIGHTS_PATH_RULE}`,
    );
  }
  return file;
}
