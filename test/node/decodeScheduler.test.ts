import { NullEngine, Scene } from '@babylonjs/core';
import { describe, expect, it } from 'vitest';
import { DecodeScheduler } from '../../src/textures/decodeScheduler.js';

/** A decode whose completion the test controls. */
function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('DecodeScheduler', () => {
  it('starts at most maxDecodesPerFrame decodes per frame', async () => {
    const s = new DecodeScheduler({ maxDecodesPerFrame: 2, idleFrameMs: 10_000 });
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof deferred>>();
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      const gate = deferred();
      gates.set(name, gate);
      s.request({ name }, () => {
        started.push(name);
        return gate.promise;
      });
    }
    expect(started).toEqual([]); // requests start in a microtask, not in the caller's stack
    await flush();
    expect(started).toEqual(['a', 'b']);
    expect(s.tick()).toBe(0); // both slots still busy
    gates.get('a')?.resolve();
    await flush();
    expect(started).toEqual(['a', 'b', 'c']); // a new frame had begun: its budget takes the freed slot
    gates.get('b')?.resolve();
    await flush();
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    gates.get('c')?.resolve();
    await flush();
    expect(started).toEqual(['a', 'b', 'c', 'd']); // this frame's budget of 2 is spent
    expect(s.tick()).toBe(1);
    expect(started).toEqual(['a', 'b', 'c', 'd', 'e']);
    s.dispose();
  });

  it('keeps only the latest request per key and resolves superseded requests with it', async () => {
    const s = new DecodeScheduler({ idleFrameMs: 10_000 });
    const key = {};
    const ran: number[] = [];
    const first = deferred();
    const p0 = s.request(key, () => {
      ran.push(0);
      return first.promise;
    });
    await flush();
    const later: Promise<void>[] = [];
    for (let i = 1; i <= 1000; i++) {
      later.push(
        s.request(key, async () => {
          ran.push(i);
        }),
      );
    }
    expect(s.pendingCount).toBe(1);
    first.resolve();
    await p0;
    s.tick();
    await Promise.all(later);
    expect(ran).toEqual([0, 1000]);
    expect(s.pendingCount).toBe(0);
    expect(s.inFlightCount).toBe(0);
    s.dispose();
  });

  it('starts visible (higher priority) keys first, then the oldest request', async () => {
    const s = new DecodeScheduler({ idleFrameMs: 10_000 });
    const order: string[] = [];
    const blocker = deferred();
    s.request({}, () => blocker.promise);
    await flush();
    const visible = new Set(['late-visible']);
    for (const name of ['old-hidden', 'late-visible', 'newer-hidden']) {
      s.request(
        { name },
        async () => {
          order.push(name);
        },
        () => (visible.has(name) ? 1 : 0),
      );
    }
    blocker.resolve();
    for (let i = 0; i < 3; i++) {
      await flush();
      s.tick();
    }
    await flush();
    expect(order).toEqual(['late-visible', 'old-hidden', 'newer-hidden']);
    s.dispose();
  });

  it('runs waiting requests without frames after idleFrameMs', async () => {
    const s = new DecodeScheduler({ idleFrameMs: 5 });
    const done: number[] = [];
    await Promise.all(
      [0, 1, 2].map((i) =>
        s.request({ i }, async () => {
          done.push(i);
        }),
      ),
    );
    expect(done).toEqual([0, 1, 2]);
    s.dispose();
  });

  it('propagates a failing decode to every waiter of that request and keeps going', async () => {
    const s = new DecodeScheduler({ idleFrameMs: 5 });
    const bad = s.request({}, async () => {
      throw new Error('decoder exploded');
    });
    await expect(bad).rejects.toThrow('decoder exploded');
    await expect(s.request({}, async () => {})).resolves.toBeUndefined();
    s.dispose();
  });

  it('cancel and dispose reject waiting requests with a clear error', async () => {
    const s = new DecodeScheduler({ idleFrameMs: 10_000 });
    const gate = deferred();
    const key = {};
    s.request(key, () => gate.promise);
    await flush();
    const waiting = s.request(key, async () => {});
    s.cancel(key);
    await expect(waiting).rejects.toThrow('decode request cancelled');
    const other = s.request({}, async () => {});
    s.dispose();
    s.dispose();
    await expect(other).rejects.toThrow('DecodeScheduler has been disposed');
    await expect(s.request({}, async () => {})).rejects.toThrow('DecodeScheduler has been disposed');
    gate.resolve();
  });

  /** A request of `steps` steps on `key` that logs `name:index` as each step starts. */
  function stepped(log: string[], name: string, steps: number) {
    const step = (i: number) => async () => {
      log.push(`${name}:${i}`);
      return i + 1 < steps ? step(i + 1) : undefined;
    };
    return step(0);
  }

  it('runs a request of several steps one step per frame, behind the requests waiting then', async () => {
    const s = new DecodeScheduler({ idleFrameMs: 10_000 });
    const log: string[] = [];
    let done = false;
    const tiled = s.request({}, stepped(log, 't', 3)).then(() => {
      done = true;
    });
    const other = s.request({}, stepped(log, 'o', 1));
    await flush();
    expect(log).toEqual(['t:0']);
    s.tick();
    await flush();
    expect(log).toEqual(['t:0', 'o:0']); // the other key waited longer than the second step
    s.tick();
    await flush();
    expect(log).toEqual(['t:0', 'o:0', 't:1']);
    expect(done).toBe(false);
    s.tick();
    await flush();
    expect(log).toEqual(['t:0', 'o:0', 't:1', 't:2']);
    await Promise.all([tiled, other]);
    expect(s.pendingCount).toBe(0);
    expect(s.inFlightCount).toBe(0);
    s.dispose();
  });

  it('a newer request between steps drops the later steps of the older one; both resolve with it', async () => {
    const s = new DecodeScheduler({ idleFrameMs: 10_000 });
    const key = {};
    const log: string[] = [];
    const gate = deferred();
    const older = s.request(key, async () => {
      log.push('old:0');
      await gate.promise;
      return stepped(log, 'old', 3);
    });
    await flush();
    const newer = s.request(key, stepped(log, 'new', 2));
    gate.resolve();
    for (let i = 0; i < 4; i++) {
      await flush();
      s.tick();
    }
    await Promise.all([older, newer]);
    expect(log).toEqual(['old:0', 'new:0', 'new:1']);
    s.dispose();
  });

  it('cancel during a step drops the later steps and rejects their request', async () => {
    const s = new DecodeScheduler({ idleFrameMs: 10_000 });
    const key = {};
    const log: string[] = [];
    const gate = deferred();
    const request = s.request(key, async () => {
      await gate.promise;
      return stepped(log, 'later', 2);
    });
    await flush();
    s.cancel(key, new Error('texture disposed'));
    gate.resolve();
    await expect(request).rejects.toThrow('texture disposed');
    s.tick();
    await flush();
    expect(log).toEqual([]);
    expect(s.pendingCount).toBe(0);
    s.dispose();
  });

  it('without frames, steps after the first idle turn follow on the event loop', async () => {
    const s = new DecodeScheduler({ idleFrameMs: 5 });
    const log: string[] = [];
    await s.request({}, stepped(log, 't', 20));
    expect(log.length).toBe(20);
    s.dispose();
  });

  it('rejects a bad maxDecodesPerFrame', () => {
    expect(() => new DecodeScheduler({ maxDecodesPerFrame: 0 })).toThrow(
      'maxDecodesPerFrame must be an integer between 1 and 64, got 0',
    );
  });

  it('gives one scheduler per scene, pumped by scene frames and disposed with the scene', async () => {
    const engine = new NullEngine();
    const scene = new Scene(engine);
    const s = DecodeScheduler.forScene(scene, { idleFrameMs: 10_000 });
    expect(DecodeScheduler.forScene(scene)).toBe(s);
    const gate = deferred();
    s.request({}, () => gate.promise);
    let ran = false;
    const second = s.request({}, async () => {
      ran = true;
    });
    gate.resolve();
    await flush();
    expect(ran).toBe(false);
    scene.onBeforeRenderObservable.notifyObservers(scene);
    await second;
    expect(ran).toBe(true);
    const waiting = [s.request({}, async () => {}), s.request({}, async () => {})];
    scene.dispose();
    for (const w of waiting) await expect(w).rejects.toThrow('DecodeScheduler has been disposed');
    expect(DecodeScheduler.forScene(new Scene(engine))).not.toBe(s);
    engine.dispose();
  });
});
