import type { Scene } from '@babylonjs/core';

/**
 * What a sample page exposes on `window.__sample` for the end-to-end tests and the screenshot script: a
 * promise that settles once the first frame with content is drawn, and a way to wait until every action a
 * GUI control started has finished and a frame showing its result has been rendered.
 */
export interface SampleHook {
  /** Resolves once the sample shows its first decoded content; rejects with the startup error. */
  readonly ready: Promise<void>;
  /** Resolves once no tracked action runs and two more frames were rendered. */
  idle(): Promise<void>;
  /** Numbers and names the sample shows in its GUI (for assertions). */
  state(): Record<string, unknown>;
}

declare global {
  interface Window {
    __sample?: SampleHook;
  }
}

/** URL parameters every sample understands: `still` stops every motion so frames can be compared. */
export function sampleParams(): {
  still: boolean;
  get(name: string): string | null;
  number(name: string, fallback: number): number;
} {
  const params = new URLSearchParams(location.search);
  return {
    still: params.has('still'),
    get: (name) => params.get(name),
    number: (name, fallback) => {
      const value = Number(params.get(name));
      return params.has(name) && Number.isFinite(value) ? value : fallback;
    },
  };
}

/** Tracks the promises of GUI actions so tests can wait for them, and publishes `window.__sample`. */
export class SampleTracker {
  private _pending = 0;
  private _waiters: (() => void)[] = [];
  private readonly _scene: Scene;

  constructor(scene: Scene, ready: Promise<void>, state: () => Record<string, unknown>) {
    this._scene = scene;
    window.__sample = { ready, idle: () => this.idle(), state };
  }

  /** Runs `action` as a tracked action; errors go to the console (the tests fail on them). */
  track<T>(action: Promise<T>): Promise<T | undefined> {
    this._pending++;
    return action
      .catch((error: unknown) => {
        console.error(error);
        return undefined;
      })
      .finally(() => {
        this._pending--;
        if (this._pending === 0) for (const waiter of this._waiters.splice(0)) waiter();
      });
  }

  async idle(): Promise<void> {
    if (this._pending > 0) await new Promise<void>((resolve) => this._waiters.push(resolve));
    for (let i = 0; i < 2; i++) {
      await new Promise<void>((resolve) => this._scene.onAfterRenderObservable.addOnce(() => resolve()));
    }
  }
}
