// Every settle path: after close(), kill(), a crash or an abort, no promise
// of Isolate, IsolatePool, Actor, Supervisor, EventChannel streams or
// ReceivePort is left pending. Each test tracks every promise it creates
// and waits for all of them (a hang fails it through the watchdog), then
// checks how each settled; Deno's op and resource sanitizers check that no
// worker, timer or port is left behind.
import assert from "node:assert/strict";
import {
  Actor,
  ActorExitedError,
  EventChannel,
  type EventSink,
  type ExitReason,
  IsolateExitedError,
  IsolatePool,
  MethodChannel,
  PlatformException,
  PoolClosedError,
  ReceivePort,
  RemoteError,
  ServicesBinding,
  StateError,
  Supervisor,
  SupervisorError,
} from "../../mod.ts";
import { collect, guarded, sanitized } from "../isolate/_helpers.ts";
import { type Faulty, okOf, spawnFaulty, Tracked } from "./_faults.ts";

/** Asserts that a settled result is a rejection with an instance of `type`. */
function rejectedWith<E>(
  result: PromiseSettledResult<unknown>,
  type: abstract new (...args: never[]) => E,
  label: string,
): E {
  assert.equal(
    result.status,
    "rejected",
    `${label}: ${JSON.stringify(result)}`,
  );
  const reason = (result as PromiseRejectedResult).reason;
  assert.ok(reason instanceof type, `${label}: got ${reason}`);
  return reason;
}

/** A root stream handler that records who listens and who is cancelled. */
class StreamRecorder {
  readonly channel = new EventChannel("settle/stream");
  readonly cancels: unknown[] = [];
  readonly sinks = new Map<string, EventSink>();
  #listened = new Map<string, PromiseWithResolvers<void>>();

  constructor() {
    this.channel.setStreamHandler({
      onListen: (args, sink) => {
        this.sinks.set(String(args), sink);
        this.#waiter(String(args)).resolve();
      },
      onCancel: (args) => {
        this.cancels.push(args);
      },
    });
  }

  /** Resolves once `listener` (its listen arguments) has subscribed. */
  listened(listener: string): Promise<void> {
    return this.#waiter(listener).promise;
  }

  #waiter(listener: string): PromiseWithResolvers<void> {
    let waiter = this.#listened.get(listener);
    if (waiter === undefined) {
      waiter = Promise.withResolvers<void>();
      this.#listened.set(listener, waiter);
    }
    return waiter;
  }

  [Symbol.dispose](): void {
    this.channel.setStreamHandler(null);
  }
}

/** Resolves once the main thread has handled what `worker` sent before. */
async function callsHandled(worker: Faulty): Promise<void> {
  const barrier = new MethodChannel("settle/barrier");
  barrier.setMethodCallHandler(() => "after");
  try {
    assert.equal(
      okOf(
        await worker.ask({
          op: "invoke",
          channel: barrier.name,
          method: "barrier",
        }),
      ),
      "after",
    );
  } finally {
    barrier.setMethodCallHandler(null);
  }
}

Deno.test(
  "Isolate ended by kill(), stop(), a crash, Deno.exit() or self.close() settles everything pending on it: calls in flight, exited, onExit, its stream subscription",
  sanitized,
  guarded(async (t) => {
    using streams = new StreamRecorder();
    const heldByMain: PromiseWithResolvers<string>[] = [];
    const arrived = new MethodChannel("settle/main-held");
    let heldArrived = Promise.withResolvers<void>();
    arrived.setMethodCallHandler(() => {
      const answer = Promise.withResolvers<string>();
      heldByMain.push(answer);
      heldArrived.resolve();
      return answer.promise;
    });
    const endings = [
      ["kill()", { kind: "killed" }],
      ["stop()", { kind: "shutdown" }],
      ["a crash", { kind: "crashed" }],
      ["Deno.exit()", { kind: "normal" }],
      ["self.close()", { kind: "normal" }],
    ] as const;
    try {
      for (const [how, expected] of endings) {
        await t.step(how, async () => {
          const tracked = new Tracked();
          const exits = new ReceivePort("exits");
          const worker = await spawnFaulty({
            onExit: exits.sendPort,
            onExitMessage: how,
            onError: () => {},
          });
          tracked.add(worker.isolate.exited);
          tracked.add(exits.first);
          // Calls from the main thread into the worker, held there.
          const notified = new ReceivePort("held");
          const held = collect(notified);
          okOf(
            await worker.ask({
              op: "serve",
              channel: "settle/held",
              behaviour: "hold",
              notify: notified.sendPort,
            }),
          );
          const into = new MethodChannel(
            "settle/held",
            undefined,
            ServicesBinding.messengerFor(worker.id),
          );
          [1, 2, 3].map((i) => tracked.add(into.invokeMethod(`call ${i}`)));
          for (let i = 1; i <= 3; i++) {
            assert.equal(await held.next(), `call ${i}`);
          }
          notified.close();
          // A subscription to a stream the main thread serves.
          worker.tell({
            op: "listen",
            channel: streams.channel.name,
            args: worker.id,
          });
          await streams.listened(worker.id);
          // A call of the worker to the main thread, held there.
          heldArrived = Promise.withResolvers();
          worker.tell({ op: "invoke", channel: arrived.name, method: "hold" });
          await heldArrived.promise;
          await callsHandled(worker);

          switch (how) {
            case "kill()":
              worker.isolate.kill();
              break;
            case "stop()":
              worker.isolate.stop();
              break;
            case "a crash":
              worker.tell({ op: "end", how: "crash" });
              break;
            case "Deno.exit()":
              worker.tell({ op: "end", how: "exit" });
              break;
            case "self.close()":
              worker.tell({ op: "end", how: "close" });
              break;
          }
          const results = await tracked.settled();
          assert.equal(results.length, 5);
          const reason =
            (results[0] as PromiseFulfilledResult<ExitReason>).value;
          assert.equal(reason.kind, expected.kind);
          assert.deepEqual(results[1], { status: "fulfilled", value: how });
          for (const [i, result] of results.slice(2).entries()) {
            const error = rejectedWith(
              result,
              IsolateExitedError,
              `call ${i + 1}`,
            );
            assert.equal(error.code, "isolate_exited");
            assert.equal(error.isolate, worker.id);
          }
          // The stream's platform side was cancelled for the dead listener.
          assert.deepEqual(
            streams.cancels.filter((args) => args === worker.id),
            [
              worker.id,
            ],
          );
          // Its sink now drops events, and answering its held call is
          // harmless.
          streams.sinks.get(worker.id)!.success("to nobody");
          heldByMain.shift()!.resolve("to nobody");
        });
      }
      await t.step("the main thread keeps serving", async () => {
        await using worker = await spawnFaulty();
        okOf(
          await worker.ask({
            op: "serve",
            channel: "settle/echo",
            behaviour: "echo",
          }),
        );
        assert.equal(
          await new MethodChannel(
            "settle/echo",
            undefined,
            ServicesBinding.messengerFor(worker.id),
          ).invokeMethod("echo", "still here"),
          "still here",
        );
      });
    } finally {
      arrived.setMethodCallHandler(null);
    }
  }),
);

/** The slots of the gate's shared memory (function tasks use the numbers). */
const OPEN = 0;
const STARTED = 1;

/** Blocks its worker until the gate opens; counts itself started. */
const gated = (view: Int32Array): string => {
  Atomics.add(view, 1, 1);
  Atomics.notify(view, 1);
  Atomics.wait(view, 0, 0);
  return "released";
};

/** Waits for its own signal, then rejects with its reason. */
const abortable = (_: null, signal: AbortSignal): Promise<never> =>
  new Promise((_resolve, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), {
      once: true,
    });
  });

/**
 * Shared memory that gated tasks block on. Disposing it opens the gate, so
 * that a blocked thread the pool let go of can end (Deno 2.9 does not
 * interrupt a worker's synchronous code on terminate()).
 */
class Gate implements Disposable {
  readonly view = new Int32Array(new SharedArrayBuffer(8));

  async started(n: number): Promise<void> {
    for (;;) {
      const seen = Atomics.load(this.view, STARTED);
      if (seen >= n) return;
      await Atomics.waitAsync(this.view, STARTED, seen).value;
    }
  }

  open(): void {
    Atomics.store(this.view, OPEN, 1);
    Atomics.notify(this.view, OPEN);
  }

  [Symbol.dispose](): void {
    this.open();
  }
}

Deno.test(
  "IsolatePool settles every task, running or queued, on close(), close({ drain: false }), kill(), giving up and abort",
  sanitized,
  guarded(async (t) => {
    await t.step(
      "close(): every accepted task resolves, later ones reject",
      async () => {
        using gate = new Gate();
        const pool = new IsolatePool({ name: "drain", size: 2 });
        const tracked = new Tracked();
        for (let i = 0; i < 6; i++) tracked.add(pool.run(gated, gate.view));
        await gate.started(2);
        tracked.add(pool.close());
        tracked.add(pool.run(gated, gate.view));
        gate.open();
        const results = await tracked.settled();
        for (const result of results.slice(0, 6)) {
          assert.deepEqual(result, { status: "fulfilled", value: "released" });
        }
        assert.deepEqual(results[6], { status: "fulfilled", value: undefined });
        const late = rejectedWith(results[7], PoolClosedError, "after close");
        assert.equal(late.code, "pool_closed");
        assert.deepEqual(await pool.exited, { kind: "shutdown" });
      },
    );
    for (const how of ["close({ drain: false })", "kill()"] as const) {
      await t.step(
        `${how}: every task rejects with PoolClosedError`,
        async () => {
          using gate = new Gate();
          const pool = new IsolatePool({ name: "abandon", size: 2 });
          const tracked = new Tracked();
          for (let i = 0; i < 6; i++) tracked.add(pool.run(gated, gate.view));
          await gate.started(2);
          if (how === "kill()") pool.kill();
          else tracked.add(pool.close({ drain: false }));
          const results = await tracked.settled();
          for (const [i, result] of results.slice(0, 6).entries()) {
            const error = rejectedWith(result, PoolClosedError, `task ${i}`);
            assert.equal(error.code, "pool_closed");
          }
          if (how !== "kill()") {
            assert.deepEqual(results[6], {
              status: "fulfilled",
              value: undefined,
            });
          }
          assert.equal(
            (await pool.exited).kind,
            how === "kill()" ? "killed" : "shutdown",
          );
        },
      );
    }
    await t.step(
      "giving up: the crashed task and every other one settle",
      async () => {
        const pool = new IsolatePool({
          name: "fragile",
          size: 1,
          intensity: 0,
        });
        const tracked = new Tracked();
        tracked.add(pool.run(() => Deno.exit(1)));
        for (let i = 0; i < 4; i++) tracked.add(pool.run((n: number) => n, i));
        const results = await tracked.settled();
        assert.equal(
          rejectedWith(results[0], IsolateExitedError, "crashed").code,
          "isolate_exited",
        );
        for (const [i, result] of results.slice(1).entries()) {
          rejectedWith(result, PoolClosedError, `queued ${i}`);
        }
        assert.equal((await pool.exited).kind, "crashed");
        await pool.close();
      },
    );
    await t.step(
      "abort: running and queued tasks reject with the reason",
      async () => {
        await using pool = new IsolatePool({ name: "aborted", size: 1 });
        const controller = new AbortController();
        const tracked = new Tracked();
        for (let i = 0; i < 4; i++) {
          tracked.add(pool.run(abortable, null, { signal: controller.signal }));
        }
        const reason = new Error("no longer needed");
        await pool.ready();
        controller.abort(reason);
        for (const result of await tracked.settled()) {
          assert.equal(result.status, "rejected");
          const got = (result as PromiseRejectedResult).reason;
          // The running task rejects with its own signal's reason, sent back
          // from the worker; the queued ones with the reason itself.
          assert.ok(
            got === reason ||
              (got instanceof RemoteError &&
                got.message.includes("no longer needed")),
            String(got),
          );
        }
        assert.equal(await pool.run((n: number) => n * 3, 3), 9);
      },
    );
  }),
);

type Job = { kind: "job"; n: number } | { kind: "boom" };

/** An actor whose `job` handlers wait for the test to release them. */
function heldActor(capacity: number): {
  actor: Actor<Job, { job: number; boom: void }>;
  started: () => Promise<number>;
  release: (n: number) => void;
} {
  const waiting: PromiseWithResolvers<void>[] = [];
  const starts = new ReceivePort("starts");
  const started = collect(starts);
  const actor = new Actor<Job, { job: number; boom: void }>({
    job: async ({ n }) => {
      const gate = Promise.withResolvers<void>();
      waiting[n] = gate;
      starts.sendPort.send(n);
      await gate.promise;
      return n;
    },
    boom: () => {
      throw new RangeError("boom");
    },
  }, { name: "held", mailbox: { capacity, overflow: "wait" } });
  actor.exited.then(() => starts.close());
  return {
    actor,
    started: () => started.next() as Promise<number>,
    release: (n) => waiting[n]?.resolve(),
  };
}

Deno.test(
  "Actor settles every ask and every sender waiting for room on stop(), kill(), a crash and an abort",
  sanitized,
  guarded(async (t) => {
    await t.step(
      "stop(): accepted messages are handled, waiting senders rejected",
      async () => {
        const { actor, started, release } = heldActor(2);
        const tracked = new Tracked();
        for (let n = 0; n < 3; n++) tracked.add(actor.ask({ kind: "job", n }));
        assert.equal(await started(), 0);
        // Senders waiting for room.
        tracked.add(actor.tell({ kind: "job", n: 3 }));
        tracked.add(actor.ask({ kind: "job", n: 4 }));
        actor.stop();
        for (let n = 0; n < 3; n++) {
          if (n > 0) assert.equal(await started(), n);
          release(n);
        }
        const results = await tracked.settled();
        assert.deepEqual(
          results.slice(0, 3).map((r) => r.status === "fulfilled" && r.value),
          [0, 1, 2],
        );
        for (const result of results.slice(3)) {
          assert.equal(
            rejectedWith(result, ActorExitedError, "blocked").code,
            "actor_exited",
          );
        }
        assert.deepEqual(await actor.exited, { kind: "shutdown" });
      },
    );
    await t.step(
      "kill(): the running, queued and waiting asks reject",
      async () => {
        const { actor, started } = heldActor(2);
        const tracked = new Tracked();
        for (let n = 0; n < 5; n++) tracked.add(actor.ask({ kind: "job", n }));
        tracked.add(actor.tell({ kind: "job", n: 5 }));
        assert.equal(await started(), 0);
        actor.kill();
        for (const [i, result] of (await tracked.settled()).entries()) {
          rejectedWith(result, ActorExitedError, `message ${i}`);
        }
        assert.deepEqual(await actor.exited, { kind: "killed" });
      },
    );
    await t.step(
      "a crash: its ask gets the error, the others ActorExitedError",
      async () => {
        const { actor, started, release } = heldActor(3);
        const tracked = new Tracked();
        tracked.add(actor.ask({ kind: "job", n: 0 }));
        tracked.add(actor.ask({ kind: "boom" }));
        tracked.add(actor.ask({ kind: "job", n: 1 }));
        tracked.add(actor.ask({ kind: "job", n: 2 }));
        tracked.add(actor.ask({ kind: "job", n: 3 })); // waits for room
        assert.equal(await started(), 0);
        release(0);
        const results = await tracked.settled();
        assert.deepEqual(results[0], { status: "fulfilled", value: 0 });
        rejectedWith(results[1], RangeError, "boom");
        for (const result of results.slice(2)) {
          rejectedWith(result, ActorExitedError, "after the crash");
        }
        const reason = await actor.exited;
        assert.ok(
          reason.kind === "crashed" && reason.error instanceof RangeError,
        );
      },
    );
    await t.step(
      "abort: only the aborted asks reject, the actor serves on",
      async () => {
        const { actor, started, release } = heldActor(2);
        const controller = new AbortController();
        const tracked = new Tracked();
        tracked.add(
          actor.ask({ kind: "job", n: 0 }, { signal: controller.signal }),
        );
        tracked.add(
          actor.ask({ kind: "job", n: 1 }, { signal: controller.signal }),
        );
        tracked.add(actor.ask({ kind: "job", n: 2 }));
        tracked.add(
          actor.ask({ kind: "job", n: 3 }, { signal: controller.signal }),
        ); // waiting for room
        assert.equal(await started(), 0);
        const reason = new Error("aborted by the test");
        controller.abort(reason);
        release(0);
        assert.equal(await started(), 2);
        release(2);
        const results = await tracked.settled();
        for (const i of [0, 1, 3]) {
          assert.equal(results[i].status, "rejected");
          assert.equal((results[i] as PromiseRejectedResult).reason, reason);
        }
        assert.deepEqual(results[2], { status: "fulfilled", value: 2 });
        assert.equal(actor.mailboxDepth, 0);
        await actor.close();
        assert.deepEqual(await actor.exited, { kind: "shutdown" });
      },
    );
  }),
);

Deno.test(
  "Supervisor settles pending events() reads, a start that never settles and its children on close(), kill() and giving up",
  sanitized,
  guarded(async (t) => {
    const actorChild = () => new Actor<{ kind: "noop" }>({ noop: () => {} });
    for (const how of ["close()", "kill()", "giving up"] as const) {
      await t.step(how, async () => {
        const supervisor = await Supervisor.start({
          name: "settling",
          intensity: 0,
          children: [
            { id: "worker", start: () => spawnFaulty().then((f) => f.isolate) },
            { id: "actor", start: actorChild },
          ],
        });
        const tracked = new Tracked();
        // A reader of the events, waiting when the supervisor ends.
        tracked.add((async () => {
          const seen: string[] = [];
          for await (const event of supervisor.events()) {
            seen.push(
              event.type === "exited"
                ? `exited ${event.id} ${event.reason.kind}`
                : event.type,
            );
          }
          return seen;
        })());
        const worker = supervisor.child("worker")!;
        const actor = supervisor.child("actor")!;
        tracked.add(worker.exited);
        tracked.add(actor.exited);
        let stuckStart: Promise<unknown> | null = null;
        switch (how) {
          case "close()":
            tracked.add(supervisor.close());
            break;
          case "kill()":
            // A start that never settles, pending when the supervisor dies.
            stuckStart = tracked.add(
              supervisor.startChild({
                id: "stuck",
                start: () => new Promise(() => {}),
              }),
            );
            supervisor.kill();
            break;
          case "giving up":
            (actor as Actor<{ kind: "noop" }>).kill();
            break;
        }
        const reason = await supervisor.exited;
        const results = await tracked.settled();
        const seen = (results[0] as PromiseFulfilledResult<string[]>).value;
        if (how === "giving up") {
          assert.deepEqual(seen, [
            "exited actor killed",
            "gave_up",
            "exited worker shutdown",
          ]);
          assert.equal(reason.kind, "crashed");
          assert.ok(
            reason.kind === "crashed" &&
              reason.error instanceof SupervisorError,
          );
        } else {
          // Children stop in reverse order.
          assert.deepEqual(
            seen,
            how === "kill()"
              ? ["exited actor killed", "exited worker killed"]
              : ["exited actor shutdown", "exited worker shutdown"],
          );
          assert.equal(reason.kind, how === "kill()" ? "killed" : "shutdown");
        }
        const [workerExit, actorExit] = results.slice(1, 3).map((r) =>
          (r as PromiseFulfilledResult<ExitReason>).value.kind
        );
        assert.equal(workerExit, how === "kill()" ? "killed" : "shutdown");
        assert.equal(actorExit, how === "close()" ? "shutdown" : "killed");
        if (stuckStart !== null) {
          assert.equal(
            rejectedWith(results[3], SupervisorError, "stuck start").code,
            "supervisor",
          );
        }
      });
    }
  }),
);

Deno.test(
  "EventChannel stream read on the main thread settles on an error event, the end of the stream and cancel()",
  sanitized,
  guarded(async (t) => {
    const sinks: EventSink[] = [];
    const cancels: unknown[] = [];
    let listened = Promise.withResolvers<void>();
    const channel = new EventChannel("settle/main-stream");
    channel.setStreamHandler({
      onListen: (_args, sink) => {
        sinks.push(sink);
        listened.resolve();
      },
      onCancel: (args) => void cancels.push(args),
    });
    try {
      await t.step("an error event rejects the pending read", async () => {
        const reader = channel.receiveBroadcastStream("error").getReader();
        const read = reader.read();
        await listened.promise;
        sinks.at(-1)!.error("E_GONE", "the source went away", null);
        await assert.rejects(read, (error: unknown) => {
          assert.ok(error instanceof PlatformException);
          assert.equal(error.code, "E_GONE");
          return true;
        });
        reader.releaseLock();
      });
      await t.step(
        "endOfStream resolves the pending read as done",
        async () => {
          listened = Promise.withResolvers();
          const reader = channel.receiveBroadcastStream("end").getReader();
          const read = reader.read();
          await listened.promise;
          sinks.at(-1)!.endOfStream();
          assert.deepEqual(await read, { value: undefined, done: true });
        },
      );
      await t.step(
        "cancel() resolves the pending read and calls onCancel",
        async () => {
          listened = Promise.withResolvers();
          const reader = channel.receiveBroadcastStream("cancel").getReader();
          const read = reader.read();
          await listened.promise;
          await reader.cancel();
          assert.deepEqual(await read, { value: undefined, done: true });
          // The cancel call is dispatched on a later turn; a call behind it
          // is answered after it.
          const barrier = new MethodChannel("settle/barrier-main");
          barrier.setMethodCallHandler(() => null);
          await barrier.invokeMethod("after");
          barrier.setMethodCallHandler(null);
          assert.ok(cancels.includes("cancel"), JSON.stringify(cancels));
        },
      );
    } finally {
      channel.setStreamHandler(null);
    }
  }),
);

Deno.test(
  "ReceivePort.close() settles first, pending reads and for-await loops, even while its sender is alive or dead",
  sanitized,
  guarded(async () => {
    const tracked = new Tracked();
    const firstPort = new ReceivePort("first");
    const iterated = new ReceivePort("iterated");
    const looped = new ReceivePort("looped");
    const listened = new ReceivePort("listened");
    tracked.add(firstPort.first);
    const iterator = iterated[Symbol.asyncIterator]();
    tracked.add(iterator.next());
    tracked.add(iterator.next());
    const firstLooped = Promise.withResolvers<void>();
    tracked.add((async () => {
      const got: unknown[] = [];
      for await (const message of looped) {
        got.push(message);
        firstLooped.resolve();
      }
      return got;
    })());
    const done = Promise.withResolvers<void>();
    tracked.add(done.promise);
    listened.listen(() => {}, { onDone: done.resolve });
    // Their sender: a worker that dies without sending to them.
    const worker = await spawnFaulty();
    worker.isolate.kill();
    await worker.isolate.exited;
    looped.sendPort.send("one");
    await firstLooped.promise;
    for (const port of [firstPort, iterated, looped, listened]) port.close();
    const results = await tracked.settled();
    assert.equal(results.length, 5);
    rejectedWith(results[0], StateError, "first");
    const done2 = {
      status: "fulfilled",
      value: { value: undefined, done: true },
    };
    assert.deepEqual(results[1], done2);
    assert.deepEqual(results[2], done2);
    assert.deepEqual(results[3], { status: "fulfilled", value: ["one"] });
    assert.deepEqual(results[4], { status: "fulfilled", value: undefined });
    // Sending to a closed port drops the message, as in Dart.
    looped.sendPort.send("dropped");
  }),
);
