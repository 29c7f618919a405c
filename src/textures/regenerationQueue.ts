interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

interface Job<T> {
  value: T;
  waiters: Waiter[];
}

/**
 * Coalesces regeneration requests: at most one job runs and at most one waits; a new request replaces the
 * waiting one (latest wins), so rapid changes never queue work. A request's promise resolves when content at
 * least as new as that request is in place (a replaced request resolves with the job that replaced it) and
 * rejects with that job's error. Jobs start in a microtask, never inside the caller's stack (for example in
 * the middle of a Babylon frame).
 */
export class RegenerationQueue<T> {
  private readonly _run: (value: T) => Promise<void>;
  private _running: Job<T> | null = null;
  private _waiting: Job<T> | null = null;
  private _disposed: Error | null = null;

  /** @param run does the work for one request value; called one at a time. */
  constructor(run: (value: T) => Promise<void>) {
    this._run = run;
  }

  /** Whether a job is running or waiting. */
  get isBusy(): boolean {
    return this._running !== null || this._waiting !== null;
  }

  /** Asks for `value` to be produced; see the class comment for when the promise settles. */
  request(value: T): Promise<void> {
    if (this._disposed) return Promise.reject(this._disposed);
    return new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject };
      if (this._waiting) {
        this._waiting.value = value;
        this._waiting.waiters.push(waiter);
        return;
      }
      this._waiting = { value, waiters: [waiter] };
      if (!this._running) queueMicrotask(() => this._next());
    });
  }

  private _next(): void {
    if (this._running || !this._waiting || this._disposed) return;
    const job = this._waiting;
    this._waiting = null;
    this._running = job;
    let outcome: Promise<void>;
    try {
      outcome = this._run(job.value);
    } catch (error) {
      outcome = Promise.reject(error);
    }
    outcome.then(
      () => this._finish(job, null),
      (error: unknown) => this._finish(job, error instanceof Error ? error : new Error(String(error))),
    );
  }

  private _finish(job: Job<T>, error: Error | null): void {
    this._running = null;
    for (const waiter of job.waiters) {
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
    this._next();
  }

  /**
   * Rejects the waiting request with `reason` and refuses new ones; the running job finishes on its own (its
   * requests settle with its outcome). Twice is harmless.
   */
  dispose(reason: Error = new Error('RegenerationQueue has been disposed')): void {
    if (this._disposed) return;
    this._disposed = reason;
    const waiting = this._waiting;
    this._waiting = null;
    for (const waiter of waiting?.waiters ?? []) waiter.reject(reason);
  }
}
