import assert from "node:assert/strict";
import {
  IsolateExitedError,
  IsolatePool,
  IsolatesError,
  MailboxFullError,
  PoolClosedError,
  RemoteError,
  TimeoutError,
} from "@isolates/isolates";
import type * as tasks from "./fixtures/pool_tasks.ts";
import { ECHO_CHANNEL } from "./fixtures/pool_tasks.ts";
import {
  guarded,
  mainHandler,
  mentions,
  sanitized,
} from "../isolate/_helpers.ts";

const TASKS = new URL("./fixtures/pool_tasks.ts", import.meta.url);

// The slots of a Gate's shared memory. Function tasks are sent to workers as
// source, alone, so they cannot import these names: they use the numbers.
/** `block` waits while it is 0. */
const OPEN = 0;
/** How many gated tasks have started. */
const STARTED = 1;
/** A counter that tasks bump (`count`, `mark`). */
const COUNT = 2;
/** Set to 1 by `listen` when its own signal aborts in the worker. */
const SAW_ABORT = 3;
/** `hang` waits while it is 0: only the end of the test sets it. */
const NEVER = 4;

/**
 * Shared memory through which the test controls tasks that block their
 * worker, and observes them without sleeping.
 *
 * Disposing it releases every task still waiting on it. A blocked worker
 * that the pool terminates must be released too: Deno 2.9 does not interrupt
 * a worker's synchronous code on `terminate()`, so its thread would run on
 * (and keep the process alive) after the pool has let it go.
 */
class Gate implements Disposable {
  readonly view: Int32Array = new Int32Array(new SharedArrayBuffer(5 * 4));

  /** Lets every `block` task, running or to come, return. */
  open(): void {
    Atomics.store(this.view, OPEN, 1);
    Atomics.notify(this.view, OPEN);
  }

  /** Resolves once `n` gated tasks have started in their workers. */
  async started(n: number): Promise<void> {
    await reach(this.view, STARTED, n);
  }

  /** Whether a `listen` task has seen its signal abort. */
  get sawAbort(): boolean {
    return Atomics.load(this.view, SAW_ABORT) === 1;
  }

  /** The value of the counter tasks bump. */
  get count(): number {
    return Atomics.load(this.view, COUNT);
  }

  [Symbol.dispose](): void {
    this.open();
    Atomics.store(this.view, NEVER, 1);
    Atomics.notify(this.view, NEVER);
  }
}

/** Waits, on a notification from a worker, until `view[index] >= value`. */
async function reach(
  view: Int32Array,
  index: number,
  value: number,
): Promise<void> {
  for (;;) {
    const seen = Atomics.load(view, index);
    if (seen >= value) return;
    await Atomics.waitAsync(view, index, seen).value;
  }
}

// Function tasks. Each is self-contained: its source is what crosses.

/** Marks itself started, then blocks its worker until the gate opens. */
const block = (
  { view, value }: { view: Int32Array; value: number },
): number => {
  Atomics.add(view, 1, 1);
  Atomics.notify(view, 1);
  Atomics.wait(view, 0, 0);
  return value;
};

/** Marks itself started, then blocks its worker, deaf to its abort. */
const hang = (view: Int32Array): string => {
  Atomics.add(view, 1, 1);
  Atomics.notify(view, 1);
  Atomics.wait(view, 4, 0);
  return "released at the end of the test";
};

/**
 * Returns at once, unless `stuck`: then it behaves as `hang`. Run unstuck a
 * few times, it is known to the pool as a short task.
 */
const maybeHang = (
  { view, stuck }: { view: Int32Array; stuck: boolean },
): string => {
  if (stuck) {
    Atomics.add(view, 1, 1);
    Atomics.notify(view, 1);
    Atomics.wait(view, 4, 0);
  }
  return "done";
};

/**
 * Marks itself started, then waits for its own signal: once it aborts, it
 * records that in SAW_ABORT and resolves.
 */
const listen = (view: Int32Array, signal: AbortSignal): Promise<string> =>
  new Promise((resolve) => {
    signal.addEventListener("abort", () => {
      Atomics.store(view, 3, 1);
      resolve(`saw ${(signal.reason as Error).name}`);
    }, { once: true });
    Atomics.add(view, 1, 1);
    Atomics.notify(view, 1);
  });

/** Bumps the counter; returns its value before (0 for the first task). */
const count = (view: Int32Array): number => Atomics.add(view, 2, 1);

/** Returns the order in which it ran (from the counter) with its label. */
const mark = (
  { view, label }: { view: Int32Array; label: string },
): [number, string] => [Atomics.add(view, 2, 1), label];

/** Whether a `listen` task saw its abort, and which worker this is. */
const probe = (view: Int32Array): [number, string] => [
  Atomics.load(view, 3),
  (globalThis as unknown as { name: string }).name,
];

/** The worker's name and how many tasks of this kind it has run. */
const tally = (): [string, number] => {
  const scope = globalThis as unknown as { name: string; __tally?: number };
  scope.__tally = (scope.__tally ?? 0) + 1;
  return [scope.name, scope.__tally];
};

/** The worker's name (`<pool>#<n>`, one per worker the pool started). */
const whoami = (): string => (globalThis as unknown as { name: string }).name;

const double = (n: number): number => n * 2;

/**
 * Checks that `promise` rejects with an instance of `type` and returns the
 * error, for the checks of its fields that follow.
 */
async function rejection<E>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
): Promise<E> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(
      error instanceof type,
      `expected ${type.name}, got ${String(error)}`,
    );
    caught = error;
    return true;
  });
  return caught as E;
}

/** Checks that `promise` rejects with exactly `reason` (the same object). */
async function rejectsWith(
  promise: Promise<unknown>,
  reason: unknown,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal(error, reason);
    return true;
  });
}

/** The ids of the pool's workers, from `describe()`. */
function workerIds(pool: IsolatePool): string[] {
  return (pool.describe().children ?? []).map((child) => child.id);
}

/** The ids of the pool's workers that have a task, from `describe()`. */
function busyWorkers(pool: IsolatePool): string[] {
  return (pool.describe().children ?? [])
    .filter((child) => (child.details.running ?? 0) > 0)
    .map((child) => child.id);
}

/**
 * Runs `maybeHang` (unstuck) and `task` a few times one by one, so that the
 * pool measures both as short tasks, which it sends ahead to busy workers.
 */
async function warmUp<I>(
  pool: IsolatePool,
  gate: Gate,
  task: (input: I) => unknown,
  input: () => I,
): Promise<void> {
  // The pool's estimate is a running average that starts at the first run
  // (start-up included): it takes a few dozen runs to fall below 1 ms.
  for (let i = 0; i < 40; i++) {
    await pool.run(maybeHang, { view: gate.view, stuck: false });
    await pool.run(task, input());
  }
}

Deno.test(
  "IsolatePool.run() resolves with the typed result of a function task",
  sanitized,
  guarded(async (t) => {
    await using pool = new IsolatePool({ size: 1 });
    await t.step("a synchronous function", async () => {
      const upper: string = await pool.run(
        (s: string) => s.toUpperCase(),
        "ok",
      );
      assert.equal(upper, "OK");
    });
    await t.step("an async function", async () => {
      const sum: number = await pool.run(async (ns: number[]) => {
        await Promise.resolve();
        return ns.reduce((a, b) => a + b, 0);
      }, [1, 2, 3]);
      assert.equal(sum, 6);
    });
    await t.step("a structured input and result", async () => {
      const value = await pool.run(
        (input: { map: Map<string, number[]> }) => ({
          keys: [...input.map.keys()],
          bytes: new Uint8Array(input.map.get("a") ?? []),
          when: new Date(0),
        }),
        { map: new Map([["a", [1, 2]]]) },
      );
      assert.deepEqual(value, {
        keys: ["a"],
        bytes: new Uint8Array([1, 2]),
        when: new Date(0),
      });
    });
  }),
);

Deno.test(
  "IsolatePool.run() runs a module task: its default export or a named one",
  sanitized,
  guarded(async (t) => {
    await using pool = new IsolatePool({ size: 1 });
    await t.step("a URL runs the default export", async () => {
      const n: number = await pool.run<typeof tasks.default>(TASKS, 7);
      assert.equal(n, 49);
    });
    await t.step("{ module, exportName } runs that export", async () => {
      const n: number = await pool.run<typeof tasks.cube>(
        { module: TASKS, exportName: "cube" },
        3,
      );
      assert.equal(n, 27);
    });
    await t.step("a URL string and an absolute path work too", async () => {
      assert.equal(await pool.run<typeof tasks.default>(TASKS.href, 5), 25);
      assert.equal(
        await pool.run<typeof tasks.cube>(
          { module: TASKS.pathname, exportName: "cube" },
          2,
        ),
        8,
      );
    });
    await t.step("a relative path rejects with TypeError", async () => {
      const error = await rejection(
        pool.run<typeof tasks.default>("./fixtures/pool_tasks.ts", 1),
        TypeError,
      );
      mentions(error.message, "./fixtures/pool_tasks.ts", "import.meta.url");
    });
    await t.step("a missing export rejects, naming the exports", async () => {
      const error = await rejection(
        pool.run<typeof tasks.default>(
          { module: TASKS, exportName: "nope" },
          1,
        ),
        RemoteError,
      );
      assert.equal(error.remoteName, "TypeError");
      mentions(error.message, '"nope"', "cube");
      assert.equal(await pool.run<typeof tasks.default>(TASKS, 4), 16);
    });
  }),
);

Deno.test(
  "IsolatePool.run() transfers the input's buffers listed in transfer",
  sanitized,
  guarded(async (t) => {
    await using pool = new IsolatePool({ size: 1 });
    const sum = (buffer: ArrayBuffer): number =>
      new Uint8Array(buffer).reduce((a, b) => a + b, 0);
    await t.step("without transfer the buffer is copied", async () => {
      const buffer = new Uint8Array([1, 2, 3, 4]).buffer;
      assert.equal(await pool.run(sum, buffer), 10);
      assert.equal(buffer.byteLength, 4);
    });
    await t.step("with transfer it is detached from the sender", async () => {
      const buffer = new Uint8Array([1, 2, 3, 4]).buffer;
      assert.equal(await pool.run(sum, buffer, { transfer: [buffer] }), 10);
      assert.equal(buffer.byteLength, 0);
      assert.equal(buffer.detached, true);
    });
  }),
);

Deno.test(
  "IsolatePool.run() rejects a result that cannot be copied back, and the pool keeps working",
  sanitized,
  guarded(async () => {
    await using pool = new IsolatePool({ name: "uncloneable", size: 1 });
    const before = await pool.run(whoami);
    const error = await rejection(
      pool.run(() => ({ callback: () => 1 })),
      RemoteError,
    );
    assert.equal(error.code, "remote_error");
    assert.equal(error.remoteName, "TypeError");
    mentions(error.message, "result cannot be copied", "structured-cloneable");
    assert.equal(await pool.run(double, 21), 42);
    assert.equal(await pool.run(whoami), before, "the worker was replaced");
  }),
);

Deno.test(
  "IsolatePool.run() rejects with TypeError an input that cannot be copied, and the pool keeps working",
  sanitized,
  guarded(async () => {
    await using pool = new IsolatePool({ name: "uncloneable", size: 1 });
    const error = await rejection(
      pool.run((input: { f: () => number }) => typeof input, { f: () => 1 }),
      TypeError,
    );
    mentions(error.message, '"uncloneable"', "input cannot be copied");
    assert.equal(await pool.run(double, 21), 42);
    assert.equal(pool.running, 0);
    assert.equal(pool.queued, 0);
  }),
);

Deno.test(
  "IsolatePool.run() rejects with RemoteError what a task throws, and its worker runs the next task",
  sanitized,
  guarded(async (t) => {
    await using pool = new IsolatePool({ size: 1 });
    const worker = await pool.run(whoami);
    await t.step("a module task that throws", async () => {
      const error = await rejection(
        pool.run<typeof tasks.fail>(
          { module: TASKS, exportName: "fail" },
          "bad input",
        ),
        RemoteError,
      );
      assert.ok(error instanceof IsolatesError);
      assert.equal(error.code, "remote_error");
      assert.equal(error.remoteName, "RangeError");
      mentions(error.message, "RangeError", "bad input");
      assert.ok(error.remoteStack !== null);
      mentions(error.remoteStack, "pool_tasks.ts");
    });
    await t.step("a module task that rejects later", async () => {
      const error = await rejection(
        pool.run<typeof tasks.failLater>(
          { module: TASKS, exportName: "failLater" },
          "later",
        ),
        RemoteError,
      );
      assert.equal(error.remoteName, "TypeError");
      mentions(error.message, "later");
    });
    await t.step("a function task that throws", async () => {
      const error = await rejection(
        pool.run((n: number) => {
          throw new SyntaxError(`no ${n}`);
        }, 3),
        RemoteError,
      );
      assert.equal(error.remoteName, "SyntaxError");
      mentions(error.message, "no 3");
    });
    await t.step("the same worker runs the next task", async () => {
      assert.equal(await pool.run(double, 4), 8);
      assert.equal(await pool.run(whoami), worker);
      assert.equal(pool.size, 1);
    });
  }),
);

Deno.test(
  "IsolatePool.run() runs higher priorities first, and equal priorities in submission order",
  sanitized,
  guarded(async () => {
    // prefetch 1: nothing is sent ahead to the busy worker, so every task
    // waits in the pool's queue and its priority decides.
    await using pool = new IsolatePool({ size: 1, prefetch: 1 });
    using gate = new Gate();
    await pool.ready();
    const blocked = pool.run(block, { view: gate.view, value: 0 });
    assert.equal(pool.running, 1);
    const submitted: [string, number][] = [
      ["low-1", 0],
      ["high-1", 5],
      ["low-2", 0],
      ["negative", -1],
      ["mid", 1],
      ["high-2", 5],
      ["low-3", 0],
    ];
    const runs = submitted.map(([label, priority]) =>
      pool.run(mark, { view: gate.view, label }, { priority })
    );
    assert.equal(pool.queued, submitted.length);
    gate.open();
    assert.equal(await blocked, 0);
    const ran = (await Promise.all(runs))
      .sort(([a], [b]) => a - b)
      .map(([, label]) => label);
    assert.deepEqual(ran, [
      "high-1",
      "high-2",
      "mid",
      "low-1",
      "low-2",
      "low-3",
      "negative",
    ]);
  }),
);

Deno.test(
  "IsolatePool.run() rejects a queued task with its signal's reason when aborted, and never runs it",
  sanitized,
  guarded(async () => {
    await using pool = new IsolatePool({ size: 1 });
    using gate = new Gate();
    await pool.ready();
    const blocked = pool.run(block, { view: gate.view, value: 1 });
    const controller = new AbortController();
    const aborted = pool.run(count, gate.view, { signal: controller.signal });
    const after = pool.run(count, gate.view);
    assert.equal(pool.queued, 2);
    const reason = new Error("changed my mind");
    controller.abort(reason);
    await rejectsWith(aborted, reason);
    assert.equal(pool.queued, 1);
    gate.open();
    assert.equal(await blocked, 1);
    assert.equal(await after, 0, "the aborted task ran before it");
    assert.equal(gate.count, 1);
  }),
);

Deno.test(
  "IsolatePool.run() rejects at once with the reason of an already aborted signal",
  sanitized,
  guarded(async () => {
    await using pool = new IsolatePool({ size: 1 });
    using gate = new Gate();
    const reason = new Error("too late");
    const aborted = pool.run(count, gate.view, {
      signal: AbortSignal.abort(reason),
    });
    assert.equal(pool.queued, 0);
    await rejectsWith(aborted, reason);
    assert.equal(await pool.run(count, gate.view), 0);
    assert.equal(gate.count, 1);
  }),
);

Deno.test(
  "IsolatePool.run() aborts a running task's own signal in its worker when the caller aborts",
  sanitized,
  guarded(async (t) => {
    // A grace far longer than the task needs to answer: the worker must not
    // be terminated for a task that heeds its signal.
    await using pool = new IsolatePool({
      name: "polite",
      size: 1,
      abortGrace: 5_000,
    });
    using gate = new Gate();
    const worker = await pool.run(whoami);
    await t.step("the caller gets the reason at once", async () => {
      const controller = new AbortController();
      const running = pool.run(listen, gate.view, {
        signal: controller.signal,
      });
      await gate.started(1);
      const reason = new Error("stop listening");
      controller.abort(reason);
      await rejectsWith(running, reason);
    });
    await t.step("the task saw its signal, and its worker lives", async () => {
      // One worker runs one task at a time: the probe runs once the
      // aborted task has answered.
      assert.deepEqual(await pool.run(probe, gate.view), [1, worker]);
      assert.ok(gate.sawAbort);
      assert.equal(pool.size, 1);
    });
    await t.step("a task that rejects with its signal's reason", async () => {
      const controller = new AbortController();
      const running = pool.run(
        (view: Int32Array, signal: AbortSignal) =>
          new Promise((_, reject) => {
            signal.addEventListener("abort", () => reject(signal.reason));
            Atomics.add(view, 1, 1);
            Atomics.notify(view, 1);
          }),
        gate.view,
        { signal: controller.signal },
      );
      await gate.started(2);
      const reason = new Error("stop again");
      controller.abort(reason);
      await rejectsWith(running, reason);
      assert.equal(await pool.run(whoami), worker);
    });
  }),
);

Deno.test(
  "IsolatePool.run() terminates and replaces a worker whose task ignores its abort past abortGrace, without disturbing other tasks",
  sanitized,
  guarded(async () => {
    // prefetch 1: the queued tasks wait in the pool, not behind `other` on
    // its worker (sending ahead is covered by the next tests).
    await using pool = new IsolatePool({
      name: "stuck",
      size: 2,
      abortGrace: 50,
      prefetch: 1,
    });
    using gate = new Gate();
    await pool.ready();
    const controller = new AbortController();
    const stuck = pool.run(hang, gate.view, { signal: controller.signal });
    const [stuckWorker] = busyWorkers(pool);
    const other = pool.run(block, { view: gate.view, value: 7 });
    const [otherWorker] = busyWorkers(pool).filter((id) => id !== stuckWorker);
    const queued = [1, 2, 3].map((n) => pool.run(double, n));
    assert.equal(pool.running, 2);
    assert.equal(pool.queued, 3);
    await gate.started(2);
    const reason = new Error("give up on it");
    controller.abort(reason);
    await rejectsWith(stuck, reason);
    // `other` still blocks its worker: only a replacement of the stuck
    // worker can run the queued tasks.
    assert.deepEqual(await Promise.all(queued), [2, 4, 6]);
    const ids = workerIds(pool);
    assert.equal(pool.size, 2);
    assert.ok(!ids.includes(stuckWorker), "the stuck worker is still there");
    assert.ok(ids.includes(otherWorker), "the other worker was disturbed");
    gate.open();
    assert.equal(await other, 7);
    assert.equal(await pool.run(double, 5), 10);
  }),
);

Deno.test(
  "IsolatePool.run() puts back in the queue the tasks sent ahead to a worker it terminates",
  sanitized,
  guarded(async () => {
    await using pool = new IsolatePool({
      name: "ahead",
      size: 1,
      abortGrace: 20,
    });
    using gate = new Gate();
    await warmUp(pool, gate, double, () => 0);
    const controller = new AbortController();
    const stuck = pool.run(maybeHang, { view: gate.view, stuck: true }, {
      signal: controller.signal,
    });
    // Short tasks: sent ahead to the busy worker (on a machine that
    // measured the warm-up at 1 ms or more, they wait in the pool instead;
    // the outcome must be the same).
    const behind = [1, 2, 3].map((n) => pool.run(double, n));
    await gate.started(1);
    const worker = workerIds(pool)[0];
    controller.abort(new Error("stuck"));
    await assert.rejects(stuck, /stuck/);
    assert.deepEqual(await Promise.all(behind), [2, 4, 6]);
    assert.ok(!workerIds(pool).includes(worker));
  }),
);

Deno.test(
  "IsolatePool.run() still runs a task whose input was transferred when the worker it was sent ahead to is terminated",
  sanitized,
  guarded(async () => {
    // A transferred input is gone from this thread once posted: a task sent
    // ahead to a worker that then dies cannot be posted again.
    await using pool = new IsolatePool({
      name: "transferred",
      size: 1,
      abortGrace: 20,
    });
    using gate = new Gate();
    const sum = (buffer: ArrayBuffer): number =>
      new Uint8Array(buffer).reduce((a, b) => a + b, 0);
    await warmUp(pool, gate, sum, () => new Uint8Array([1]).buffer);
    const controller = new AbortController();
    const stuck = pool.run(maybeHang, { view: gate.view, stuck: true }, {
      signal: controller.signal,
    });
    const sums = [1, 2, 3].map((n) => {
      const buffer = new Uint8Array([n, n]).buffer;
      return pool.run(sum, buffer, { transfer: [buffer] });
    });
    await gate.started(1);
    controller.abort(new Error("stuck"));
    await assert.rejects(stuck, /stuck/);
    assert.deepEqual(await Promise.all(sums), [2, 4, 6]);
  }),
);

Deno.test(
  "IsolatePool.run() does not send a task ahead to a worker busy with a task of unknown length",
  sanitized,
  guarded(async () => {
    // `block` has never finished, so its length is unknown (it may run for
    // minutes): a short task sent behind it would wait that long while the
    // other worker is free, as the pool already avoids for long tasks.
    await using pool = new IsolatePool({ name: "fair", size: 2 });
    using gate = new Gate();
    await pool.ready();
    // Known short after a few dozen runs (see warmUp).
    for (let i = 0; i < 40; i++) await pool.run(double, i);
    const blocked = pool.run(block, { view: gate.view, value: 1 });
    const busy = busyWorkers(pool);
    assert.equal(busy.length, 1);
    const quick = [1, 2, 3].map((n) => pool.run(double, n));
    const blockWorker = (pool.describe().children ?? []).find((child) =>
      child.id === busy[0]
    );
    assert.equal(
      blockWorker?.details.queued,
      0,
      "a short task was sent ahead behind the blocked task",
    );
    assert.deepEqual(await Promise.all(quick), [2, 4, 6]);
    gate.open();
    assert.equal(await blocked, 1);
  }),
);

Deno.test(
  "IsolatePool.run() rejects with TimeoutError a task that runs past its timeout",
  sanitized,
  guarded(async (t) => {
    using gate = new Gate();
    await t.step("a task that heeds its signal keeps its worker", async () => {
      // A grace far longer than the task needs to answer its abort.
      await using pool = new IsolatePool({
        name: "deadline",
        size: 1,
        abortGrace: 5_000,
      });
      const worker = await pool.run(whoami);
      const error = await rejection(
        pool.run(listen, gate.view, { timeout: 20 }),
        TimeoutError,
      );
      assert.ok(error instanceof IsolatesError);
      assert.equal(error.code, "timeout");
      assert.equal(error.ms, 20);
      mentions(error.message, '"deadline"', "20 ms");
      assert.deepEqual(await pool.run(probe, gate.view), [1, worker]);
    });
    await t.step(
      "a stuck task's worker is replaced after the grace",
      async () => {
        await using pool = new IsolatePool({
          name: "deadline",
          size: 1,
          abortGrace: 50,
        });
        const worker = await pool.run(whoami);
        const stuck = pool.run(hang, gate.view, { timeout: 20 });
        const behind = pool.run(double, 21);
        const error = await rejection(stuck, TimeoutError);
        assert.equal(error.code, "timeout");
        assert.equal(await behind, 42);
        assert.equal(pool.size, 1);
        assert.notEqual(await pool.run(whoami), worker);
        assert.equal(await pool.run(double, 2, { timeout: 10_000 }), 4);
      },
    );
  }),
);

Deno.test(
  "IsolatePool does not count the workers it terminates for ignored aborts as crashes",
  sanitized,
  guarded(async () => {
    // Terminating a worker whose task ignored its abort is the pool's own
    // doing, not a crash: it must not use up the restart intensity, or a
    // few cancellations would close the pool and fail unrelated tasks.
    await using pool = new IsolatePool({
      name: "patient",
      size: 1,
      intensity: 1,
      abortGrace: 20,
    });
    using gate = new Gate();
    for (let round = 1; round <= 3; round++) {
      const controller = new AbortController();
      const stuck = pool.run(hang, gate.view, { signal: controller.signal });
      await gate.started(round);
      const reason = new Error(`abort ${round}`);
      controller.abort(reason);
      await rejectsWith(stuck, reason);
      assert.equal(await pool.run(double, round), round * 2);
    }
    const timedOut = pool.run(hang, gate.view, { timeout: 20 });
    await rejection(timedOut, TimeoutError);
    assert.equal(await pool.run(double, 10), 20);
  }),
);

Deno.test(
  "IsolatePool.run() rejects with IsolateExitedError the task whose worker dies, and replaces the worker",
  sanitized,
  guarded(async (t) => {
    await using pool = new IsolatePool({ name: "crashy", size: 1 });
    const crashes: [string, () => unknown, string][] = [
      ["Deno.exit(1)", () => Deno.exit(1), "exited"],
      ["self.close()", () => {
        (globalThis as unknown as { close(): void }).close();
        return new Promise(() => {});
      }, "exited"],
      ["an uncaught asynchronous error", () => {
        setTimeout(() => {
          throw new Error("async boom");
        });
        return new Promise(() => {});
      }, "crashed (Error: async boom)"],
    ];
    for (const [index, [label, crash, how]] of crashes.entries()) {
      await t.step(label, async () => {
        await pool.ready();
        assert.equal(pool.describe().replaced, index);
        const [worker] = workerIds(pool);
        const crashing = pool.run(crash);
        const behind = pool.run(double, 21);
        const error = await rejection(crashing, IsolateExitedError);
        assert.equal(error.code, "isolate_exited");
        assert.equal(error.isolate, worker);
        mentions(error.message, '"crashy#', `(${worker}) ${how}`);
        assert.equal(await behind, 42);
        assert.equal(pool.size, 1);
        assert.ok(!workerIds(pool).includes(worker));
        assert.equal(pool.describe().replaced, index + 1);
      });
    }
    await t.step("an uncaught error is the exit's cause", async () => {
      const error = await rejection(
        pool.run(() => {
          setTimeout(() => {
            throw new RangeError("late");
          });
          return new Promise(() => {});
        }),
        IsolateExitedError,
      );
      assert.ok(error.cause instanceof RemoteError);
      assert.equal(error.cause.remoteName, "RangeError");
    });
  }),
);

Deno.test(
  "IsolatePool gives up when its workers crash past its intensity: pending tasks reject with PoolClosedError",
  sanitized,
  guarded(async () => {
    const pool = new IsolatePool({ name: "doomed", size: 1, intensity: 2 });
    const runs = [1, 2, 3, 4, 5].map(() => pool.run(() => Deno.exit(1)));
    // Crashes 1 and 2 are tolerated; crash 3 is one too many.
    for (const run of runs.slice(0, 3)) {
      await rejection(run, IsolateExitedError);
    }
    for (const run of runs.slice(3)) {
      const error = await rejection(run, PoolClosedError);
      assert.equal(error.code, "pool_closed");
      assert.equal(error.pool, "doomed");
      mentions(error.message, '"doomed"', "gave up", "2 worker crashes");
    }
    const reason = await pool.exited;
    assert.equal(reason.kind, "crashed");
    assert.ok(
      reason.kind === "crashed" && reason.error instanceof PoolClosedError,
    );
    assert.equal(pool.size, 0);
    const refused = await rejection(pool.run(double, 1), PoolClosedError);
    assert.equal(refused.code, "pool_closed");
    await pool.close(); // resolves on a pool that already ended
  }),
);

Deno.test(
  "IsolatePool recycles a worker after maxTasksPerWorker tasks",
  sanitized,
  guarded(async (t) => {
    await t.step("tasks run one at a time", async () => {
      await using pool = new IsolatePool({
        name: "recycled",
        size: 1,
        maxTasksPerWorker: 3,
      });
      const seen: [string, number][] = [];
      for (let i = 0; i < 7; i++) seen.push(await pool.run(tally));
      assert.deepEqual(seen.map(([, n]) => n), [1, 2, 3, 1, 2, 3, 1]);
      const [a, b, c] = [seen[0][0], seen[3][0], seen[6][0]];
      assert.equal(new Set([a, b, c]).size, 3);
      assert.deepEqual(seen.map(([name]) => name), [a, a, a, b, b, b, c]);
    });
    await t.step("short tasks submitted together", async () => {
      await using pool = new IsolatePool({
        name: "recycled",
        size: 1,
        maxTasksPerWorker: 50,
      });
      // One worker runs `tally` 40 times: the pool then knows it as a short
      // task (see warmUp), which it may send ahead to its busy worker.
      for (let i = 0; i < 40; i++) await pool.run(tally);
      const seen = await Promise.all(
        Array.from({ length: 20 }, () => pool.run(tally)),
      );
      const perWorker = new Map<string, number>();
      for (const [name, n] of seen) {
        perWorker.set(name, Math.max(perWorker.get(name) ?? 0, n));
      }
      assert.equal(perWorker.size, 2, "the first worker was not recycled");
      for (const [name, most] of perWorker) {
        assert.ok(most <= 50, `worker ${name} ran ${most} tasks`);
      }
    });
  }),
);

Deno.test(
  "IsolatePool grows to max under load and ends extra workers after idleTimeout",
  sanitized,
  guarded(async (t) => {
    /**
     * Waits until the pool has shrunk to `size`. The pool emits no event
     * when an idle worker ends (`exited` is the whole pool's), so this
     * polls, bounded so that a pool that never shrinks fails the test.
     */
    async function shrunkTo(pool: IsolatePool, size: number): Promise<void> {
      for (let i = 0; pool.size > size; i++) {
        assert.ok(i < 200, `the pool still has ${pool.size} workers`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    await t.step("from min 1 to max 3, and back", async () => {
      await using pool = new IsolatePool({
        name: "elastic",
        min: 1,
        max: 3,
        idleTimeout: 20,
      });
      using gate = new Gate();
      await pool.ready();
      assert.equal(pool.size, 1);
      const blocked = [1, 2, 3, 4].map((value) =>
        pool.run(block, { view: gate.view, value })
      );
      assert.equal(pool.size, 3);
      await gate.started(3);
      assert.equal(pool.running, 3);
      assert.equal(pool.queued, 1);
      assert.equal(new Set(workerIds(pool)).size, 3);
      gate.open();
      assert.deepEqual(await Promise.all(blocked), [1, 2, 3, 4]);
      await shrunkTo(pool, 1);
      assert.equal(pool.size, 1);
      assert.equal(await pool.run(double, 2), 4);
    });
    await t.step("from min 0: a worker starts on demand", async () => {
      await using pool = new IsolatePool({
        name: "lazy",
        min: 0,
        max: 2,
        idleTimeout: 20,
      });
      assert.equal(pool.size, 0);
      const first = pool.run(double, 1);
      assert.equal(pool.size, 1);
      assert.equal(await first, 2);
      await shrunkTo(pool, 0);
      assert.equal(pool.size, 0);
      assert.equal(await pool.run(double, 3), 6);
    });
  }),
);

Deno.test(
  "IsolatePool.close() drains the accepted tasks, then refuses new ones",
  sanitized,
  guarded(async (t) => {
    const pool = new IsolatePool({ name: "draining", size: 1 });
    using gate = new Gate();
    await pool.ready();
    const accepted = [
      pool.run(block, { view: gate.view, value: 1 }),
      pool.run(double, 2),
      pool.run(double, 3),
    ];
    const closing = pool.close();
    const again = pool.close();
    await t.step("while closing, run() rejects", async () => {
      const error = await rejection(pool.run(double, 4), PoolClosedError);
      assert.equal(error.code, "pool_closed");
      mentions(error.message, '"draining"', "is closing");
    });
    await t.step("every accepted task resolves", async () => {
      gate.open();
      assert.deepEqual(await Promise.all(accepted), [1, 4, 6]);
      await closing;
      await again;
      assert.deepEqual(await pool.exited, { kind: "shutdown" });
      assert.equal(pool.size, 0);
    });
    await t.step("once closed, run() rejects", async () => {
      const error = await rejection(pool.run(double, 5), PoolClosedError);
      assert.equal(error.code, "pool_closed");
      mentions(error.message, "is closed");
    });
    await t.step("close() again resolves", async () => {
      await pool.close();
      await pool.close({ drain: false });
      assert.deepEqual(await pool.exited, { kind: "shutdown" });
    });
  }),
);

Deno.test(
  "IsolatePool.close({ drain: false }) rejects queued and running tasks with PoolClosedError",
  sanitized,
  guarded(async () => {
    const pool = new IsolatePool({ name: "hasty", size: 1 });
    using gate = new Gate();
    await pool.ready();
    const running = pool.run(block, { view: gate.view, value: 1 });
    const queued = [pool.run(double, 2), pool.run(double, 3)];
    await gate.started(1);
    const closing = pool.close({ drain: false });
    for (const task of [running, ...queued]) {
      const error = await rejection(task, PoolClosedError);
      assert.equal(error.code, "pool_closed");
      assert.equal(error.pool, "hasty");
    }
    await closing;
    assert.deepEqual(await pool.exited, { kind: "shutdown" });
    assert.equal(pool.size, 0);
    await rejection(pool.run(double, 4), PoolClosedError);
  }),
);

Deno.test(
  "IsolatePool.kill() rejects every task with PoolClosedError and exits killed",
  sanitized,
  guarded(async () => {
    const pool = new IsolatePool({ name: "killed", size: 1 });
    using gate = new Gate();
    await pool.ready();
    const running = pool.run(block, { view: gate.view, value: 1 });
    const queued = pool.run(double, 2);
    await gate.started(1);
    pool.kill();
    pool.kill();
    for (const task of [running, queued]) {
      const error = await rejection(task, PoolClosedError);
      assert.equal(error.code, "pool_closed");
      mentions(error.message, "was killed");
    }
    assert.deepEqual(await pool.exited, { kind: "killed" });
    assert.equal(pool.size, 0);
    await pool.close();
    assert.deepEqual(await pool.exited, { kind: "killed" });
  }),
);

Deno.test(
  "IsolatePool is closed by await using, after its tasks finish",
  sanitized,
  guarded(async () => {
    let outer: IsolatePool | undefined;
    let settled = false;
    let pending: Promise<number> | undefined;
    {
      await using pool = new IsolatePool({ size: 1 });
      outer = pool;
      pending = pool.run(double, 21);
      pending.then(() => settled = true, () => {});
    }
    assert.ok(settled, "the pool was disposed before its task finished");
    assert.equal(await pending, 42);
    assert.deepEqual(await outer.exited, { kind: "shutdown" });
    assert.equal(outer.size, 0);
  }),
);

Deno.test(
  "IsolatePool.run() rejects with MailboxFullError past maxQueue",
  sanitized,
  guarded(async () => {
    await using pool = new IsolatePool({
      name: "bounded",
      size: 1,
      maxQueue: 5,
    });
    using gate = new Gate();
    await pool.ready();
    const blocked = pool.run(block, { view: gate.view, value: 0 });
    const controller = new AbortController();
    const queued = [1, 2, 3, 4, 5].map((n) =>
      pool.run(double, n, n === 1 ? { signal: controller.signal } : {})
    );
    assert.equal(pool.queued, 5);
    const error = await rejection(pool.run(double, 6), MailboxFullError);
    assert.ok(error instanceof IsolatesError);
    assert.equal(error.code, "mailbox_full");
    assert.equal(error.actor, "bounded");
    assert.equal(error.capacity, 5);
    assert.equal(pool.queued, 5);
    // An aborted task leaves the queue, making room.
    controller.abort(new Error("make room"));
    await assert.rejects(queued[0], /make room/);
    const admitted = pool.run(double, 7);
    assert.equal(pool.queued, 5);
    gate.open();
    assert.equal(await blocked, 0);
    assert.deepEqual(await Promise.all(queued.slice(1)), [4, 6, 8, 10]);
    assert.equal(await admitted, 14);
  }),
);

Deno.test(
  "IsolatePool.describe() counts running and queued tasks, with a child per worker",
  sanitized,
  guarded(async () => {
    await using pool = new IsolatePool({ name: "described", size: 2 });
    using gate = new Gate();
    await pool.ready();
    const blocked = [1, 2].map((value) =>
      pool.run(block, { view: gate.view, value })
    );
    const queued = [3, 4, 5].map((n) => pool.run(double, n));
    await gate.started(2);
    const busy = pool.describe();
    assert.equal(busy.running, 2);
    assert.equal(busy.queued, 3);
    assert.equal(busy.children?.length, 2);
    for (const child of busy.children ?? []) {
      assert.equal(child.state, "running");
      assert.equal(child.details.isolate, child.id);
      assert.equal(child.details.running, 1);
      assert.equal(child.details.queued, 0);
    }
    assert.notEqual(busy.children?.[0].id, busy.children?.[1].id);
    gate.open();
    assert.deepEqual(await Promise.all(blocked), [1, 2]);
    assert.deepEqual(await Promise.all(queued), [6, 8, 10]);
    const idle = pool.describe();
    assert.equal(idle.running, 0);
    assert.equal(idle.queued, 0);
    assert.deepEqual(idle.children?.map((child) => child.details.running), [
      0,
      0,
    ]);
    assert.ok(
      idle.utilization !== undefined && idle.utilization > 0 &&
        idle.utilization <= 1,
      `utilization ${idle.utilization}`,
    );
  }),
);

Deno.test(
  "IsolatePool tasks reach plugins registered on the main thread",
  sanitized,
  guarded(async (t) => {
    using _handler = mainHandler(
      ECHO_CHANNEL,
      (call, context) => [`echo: ${call.arguments}`, context.isolate],
    );
    const echo = { module: TASKS, exportName: "echo" };
    await t.step("with the root token, passed by default", async () => {
      await using pool = new IsolatePool({ name: "plugged", size: 1 });
      await pool.ready();
      const [worker] = workerIds(pool);
      const answer = await pool.run<typeof tasks.echo>(echo, "hi");
      assert.deepEqual(answer, ["echo: hi", worker]);
    });
    await t.step("without a token (token: null)", async () => {
      await using pool = new IsolatePool({ size: 1, token: null });
      const error = await rejection(
        pool.run<typeof tasks.echo>(echo, "hi"),
        RemoteError,
      );
      assert.equal(error.remoteName, "MissingPluginException");
      mentions(error.message, ECHO_CHANNEL, "ensureInitialized");
    });
  }),
);

Deno.test(
  "IsolatePool rejects out-of-range options with RangeError",
  sanitized,
  guarded(async (t) => {
    await t.step("size 0", () => {
      assert.throws(() => new IsolatePool({ size: 0 }), (error: unknown) => {
        assert.ok(error instanceof RangeError, String(error));
        mentions(error.message, "got 0");
        return true;
      });
    });
    await t.step("min above max", () => {
      assert.throws(() => new IsolatePool({ min: 3, max: 2 }), RangeError);
      assert.throws(
        () => new IsolatePool({ min: 3, max: 2 }),
        /"min" \(3\) must not exceed "max" \(2\)/,
      );
    });
    await t.step("other pool options", () => {
      const bad: [string, Record<string, number>][] = [
        ["idleTimeout", { idleTimeout: -1 }],
        ["abortGrace", { abortGrace: -5 }],
        ["maxQueue", { maxQueue: 0 }],
        ["prefetch", { prefetch: 0 }],
        ["maxTasksPerWorker", { maxTasksPerWorker: 1.5 }],
        ["intensity", { intensity: -1 }],
        ["period", { period: 0 }],
        ["max", { max: Number.NaN }],
      ];
      for (const [name, options] of bad) {
        assert.throws(
          // min 0: a pool that wrongly accepted the option starts no worker.
          () => new IsolatePool({ min: 0, max: 1, ...options }),
          (error: unknown) => {
            assert.ok(error instanceof RangeError, String(error));
            mentions(error.message, `"${name}"`);
            return true;
          },
        );
      }
    });
    await t.step("a negative timeout or a NaN priority in run()", async () => {
      await using pool = new IsolatePool({ size: 1 });
      const error = await rejection(
        pool.run(double, 1, { timeout: -1 }),
        RangeError,
      );
      mentions(error.message, '"timeout"', "-1");
      await rejection(
        pool.run(double, 1, { priority: Number.NaN }),
        RangeError,
      );
      assert.equal(pool.queued, 0);
      assert.equal(await pool.run(double, 2, { timeout: 10_000 }), 4);
    });
  }),
);
