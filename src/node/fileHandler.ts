import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { io } from '@tensorflow/tfjs-core';

const MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';

const BYTES_PER_ELEMENT: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

function entryBytes(entry: io.WeightsManifestEntry): number {
  const dtype = entry.quantization?.dtype ?? entry.dtype;
  const bytes = BYTES_PER_ELEMENT[dtype];
  if (bytes === undefined) throw new Error(`weight '${entry.name}' has unsupported dtype '${dtype}'`);
  return entry.shape.reduce((a, b) => a * b, 1) * bytes;
}

function toArrayBuffer(data: io.WeightData): ArrayBuffer {
  return Array.isArray(data) ? io.concatenateArrayBuffers(data) : data;
}

/**
 * A tf.io handler for a folder in Node: `save` writes `model.json` and `weights.bin` (creating the folder),
 * `load` reads them back. Before reading any weights it checks every file of the manifest exists and has
 * exactly the byte count the manifest implies, so a truncated or missing weights file fails with an Error
 * naming the file instead of producing garbage weights.
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
    return io.getModelArtifactsForJSON(modelJson, async (manifest) => {
      if (!Array.isArray(manifest)) throw new Error(`model file ${modelPath} has an invalid weightsManifest`);
      const specs: io.WeightsManifestEntry[] = [];
      const files: { path: string; size: number }[] = [];
      for (const group of manifest) {
        const needed = group.weights.reduce((n, w) => n + entryBytes(w), 0);
        let size = 0;
        for (const name of group.paths) {
          if (basename(name) !== name || name === '..' || name === '.') {
            throw new Error(`weights path must be a file name inside the model folder, got '${name}'`);
          }
          const path = join(dir, name);
          if (!existsSync(path)) throw new Error(`weights file ${path} is missing`);
          const fileSize = statSync(path).size;
          files.push({ path, size: fileSize });
          size += fileSize;
        }
        if (size !== needed) {
          const why = size < needed ? 'truncated' : 'longer than its manifest';
          throw new Error(
            `weights file ${group.paths.map((p) => join(dir, p)).join(', ')} holds ${size} bytes, the manifest needs ${needed}: ${why}`,
          );
        }
        specs.push(...group.weights);
      }
      const buffer = new Uint8Array(files.reduce((n, f) => n + f.size, 0));
      let offset = 0;
      for (const f of files) {
        buffer.set(readFileSync(f.path), offset);
        offset += f.size;
      }
      return [specs, buffer.buffer];
    });
  };

  return { save, load };
}
