import type { FloatImage } from './floatImage.js';

/** Mirror index into [0, n) without repeating the edge sample (reflect-101), for any offset below n. */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  let j = i;
  while (j < 0 || j >= n) j = j < 0 ? -j : 2 * n - 2 - j;
  return j;
}

/** Separable convolution with a symmetric odd-length kernel, reflect-101 borders. */
export function convolveSeparable(image: FloatImage, kernel: Float64Array | readonly number[]): FloatImage {
  const { width: w, height: h, channels: c, data } = image;
  const r = (kernel.length - 1) >> 1;
  const tmp = new Float32Array(data.length);
  const out = new Float32Array(data.length);
  const columns = new Int32Array(w * kernel.length);
  for (let x = 0; x < w; x++)
    for (let k = -r; k <= r; k++) columns[x * kernel.length + k + r] = reflect(x + k, w);
  for (let y = 0; y < h; y++) {
    const row = y * w * c;
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let k = 0; k < kernel.length; k++)
          s += kernel[k] * data[row + columns[x * kernel.length + k] * c + ch];
        tmp[row + x * c + ch] = s;
      }
    }
  }
  const stride = w * c;
  for (let y = 0; y < h; y++) {
    const o = y * stride;
    for (let k = 0; k < kernel.length; k++) {
      const from = reflect(y + k - r, h) * stride;
      const weight = kernel[k];
      for (let i = 0; i < stride; i++) out[o + i] += weight * tmp[from + i];
    }
  }
  return { data: out, width: w, height: h, channels: c };
}

/** Normalised 1-D Gaussian of the given odd `size` and `sigma`. */
export function gaussianKernel(size: number, sigma: number): Float64Array {
  if (!Number.isInteger(size) || size < 1 || size % 2 === 0) {
    throw new Error(`kernel size must be an odd positive integer, got ${size}`);
  }
  if (!(sigma > 0)) throw new Error(`sigma must be positive, got ${sigma}`);
  const k = new Float64Array(size);
  const r = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    k[i] = Math.exp(-((i - r) ** 2) / (2 * sigma * sigma));
    sum += k[i];
  }
  for (let i = 0; i < size; i++) k[i] /= sum;
  return k;
}

/** Gaussian blur with a kernel radius of ceil(3 sigma), reflect-101 borders. */
export function gaussianBlur(image: FloatImage, sigma: number): FloatImage {
  return convolveSeparable(image, gaussianKernel(2 * Math.ceil(3 * sigma) + 1, sigma));
}

/** Mean of each `factor` x `factor` block; width and height must be multiples of `factor`. */
export function downsampleBox(image: FloatImage, factor: number): FloatImage {
  const { width: w, height: h, channels: c, data } = image;
  if (!Number.isInteger(factor) || factor < 1 || w % factor !== 0 || h % factor !== 0) {
    throw new Error(`factor must be a positive integer dividing ${w}x${h}, got ${factor}`);
  }
  const ow = w / factor;
  const oh = h / factor;
  const out = new Float32Array(ow * oh * c);
  const scale = 1 / (factor * factor);
  for (let y = 0; y < h; y++) {
    const oy = Math.floor(y / factor) * ow * c;
    for (let x = 0; x < w; x++) {
      const o = oy + Math.floor(x / factor) * c;
      const i = (y * w + x) * c;
      for (let ch = 0; ch < c; ch++) out[o + ch] += data[i + ch] * scale;
    }
  }
  return { data: out, width: ow, height: oh, channels: c };
}

/** Bilinear resize to `width` x `height` with pixel centres aligned (edge samples clamped). */
export function resizeBilinear(image: FloatImage, width: number, height: number): FloatImage {
  const { width: w, height: h, channels: c, data } = image;
  const out = new Float32Array(width * height * c);
  const sx = w / width;
  const sy = h / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const ty = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const tx = fx - x0;
      const o = (y * width + x) * c;
      for (let ch = 0; ch < c; ch++) {
        const a = data[(y0 * w + x0) * c + ch] * (1 - tx) + data[(y0 * w + x1) * c + ch] * tx;
        const b = data[(y1 * w + x0) * c + ch] * (1 - tx) + data[(y1 * w + x1) * c + ch] * tx;
        out[o + ch] = a * (1 - ty) + b * ty;
      }
    }
  }
  return { data: out, width, height, channels: c };
}

/**
 * The "blurred by `factor`" degradation the evaluation uses as a reference point: box-downsample by
 * `factor`, then bilinear upsample back to the original size.
 */
export function downUpBlur(image: FloatImage, factor: number): FloatImage {
  return resizeBilinear(downsampleBox(image, factor), image.width, image.height);
}

const BINOMIAL = [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16];

/** Burt-Adelson reduce: 5-tap binomial blur, then every second pixel; output ceil(w/2) x ceil(h/2). */
export function pyramidDown(image: FloatImage): FloatImage {
  const blurred = convolveSeparable(image, BINOMIAL);
  const { width: w, height: h, channels: c } = image;
  const ow = Math.ceil(w / 2);
  const oh = Math.ceil(h / 2);
  const out = new Float32Array(ow * oh * c);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const i = (2 * y * w + 2 * x) * c;
      const o = (y * ow + x) * c;
      for (let ch = 0; ch < c; ch++) out[o + ch] = blurred.data[i + ch];
    }
  }
  return { data: out, width: ow, height: oh, channels: c };
}

/**
 * Burt-Adelson expand to `width` x `height`: zero insertion and the binomial kernel times 4, written per
 * axis as (s[i-1] + 6 s[i] + s[i+1]) / 8 at even and (s[i] + s[i+1]) / 2 at odd positions; source indices
 * past the edge are clamped.
 */
export function pyramidUp(image: FloatImage, width: number, height: number): FloatImage {
  const { width: w, height: h, channels: c, data } = image;
  const tmp = new Float32Array(width * h * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < width; x++) {
      const i = x >> 1;
      const o = (y * width + x) * c;
      const r = y * w;
      if (x % 2 === 0) {
        const a = (r + Math.max(i - 1, 0)) * c;
        const b = (r + Math.min(i, w - 1)) * c;
        const d = (r + Math.min(i + 1, w - 1)) * c;
        for (let ch = 0; ch < c; ch++) tmp[o + ch] = (data[a + ch] + 6 * data[b + ch] + data[d + ch]) / 8;
      } else {
        const a = (r + Math.min(i, w - 1)) * c;
        const b = (r + Math.min(i + 1, w - 1)) * c;
        for (let ch = 0; ch < c; ch++) tmp[o + ch] = (data[a + ch] + data[b + ch]) / 2;
      }
    }
  }
  const out = new Float32Array(width * height * c);
  const stride = width * c;
  for (let y = 0; y < height; y++) {
    const i = y >> 1;
    const o = y * stride;
    if (y % 2 === 0) {
      const a = Math.max(i - 1, 0) * stride;
      const b = Math.min(i, h - 1) * stride;
      const d = Math.min(i + 1, h - 1) * stride;
      for (let k = 0; k < stride; k++) out[o + k] = (tmp[a + k] + 6 * tmp[b + k] + tmp[d + k]) / 8;
    } else {
      const a = Math.min(i, h - 1) * stride;
      const b = Math.min(i + 1, h - 1) * stride;
      for (let k = 0; k < stride; k++) out[o + k] = (tmp[a + k] + tmp[b + k]) / 2;
    }
  }
  return { data: out, width, height, channels: c };
}

/**
 * Laplacian pyramid with `levels` entries: `levels - 1` band-pass images (finest first, each the level's
 * Gaussian image minus the expanded next one) and the low-pass residual last. Summing back reconstructs the
 * image exactly.
 */
export function laplacianPyramid(image: FloatImage, levels: number): FloatImage[] {
  if (!Number.isInteger(levels) || levels < 1)
    throw new Error(`levels must be a positive integer, got ${levels}`);
  const out: FloatImage[] = [];
  let current = image;
  for (let l = 0; l < levels - 1; l++) {
    const next = pyramidDown(current);
    const up = pyramidUp(next, current.width, current.height);
    const band = new Float32Array(current.data.length);
    for (let i = 0; i < band.length; i++) band[i] = current.data[i] - up.data[i];
    out.push({ data: band, width: current.width, height: current.height, channels: current.channels });
    current = next;
  }
  out.push(current);
  return out;
}
