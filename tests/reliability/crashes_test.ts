// Fault injection, crashes: a worker that throws while loading, at start,
// inside a channel handler or inside a plugin call; one that never answers
// (the caller's timeout fires and the stuck worker is replaced); one that
// ends itself in the middle of a call; and crash loops that a supervisor's
// intensity stops. Each shows a typed error, nothing hangs, and the next
// call is served.
import assert from "node:assert/strict";
import {
  Actor,
  Isolate,
  IsolateExitedError,
  IsolatePool,
  IsolateSpawnError,
  MethodChannel,
  PlatformException,
  ReceivePort,
  RemoteError,
  ServicesBinding,
  Supervisor,
  SupervisorError,
  TimeoutError,
} from "../../mod.ts";
import {
  collect,
  errorOf,
  guarded,
  mentions,
  sanitized,
} from "../isolate/_helpers.ts";
import {
  EventLog,
  fixture,
  okOf,
  recordErrors,
  SANDBOX,
  setEnv,
  spawnFaulty,
} from "./_faults.ts";
import type { CrashLoopInit } from "./fixtures/crash_loop.ts";
import {
  faultyPlugin,
  hangArrived,
  releaseHung,
} from "./fixtures/faulty_plugin.ts";
import type * as poolTasks from "./fixtures/pool_tasks.ts";

const POOL_TASKS = new URL("./fixtures/pool_tasks.ts", import.meta.url);

/** The error `promise` rejects with, checked to be a `type`. */
async function rejection<E>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
): Promise<E> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${error}`);
    caught = error;
    return true;
  });
  return caught as E;
}

Deno.test(
  "Isolate.spawn(), Isolate.run() and IsolatePool.run() of a module that throws while loading reject typed, and the next one is served",
  sanitized,
  guarded(async (t) => {
    const broken = fixture("throws_at_load.ts");
    await t.step(
      "Isolate.spawn(): IsolateSpawnError with the cause",
      async () => {
        const error = await rejection(
          Isolate.spawn(broken, null, { debugName: "broken" }),
          IsolateSpawnError,
        );
        assert.equal(error.code, "isolate_spawn");
        mentions(
          error.message,
          '"broken"',
          "could not load its entry",
          "thrown while loading the module",
        );
        assert.ok(error.cause instanceof RemoteError);
        assert.equal(error.cause.remoteName, "RangeError");
      },
    );
    await t.step("Isolate.run(): IsolateSpawnError", async () => {
      const error = await rejection(
        Isolate.run(broken, "default"),
        IsolateSpawnError,
      );
      assert.equal(error.code, "isolate_spawn");
      mentions(error.message, "thrown while loading the module");
    });
    await t.step(
      "IsolatePool.run(): RemoteError, and the same worker runs the next task",
      async () => {
        await using pool = new IsolatePool({ name: "loader", size: 1 });
        const worker = await pool.run(() =>
          (globalThis as unknown as { name: string }).name
        );
        const error = await rejection(pool.run(broken), RemoteError);
        assert.equal(error.code, "remote_error");
        assert.equal(error.remoteName, "RangeError");
        mentions(error.message, "thrown while loading the module");
        assert.equal(
          await pool.run(() =>
            (globalThis as unknown as { name: string }).name
          ),
          worker,
        );
        assert.equal(
          await pool.run<typeof poolTasks.twice>(
            { module: POOL_TASKS, exportName: "twice" },
            21,
          ),
          42,
        );
      },
    );
    await t.step(
      "a healthy isolate spawns and answers after them",
      async () => {
        await using worker = await spawnFaulty();
        assert.deepEqual(
          okOf(await worker.ask({ op: "plugin", method: "where" })),
          [worker.id, "local"],
        );
      },
    );
  }),
);

/** Spawns the crash-loop fixture as a supervised child, counting attempts. */
function crashLoopChild(
  reports: ReceivePort,
  how: (attempt: number) => CrashLoopInit["how"],
): () => Promise<Isolate> {
  let attempt = 0;
  return () => {
    const init: CrashLoopInit = {
      how: how(attempt),
      report: reports.sendPort,
      attempt: attempt++,
    };
    return Isolate.spawn(fixture("crash_loop.ts"), init, {
      debugName: `looping#${init.attempt}`,
      // Heard through the exit reason; not printed.
      onError: () => {},
    });
  };
}

Deno.test(
  "Supervisor stops a crash loop of isolates at its intensity, and its parent sees it exit crashed",
  sanitized,
  guarded(async (t) => {
    const log = new EventLog();
    await using parent = await Supervisor.start({
      name: "parent",
      intensity: 5,
      period: 60_000,
      onEvent: log.push,
    });
    for (
      const [label, name, how] of [
        [
          "an isolate that crashes after each start",
          "after",
          (): CrashLoopInit["how"] => "after start",
        ],
        [
          "an isolate whose restarts fail at start",
          "at",
          (attempt: number): CrashLoopInit["how"] =>
            attempt === 0 ? "after start" : "at start",
        ],
      ] as const
    ) {
      await t.step(label, async () => {
        const reports = new ReceivePort(`${name} attempts`);
        const attempts = collect(reports);
        const inner = await parent.startChild({
          id: `inner-${name}`,
          restart: "temporary",
          start: () =>
            Supervisor.start({
              name: `inner-${name}`,
              intensity: 2,
              period: 60_000,
              onEvent: log.push,
              children: [{
                id: "looping",
                restart: "permanent",
                start: crashLoopChild(reports, how),
              }],
            }),
        });
        const reason = await inner.exited;
        assert.equal(reason.kind, "crashed");
        const error = reason.kind === "crashed" ? reason.error : null;
        assert.ok(error instanceof SupervisorError, String(error));
        assert.equal(error.code, "supervisor");
        mentions(
          error.message,
          `"inner-${name}"`,
          "3 restarts",
          "intensity of 2",
        );
        // The parent is told, with the reason.
        const exited = await log.when((event) =>
          event.type === "exited" && event.supervisor === "parent" &&
          event.id === `inner-${name}`
        );
        assert.ok(exited.type === "exited");
        assert.equal(exited.reason.kind, "crashed");
        // Every attempt ran once: the first start and two restarts; the
        // third restart is one too many and is not attempted.
        for (let attempt = 0; attempt < 3; attempt++) {
          assert.equal(await attempts.next(), attempt);
        }
        reports.close();
        const events = log.summary(`inner-${name}`);
        if (name === "after") {
          assert.deepEqual(events, [
            "started looping 0",
            "exited looping crashed",
            "started looping 1",
            "restarted looping 1",
            "exited looping crashed",
            "started looping 2",
            "restarted looping 2",
            "exited looping crashed",
            "gave_up 3/2",
          ]);
        } else {
          // Restarts that fail at start never report "restarted".
          assert.deepEqual(events, [
            "started looping 0",
            "exited looping crashed",
            "gave_up 3/2",
          ]);
        }
        const crash = log.events.find((event) =>
          event.type === "exited" && event.supervisor === `inner-${name}`
        );
        assert.ok(crash?.type === "exited" && crash.reason.kind === "crashed");
        assert.ok(
          crash.reason.error instanceof RemoteError,
          String(crash.reason.error),
        );
        mentions(crash.reason.error.message, "crashed after start (attempt 0)");
        assert.deepEqual(parent.children, []);
      });
    }
    await t.step("the parent keeps running and starts children", async () => {
      const child = await parent.startChild({
        id: "healthy",
        start: () => spawnFaulty().then((faulty) => faulty.isolate),
      });
      assert.equal(parent.inspect().state, "running");
      await parent.terminateChild("healthy");
      assert.equal((await child.exited).kind, "shutdown");
    });
  }),
);

Deno.test(
  "MethodChannel handler in a worker that throws odd values or answers what cannot be encoded fails the caller with PlatformException, and keeps serving",
  sanitized,
  guarded(async () => {
    await using worker = await spawnFaulty();
    const cases = [
      ["throwString", "a thrown string"],
      ["throwNull", "null"],
      ["throwUnprintable", "[object Object]"],
      ["returnFunction", "UnsupportedValueError"],
      ["rejectNumber", "42"],
    ] as const;
    const echo = new MethodChannel(
      "faulty/echo",
      undefined,
      ServicesBinding.messengerFor(worker.id),
    );
    okOf(
      await worker.ask({ op: "serve", channel: echo.name, behaviour: "echo" }),
    );
    for (const [behaviour, text] of cases) {
      const channel = new MethodChannel(
        `faulty/${behaviour}`,
        undefined,
        ServicesBinding.messengerFor(worker.id),
      );
      okOf(await worker.ask({ op: "serve", channel: channel.name, behaviour }));
      const error = await rejection(
        channel.invokeMethod("call", [behaviour]),
        PlatformException,
      );
      assert.equal(error.code, "error", behaviour);
      mentions(String(error.message), text);
      // The worker keeps serving, on this channel's neighbour and in itself.
      assert.deepEqual(await echo.invokeMethod("again", behaviour), behaviour);
    }
    assert.deepEqual(
      okOf(await worker.ask({ op: "plugin", method: "where" })),
      [worker.id, "local"],
    );
  }),
);

Deno.test(
  "Plugin method that throws fails with PlatformException code error wherever it runs, and the plugin keeps serving",
  sanitized,
  guarded(async (t) => {
    using _options = setEnv("ISOLATES_WORKER_OPTIONS", "1");
    await t.step("on the main thread", async () => {
      const error = await rejection(
        faultyPlugin.invoke("throwsHere", "main"),
        PlatformException,
      );
      assert.equal(error.code, "error");
      mentions(String(error.message), "TypeError: plugin failed here: main");
      assert.deepEqual(await faultyPlugin.invoke("where", null), [
        "0",
        "local",
      ]);
    });
    for (const sandboxed of [false, true]) {
      await t.step(
        sandboxed ? "in a sandboxed worker" : "in a worker",
        async () => {
          await using worker = await spawnFaulty(
            sandboxed ? { permissions: SANDBOX } : {},
          );
          for (const method of ["throwsHere", "throwsOnMain"] as const) {
            const failed = errorOf(
              await worker.ask({ op: "plugin", method, args: method }),
            );
            assert.ok(
              failed.classes.includes("PlatformException"),
              failed.text,
            );
            assert.equal(failed.code, "error");
            mentions(failed.message, "TypeError: plugin failed", method);
          }
          assert.deepEqual(
            okOf(await worker.ask({ op: "plugin", method: "where" })),
            [worker.id, "local"],
          );
        },
      );
    }
    await t.step(
      "in a pool task: RemoteError naming PlatformException",
      async () => {
        await using pool = new IsolatePool({ name: "plugin-faults", size: 1 });
        const error = await rejection(
          pool.run<typeof poolTasks.callPlugin>(
            { module: POOL_TASKS, exportName: "callPlugin" },
            "throwsOnMain",
          ),
          RemoteError,
        );
        assert.equal(error.remoteName, "PlatformException");
        mentions(error.message, "plugin failed on the main thread");
        const [isolate, placement] =
          (await pool.run<typeof poolTasks.callPlugin>(
            { module: POOL_TASKS, exportName: "callPlugin" },
            "where",
          )) as [string, string];
        assert.match(isolate, /^0\.\d+$/);
        assert.equal(placement, "local");
      },
    );
  }),
);

Deno.test(
  "Plugin method that crashes its worker mid-call: the isolate ends crashed, calls in flight fail with IsolateExitedError, and a pool replaces the worker and serves the next call",
  sanitized,
  guarded(async (t) => {
    await t.step("a spawned isolate", async () => {
      await using worker = await spawnFaulty({ onError: () => {} });
      // A call from the main thread into the worker, in flight when it dies.
      const notified = new ReceivePort("held");
      const held = collect(notified);
      okOf(
        await worker.ask({
          op: "serve",
          channel: "faulty/held",
          behaviour: "hold",
          notify: notified.sendPort,
        }),
      );
      const into = new MethodChannel(
        "faulty/held",
        undefined,
        ServicesBinding.messengerFor(worker.id),
      ).invokeMethod("waiting");
      assert.equal(await held.next(), "waiting");
      notified.close();
      worker.tell({ op: "plugin", method: "crashHere" });
      const reason = await worker.isolate.exited;
      assert.equal(reason.kind, "crashed");
      assert.ok(
        reason.kind === "crashed" && reason.error instanceof RemoteError,
      );
      mentions(reason.error.message, "the plugin crashed its isolate");
      const error = await rejection(into, IsolateExitedError);
      assert.equal(error.code, "isolate_exited");
      assert.equal(error.isolate, worker.id);
      mentions(error.message, "faulty/held", "crashed");
    });
    await t.step("a pool worker", async () => {
      await using pool = new IsolatePool({ name: "plugin-crash", size: 1 });
      const first = await pool.run(() =>
        (globalThis as unknown as { name: string }).name
      );
      const crashing = pool.run<typeof poolTasks.callPlugin>(
        { module: POOL_TASKS, exportName: "callPlugin" },
        "crashHere",
      );
      const behind = pool.run<typeof poolTasks.callPlugin>(
        { module: POOL_TASKS, exportName: "callPlugin" },
        "where",
      );
      const error = await rejection(crashing, IsolateExitedError);
      assert.equal(error.code, "isolate_exited");
      mentions(error.message, "crashed");
      const [isolate, placement] = (await behind) as [string, string];
      assert.equal(placement, "local");
      assert.notEqual(isolate, error.isolate);
      assert.notEqual(
        await pool.run(() => (globalThis as unknown as { name: string }).name),
        first,
      );
      assert.equal(pool.size, 1);
    });
  }),
);

Deno.test(
  "Actor.ask() to an actor stuck on a call into a worker that never answers times out with TimeoutError; killing the worker crashes the actor, and its supervisor restarts it",
  sanitized,
  guarded(async (t) => {
    const worker = await spawnFaulty();
    const notified = new ReceivePort("held");
    const held = collect(notified);
    okOf(
      await worker.ask({
        op: "serve",
        channel: "faulty/never",
        behaviour: "hold",
        notify: notified.sendPort,
      }),
    );
    type Relay = { kind: "relay"; text: string } | { kind: "ping" };
    const relay = (): Actor<Relay, { relay: unknown; ping: string }> =>
      new Actor<Relay, { relay: unknown; ping: string }>({
        relay: ({ text }) =>
          new MethodChannel(
            "faulty/never",
            undefined,
            ServicesBinding.messengerFor(worker.id),
          ).invokeMethod("relay", text),
        ping: () => "pong",
      }, { name: "relay" });
    const log = new EventLog();
    await using app = await Supervisor.start({
      name: "app",
      intensity: 1,
      period: 60_000,
      onEvent: log.push,
      children: [{ id: "relay", start: relay, restart: "permanent" }],
    });
    const actor = app.child("relay") as ReturnType<typeof relay>;

    await t.step("the ask times out; the actor is still busy", async () => {
      const error = await rejection(
        actor.ask({ kind: "relay", text: "hello" }, { timeout: 50 }),
        TimeoutError,
      );
      assert.equal(error.code, "timeout");
      assert.equal(error.ms, 50);
      mentions(error.message, '"relay"');
      assert.equal(await held.next(), "relay");
      assert.equal(actor.running, true);
    });
    await t.step(
      "a queued ask behind it times out too, and leaves the mailbox",
      async () => {
        await rejection(
          actor.ask({ kind: "ping" }, { timeout: 20 }),
          TimeoutError,
        );
        assert.equal(actor.mailboxDepth, 0);
      },
    );
    await t.step(
      "killing the worker fails the call: the actor crashes and is restarted",
      async () => {
        worker.isolate.kill();
        const reason = await actor.exited;
        assert.equal(reason.kind, "crashed");
        assert.ok(
          reason.kind === "crashed" &&
            reason.error instanceof IsolateExitedError,
          String(reason.kind === "crashed" && reason.error),
        );
        await log.when((event) => event.type === "restarted");
        const next = app.child("relay") as ReturnType<typeof relay>;
        assert.notEqual(next, actor);
        assert.equal(
          await next.ask({ kind: "ping" }, { timeout: 10_000 }),
          "pong",
        );
      },
    );
    notified.close();
    await worker[Symbol.asyncDispose]();
  }),
);

Deno.test(
  "IsolatePool.run() of a task stuck on a plugin call that is never answered times out with TimeoutError, its worker is replaced, and the next plugin call is served",
  sanitized,
  guarded(async () => {
    await using pool = new IsolatePool({
      name: "stuck",
      size: 1,
      abortGrace: 20,
    });
    const first = await pool.run(() =>
      (globalThis as unknown as { name: string }).name
    );
    const where = { module: POOL_TASKS, exportName: "callPlugin" };
    // The module and the plugin are loaded once first, so the stuck task
    // reaches its plugin call at once: the timeout is the fault under test,
    // not a measure of speed.
    const warm = (await pool.run<typeof poolTasks.callPlugin>(
      where,
      "where",
    )) as [string, string];
    const stuck = rejection(
      pool.run<typeof poolTasks.callPlugin>(where, "hangOnMain", {
        timeout: 1000,
      }),
      TimeoutError,
    );
    await hangArrived();
    const error = await stuck;
    assert.equal(error.code, "timeout");
    mentions(error.message, '"stuck"', "1000 ms");
    const [isolate, placement] = (await pool.run<typeof poolTasks.callPlugin>(
      { module: POOL_TASKS, exportName: "callPlugin" },
      "where",
    )) as [string, string];
    assert.equal(placement, "local");
    assert.notEqual(
      await pool.run(() => (globalThis as unknown as { name: string }).name),
      first,
    );
    assert.notEqual(isolate, warm[0]);
    // The late answer goes to a worker that is gone: dropped, no error.
    using errors = recordErrors();
    assert.equal(releaseHung("too late"), 1);
    assert.equal(await pool.run((n: number) => n + 1, 1), 2);
    assert.deepEqual(errors.calls, []);
  }),
);

Deno.test(
  "Isolate that ends itself with Deno.exit() or self.close() in the middle of a call: the call fails with IsolateExitedError, nothing hangs, and the main thread keeps serving",
  sanitized,
  guarded(async (t) => {
    for (const how of ["exit", "close"] as const) {
      await t.step(`${how}: a call from the main thread into it`, async () => {
        await using worker = await spawnFaulty();
        const notified = new ReceivePort("called");
        const called = collect(notified);
        okOf(
          await worker.ask({
            op: "serve",
            channel: "faulty/ending",
            behaviour: how === "exit" ? "exitMidCall" : "closeMidCall",
            notify: notified.sendPort,
          }),
        );
        const call = new MethodChannel(
          "faulty/ending",
          undefined,
          ServicesBinding.messengerFor(worker.id),
        ).invokeMethod("last");
        const error = await rejection(call, IsolateExitedError);
        assert.equal(error.code, "isolate_exited");
        assert.equal(error.isolate, worker.id);
        assert.equal(await called.next(), "last");
        notified.close();
        assert.deepEqual(await worker.isolate.exited, { kind: "normal" });
        // A later call to it fails at once, typed.
        await rejection(
          new MethodChannel(
            "faulty/ending",
            undefined,
            ServicesBinding.messengerFor(worker.id),
          ).invokeMethod("after"),
          IsolateExitedError,
        );
      });
      await t.step(`${how}: its own call to the main thread`, async () => {
        const held: PromiseWithResolvers<string>[] = [];
        const arrived = Promise.withResolvers<void>();
        const channel = new MethodChannel("faulty/main-held");
        channel.setMethodCallHandler((call) => {
          if (call.method !== "hold") return `served ${call.arguments}`;
          const answer = Promise.withResolvers<string>();
          held.push(answer);
          arrived.resolve();
          return answer.promise;
        });
        try {
          const worker = await spawnFaulty();
          worker.tell({ op: "endDuringCall", channel: channel.name, how });
          await arrived.promise;
          assert.deepEqual(await worker.isolate.exited, { kind: "normal" });
          // Answering a call of an isolate that is gone is harmless.
          using errors = recordErrors();
          held[0].resolve("to nobody");
          await using other = await spawnFaulty();
          assert.equal(
            okOf(
              await other.ask({
                op: "invoke",
                channel: channel.name,
                method: "ping",
                args: how,
              }),
            ),
            `served ${how}`,
          );
          assert.deepEqual(errors.calls, []);
        } finally {
          channel.setMethodCallHandler(null);
        }
      });
    }
  }),
);
