import type { AbstractEngine } from '@babylonjs/core/Engines/abstractEngine.js';
import type { Observer } from '@babylonjs/core/Misc/observable.js';
import { GPGPUContext, MathBackendWebGL, setWebGLContext } from '@tensorflow/tfjs-backend-webgl';
import {
  env,
  getKernelsForBackend,
  registerBackend,
  registerKernel,
  removeBackend,
  type Tensor,
  tensor,
  unregisterKernel,
} from '@tensorflow/tfjs-core';

/** Anything whose weights live on the GPU and must be put back after a WebGL context loss (a TextureVae). */
export interface WeightOwner {
  getWeights(): Tensor[];
  setWeights(weights: Tensor[]): void;
  readonly isDisposed?: boolean;
}

/** A tfjs WebGL backend that draws on the WebGL2 context of one Babylon engine. */
export interface SharedBackend {
  /** The tfjs backend name; it changes when the backend is rebuilt after a context loss. */
  readonly name: string;
  readonly backend: MathBackendWebGL;
  readonly gl: WebGL2RenderingContext;
  readonly engine: AbstractEngine;
  /** False between a context loss and the rebuild that follows the restore. */
  readonly isContextLive: boolean;
  /** Called after a context restore, once the backend is rebuilt and remembered weights are back. */
  onRestored(callback: () => void): () => void;
  /**
   * Keeps a CPU copy of `owner`'s weights (read once, now) so they can be uploaded again after a context loss.
   * Idempotent per owner; call it before the owner's first use on this backend.
   */
  rememberWeights(owner: WeightOwner): void;
  /**
   * Uploads the remembered weights of every owner again if the backend was rebuilt since they were last
   * uploaded; a no-op otherwise. Call it inside `runOnEngine`.
   */
  reuploadWeights(): void;
}

interface Remembered {
  ref: WeakRef<WeightOwner>;
  generation: number;
  weights: { shape: number[]; dtype: 'float32' | 'int32'; values: Float32Array | Int32Array }[];
}

class SharedBackendRecord implements SharedBackend {
  name: string;
  backend: MathBackendWebGL;
  isContextLive = true;
  private _generation = 0;
  readonly gl: WebGL2RenderingContext;
  readonly engine: AbstractEngine;
  private readonly _gpgpus: GPGPUContext[] = [];
  private readonly _restoreCallbacks = new Set<() => void>();
  private readonly _remembered: Remembered[] = [];
  private readonly _observers: Observer<AbstractEngine>[] = [];

  constructor(engine: AbstractEngine, gl: WebGL2RenderingContext) {
    this.engine = engine;
    this.gl = gl;
    const { name, backend } = this._build();
    this.name = name;
    this.backend = backend;
    this._observers.push(
      engine.onContextLostObservable.add(() => {
        this.isContextLive = false;
      }),
      engine.onContextRestoredObservable.add(() => this._restore()),
      engine.onDisposeObservable.add(() => this.dispose()),
    );
  }

  onRestored(callback: () => void): () => void {
    this._restoreCallbacks.add(callback);
    return () => this._restoreCallbacks.delete(callback);
  }

  rememberWeights(owner: WeightOwner): void {
    if (this._remembered.some((r) => r.ref.deref() === owner)) return;
    const weights = owner.getWeights();
    try {
      this._remembered.push({
        ref: new WeakRef(owner),
        generation: this._generation,
        weights: weights.map((w) => ({
          shape: w.shape.slice(),
          dtype: w.dtype === 'int32' ? 'int32' : 'float32',
          values: w.dataSync() as Float32Array | Int32Array,
        })),
      });
    } finally {
      for (const w of weights) w.dispose();
    }
  }

  /** Registers a new backend under a fresh name with every kernel of tfjs's 'webgl' backend. */
  private _build(): { name: string; backend: MathBackendWebGL } {
    // Without these two, tfjs's WebGL version probe silently creates a second context of its own.
    env().set('WEBGL_VERSION', 2);
    setWebGLContext(2, this.gl);
    const gpgpu = new GPGPUContext(this.gl);
    const backend = new MathBackendWebGL(gpgpu);
    const name = `babylon-webgl-${++backendCounter}`;
    // Negative priority: tfjs never picks this backend on its own when choosing a default.
    registerBackend(name, () => backend, -1);
    for (const kernel of getKernelsForBackend('webgl')) {
      registerKernel({ ...kernel, backendName: name });
    }
    this._gpgpus.push(gpgpu);
    return { name, backend };
  }

  private _unregister(name: string): void {
    for (const kernel of getKernelsForBackend(name)) unregisterKernel(kernel.kernelName, name);
    removeBackend(name);
  }

  private _restore(): void {
    const lost = this.name;
    // The old backend's programs and textures belong to the lost context; nothing of it can be reused.
    this._unregister(lost);
    const { name, backend } = this._build();
    this.name = name;
    this.backend = backend;
    this.isContextLive = true;
    this._generation++;
    for (const callback of [...this._restoreCallbacks]) callback();
  }

  reuploadWeights(): void {
    for (let i = this._remembered.length - 1; i >= 0; i--) {
      const entry = this._remembered[i] as Remembered;
      const owner = entry.ref.deref();
      if (!owner || owner.isDisposed) {
        this._remembered.splice(i, 1);
        continue;
      }
      if (entry.generation === this._generation) continue;
      const tensors = entry.weights.map((w) => tensor(w.values, w.shape, w.dtype));
      try {
        owner.setWeights(tensors);
      } finally {
        for (const t of tensors) t.dispose();
      }
      entry.generation = this._generation;
    }
  }

  dispose(): void {
    if (!backends.has(this.engine)) return;
    backends.delete(this.engine);
    for (const observer of this._observers) observer.remove();
    this._observers.length = 0;
    this._restoreCallbacks.clear();
    this._remembered.length = 0;
    this._unregister(this.name);
    // MathBackendWebGL only disposes a GPGPUContext it created itself.
    if (this.isContextLive) this._gpgpus.at(-1)?.dispose();
    this._gpgpus.length = 0;
  }
}

let backendCounter = 0;
const backends = new WeakMap<AbstractEngine, SharedBackendRecord>();

/** The WebGL2 context of a Babylon engine, or null for WebGPU, NullEngine, WebGL1 or a lost context. */
export function webGL2ContextOf(engine: AbstractEngine): WebGL2RenderingContext | null {
  if (engine.isWebGPU || typeof WebGL2RenderingContext === 'undefined') return null;
  const gl = (engine as AbstractEngine & { _gl?: unknown })._gl;
  if (!(gl instanceof WebGL2RenderingContext) || gl.isContextLost()) return null;
  return gl;
}

/** Whether `getSharedBackend(engine)` can work: a WebGL2 engine whose context can render to float textures. */
export function canShareContext(engine: AbstractEngine): boolean {
  const gl = webGL2ContextOf(engine);
  return gl !== null && gl.getExtension('EXT_color_buffer_float') !== null;
}

/**
 * The tfjs WebGL backend on `engine`'s own WebGL2 context: created on first use, one per engine, removed when
 * the engine is disposed and rebuilt after a context restore. Run tfjs work on it through `runOnEngine`,
 * which hands GL state over in both directions.
 * Throws for engines without a usable WebGL2 context (WebGPU, NullEngine, WebGL1): use the readback path there.
 */
export function getSharedBackend(engine: AbstractEngine): SharedBackend {
  const existing = backends.get(engine);
  if (existing) return existing;
  const gl = webGL2ContextOf(engine);
  if (!gl) {
    throw new Error(
      `a shared tfjs backend needs a Babylon engine on a live WebGL2 context, got ${engine.name ?? 'an engine'} ` +
        `(${engine.isWebGPU ? 'WebGPU' : `WebGL ${(engine as { webGLVersion?: number }).webGLVersion ?? 'unknown'}`}); ` +
        'use the readback path instead',
    );
  }
  if (gl.getExtension('EXT_color_buffer_float') === null) {
    throw new Error(
      'a shared tfjs backend needs EXT_color_buffer_float on the WebGL2 context; use the readback path',
    );
  }
  const record = new SharedBackendRecord(engine, gl);
  backends.set(engine, record);
  return record;
}

/** The shared backend of `engine` if one was created, without creating it. */
export function peekSharedBackend(engine: AbstractEngine): SharedBackend | undefined {
  return backends.get(engine);
}

/** Removes the shared backend of `engine` (also done when the engine is disposed). */
export function disposeSharedBackend(engine: AbstractEngine): void {
  backends.get(engine)?.dispose();
}
