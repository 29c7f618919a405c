import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { io } from '@tensorflow/tfjs-core';

import { checkWeightsManifest, concatBytes, weightEntryByteLength } from '../model/io.js';
import { resolveWeightsFile } from './weightsFile.js';

const MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';

function toArrayBuffer(data: io.WeightData): ArrayBuffer {
  return Array.isArray(data) ? io.concatenateArrayBuffers(data) : data;
}

/**
 * A tf.io handler for a folder in Node: `save` writes `model.json` and `weights.bin` (creating the folder),
 * `load` reads them back. Before reading any weights it checks every path of the manifest against the weights
 * path rule (see checkWeightsManifest) and that, after symbolic links, the file lies inside `dir`, and that
 * every file exists and has exactly the byte count the manifest implies, so a hostile model.json reads nothing
 * outside its folder and a truncated or missing weights file fails with an Error naming the file instead of
 * producing garbage weights.
 */
export function fileSystemHandler(dir: string): io.IOHandler {
  if (typeof dir !== 'string' || dir.length === 0)
    throw new Error(`model folder must be a non-empty path, got ${dir}`);
  const modelPath = join(dir, MODEL_FILE);

  const save = async (artifacts: io.ModelArtifacts): Promise<io.SaveResult> => {
    if (artifacts.modelTopology instanceof ArrayBuffer) {
      throw new Error('fileSystemHandler saves JSON model topologies only, got a binary topology');
    }
    mkdirSync(dir, { recursive: true });
    const manifest: io.WeightsManifestConfig = [
      { paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] },
    ];
    const modelJson: io.ModelJSON = {
      modelTopology: artifacts.modelTopology as object,
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy,
      weightsManifest: manifest,
      ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
      ...(artifacts.signature ? { signature: artifacts.signature } : {}),
      ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
    };
    const weights = artifacts.weightData == null ? new ArrayBuffer(0) : toArrayBuffer(artifacts.weightData);
    writeFileSync(join(dir, WEIGHTS_FILE), new Uint8Array(weights));
    writeFileSync(modelPath, JSON.stringify(modelJson));
    return { modelArtifactsInfo: io.getModelArtifactsInfoForJSON(artifacts) };
  };

  const load = async (): Promise<io.ModelArtifacts> => {
    if (!existsSync(modelPath)) throw new Error(`model file ${modelPath} does not exist`);
    let modelJson: io.ModelJSON;
    try {
      modelJson = JSON.parse(readFileSync(modelPath, 'utf8')) as io.ModelJSON;
    } catch (e) {
      throw new Error(`model file ${modelPath} is not valid JSON: ${(e as Error).message}`);
    }
    if (modelJson === null || typeof modelJson !== 'object' || !modelJson.modelTopology) {
      throw new Error(`model file ${modelPath} has no modelTopology: not a tfjs model.json`);
    }
    const manifest = checkWeightsManifest(modelJson.weightsManifest, modelPath);
    const specs: io.WeightsManifestEntry[] = [];
    const files: { path: string; size: number }[] = [];
    manifest.forEach((group, i) => {
      const needed = group.weights.reduce((n, w) => n + weightEntryByteLength(w), 0);
      let size = 0;
      const shown = group.paths.map((name, j) => {
        const shownPath = join(dir, name);
        const path = resolveWeightsFile(dir, name, `${modelPath}: weightsManifest[${i}].paths[${j}]`);
        if (!path) throw new Error(`weights file ${shownPath} is missing`);
        const stat = statSync(path);
        if (!stat.isFile()) throw new Error(`weights file ${shownPath} is not a file`);
        files.push({ path, size: stat.size });
        size += stat.size;
        return shownPath;
      });
      if (size !== needed) {
        const why = size < needed ? 'truncated' : 'longer than its manifest';
        throw new Error(
          `weights file ${shown.join(', ')} holds ${size} bytes, the manifest needs ${needed}: ${why}`,
        );
      }
      specs.push(...group.weights);
    });
    const buffer = concatBytes(files.map((f) => readFileSync(f.path)));
    return io.getModelArtifactsForJSONSync(modelJson, specs, buffer);
  };

  return { save, load };
}
