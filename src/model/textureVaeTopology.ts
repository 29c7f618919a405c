import { type TextureVaeConfig, textureVaeLayerSpecs } from './textureVaeConfig.js';

/** One layer of a layers-model topology as model.json stores it (tfjs-layers writes snake_case). */
export interface TopologyLayer {
  readonly name: string;
  readonly class_name: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly inbound_nodes: readonly unknown[];
}

/** The `config` of a saved layers model's topology. */
export interface TextureVaeTopology {
  readonly name: string;
  readonly layers: readonly TopologyLayer[];
  readonly input_layers: readonly unknown[];
  readonly output_layers: readonly unknown[];
}

const MODEL_NAME = 'texture_vae';

/** tfjs-layers saves string values in snake_case ('leakyRelu' -> 'leaky_relu'). */
function snakeCase(value: string): string {
  return value.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function inbound(from: string): unknown[] {
  return [[[from, 0, 0, {}]]];
}

/**
 * The topology a TextureVae built from `config` saves, layer by layer, in the form tfjs-layers writes it. It
 * follows the wiring of the model the package builds (inputs 'image' and 'latent', each encoder convolution
 * after the previous one, a 2x upsample of config.upsample before each widening decoder convolution), so a saved
 * topology can be checked against it before any layer, and so any variable, exists.
 */
export function textureVaeTopology(config: Readonly<TextureVaeConfig>): TextureVaeTopology {
  const padding = config.tileable ? 'circular' : 'zeros';
  const input = (name: string, channels: number): TopologyLayer => ({
    name,
    class_name: 'InputLayer',
    config: { batch_input_shape: [null, null, null, channels], dtype: 'float32', sparse: false, name },
    inbound_nodes: [],
  });
  const layers: TopologyLayer[] = [
    input('image', config.outputChannels),
    input('latent', config.latentChannels),
  ];
  let encoder = 'image';
  let decoder = 'latent';
  for (const spec of textureVaeLayerSpecs(config)) {
    let from = spec.part === 'encoder' ? encoder : decoder;
    if (spec.upsampleBefore) {
      const name = `${spec.name}_upsample`;
      layers.push(
        config.upsample === 'bilinear'
          ? {
              name,
              class_name: 'SmoothUpsample2D',
              config: { name, trainable: true, border: config.tileable ? 'circular' : 'edge' },
              inbound_nodes: inbound(from),
            }
          : {
              name,
              class_name: 'UpSampling2D',
              config: {
                size: [2, 2],
                data_format: 'channels_last',
                interpolation: 'nearest',
                name,
                trainable: true,
              },
              inbound_nodes: inbound(from),
            },
      );
      from = name;
    }
    layers.push({
      name: spec.name,
      class_name: 'PaddedConv2D',
      config: {
        name: spec.name,
        trainable: true,
        filters: spec.filters,
        kernel_size: spec.kernelSize,
        strides: spec.strides,
        padding,
        activation: snakeCase(spec.activation),
      },
      inbound_nodes: inbound(from),
    });
    if (spec.part === 'encoder') encoder = spec.name;
    else decoder = spec.name;
  }
  return {
    name: MODEL_NAME,
    layers,
    input_layers: [
      ['image', 0, 0],
      ['latent', 0, 0],
    ],
    output_layers: [
      [encoder, 0, 0],
      [decoder, 0, 0],
    ],
  };
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameJson(v, b[i]))
    );
  }
  if (!isRecord(a) || !isRecord(b)) return false;
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]))
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value for an error message, cut short: a hostile model.json may hold anything. */
function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The differences between the fields of `actual` and `expected`, each as "<what> has <field> ...". */
function fieldProblems(
  what: string,
  actual: Record<string, unknown>,
  expected: Readonly<Record<string, unknown>>,
): string[] {
  const problems: string[] = [];
  for (const [field, value] of Object.entries(expected)) {
    if (!Object.hasOwn(actual, field))
      problems.push(`${what} has no ${field}, the architecture needs ${show(value)}`);
    else if (!sameJson(actual[field], value)) {
      problems.push(`${what} has ${field} ${show(actual[field])}, the architecture needs ${show(value)}`);
    }
  }
  for (const field of Object.keys(actual)) {
    if (!Object.hasOwn(expected, field)) problems.push(`${what} has an unexpected field ${show(field)}`);
  }
  return problems;
}

/**
 * Checks a saved layers-model topology against the architecture `config` describes: the same set of layer
 * names, and for each its class, every config field (filters, kernel size, strides, padding, activation, ...)
 * and its input, with no other layer and no other field. Throws an Error naming the first few differences.
 */
export function checkTextureVaeTopology(topology: unknown, config: Readonly<TextureVaeConfig>): void {
  const fail = (problems: string[]): never => {
    const shown = problems.slice(0, 5).join('; ');
    const more = problems.length > 5 ? `; and ${problems.length - 5} more` : '';
    throw new Error(
      `model.json topology does not match the TextureVae architecture of its config: ${shown}${more}`,
    );
  };
  if (!isRecord(topology) || topology.class_name !== 'Model' || !isRecord(topology.config)) {
    fail([
      `modelTopology must be a layers model ({ "class_name": "Model", "config": {...} }), got ${show(topology)}`,
    ]);
  }
  const model = (topology as { config: Record<string, unknown> }).config;
  const saved = model.layers;
  if (!Array.isArray(saved)) fail([`modelTopology.config.layers must be an array, got ${show(saved)}`]);
  const expected = textureVaeTopology(config);
  const byName = new Map(expected.layers.map((l) => [l.name, l]));
  const { layers: _, ...modelFields } = expected;
  const { layers: __, ...savedModelFields } = model;
  const problems = fieldProblems('the model', savedModelFields, modelFields);
  const seen = new Set<string>();
  for (const layer of saved as unknown[]) {
    const name = isRecord(layer) ? layer.name : undefined;
    const want = typeof name === 'string' ? byName.get(name) : undefined;
    if (!isRecord(layer) || typeof name !== 'string' || !want) {
      problems.push(
        isRecord(layer)
          ? `unknown layer ${show(layer.name)} of class ${show(layer.class_name)}`
          : `unknown layer ${show(layer)}`,
      );
      continue;
    }
    if (seen.has(name)) {
      problems.push(`layer '${name}' appears twice`);
      continue;
    }
    seen.add(name);
    const what = `layer '${name}'`;
    if (layer.class_name !== want.class_name) {
      problems.push(
        `${what} has class_name ${show(layer.class_name)}, the architecture needs ${show(want.class_name)}`,
      );
      continue;
    }
    const { config: layerConfig, ...outer } = layer;
    const { config: wantConfig, ...wantOuter } = want;
    problems.push(...fieldProblems(what, outer, wantOuter));
    if (!isRecord(layerConfig)) problems.push(`${what} has config ${show(layerConfig)}, not an object`);
    else problems.push(...fieldProblems(what, layerConfig, wantConfig));
  }
  for (const name of byName.keys()) if (!seen.has(name)) problems.push(`layer '${name}' is missing`);
  if (problems.length > 0) fail(problems);
}
