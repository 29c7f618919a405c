import { io, util } from '@tensorflow/tfjs-core';

import { checkWeightsManifest } from './io.js';

async function get(url: string, what: string): Promise<Response> {
  let response: Response;
  try {
    response = await util.fetch(url);
  } catch (e) {
    throw new Error(`could not fetch ${what} ${url}: ${(e as Error).message}`);
  }
  if (!response.ok) throw new Error(`${what} ${url} answered HTTP ${response.status}`);
  return response;
}

/**
 * A tf.io load handler for a model.json URL, as tf.io.http but safe for model files from strangers: the weights
 * manifest is checked (see checkWeightsManifest) before any weights file is fetched, so a path such as
 * "../../secret" or "..%2fsecret" never becomes a request. Weights URLs are the model URL's folder plus the
 * normalised path, keeping the model URL's query, as tf.io.http builds them.
 */
export function httpModelHandler(url: string): io.IOHandler {
  return {
    load: async () => {
      const response = await get(url, 'model file');
      let json: io.ModelJSON;
      try {
        json = (await response.json()) as io.ModelJSON;
      } catch (e) {
        throw new Error(`model file ${url} is not valid JSON: ${(e as Error).message}`);
      }
      if (json === null || typeof json !== 'object' || !json.modelTopology) {
        throw new Error(`model file ${url} has no modelTopology: not a tfjs model.json`);
      }
      const manifest = checkWeightsManifest(json.weightsManifest, url);
      const query = url.lastIndexOf('?') > url.lastIndexOf('/') ? url.slice(url.lastIndexOf('?')) : '';
      const folder = url.slice(0, url.length - query.length).replace(/[^/]*$/, '');
      const buffers = await Promise.all(
        manifest.flatMap((group) =>
          group.paths.map(async (path) =>
            (await get(`${folder}${path}${query}`, 'weights file')).arrayBuffer(),
          ),
        ),
      );
      const specs = manifest.flatMap((group) => group.weights);
      return io.getModelArtifactsForJSONSync(json, specs, buffers);
    },
  };
}
