import type { Tensor } from '@tensorflow/tfjs-core';

import type { PixelImage } from './pixelImage.js';

/**
 * A training image held on the CPU as floats in [0, 1], row-major [height, width, channels], row 0 at the top.
 * Patches are cut from it on the CPU, so sampling is identical on every backend.
 */
export interface Exemplar {
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
  readonly channels: 3 | 4;
}

/**
 * What training accepts as an example texture: a loaded `HTMLImageElement`, an `ImageBitmap`, an `ImageData`,
 * a `PixelImage` (8-bit), an `Exemplar`, or a tfjs tensor [H, W, C] or [N, H, W, C] (C 3 or 4, float values in
 * [0, 1] unless declared 'byte'). A Babylon texture becomes a PixelImage with `textureExemplar` (textures/).
 */
export type ExemplarSource = HTMLImageElement | ImageBitmap | ImageData | PixelImage | Exemplar | Tensor;

export interface ExemplarOptions {
  /** Channels of the result: 3 drops alpha, 4 keeps it (an opaque alpha is added to RGB sources) (default: 3). */
  channels?: 3 | 4;
  /**
   * How tensor values are scaled: 'unit' for [0, 1], 'byte' for 0..255. Values outside the declared range are
   * an error, not clamped (default: 'byte' for int32 tensors, 'unit' otherwise).
   */
  range?: 'unit' | 'byte';
}

/** Largest side of an exemplar image, in pixels. */
export const MAX_EXEMPLAR_SIDE = 16384;
/** Largest pixel count of an exemplar image (4096 x 4096): training keeps it as 32-bit floats on the CPU. */
export const MAX_EXEMPLAR_PIXELS = 4096 * 4096;

/**
 * Throws an Error naming `what`, its size and the limits unless an exemplar may be width x height pixels:
 * positive integers, at most MAX_EXEMPLAR_SIDE a side and MAX_EXEMPLAR_PIXELS in all. File readers call it on
 * the size an image header declares, before decoding.
 */
export function checkExemplarSize(what: string, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`${what} must have a positive integer width and height, got ${width} x ${height}`);
  }
  if (width > MAX_EXEMPLAR_SIDE || height > MAX_EXEMPLAR_SIDE || width * height > MAX_EXEMPLAR_PIXELS) {
    throw new Error(
      `${what} is ${width}x${height} pixels; an exemplar may have at most ${MAX_EXEMPLAR_SIDE} pixels a side and ${MAX_EXEMPLAR_PIXELS} pixels in all (4096x4096)`,
    );
  }
}

/** Interleaved values (any channel count 1..4) to an exemplar with `channels` channels, scaled by `scale`. */
function convert(
  values: ArrayLike<number>,
  width: number,
  height: number,
  sourceChannels: number,
  channels: 3 | 4,
  scale: number,
  what: string,
): Exemplar {
  const n = width * height;
  if (values.length !== n * sourceChannels) {
    throw new Error(
      `${what} must hold width*height*channels = ${n * sourceChannels} values, got ${values.length}`,
    );
  }
  const data = new Float32Array(n * channels);
  const copied = Math.min(channels, sourceChannels);
  const limit = 1 / scale;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < copied; c++) {
      const v = values[i * sourceChannels + c];
      if (!(v >= 0 && v <= limit)) {
        throw new Error(`${what} values must be in [0, ${limit}], got ${v} at pixel ${i} channel ${c}`);
      }
      data[i * channels + c] = v * scale;
    }
    if (channels === 4 && sourceChannels < 4) data[i * 4 + 3] = 1;
  }
  return { data, width, height, channels };
}

function isTensor(value: object): value is Tensor {
  return 'dataId' in value && 'shape' in value && 'rank' in value;
}

function hasDom(name: string): boolean {
  return typeof (globalThis as Record<string, unknown>)[name] === 'function';
}

/** Draws an image element or bitmap on a 2D canvas and reads its RGBA pixels back. */
function rasterize(source: HTMLImageElement | ImageBitmap, what: string): ImageData {
  const width = 'naturalWidth' in source ? source.naturalWidth : source.width;
  const height = 'naturalHeight' in source ? source.naturalHeight : source.height;
  if ('complete' in source && (!source.complete || width === 0)) {
    throw new Error(`${what} has not finished loading (await image.decode() before training)`);
  }
  checkExemplarSize(what, width, height);
  const canvas: OffscreenCanvas | HTMLCanvasElement = hasDom('OffscreenCanvas')
    ? new OffscreenCanvas(width, height)
    : Object.assign(document.createElement('canvas'), { width, height });
  const context = canvas.getContext('2d', { willReadFrequently: true }) as
    | OffscreenCanvasRenderingContext2D
    | CanvasRenderingContext2D
    | null;
  if (!context) throw new Error(`no 2D canvas context to read the pixels of ${what}`);
  context.drawImage(source, 0, 0);
  return context.getImageData(0, 0, width, height);
}

async function fromTensor(tensor: Tensor, options: ExemplarOptions, what: string): Promise<Exemplar[]> {
  if (tensor.isDisposed) throw new Error(`${what} is a disposed tensor`);
  if (tensor.rank !== 3 && tensor.rank !== 4) {
    throw new Error(
      `${what} must be a tensor of rank 3 [H, W, C] or 4 [N, H, W, C], got rank ${tensor.rank}`,
    );
  }
  const [count, height, width, c] = tensor.rank === 3 ? [1, ...tensor.shape] : tensor.shape;
  if (c !== 3 && c !== 4) throw new Error(`${what} must have 3 (RGB) or 4 (RGBA) channels, got ${c}`);
  if (tensor.dtype !== 'float32' && tensor.dtype !== 'int32') {
    throw new Error(`${what} must be a float32 or int32 tensor, got ${tensor.dtype}`);
  }
  const range = options.range ?? (tensor.dtype === 'int32' ? 'byte' : 'unit');
  if (range !== 'unit' && range !== 'byte') throw new Error(`range must be 'unit' or 'byte', got '${range}'`);
  checkExemplarSize(what, width, height);
  const values = (await tensor.data()) as Float32Array | Int32Array;
  const size = width * height * c;
  const out: Exemplar[] = [];
  for (let i = 0; i < count; i++) {
    out.push(
      convert(
        values.subarray(i * size, (i + 1) * size),
        width,
        height,
        c,
        options.channels ?? 3,
        range === 'byte' ? 1 / 255 : 1,
        count > 1 ? `${what} item ${i}` : what,
      ),
    );
  }
  return out;
}

/**
 * Converts training sources to exemplars. A tensor with a batch axis gives one exemplar per item; the caller's
 * tensors are read, never disposed. Throws an Error naming the source (by index) and what was wrong.
 */
export async function toExemplars(
  sources: ExemplarSource | readonly ExemplarSource[],
  options: ExemplarOptions = {},
): Promise<Exemplar[]> {
  const list = Array.isArray(sources) ? (sources as readonly ExemplarSource[]) : [sources as ExemplarSource];
  if (list.length === 0) throw new Error('at least one exemplar image is needed, got none');
  const channels = options.channels ?? 3;
  if (channels !== 3 && channels !== 4) throw new Error(`channels must be 3 or 4, got ${channels}`);
  const out: Exemplar[] = [];
  for (let i = 0; i < list.length; i++) {
    const source = list[i];
    const what = list.length > 1 ? `exemplar ${i}` : 'exemplar';
    if (source === null || typeof source !== 'object') {
      throw new Error(
        `${what} must be an image, ImageBitmap, ImageData, PixelImage or tensor, got ${source === null ? 'null' : typeof source}`,
      );
    }
    if (isTensor(source)) {
      out.push(...(await fromTensor(source, options, what)));
    } else if (
      (hasDom('HTMLImageElement') && source instanceof HTMLImageElement) ||
      (hasDom('ImageBitmap') && source instanceof ImageBitmap)
    ) {
      const image = rasterize(source as HTMLImageElement | ImageBitmap, what);
      out.push(convert(image.data, image.width, image.height, 4, channels, 1 / 255, what));
    } else if ('data' in source && 'width' in source && 'height' in source) {
      const { data, width, height } = source as { data: unknown; width: number; height: number };
      checkExemplarSize(what, width, height);
      if (data instanceof Float32Array && 'channels' in source) {
        const c = (source as Exemplar).channels;
        out.push(convert(data, width, height, c, channels, 1, what));
      } else if (data instanceof Uint8Array || data instanceof Uint8ClampedArray) {
        // An ImageData has no channels field and is always RGBA.
        const c = 'channels' in source ? (source as PixelImage).channels : 4;
        if (c !== 3 && c !== 4) throw new Error(`${what} must have 3 or 4 channels, got ${c}`);
        out.push(convert(data, width, height, c, channels, 1 / 255, what));
      } else {
        throw new Error(
          `${what} data must be a Uint8Array / Uint8ClampedArray (8-bit pixels) or a Float32Array with channels (an Exemplar)`,
        );
      }
    } else {
      throw new Error(`${what} must be an image, ImageBitmap, ImageData, PixelImage or tensor`);
    }
  }
  return out;
}
