import type { Observable } from '@babylonjs/core/Misc/observable.js';
import type { Scene } from '@babylonjs/core/scene.js';

/** Options of a DecodeScheduler. */
export interface DecodeSchedulerOptions {
  /** Decodes started per frame, and in flight at once (default: 1). */
  maxDecodesPerFrame?: number;
  /** Milliseconds without a frame after which waiting requests start anyway, for scenes that are not rendering (default: 50). */
  idleFrameMs?: number;
}

/**
 * One step of a decode. Resolving with nothing means the content is in place; resolving with another step asks for
 * one more turn (a tiled decode's next tile), taken like a new request of the same key: at a later frame, behind
 * the requests waiting then.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a one-step decode is any `() => Promise<void>`.
export type DecodeStep = () => Promise<DecodeStep | undefined | void>;

interface PendingJob {
  run: DecodeStep;
  priority: () => number;
  order: number;
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

interface KeyState {
  pending: PendingJob | null;
  running: boolean;
  /** Set by `cancel` while a step runs: its later steps are dropped and its promises reject with this. */
  cancelled: Error | null;
}

/**
 * Spreads VAE decodes over frames: at most `maxDecodesPerFrame` decodes start per frame (and run at once),
 * the latest request per key (one key per texture) replaces any request of that key still waiting, and
 * among waiting keys the highest priority (visible textures first) and then the oldest request goes first.
 *
 * A request's promise resolves once content at least as new as that request is in place, so a caller
 * whose request was superseded still learns when the texture caught up, and a burst of requests costs
 * one decode per key, not one per request. Requests start in a microtask, never inside the caller's stack
 * (for example in the middle of a Babylon frame), so requests made in one stack coalesce before any starts.
 *
 * A decode may take several steps (a texture decoded in tiles, one per step): each step counts as one decode of
 * the frame budget, so steps of one request spread over frames. A newer request of the key supersedes a request
 * between its steps: the older one's remaining steps are dropped and its promises resolve with the newer content.
 */
export class DecodeScheduler {
  private readonly _keys = new Map<object, KeyState>();
  private _order = 0;
  private _inFlight = 0;
  private _startedThisFrame = 0;
  private _frame = 0;
  private _idleTimer: ReturnType<typeof setTimeout> | null = null;
  private _disposed = false;
  private _runQueued = false;
  /** The last turn came from the idle timer, not a frame: the scene is not rendering. */
  private _idle = false;
  /** How long waiting requests wait for a frame before the scheduler starts them itself (default: 50 ms). */
  readonly idleFrameMs: number;
  readonly maxDecodesPerFrame: number;

  constructor(options: DecodeSchedulerOptions = {}) {
    const max = options.maxDecodesPerFrame ?? 1;
    if (!Number.isInteger(max) || max < 1 || max > 64) {
      throw new Error(`maxDecodesPerFrame must be an integer between 1 and 64, got ${max}`);
    }
    this.maxDecodesPerFrame = max;
    this.idleFrameMs = options.idleFrameMs ?? 50;
  }

  /** Requests waiting for a frame (not counting those running). */
  get pendingCount(): number {
    let n = 0;
    for (const state of this._keys.values()) if (state.pending) n++;
    return n;
  }

  /** Decodes running now. */
  get inFlightCount(): number {
    return this._inFlight;
  }

  /**
   * Queues `run` for `key`, replacing the key's waiting request. `priority` is read at each frame;
   * larger goes first (default: 0).
   */
  request(key: object, run: DecodeStep, priority: () => number = () => 0): Promise<void> {
    if (this._disposed) return Promise.reject(new Error('DecodeScheduler has been disposed'));
    let state = this._keys.get(key);
    if (!state) {
      state = { pending: null, running: false, cancelled: null };
      this._keys.set(key, state);
    }
    const waiters = state.pending?.waiters ?? [];
    state.pending = { run, priority, order: this._order++, waiters };
    const promise = new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
    if (!this._runQueued) {
      this._runQueued = true;
      queueMicrotask(() => {
        this._runQueued = false;
        this.runFrame();
      });
    }
    this._armIdleTimer();
    return promise;
  }

  /** Starts a new frame: resets the per-frame budget and starts what it allows. */
  tick(): number {
    this._idle = false;
    return this._turn();
  }

  private _turn(): number {
    this._frame++;
    this._startedThisFrame = 0;
    return this.runFrame();
  }

  private _armIdleTimer(): void {
    if (this._idleTimer !== null || this._disposed || this.pendingCount === 0) return;
    const frame = this._frame;
    // Without frames, steps after the first wait only for the event loop, not a whole idleFrameMs each.
    this._idleTimer = setTimeout(
      () => {
        this._idleTimer = null;
        if (this._frame === frame) {
          this._idle = true;
          this._turn();
        }
        this._armIdleTimer();
      },
      this._idle ? 0 : this.idleFrameMs,
    );
  }

  /**
   * Drops the waiting request of `key` (its promises reject with `reason`). A running decode finishes its step;
   * its later steps are dropped and its promises reject with `reason`.
   */
  cancel(key: object, reason: Error = new Error('decode request cancelled')): void {
    const state = this._keys.get(key);
    if (!state) return;
    if (state.running) state.cancelled = reason;
    if (!state.pending) return;
    const { waiters } = state.pending;
    state.pending = null;
    for (const w of waiters) w.reject(reason);
    if (!state.running) this._keys.delete(key);
  }

  /** Starts waiting decodes as far as this frame's budget and the in-flight limit allow; returns how many. */
  runFrame(): number {
    if (this._disposed) return 0;
    const budget = Math.min(
      this.maxDecodesPerFrame - this._inFlight,
      this.maxDecodesPerFrame - this._startedThisFrame,
    );
    if (budget <= 0) return 0;
    const ready: [object, KeyState, number][] = [];
    for (const [key, state] of this._keys) {
      if (state.pending && !state.running) ready.push([key, state, state.pending.priority()]);
    }
    ready.sort(
      (a, b) => b[2] - a[2] || (a[1].pending as PendingJob).order - (b[1].pending as PendingJob).order,
    );
    const started = ready.slice(0, budget);
    for (const [key, state] of started) this._start(key, state);
    return started.length;
  }

  private _start(key: object, state: KeyState): void {
    const job = state.pending as PendingJob;
    state.pending = null;
    state.running = true;
    this._inFlight++;
    this._startedThisFrame++;
    let result: ReturnType<DecodeStep>;
    try {
      result = Promise.resolve(job.run());
    } catch (e) {
      result = Promise.reject(e);
    }
    result.then(
      (next) => this._finish(key, state, job, null, typeof next === 'function' ? next : null),
      (e) => this._finish(key, state, job, e ?? new Error('decode failed'), null),
    );
  }

  private _finish(
    key: object,
    state: KeyState,
    job: PendingJob,
    error: unknown,
    next: DecodeStep | null,
  ): void {
    this._inFlight--;
    state.running = false;
    const cancelled = state.cancelled;
    state.cancelled = null;
    if (next && cancelled) {
      for (const w of job.waiters) w.reject(cancelled);
    } else if (next && state.pending) {
      // Superseded between steps: the newer request's content is at least as new as this one's.
      state.pending.waiters.push(...job.waiters);
    } else if (next) {
      state.pending = { run: next, priority: job.priority, order: this._order++, waiters: job.waiters };
    } else {
      for (const w of job.waiters) {
        if (error) w.reject(error);
        else w.resolve();
      }
    }
    if (!state.pending) this._keys.delete(key);
    this.runFrame();
    this._armIdleTimer();
  }

  /** Rejects every waiting request; running decodes finish on their own. Safe to call twice. */
  dispose(): void {
    if (this._disposed) return;
    for (const key of [...this._keys.keys()])
      this.cancel(key, new Error('DecodeScheduler has been disposed'));
    if (this._idleTimer !== null) clearTimeout(this._idleTimer);
    this._idleTimer = null;
    this._disposed = true;
  }

  private static readonly _byScene = new WeakMap<Scene, DecodeScheduler>();

  /**
   * The scene's shared scheduler, pumped once per frame before rendering, and disposed with the scene.
   * `options` apply only when the scheduler is first created.
   */
  static forScene(scene: Scene, options?: DecodeSchedulerOptions): DecodeScheduler {
    let scheduler = DecodeScheduler._byScene.get(scene);
    if (!scheduler) {
      const created = new DecodeScheduler(options);
      const beforeRender: Observable<Scene> = scene.onBeforeRenderObservable;
      const observer = beforeRender.add(() => created.tick());
      scene.onDisposeObservable.addOnce(() => {
        beforeRender.remove(observer);
        created.dispose();
        DecodeScheduler._byScene.delete(scene);
      });
      DecodeScheduler._byScene.set(scene, created);
      scheduler = created;
    }
    return scheduler;
  }
}
