// An IsolatePool with a transport: what its own workers cannot take goes
// out, with priorities, capacity, abort, timeout and shutdown kept.
import assert from "node:assert/strict";
import {
  IsolatePool,
  type PoolTransport,
  ReceivePort,
  TimeoutError,
  type TransportTask,
} from "../../mod.ts";

interface Held {
  readonly task: TransportTask;
  readonly signal: AbortSignal;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** A transport the test drives: it holds tasks until told to settle them. */
class HeldTransport implements PoolTransport {
  readonly name = "held";
  capacity: number;
  readonly held: Held[] = [];
  wake: () => void = () => {};
  throwOnRun: Error | null = null;
  constructor(capacity: number) {
    this.capacity = capacity;
  }
  attach(wake: () => void): void {
    this.wake = wake;
  }
  run(task: TransportTask, signal: AbortSignal): Promise<unknown> {
    if (this.throwOnRun !== null) throw this.throwOnRun;
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    this.held.push({ task, signal, resolve, reject });
    return promise;
  }
  /** Answers the oldest held task by running its source here. */
  answerNext(): void {
    const held = this.held.shift()!;
    const fn = (0, eval)(`(${held.task.source})`) as (i: unknown) => unknown;
    held.resolve(fn(held.task.input));
  }
}

const turn = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

Deno.test("pool transport: with no workers, tasks go out up to capacity, by priority", async () => {
  const transport = new HeldTransport(0);
  await using pool = new IsolatePool({ size: 0, transport });
  const order: number[] = [];
  const runs = [1, 5, 3].map((priority) =>
    pool.run((n: number) => n * 10, priority, { priority }).then((v) => {
      order.push(v);
    })
  );
  await turn();
  assert.equal(transport.held.length, 0, "sent with no capacity");
  assert.equal(pool.queued, 3);
  transport.capacity = 1;
  transport.wake();
  assert.equal(transport.held.length, 1);
  assert.equal(transport.held[0].task.input, 5, "highest priority first");
  assert.equal(pool.running, 1);
  transport.capacity = 2;
  transport.wake();
  assert.equal(transport.held.length, 2);
  transport.answerNext();
  transport.answerNext();
  await turn();
  transport.answerNext();
  await Promise.all(runs);
  assert.deepEqual(order, [50, 30, 10]);
  const tree = pool.describe().children!;
  assert.deepEqual(tree.map((c) => c.id), ["transport:held"]);
  assert.equal(tree[0].details.capacity, 2);
  assert.equal(pool.running, 0);
});

Deno.test("pool transport: local workers take tasks first; the overflow goes out", async () => {
  const transport = new HeldTransport(4);
  await using pool = new IsolatePool({ size: 1, transport });
  await pool.ready();
  const slow = pool.run(async (ms: number) => {
    await new Promise((r) => setTimeout(r, ms));
    return "local";
  }, 200);
  const overflow = pool.run((s: string) => s + " remote", "went");
  await turn();
  assert.equal(transport.held.length, 1);
  assert.equal(transport.held[0].task.source?.includes("remote"), true);
  transport.answerNext();
  assert.equal(await overflow, "went remote");
  assert.equal(await slow, "local");
});

Deno.test("pool transport: abort and timeout reach the transport's signal and settle at once", async () => {
  const transport = new HeldTransport(2);
  await using pool = new IsolatePool({ size: 0, transport });
  const controller = new AbortController();
  const aborted = pool.run(() => 1, null, { signal: controller.signal })
    .catch((e) => e);
  const timed = pool.run(() => 2, null, { timeout: 20 }).catch((e) => e);
  await turn();
  assert.equal(transport.held.length, 2);
  controller.abort(new Error("stop"));
  assert.equal((await aborted).message, "stop");
  assert.equal(transport.held[0].signal.aborted, true);
  assert.equal(transport.held[0].signal.reason.message, "stop");
  const late = await timed;
  assert.ok(late instanceof TimeoutError);
  assert.ok(transport.held[1].signal.reason instanceof TimeoutError);
  // The capacity frees only once the transport has settled them.
  assert.equal(pool.running, 2);
  for (const held of transport.held.splice(0)) held.reject(held.signal.reason);
  await turn();
  assert.equal(pool.running, 0);
});

Deno.test("pool transport: kill aborts what the transport holds; exited waits for it", async () => {
  const transport = new HeldTransport(1);
  const pool = new IsolatePool({ size: 0, transport });
  const held = pool.run(() => 1).catch((e) => e);
  await turn();
  pool.kill();
  assert.equal((await held).code, "pool_closed");
  assert.equal(transport.held[0].signal.aborted, true);
  let exited = false;
  pool.exited.then(() => exited = true);
  await turn();
  assert.equal(exited, false, "exited before the transport let go");
  transport.held[0].reject(new Error("gone"));
  assert.equal((await pool.exited).kind, "killed");
});

Deno.test("pool transport: bad uses get clear errors and leave the pool working", async (t) => {
  await t.step("ports cannot leave a pool without workers", async () => {
    const transport = new HeldTransport(1);
    await using pool = new IsolatePool({ size: 0, transport });
    const port = new ReceivePort();
    try {
      const error = await pool.run((p: unknown) => p, port.sendPort)
        .catch((e) => e);
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /ports or transfers, which cannot leave/);
      const bytes = new ArrayBuffer(8);
      await assert.rejects(
        () => pool.run((b: unknown) => b, bytes, { transfer: [bytes] }),
        TypeError,
      );
    } finally {
      port.close();
    }
  });
  await t.step("a transport that throws fails that task only", async () => {
    const transport = new HeldTransport(1);
    await using pool = new IsolatePool({ size: 0, transport });
    transport.throwOnRun = new Error("no route");
    await assert.rejects(() => pool.run(() => 1), /no route/);
    transport.throwOnRun = null;
    const next = pool.run(() => 7);
    await turn();
    transport.answerNext();
    assert.equal(await next, 7);
  });
  await t.step("size 0 needs a transport", () => {
    assert.throws(
      () => new IsolatePool({ size: 0 }),
      /"size" must be a positive integer, got 0/,
    );
  });
});
