import assert from "node:assert/strict";
import {
  type ExitReason,
  type Supervisable,
  Supervisor,
  SupervisorError,
  type SupervisorEvent,
} from "../../mod.ts";
import { brief, Children, Clock, FakeChild, Recorder } from "./_children.ts";

function crashError(reason: ExitReason): unknown {
  assert.equal(reason.kind, "crashed");
  return reason.kind === "crashed" ? reason.error : undefined;
}

/**
 * Waits until every operation queued before it (including restarts a child's
 * exit queued) has run: operations run one at a time, in order.
 */
async function settled(supervisor: Supervisor): Promise<void> {
  await assert.rejects(
    supervisor.terminateChild("no such child"),
    SupervisorError,
  );
}

Deno.test("Supervisor.start() starts children in order, each start awaited before the next", async () => {
  const children = new Children();
  const gate = Promise.withResolvers<void>();
  const bCalled = Promise.withResolvers<void>();
  const starting = Supervisor.start({
    children: [
      children.spec("a"),
      {
        id: "b",
        start: async (): Promise<Supervisable> => {
          bCalled.resolve();
          await gate.promise;
          return children.spec("b").start();
        },
      },
      children.spec("c"),
    ],
  });
  await bCalled.promise;
  assert.deepEqual(children.log, ["start:a"]);
  gate.resolve();
  await using supervisor = await starting;
  assert.deepEqual(children.take(), ["start:a", "start:b", "start:c"]);
  assert.deepEqual(supervisor.children, ["a", "b", "c"]);
  assert.deepEqual(
    supervisor.inspect().children.map((node) => node.state),
    ["running", "running", "running"],
  );
});

Deno.test("Supervisor.start() stops the started children in reverse order when one fails to start", async () => {
  const children = new Children();
  const recorder = new Recorder();
  children.failNextStarts("c", 1);
  const error = await Supervisor.start({
    name: "app",
    onEvent: recorder.listener,
    children: ["a", "b", "c", "d"].map((id) => children.spec(id)),
  }).then(() => assert.fail("start should have failed"), (error) => error);
  assert.ok(error instanceof SupervisorError);
  assert.equal(error.code, "supervisor");
  assert.equal(error.supervisor, "app");
  assert.match(error.message, /child "c"/);
  assert.ok(error.cause instanceof Error);
  assert.equal(error.cause.message, "c failed to start");
  assert.deepEqual(children.log, [
    "start:a",
    "start:b",
    "start:c",
    "stop:b",
    "stop:a",
  ]);
  assert.deepEqual(recorder.take(), [
    "started:a",
    "started:b",
    "exited:b:shutdown",
    "exited:a:shutdown",
  ]);
});

Deno.test("Supervisor.start() rejects duplicate ids and out-of-range specs before starting anything", async () => {
  const children = new Children();
  await assert.rejects(
    Supervisor.start({ children: [children.spec("a"), children.spec("a")] }),
    (error: unknown) =>
      error instanceof SupervisorError &&
      /"a" appears twice/.test(error.message),
  );
  await assert.rejects(
    Supervisor.start({
      children: [{
        ...children.spec("a"),
        restart: "sometimes" as "permanent",
      }],
    }),
    (error: unknown) =>
      error instanceof RangeError && /"restart"/.test(error.message) &&
      /sometimes/.test(error.message),
  );
  await assert.rejects(
    Supervisor.start({ children: [{ ...children.spec("a"), shutdown: -1 }] }),
    (error: unknown) =>
      error instanceof RangeError && /"shutdown"/.test(error.message),
  );
  await assert.rejects(
    Supervisor.start({ children: [children.spec("")] }),
    (error: unknown) =>
      error instanceof RangeError && /"id"/.test(error.message),
  );
  assert.deepEqual(children.log, []);
});

Deno.test("Supervisor constructor throws RangeError naming the option out of range", () => {
  const cases: [ConstructorParameters<typeof Supervisor>[0], RegExp][] = [
    [{ intensity: -1 }, /"intensity".*-1/],
    [{ intensity: 1.5 }, /"intensity".*1\.5/],
    [{ period: 0 }, /"period".*0/],
    [{ period: Number.NaN }, /"period".*NaN/],
    [{ strategy: "all_for_one" as "one_for_one" }, /"strategy".*all_for_one/],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => new Supervisor(options),
      (error: unknown) =>
        error instanceof RangeError && message.test(error.message),
    );
  }
});

Deno.test("Supervisor.close() stops children in reverse start order and ends with shutdown", async () => {
  const children = new Children();
  const recorder = new Recorder();
  const supervisor = await Supervisor.start({
    onEvent: recorder.listener,
    children: ["a", "b", "c"].map((id) => children.spec(id)),
  });
  children.take();
  recorder.take();
  await supervisor.close();
  await supervisor.close();
  assert.deepEqual(children.log, ["stop:c", "stop:b", "stop:a"]);
  assert.deepEqual(recorder.take(), [
    "exited:c:shutdown",
    "exited:b:shutdown",
    "exited:a:shutdown",
  ]);
  assert.deepEqual(await supervisor.exited, { kind: "shutdown" });
  assert.equal(supervisor.inspect().state, "stopped");
  assert.deepEqual(
    supervisor.inspect().children.map((node) => node.state),
    ["stopped", "stopped", "stopped"],
  );
  await assert.rejects(
    supervisor.startChild(children.spec("d")),
    (error: unknown) =>
      error instanceof SupervisorError && /has stopped/.test(error.message),
  );
});

Deno.test("Supervisor.kill() kills every child at once, in reverse order, and ends with killed", async () => {
  const children = new Children();
  const supervisor = await Supervisor.start({
    children: ["a", "b", "c"].map((id) => children.spec(id)),
  });
  children.take();
  supervisor.kill();
  supervisor.kill();
  assert.deepEqual(children.log, ["kill:c", "kill:b", "kill:a"]);
  assert.deepEqual(await supervisor.exited, { kind: "killed" });
  await supervisor.close();
});

Deno.test("Supervisor one_for_one restarts only the child that crashed", async () => {
  const children = new Children();
  const recorder = new Recorder();
  await using supervisor = await Supervisor.start({
    onEvent: recorder.listener,
    children: ["a", "b", "c"].map((id) => children.spec(id)),
  });
  children.take();
  recorder.take();
  const first = children.latest("b");
  const restarted = recorder.next("restarted:b");
  first.crash();
  await restarted;
  assert.deepEqual(children.take(), ["start:b"]);
  assert.deepEqual(recorder.take(), [
    "exited:b:crashed",
    "started:b",
    "restarted:b",
  ]);
  assert.notEqual(supervisor.child("b"), first);
  assert.equal(supervisor.child("b"), children.latest("b"));
  assert.deepEqual(
    supervisor.inspect().children.map((node) => [node.id, node.restarts]),
    [["a", 0], ["b", 1], ["c", 0]],
  );
  assert.equal(supervisor.inspect().restarts, 1);
});

Deno.test("Supervisor one_for_all stops the others in reverse order, then restarts all in start order", async () => {
  const children = new Children();
  const recorder = new Recorder();
  await using supervisor = await Supervisor.start({
    strategy: "one_for_all",
    intensity: 5,
    onEvent: recorder.listener,
    children: ["a", "b", "c"].map((id) => children.spec(id)),
  });
  children.take();
  recorder.take();
  const restarted = recorder.next("restarted:c");
  children.latest("b").crash();
  await restarted;
  assert.deepEqual(children.take(), [
    "stop:c",
    "stop:a",
    "start:a",
    "start:b",
    "start:c",
  ]);
  assert.deepEqual(recorder.take(), [
    "exited:b:crashed",
    "exited:c:shutdown",
    "exited:a:shutdown",
    "started:a",
    "restarted:a",
    "started:b",
    "restarted:b",
    "started:c",
    "restarted:c",
  ]);
  assert.deepEqual(["a", "b", "c"].map((id) => children.starts(id)), [2, 2, 2]);
  assert.equal(
    supervisor.inspect().restarts,
    1,
    "one restart, however many children",
  );
});

Deno.test("Supervisor rest_for_one restarts the crashed child and those started after it", async () => {
  const children = new Children();
  const recorder = new Recorder();
  await using supervisor = await Supervisor.start({
    strategy: "rest_for_one",
    onEvent: recorder.listener,
    children: ["a", "b", "c", "d"].map((id) => children.spec(id)),
  });
  children.take();
  const restarted = recorder.next("restarted:d");
  children.latest("b").crash();
  await restarted;
  assert.deepEqual(children.take(), [
    "stop:d",
    "stop:c",
    "start:b",
    "start:c",
    "start:d",
  ]);
  assert.deepEqual(
    ["a", "b", "c", "d"].map((id) => children.starts(id)),
    [1, 2, 2, 2],
  );
  assert.equal(supervisor.inspect().children[0].restarts, 0);
});

Deno.test("Supervisor one_for_all removes temporary siblings it stopped and leaves stopped ones stopped", async () => {
  const children = new Children();
  const recorder = new Recorder();
  await using supervisor = await Supervisor.start({
    strategy: "one_for_all",
    onEvent: recorder.listener,
    children: [
      children.spec("a"),
      children.spec("t", { restart: "temporary" }),
      children.spec("off"),
      children.spec("c"),
    ],
  });
  await supervisor.terminateChild("off");
  children.take();
  const restarted = recorder.next("restarted:c");
  children.latest("c").crash();
  await restarted;
  assert.deepEqual(children.take(), ["stop:t", "stop:a", "start:a", "start:c"]);
  assert.deepEqual(supervisor.children, ["a", "off", "c"]);
  assert.equal(supervisor.child("off"), undefined);
  assert.equal(supervisor.inspect().children[1].state, "stopped");
});

Deno.test("Supervisor restarts a permanent child after any exit", async () => {
  const children = new Children();
  const recorder = new Recorder();
  await using supervisor = await Supervisor.start({
    intensity: 10,
    onEvent: recorder.listener,
    children: [children.spec("p")],
  });
  const endings: ((child: FakeChild) => void)[] = [
    (child) => child.exitNormally(),
    (child) => child.stop(),
    (child) => child.kill(),
    (child) => child.crash(),
  ];
  for (const end of endings) {
    const restarted = recorder.next("restarted:p");
    end(children.latest("p"));
    await restarted;
  }
  assert.equal(children.starts("p"), 5);
  assert.equal(supervisor.inspect().children[0].restarts, 4);
});

Deno.test("Supervisor restarts a transient child only after an abnormal exit", async (t) => {
  const children = new Children();
  const recorder = new Recorder();
  await using supervisor = await Supervisor.start({
    intensity: 10,
    onEvent: recorder.listener,
    children: [children.spec("t", { restart: "transient" })],
  });

  await t.step("crashed: restarted", async () => {
    const restarted = recorder.next("restarted:t");
    children.latest("t").crash();
    await restarted;
    assert.equal(children.starts("t"), 2);
  });

  await t.step("killed: restarted", async () => {
    const restarted = recorder.next("restarted:t");
    children.latest("t").kill();
    await restarted;
    assert.equal(children.starts("t"), 3);
  });

  await t.step("shutdown: kept, stopped", async () => {
    const exited = recorder.next("exited:t:shutdown");
    children.latest("t").stop();
    await exited;
    await settled(supervisor);
    assert.equal(children.starts("t"), 3);
    assert.equal(supervisor.child("t"), undefined);
    assert.deepEqual(supervisor.children, ["t"]);
    assert.equal(supervisor.inspect().children[0].state, "stopped");
  });

  await t.step("normal: kept, stopped", async () => {
    await supervisor.restartChild("t");
    const exited = recorder.next("exited:t:normal");
    children.latest("t").exitNormally();
    await exited;
    await settled(supervisor);
    assert.equal(children.starts("t"), 4);
    assert.equal(supervisor.inspect().children[0].state, "stopped");
    assert.equal(supervisor.inspect().children[0].restarts, 2);
  });
});

Deno.test("Supervisor never restarts a temporary child and removes its spec", async () => {
  const children = new Children();
  const recorder = new Recorder();
  await using supervisor = await Supervisor.start({
    onEvent: recorder.listener,
    children: [
      children.spec("crashes", { restart: "temporary" }),
      children.spec("ends", { restart: "temporary" }),
    ],
  });
  const crashed = recorder.next("exited:crashes:crashed");
  children.latest("crashes").crash();
  await crashed;
  const ended = recorder.next("exited:ends:normal");
  children.latest("ends").exitNormally();
  await ended;
  await settled(supervisor);
  assert.deepEqual(supervisor.children, []);
  assert.equal(children.starts("crashes"), 1);
  assert.equal(supervisor.inspect().restarts, 0);
});

Deno.test("Supervisor gives up after more than intensity restarts within period", async () => {
  const children = new Children();
  const recorder = new Recorder();
  const clock = new Clock();
  const supervisor = await Supervisor.start({
    name: "app",
    intensity: 1,
    period: 5000,
    now: clock.now,
    onEvent: recorder.listener,
    children: [children.spec("a"), children.spec("b")],
  });
  children.take();
  const restarted = recorder.next("restarted:a");
  children.latest("a").crash();
  await restarted;
  recorder.take();
  clock.time = 4999;
  children.latest("a").crash();
  const reason = await supervisor.exited;
  const error = crashError(reason);
  assert.ok(error instanceof SupervisorError);
  assert.equal(error.supervisor, "app");
  assert.match(error.message, /"app"/);
  assert.match(error.message, /intensity of 1/);
  assert.match(error.message, /5000 ms/);
  assert.deepEqual(children.take(), ["start:a", "stop:b"]);
  assert.deepEqual(recorder.take(), [
    "exited:a:crashed",
    "gave_up",
    "exited:b:shutdown",
  ]);
  assert.equal(supervisor.inspect().state, "stopped");
  assert.deepEqual(
    supervisor.inspect().children.map((node) => node.state),
    ["stopped", "stopped"],
  );
});

Deno.test("Supervisor gave_up event reports restarts, intensity and period", async () => {
  const children = new Children();
  const seen: SupervisorEvent[] = [];
  const supervisor = await Supervisor.start({
    name: "app",
    intensity: 0,
    period: 250,
    now: new Clock().now,
    onEvent: (event) => seen.push(event),
    children: [children.spec("a")],
  });
  children.latest("a").crash();
  await supervisor.exited;
  assert.deepEqual(seen.find((event) => event.type === "gave_up"), {
    type: "gave_up",
    supervisor: "app",
    restarts: 1,
    intensity: 0,
    period: 250,
  });
  assert.equal(children.starts("a"), 1);
});

Deno.test("Supervisor counts restarts in a window that slides with the clock", async (t) => {
  await t.step("old restarts stop counting", async () => {
    const children = new Children();
    const recorder = new Recorder();
    const clock = new Clock();
    const supervisor = await Supervisor.start({
      intensity: 2,
      period: 1000,
      now: clock.now,
      onEvent: recorder.listener,
      children: [children.spec("a")],
    });
    const crashAt = async (time: number): Promise<void> => {
      clock.time = time;
      const restarted = recorder.next("restarted:a");
      children.latest("a").crash();
      await restarted;
    };
    await crashAt(0);
    assert.equal(supervisor.inspect().restarts, 1);
    await crashAt(600);
    assert.equal(supervisor.inspect().restarts, 2);
    await crashAt(1100); // the restart at 0 has left the window
    assert.equal(supervisor.inspect().restarts, 2);
    clock.time = 1601;
    assert.equal(supervisor.inspect().restarts, 1, "600 left the window too");
    await crashAt(1601);
    clock.time = 1700;
    children.latest("a").crash(); // 1100, 1601, 1700: three within 1000 ms
    assert.equal((await supervisor.exited).kind, "crashed");
    assert.equal(children.starts("a"), 5);
  });

  await t.step("a restart exactly period ago still counts", async () => {
    const children = new Children();
    const recorder = new Recorder();
    const clock = new Clock();
    const supervisor = await Supervisor.start({
      intensity: 1,
      period: 1000,
      now: clock.now,
      onEvent: recorder.listener,
      children: [children.spec("a")],
    });
    const restarted = recorder.next("restarted:a");
    children.latest("a").crash();
    await restarted;
    clock.time = 1000;
    children.latest("a").crash();
    assert.equal((await supervisor.exited).kind, "crashed");
  });

  await t.step("one millisecond later it does not", async () => {
    const children = new Children();
    const recorder = new Recorder();
    const clock = new Clock();
    await using supervisor = await Supervisor.start({
      intensity: 1,
      period: 1000,
      now: clock.now,
      onEvent: recorder.listener,
      children: [children.spec("a")],
    });
    for (const time of [0, 1001]) {
      clock.time = time;
      const restarted = recorder.next("restarted:a");
      children.latest("a").crash();
      await restarted;
    }
    assert.equal(supervisor.inspect().state, "running");
  });
});

Deno.test("Supervisor retries a restart whose start() fails, counting each attempt", async (t) => {
  await t.step("one_for_one: succeeds within the intensity", async () => {
    const children = new Children();
    const recorder = new Recorder();
    await using supervisor = await Supervisor.start({
      intensity: 3,
      now: new Clock().now,
      onEvent: recorder.listener,
      children: [children.spec("a")],
    });
    children.take();
    children.failNextStarts("a", 2);
    const restarted = recorder.next("restarted:a");
    children.latest("a").crash();
    await restarted;
    assert.deepEqual(children.take(), ["start:a", "start:a", "start:a"]);
    assert.equal(supervisor.inspect().restarts, 3);
    assert.equal(supervisor.inspect().children[0].restarts, 1);
  });

  await t.step(
    "one_for_one: a start that always fails ends in giving up",
    async () => {
      const children = new Children();
      const supervisor = await Supervisor.start({
        intensity: 2,
        now: new Clock().now,
        children: [children.spec("a")],
      });
      children.take();
      children.failNextStarts("a", Number.POSITIVE_INFINITY);
      children.latest("a").crash();
      assert.equal((await supervisor.exited).kind, "crashed");
      assert.deepEqual(children.take(), ["start:a", "start:a"]);
    },
  );

  await t.step(
    "one_for_all: the retry restarts every child again",
    async () => {
      const children = new Children();
      const recorder = new Recorder();
      await using supervisor = await Supervisor.start({
        strategy: "one_for_all",
        intensity: 2,
        now: new Clock().now,
        onEvent: recorder.listener,
        children: ["a", "b", "c"].map((id) => children.spec(id)),
      });
      children.take();
      children.failNextStarts("b", 1);
      const restarted = recorder.next("restarted:c");
      children.latest("c").crash();
      await restarted;
      assert.deepEqual(children.take(), [
        "stop:b",
        "stop:a",
        "start:a",
        "start:b", // fails
        "stop:a",
        "start:a",
        "start:b",
        "start:c",
      ]);
      assert.equal(supervisor.inspect().restarts, 2);
    },
  );
});

Deno.test("Supervisor as a child: a nested supervisor that gives up is restarted, then its parent gives up", async () => {
  const children = new Children();
  const recorder = new Recorder();
  const clock = new Clock();
  const subs: Supervisor[] = [];
  const parent = await Supervisor.start({
    name: "parent",
    intensity: 1,
    now: clock.now,
    onEvent: recorder.listener,
    children: [{
      id: "sub",
      start: async (): Promise<Supervisor> => {
        const sub = await Supervisor.start({
          name: "sub",
          intensity: 0,
          now: clock.now,
          children: [children.spec("w")],
        });
        subs.push(sub);
        return sub;
      },
    }],
  });
  const exited = recorder.next("exited:sub:crashed");
  const restarted = recorder.next("restarted:sub");
  children.latest("w").crash();
  const event = await exited;
  assert.ok(event.type === "exited");
  const error = crashError(event.reason);
  assert.ok(error instanceof SupervisorError);
  assert.equal(error.supervisor, "sub");
  await restarted;
  assert.equal(subs.length, 2);
  assert.equal(parent.child("sub"), subs[1]);
  assert.equal(children.starts("w"), 2);

  children.latest("w").crash();
  const reason = await parent.exited;
  const parentError = crashError(reason);
  assert.ok(parentError instanceof SupervisorError);
  assert.equal(parentError.supervisor, "parent");
  assert.equal((await subs[1].exited).kind, "crashed");
});

Deno.test("Supervisor gives a nested supervisor infinity to stop, so its subtree stops in order", async () => {
  const children = new Children();
  const parent = await Supervisor.start({
    children: [{
      id: "sub",
      start: () =>
        Supervisor.start({
          children: [
            children.spec("x"),
            children.spec("slow", { hangOnStop: true, shutdown: 10 }),
          ],
        }),
    }, children.spec("after")],
  });
  children.take();
  await parent.close();
  assert.deepEqual(children.log, [
    "stop:after",
    "stop:slow",
    "kill:slow",
    "stop:x",
  ]);
});

Deno.test("Supervisor kills a child that outlives its shutdown timeout", async () => {
  const children = new Children();
  const recorder = new Recorder();
  await using supervisor = await Supervisor.start({
    onEvent: recorder.listener,
    children: [children.spec("a", { hangOnStop: true, shutdown: 10 })],
  });
  children.take();
  recorder.take();
  await supervisor.terminateChild("a");
  assert.deepEqual(children.take(), ["stop:a", "kill:a"]);
  assert.deepEqual(recorder.take(), ["exited:a:killed"]);
});

Deno.test("Supervisor brutal_kill kills without asking the child to stop", async () => {
  const children = new Children();
  const recorder = new Recorder();
  await using supervisor = await Supervisor.start({
    onEvent: recorder.listener,
    children: [children.spec("a", { shutdown: "brutal_kill" })],
  });
  children.take();
  recorder.take();
  await supervisor.terminateChild("a");
  assert.deepEqual(children.take(), ["kill:a"]);
  assert.deepEqual(recorder.take(), ["exited:a:killed"]);
  await settled(supervisor);
  assert.equal(
    children.starts("a"),
    1,
    "the supervisor's own kill is no crash",
  );
});

Deno.test("Supervisor infinity waits for the child; kill() ends the wait", async () => {
  const children = new Children();
  const supervisor = await Supervisor.start({
    children: [children.spec("a", { hangOnStop: true, shutdown: "infinity" })],
  });
  children.take();
  const closing = supervisor.close();
  await children.latest("a").stopCalled;
  assert.equal(supervisor.inspect().state, "stopping");
  supervisor.kill();
  await closing;
  assert.deepEqual(children.log, ["stop:a", "kill:a"]);
  assert.deepEqual(await supervisor.exited, { kind: "killed" });
});

Deno.test("Supervisor.inspect() returns the tree, nested supervisors and details included", async () => {
  const children = new Children();
  const clock = new Clock();
  await using supervisor = await Supervisor.start({
    name: "app",
    strategy: "rest_for_one",
    intensity: 4,
    period: 900,
    now: clock.now,
    children: [
      children.spec("w", { details: { mailboxDepth: 2, running: 1 } }),
      {
        id: "sub",
        restart: "transient",
        start: () =>
          Supervisor.start({
            name: "sub",
            children: [
              children.spec("leaf", {
                restart: "temporary",
                details: { isolate: "7" },
              }),
            ],
          }),
      },
      children.spec("off"),
    ],
  });
  await supervisor.terminateChild("off");
  assert.deepEqual(supervisor.inspect(), {
    name: "app",
    strategy: "rest_for_one",
    state: "running",
    restarts: 0,
    intensity: 4,
    period: 900,
    children: [
      {
        id: "w",
        state: "running",
        restart: "permanent",
        restarts: 0,
        details: { mailboxDepth: 2, running: 1 },
      },
      {
        id: "sub",
        state: "running",
        restart: "transient",
        restarts: 0,
        details: {
          children: [{
            id: "leaf",
            state: "running",
            restart: "temporary",
            restarts: 0,
            details: { isolate: "7" },
          }],
        },
      },
      {
        id: "off",
        state: "stopped",
        restart: "permanent",
        restarts: 0,
        details: {},
      },
    ],
  });
});

Deno.test("Supervisor.events() yields events from now on and ends once the supervisor has ended", async () => {
  const children = new Children();
  const supervisor = await Supervisor.start({ children: [children.spec("a")] });
  const events = supervisor.events();
  const late = supervisor.events();
  await supervisor.startChild(children.spec("b"));
  children.latest("a").crash();
  const first = await events.next();
  assert.deepEqual(first, {
    value: { type: "started", supervisor: "supervisor", id: "b", restarts: 0 },
    done: false,
  });
  const seen: string[] = [];
  for await (const event of events) {
    seen.push(brief(event));
    if (event.type === "restarted") supervisor.stop();
  }
  assert.deepEqual(seen, [
    "exited:a:crashed",
    "started:a",
    "restarted:a",
    "exited:b:shutdown",
    "exited:a:shutdown",
  ]);
  assert.deepEqual(await events.next(), { value: undefined, done: true });
  const buffered: string[] = [];
  for await (const event of late) buffered.push(brief(event));
  assert.equal(buffered.length, 6, "a subscriber that did not read kept all");
  const after = supervisor.events();
  assert.deepEqual(await after.next(), { value: undefined, done: true });
});

Deno.test("Supervisor.events() rejects with the signal's reason on abort and unsubscribes", async (t) => {
  const children = new Children();
  await using supervisor = await Supervisor.start({
    children: [children.spec("a")],
  });

  await t.step("a pending next() rejects", async () => {
    const controller = new AbortController();
    const events = supervisor.events({ signal: controller.signal });
    const pending = events.next();
    const reason = new Error("enough");
    controller.abort(reason);
    await assert.rejects(pending, (error: unknown) => error === reason);
    assert.deepEqual(await events.next(), { value: undefined, done: true });
  });

  await t.step(
    "an abort between next() calls rejects the next one",
    async () => {
      const controller = new AbortController();
      const events = supervisor.events({ signal: controller.signal });
      await supervisor.terminateChild("a");
      controller.abort(new Error("enough"));
      await assert.rejects(events.next(), /enough/);
      assert.deepEqual(await events.next(), { value: undefined, done: true });
    },
  );

  await t.step("an aborted signal rejects at once", async () => {
    const events = supervisor.events({
      signal: AbortSignal.abort(new Error("already")),
    });
    await assert.rejects(events.next(), /already/);
  });

  await t.step("return() ends a pending next() and later ones", async () => {
    const events = supervisor.events();
    const pending = events.next();
    assert.deepEqual(await events.return?.(), { value: undefined, done: true });
    assert.deepEqual(await pending, { value: undefined, done: true });
    await supervisor.restartChild("a");
    assert.deepEqual(await events.next(), { value: undefined, done: true });
  });
});

Deno.test("Supervisor terminateChild(), restartChild() and deleteChild() manage a child by id", async (t) => {
  const children = new Children();
  const recorder = new Recorder();
  await using supervisor = await Supervisor.start({
    onEvent: recorder.listener,
    children: [children.spec("a"), children.spec("b")],
  });
  children.take();
  recorder.take();

  await t.step("terminateChild() stops it and keeps its spec", async () => {
    await supervisor.terminateChild("a");
    await supervisor.terminateChild("a");
    assert.deepEqual(children.take(), ["stop:a"]);
    assert.deepEqual(recorder.take(), ["exited:a:shutdown"]);
    assert.equal(supervisor.child("a"), undefined);
    assert.deepEqual(supervisor.children, ["a", "b"]);
    assert.equal(supervisor.inspect().children[0].state, "stopped");
  });

  await t.step("restartChild() starts it again", async () => {
    const child = await supervisor.restartChild("a");
    assert.equal(child, children.latest("a"));
    assert.equal(supervisor.child("a"), child);
    assert.deepEqual(recorder.take(), ["started:a"]);
    assert.equal(
      supervisor.inspect().restarts,
      0,
      "a manual start is no restart",
    );
    await assert.rejects(
      supervisor.restartChild("a"),
      (error: unknown) =>
        error instanceof SupervisorError && /it is running/.test(error.message),
    );
  });

  await t.step(
    "restartChild() rejects with the cause when the start fails",
    async () => {
      await supervisor.terminateChild("a");
      children.failNextStarts("a", 1);
      const error = await supervisor.restartChild("a").then(
        () => assert.fail("restart should have failed"),
        (error) => error,
      );
      assert.ok(error instanceof SupervisorError);
      assert.match(String(error.cause), /a failed to start/);
      assert.equal(supervisor.inspect().children[0].state, "stopped");
    },
  );

  await t.step("deleteChild() removes a stopped child only", () => {
    assert.throws(
      () => supervisor.deleteChild("b"),
      (error: unknown) =>
        error instanceof SupervisorError &&
        /call terminateChild\(\) first/.test(error.message),
    );
    supervisor.deleteChild("a");
    assert.deepEqual(supervisor.children, ["b"]);
  });

  await t.step("unknown ids are refused", async () => {
    for (
      const attempt of [
        () => supervisor.terminateChild("zz"),
        () => supervisor.restartChild("zz"),
        () => Promise.resolve().then(() => supervisor.deleteChild("zz")),
      ]
    ) {
      await assert.rejects(
        attempt(),
        (error: unknown) =>
          error instanceof SupervisorError &&
          /no such child/.test(error.message),
      );
    }
  });

  await t.step(
    "startChild() refuses a taken id and keeps no spec of a failed start",
    async () => {
      await assert.rejects(
        supervisor.startChild(children.spec("b")),
        (error: unknown) =>
          error instanceof SupervisorError &&
          /already has a child/.test(error.message),
      );
      children.failNextStarts("c", 1);
      const error = await supervisor.startChild(children.spec("c")).then(
        () => assert.fail("start should have failed"),
        (error) => error,
      );
      assert.ok(error instanceof SupervisorError);
      assert.match(error.message, /"c"/);
      assert.deepEqual(supervisor.children, ["b"]);
    },
  );

  await t.step(
    "terminateChild() removes a temporary child's spec",
    async () => {
      await supervisor.startChild(children.spec("t", { restart: "temporary" }));
      await supervisor.terminateChild("t");
      assert.deepEqual(supervisor.children, ["b"]);
    },
  );
});

Deno.test("Supervisor.kill() during a start that never settles rejects it and kills the late child", async () => {
  const children = new Children();
  const late = Promise.withResolvers<Supervisable>();
  const called = Promise.withResolvers<void>();
  const supervisor = new Supervisor({ name: "app" });
  const starting = supervisor.startChild({
    id: "slow",
    start: () => {
      called.resolve();
      return late.promise;
    },
  });
  await called.promise;
  supervisor.kill();
  await assert.rejects(
    starting,
    (error: unknown) =>
      error instanceof SupervisorError && /was killed/.test(error.message),
  );
  assert.deepEqual(await supervisor.exited, { kind: "killed" });
  const child = new FakeChild("slow", children.log);
  late.resolve(child);
  assert.deepEqual(await child.exited, { kind: "killed" });
  assert.deepEqual(children.log, ["kill:slow"]);
});

Deno.test("Supervisor.stop() gives a pending start its shutdown budget, then abandons it", async () => {
  const children = new Children();
  const never = Promise.withResolvers<Supervisable>();
  const called = Promise.withResolvers<void>();
  const supervisor = await Supervisor.start({ children: [children.spec("a")] });
  const starting = supervisor.startChild({
    id: "slow",
    shutdown: 10,
    start: () => {
      called.resolve();
      return never.promise;
    },
  });
  await called.promise;
  supervisor.stop();
  await assert.rejects(
    starting,
    (error: unknown) =>
      error instanceof SupervisorError &&
      /stopped while it was starting/.test(error.message),
  );
  assert.deepEqual(await supervisor.exited, { kind: "shutdown" });
  assert.deepEqual(children.log, ["start:a", "stop:a"]);
  assert.deepEqual(supervisor.children, ["a"]);
});

Deno.test("Supervisor.stop() during a restart waits for it, then stops what started", async () => {
  const children = new Children();
  const recorder = new Recorder();
  const gate = Promise.withResolvers<void>();
  const restarting = Promise.withResolvers<void>();
  let starts = 0;
  const supervisor = await Supervisor.start({
    onEvent: recorder.listener,
    children: [{
      id: "a",
      shutdown: "infinity",
      start: async (): Promise<Supervisable> => {
        if (++starts === 2) {
          restarting.resolve();
          await gate.promise;
        }
        return children.spec("a").start();
      },
    }],
  });
  recorder.take();
  children.latest("a").crash();
  await restarting.promise;
  const closing = supervisor.close();
  gate.resolve();
  await closing;
  assert.deepEqual(children.log, ["start:a", "start:a", "stop:a"]);
  assert.deepEqual(recorder.take(), [
    "exited:a:crashed",
    "started:a", // it did start, so it is reported, then stopped
    "restarted:a",
    "exited:a:shutdown",
  ]);
});

Deno.test("Supervisor.root is one lazily created supervisor per realm that recovers from giving up", async () => {
  const root = Supervisor.root;
  assert.equal(Supervisor.root, root);
  const tree = root.inspect();
  assert.equal(tree.name, "root");
  assert.equal(tree.strategy, "one_for_one");
  assert.equal(tree.intensity, 3);
  assert.equal(tree.period, 5000);

  const children = new Children();
  const events: string[] = [];
  const gaveUp = Promise.withResolvers<void>();
  const feed = root.events();
  const reading = (async (): Promise<void> => {
    for await (const event of feed) {
      events.push(brief(event));
      if (event.type === "gave_up") gaveUp.resolve();
    }
  })();
  await root.startChild(children.spec("a"));
  await root.startChild(children.spec("b"));
  children.take();
  children.failNextStarts("a", Number.POSITIVE_INFINITY);
  children.latest("a").crash();
  await gaveUp.promise;
  await settled(root);
  assert.deepEqual(children.take(), [
    "start:a",
    "start:a",
    "start:a",
    "stop:b",
  ]);
  assert.equal(root.inspect().state, "running");
  assert.deepEqual(root.children, []);
  assert.equal(root.inspect().restarts, 0);
  assert.equal(Supervisor.root, root);

  await root.startChild(children.spec("c"));
  await root.close();
  await reading;
  assert.deepEqual(events.slice(-2), ["started:c", "exited:c:shutdown"]);
  assert.notEqual(Supervisor.root, root);
  assert.equal(Supervisor.root.inspect().state, "running");
  await Supervisor.root.close();
});
