import {
  backend_util,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  engine,
  getKernel,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type NamedTensorMap,
  registerKernel,
  type Tensor,
  type Tensor4D,
  type TensorInfo,
  unregisterKernel,
} from '@tensorflow/tfjs-core';

/**
 * Both gradients of a 2D convolution written as ONE forward convolution each, so that backends whose
 * gradient kernels are missing or slow (tfjs's WASM backend has no `Conv2DBackpropFilter`, and its
 * `Conv2DBackpropInput` is a plain loop many times slower than its XNNPACK `Conv2D`) train at the speed of
 * their forward convolution.
 *
 * Filter: dW[i, j, ci, co] = sum over b, y, x of xPadded[b, y*s + i, x*s + j, ci] * dy[b, y, x, co]. Read with
 * the batch and channel axes swapped, that is a convolution of x transposed to [Cin, H, W, B] with dy
 * transposed to [Ho, Wo, B, Cout] as the filter, stride 1, dilation = the forward stride; the first k x k
 * outputs, transposed back, are the gradient.
 *
 * Input: dx is the stride-1 convolution of dy, padded by k - 1 - the forward padding, with the filter turned by
 * 180 degrees and its channel axes swapped; for strided convolutions, one such convolution per phase of the
 * stride with the filter taps of that phase, interleaved.
 */

type Padding4 = [[number, number], [number, number], [number, number], [number, number]];

/** Runs kernels on one backend: directly inside a kernel, or through the engine as ordinary ops. */
interface Executor {
  run(name: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap): TensorInfo;
  free(t: TensorInfo): void;
}

function convInfo(
  xShape: number[],
  filterShape: number[],
  strides: [number, number] | number,
  pad: Conv2DBackpropFilterAttrs['pad'],
  dimRoundingMode: Conv2DBackpropFilterAttrs['dimRoundingMode'],
  dataFormat: string | undefined,
): backend_util.Conv2DInfo {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`conv2d gradient kernels support dataFormat 'NHWC' only, got '${dataFormat}'`);
  }
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** Runs `body`, freeing every intermediate it registers whatever happens; the result is kept. */
function scoped(exec: Executor, body: (track: (t: TensorInfo) => TensorInfo) => TensorInfo): TensorInfo {
  const temporaries: TensorInfo[] = [];
  try {
    return body((t) => {
      temporaries.push(t);
      return t;
    });
  } finally {
    for (const t of temporaries) exec.free(t);
  }
}

function filterGradient(
  exec: Executor,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { top, bottom, left, right } = info.padInfo;
  const k = [info.filterHeight, info.filterWidth];
  return scoped(exec, (track) => {
    const xT = track(exec.run('Transpose', { x }, { perm: [3, 1, 2, 0] }));
    const dyT = track(exec.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }));
    const pad: Padding4 = [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ];
    const dilations = [info.strideHeight, info.strideWidth];
    let full = track(
      exec.run('Conv2D', { x: xT, filter: dyT }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations }),
    );
    if (full.shape[1] !== k[0] || full.shape[2] !== k[1]) {
      const size = [full.shape[0], k[0], k[1], full.shape[3]];
      full = track(exec.run('Slice', { x: full }, { begin: [0, 0, 0, 0], size }));
    }
    return exec.run('Transpose', { x: full }, { perm: [1, 2, 0, 3] });
  });
}

/** Whether the one-convolution input gradient applies: it needs padding of at most k - 1 on every side. */
function inputGradientApplies(info: backend_util.Conv2DInfo): boolean {
  const { top, bottom, left, right } = info.padInfo;
  return Math.max(top, bottom) <= info.filterHeight - 1 && Math.max(left, right) <= info.filterWidth - 1;
}

function inputGradient(
  exec: Executor,
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const [batch, outHeight, outWidth] = dy.shape;
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, inHeight, inWidth } = info;
  const inChannels = filter.shape[2];
  const { top, left } = info.padInfo;
  return scoped(exec, (track) => {
    const turned = track(exec.run('Reverse', { x: filter }, { dims: [0, 1] }));
    const swapped = track(exec.run('Transpose', { x: turned }, { perm: [0, 1, 3, 2] }));
    if (sh === 1 && sw === 1) {
      const pad: Padding4 = [
        [0, 0],
        [kh - 1 - top, inHeight + top - outHeight],
        [kw - 1 - left, inWidth + left - outWidth],
        [0, 0],
      ];
      return exec.run(
        'Conv2D',
        { x: dy, filter: swapped },
        { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] },
      );
    }
    // Strided: input row q = u * s + r of the padded input only meets the filter taps r, r + s, r + 2s, ...,
    // so each of the s * s phases (r, c) is a stride-1 convolution of dy with that subset of the taps; the
    // phases interleave into the padded input, which is then cropped by the forward padding.
    const rowsPerPhase = Math.ceil((top + inHeight) / sh);
    const colsPerPhase = Math.ceil((left + inWidth) / sw);
    const taps = (k: number, s: number, r: number) => Math.ceil((k - r) / s);
    const rows: TensorInfo[] = [];
    for (let r = 0; r < sh; r++) {
      const phases: TensorInfo[] = [];
      for (let c = 0; c < sw; c++) {
        const mh = taps(kh, sh, r);
        const mw = taps(kw, sw, c);
        let phase: TensorInfo;
        if (mh === 0 || mw === 0) {
          phase = track(
            exec.run(
              'Fill',
              {},
              { shape: [batch, rowsPerPhase, colsPerPhase, inChannels], value: 0, dtype: 'float32' },
            ),
          );
        } else {
          const begin = [kh - 1 - r - sh * (mh - 1), kw - 1 - c - sw * (mw - 1), 0, 0];
          const sub = track(
            exec.run(
              'StridedSlice',
              { x: swapped },
              {
                begin,
                end: [
                  begin[0] + sh * (mh - 1) + 1,
                  begin[1] + sw * (mw - 1) + 1,
                  swapped.shape[2],
                  inChannels,
                ],
                strides: [sh, sw, 1, 1],
                beginMask: 0,
                endMask: 0,
                ellipsisMask: 0,
                newAxisMask: 0,
                shrinkAxisMask: 0,
              },
            ),
          );
          const pad: Padding4 = [
            [0, 0],
            [mh - 1, Math.max(0, rowsPerPhase - outHeight)],
            [mw - 1, Math.max(0, colsPerPhase - outWidth)],
            [0, 0],
          ];
          phase = track(
            exec.run(
              'Conv2D',
              { x: dy, filter: sub },
              { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] },
            ),
          );
          if (phase.shape[1] !== rowsPerPhase || phase.shape[2] !== colsPerPhase) {
            const size = [batch, rowsPerPhase, colsPerPhase, inChannels];
            phase = track(exec.run('Slice', { x: phase }, { begin: [0, 0, 0, 0], size }));
          }
        }
        phases.push(phase);
      }
      // [B, U, V, sw, C] -> columns interleaved: [B, U, V * sw, C].
      const packed = track(exec.run('Pack', phases as unknown as NamedTensorInfoMap, { axis: 3 }));
      rows.push(
        track(
          exec.run('Reshape', { x: packed }, { shape: [batch, rowsPerPhase, colsPerPhase * sw, inChannels] }),
        ),
      );
    }
    const packed = track(exec.run('Pack', rows as unknown as NamedTensorInfoMap, { axis: 2 }));
    const padded = track(
      exec.run(
        'Reshape',
        { x: packed },
        { shape: [batch, rowsPerPhase * sh, colsPerPhase * sw, inChannels] },
      ),
    );
    return exec.run(
      'Slice',
      { x: padded },
      { begin: [0, top, left, 0], size: [batch, inHeight, inWidth, inChannels] },
    );
  });
}

const opExecutor: Executor = {
  run: (name, inputs, attrs) => engine().runKernel(name, inputs as NamedTensorMap, attrs) as Tensor,
  free: (t) => (t as Tensor).dispose(),
};

/**
 * The filter gradient as ordinary tfjs ops, on any backend; the caller owns the result.
 * Same contract as tfjs's `conv2DBackpropFilter` (NHWC, dilations 1).
 */
export function conv2dFilterGradient(
  x: Tensor4D,
  dy: Tensor4D,
  filterShape: [number, number, number, number],
  strides: [number, number] | number,
  pad: 'valid' | 'same' | number,
): Tensor4D {
  const info = convInfo(x.shape, filterShape, strides, pad, undefined, 'NHWC');
  return filterGradient(opExecutor, x, dy, info) as Tensor4D;
}

/**
 * The input gradient as ordinary tfjs ops, on any backend; the caller owns the result.
 * Same contract as tfjs's `conv2DBackpropInput` (NHWC, dilations 1).
 */
export function conv2dInputGradient(
  inputShape: [number, number, number, number],
  dy: Tensor4D,
  filter: Tensor4D,
  strides: [number, number] | number,
  pad: 'valid' | 'same' | number,
): Tensor4D {
  const info = convInfo(inputShape, filter.shape, strides, pad, undefined, 'NHWC');
  if (!inputGradientApplies(info)) {
    throw new Error(`conv2dInputGradient needs padding of at most kernel size - 1 on each side, got ${pad}`);
  }
  return inputGradient(opExecutor, dy, filter, info) as Tensor4D;
}

function kernelExecutor(backendName: string, backend: KernelBackend): Executor {
  return {
    run(name, inputs, attrs) {
      const kernel = getKernel(name, backendName);
      if (!kernel)
        throw new Error(`conv2d gradient kernels need kernel '${name}' on backend '${backendName}'`);
      return kernel.kernelFunc({ inputs, backend, attrs }) as TensorInfo;
    },
    free: (t) => {
      backend.disposeData(t.dataId);
    },
  };
}

type KernelArgs = { inputs: NamedTensorInfoMap; backend: KernelBackend; attrs?: NamedAttrMap };

/**
 * A `Conv2DBackpropFilter` kernel for `backendName`, built from that backend's own Transpose, Conv2D and Slice
 * kernels (called directly, as backends call each other's kernels, so nothing nests inside the engine's
 * dispatch). Register it with `registerKernel`.
 */
export function conv2dBackpropFilterKernel(backendName: string): KernelConfig {
  const kernelFunc = ({ inputs, backend, attrs }: KernelArgs): TensorInfo => {
    const { x, dy } = inputs;
    if (!x || !dy) throw new Error('Conv2DBackpropFilter needs inputs x and dy');
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
      attrs as unknown as Conv2DBackpropFilterAttrs;
    const info = convInfo(x.shape, filterShape, strides, pad, dimRoundingMode, dataFormat);
    return filterGradient(kernelExecutor(backendName, backend), x, dy, info);
  };
  return { kernelName: Conv2DBackpropFilter, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/**
 * A `Conv2DBackpropInput` kernel for `backendName` from its Reverse, Transpose, StridedSlice, Conv2D, Fill, Pack,
 * Reshape and Slice
 * kernels. Paddings it cannot express (more than kernel size - 1 on a side) go to `fallback`, the backend's own
 * kernel, when given. Register it with `registerKernel` (after unregistering the backend's own).
 */
export function conv2dBackpropInputKernel(backendName: string, fallback?: KernelConfig): KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const { dy, filter } = inputs;
    if (!dy || !filter) throw new Error('Conv2DBackpropInput needs inputs dy and filter');
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } =
      attrs as unknown as Conv2DBackpropInputAttrs;
    if (dataFormat === 'NCHW' && fallback) return fallback.kernelFunc(args) as TensorInfo;
    const info = convInfo(inputShape, filter.shape, strides, pad, dimRoundingMode, dataFormat);
    if (!inputGradientApplies(info)) {
      if (fallback) return fallback.kernelFunc(args) as TensorInfo;
      throw new Error(
        `Conv2DBackpropInput on '${backendName}' needs padding of at most kernel size - 1 on each side`,
      );
    }
    return inputGradient(kernelExecutor(backendName, backend), dy, filter, info);
  };
  return { kernelName: Conv2DBackpropInput, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

const withConvGradients = new Set<string>();

/**
 * Registers on `backendName` (once per backend; call it after the backend initialised, so its own
 * Conv2DBackpropInput was set up and can serve as the fallback) the `Conv2DBackpropFilter` it may lack and the
 * faster `Conv2DBackpropInput` above.
 */
export function registerConvGradientKernels(backendName: string): void {
  if (withConvGradients.has(backendName)) return;
  withConvGradients.add(backendName);
  if (!getKernel(Conv2DBackpropFilter, backendName)) registerKernel(conv2dBackpropFilterKernel(backendName));
  const own = getKernel(Conv2DBackpropInput, backendName);
  if (own) unregisterKernel(Conv2DBackpropInput, backendName);
  registerKernel(conv2dBackpropInputKernel(backendName, own));
}
