import assert from "node:assert/strict";
import {
  Actor,
  ActorExitedError,
  type ActorHandlers,
  MailboxFullError,
  type MailboxOptions,
  TimeoutError,
} from "@isolates/isolates";

type Message =
  | { kind: "hold" }
  | { kind: "note"; text: string }
  | { kind: "echo"; text: string }
  | { kind: "fail"; error: unknown };
type Replies = { hold: string; echo: string };

/**
 * An actor whose "hold" handler blocks until `release()`, so a test can
 * queue messages behind a running one. Every handled message is recorded.
 */
function blockable(mailbox?: MailboxOptions): {
  actor: Actor<Message, Replies>;
  seen: string[];
  started: Promise<void>;
  release: () => void;
} {
  const seen: string[] = [];
  const started = Promise.withResolvers<void>();
  const gate = Promise.withResolvers<void>();
  const actor = new Actor<Message, Replies>({
    hold: async () => {
      seen.push("hold");
      started.resolve();
      await gate.promise;
      return "held";
    },
    note: (message) => {
      seen.push(message.text);
    },
    echo: (message) => {
      seen.push(message.text);
      return message.text;
    },
    fail: (message) => {
      seen.push("fail");
      throw message.error;
    },
  }, { name: "test", mailbox });
  return { actor, seen, started: started.promise, release: gate.resolve };
}

/** Checks that `promise` rejects with ActorExitedError for the actor "test". */
async function rejectsExited(
  promise: Promise<unknown>,
  reason: RegExp,
): Promise<ActorExitedError> {
  let caught: ActorExitedError | undefined;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ActorExitedError, String(error));
    assert.equal(error.code, "actor_exited");
    assert.equal(error.actor, "test");
    assert.match(error.reason, reason);
    caught = error;
    return true;
  });
  return caught as ActorExitedError;
}

Deno.test("Actor dispatches each message to the handler of its kind and resolves ask() with its reply", async () => {
  type Counter =
    | { kind: "add"; amount: number }
    | { kind: "get" }
    | { kind: "reset" };
  let total = 0;
  await using counter = new Actor<Counter, { get: number; reset: number }>({
    add: (message) => {
      total += message.amount;
    },
    get: async () => await Promise.resolve(total),
    reset: () => {
      const old = total;
      total = 0;
      return old;
    },
  }, { name: "counter" });
  assert.equal(counter.name, "counter");
  await counter.tell({ kind: "add", amount: 2 });
  await counter.tell({ kind: "add", amount: 3 });
  const got: number = await counter.ask({ kind: "get" });
  assert.equal(got, 5);
  assert.equal(await counter.ask({ kind: "reset" }), 5);
  assert.equal(await counter.ask({ kind: "add", amount: 1 }), undefined);
  assert.equal(await counter.ask({ kind: "get" }), 1);
});

Deno.test("Actor calls handlers with the handlers object as this and the actor as argument", async () => {
  type Message = { kind: "add"; amount: number } | { kind: "twice" } | {
    kind: "get";
  };
  type Replies = { get: number };
  class Tally implements ActorHandlers<Message, Replies> {
    total = 0;
    add(message: { kind: "add"; amount: number }): void {
      this.total += message.amount;
    }
    async twice(
      _message: { kind: "twice" },
      actor: Actor<Message, Replies>,
    ): Promise<void> {
      await actor.tell({ kind: "add", amount: 1 });
      await actor.tell({ kind: "add", amount: 1 });
    }
    get(): number {
      return this.total;
    }
  }
  await using actor = new Actor<Message, Replies>(new Tally());
  assert.equal(actor.name, "actor");
  await actor.tell({ kind: "twice" });
  await actor.tell({ kind: "add", amount: 10 });
  assert.equal(await actor.ask({ kind: "get" }), 12);
});

Deno.test("ActorHandlers and Actor.ask() are checked by the compiler", async () => {
  type Message = { kind: "add"; amount: number } | { kind: "get" };
  type Replies = { get: number };
  // Never called: these lines only have to fail to compile as marked.
  const compileOnly = (actor: Actor<Message, Replies>): void => {
    // @ts-expect-error: the handler for "get" is missing
    const _missing: ActorHandlers<Message, Replies> = { add: () => {} };
    const _wrongReply: ActorHandlers<Message, Replies> = {
      add: () => {},
      // @ts-expect-error: "get" replies a number
      get: () => "zero",
    };
    // @ts-expect-error: "sub" is not a kind of Message
    void actor.tell({ kind: "sub", amount: 1 });
    // @ts-expect-error: "add" needs an amount
    void actor.ask({ kind: "add" });
    // @ts-expect-error: "get" replies a number, not a string
    const _wrongType: Promise<string> = actor.ask({ kind: "get" });
  };
  assert.equal(typeof compileOnly, "function");

  let total = 0;
  await using actor = new Actor<Message, Replies>({
    add: (message) => {
      total += message.amount;
    },
    get: () => total,
  });
  await actor.tell({ kind: "add", amount: 4 });
  const reply: number = await actor.ask({ kind: "get" });
  assert.equal(reply, 4);
});

Deno.test("Actor rejects a message whose kind has no handler with TypeError", async () => {
  await using actor = new Actor<{ kind: "known" }>({ known: () => {} });
  const stray = { kind: "unknown" } as unknown as { kind: "known" };
  await assert.rejects(actor.tell(stray), TypeError);
  await assert.rejects(actor.ask(stray), /no handler for kind "unknown"/);
});

Deno.test("Actor() throws RangeError for invalid mailbox options", () => {
  assert.throws(
    () =>
      new Actor<{ kind: "x" }>({ x: () => {} }, { mailbox: { capacity: 0 } }),
    RangeError,
  );
});

Deno.test("Actor handles one message at a time, in order", async () => {
  let concurrent = 0;
  let most = 0;
  const handled: number[] = [];
  const total = 200;
  const done = Promise.withResolvers<void>();
  await using actor = new Actor<{ kind: "work"; id: number }>({
    work: async (message) => {
      concurrent++;
      most = Math.max(most, concurrent);
      // Several turns of the microtask queue, and sometimes a macrotask, so
      // an overlapping handler would have every chance to start.
      for (let i = 0; i < message.id % 5; i++) await Promise.resolve();
      if (message.id % 50 === 0) {
        await new Promise<void>((resolve) => queueMicrotask(resolve));
      }
      handled.push(message.id);
      concurrent--;
      if (handled.length === total) done.resolve();
    },
  });
  const tells: Promise<void>[] = [];
  for (let id = 0; id < total; id++) {
    tells.push(actor.tell({ kind: "work", id }));
    if (id % 7 === 0) await Promise.resolve();
  }
  await Promise.all(tells);
  await done.promise;
  assert.equal(most, 1);
  assert.deepEqual(handled, Array.from({ length: total }, (_, i) => i));
});

Deno.test('Actor under "reject" rejects with MailboxFullError when full and keeps the other messages', async () => {
  const { actor, seen, started, release } = blockable({
    capacity: 2,
    overflow: "reject",
  });
  const held = actor.ask({ kind: "hold" });
  await started;
  await actor.tell({ kind: "note", text: "a" });
  const b = actor.ask({ kind: "echo", text: "b" });
  assert.equal(actor.mailboxDepth, 2);

  await assert.rejects(
    actor.tell({ kind: "note", text: "c" }),
    MailboxFullError,
  );
  await assert.rejects(
    actor.ask({ kind: "echo", text: "d" }),
    (error: unknown) => {
      assert.ok(error instanceof MailboxFullError);
      assert.equal(error.code, "mailbox_full");
      assert.equal(error.actor, "test");
      assert.equal(error.capacity, 2);
      return true;
    },
  );
  assert.equal(actor.dropped, 0);

  release();
  assert.equal(await held, "held");
  assert.equal(await b, "b");
  await actor.close();
  assert.deepEqual(seen, ["hold", "a", "b"]);
});

Deno.test('Actor under "drop_oldest" keeps the newest messages and rejects evicted asks', async () => {
  const { actor, seen, started, release } = blockable({
    capacity: 2,
    overflow: "drop_oldest",
  });
  const held = actor.ask({ kind: "hold" });
  await started;
  await actor.tell({ kind: "note", text: "a" });
  const b = actor.ask({ kind: "echo", text: "b" });
  await actor.tell({ kind: "note", text: "c" }); // evicts a
  await actor.tell({ kind: "note", text: "d" }); // evicts b
  await assert.rejects(b, (error: unknown) => {
    assert.ok(error instanceof MailboxFullError);
    assert.equal(error.code, "mailbox_full");
    return true;
  });
  assert.equal(actor.dropped, 2);
  assert.equal(actor.mailboxDepth, 2);

  release();
  assert.equal(await held, "held");
  await actor.close();
  assert.deepEqual(seen, ["hold", "c", "d"]);
});

Deno.test('Actor under "drop_newest" keeps the oldest messages and rejects refused asks', async () => {
  const { actor, seen, started, release } = blockable({
    capacity: 2,
    overflow: "drop_newest",
  });
  const held = actor.ask({ kind: "hold" });
  await started;
  await actor.tell({ kind: "note", text: "a" });
  await actor.tell({ kind: "note", text: "b" });
  await actor.tell({ kind: "note", text: "c" }); // dropped, yet resolves
  const d = actor.ask({ kind: "echo", text: "d" });
  await assert.rejects(d, (error: unknown) => {
    assert.ok(error instanceof MailboxFullError);
    assert.equal(error.code, "mailbox_full");
    return true;
  });
  assert.equal(actor.dropped, 2);

  release();
  assert.equal(await held, "held");
  await actor.close();
  assert.deepEqual(seen, ["hold", "a", "b"]);
});

Deno.test('Actor under "wait" holds senders back until there is room, in order', async (t) => {
  const { actor, seen, started, release } = blockable({
    capacity: 2,
    overflow: "wait",
  });
  const held = actor.ask({ kind: "hold" });
  await started;
  const accepted: string[] = [];
  const send = (text: string): Promise<void> =>
    actor.tell({ kind: "note", text }).then(() => {
      accepted.push(text);
    });
  await send("a");
  await send("b");
  const c = send("c");
  const d = actor.ask({ kind: "echo", text: "d" });
  const controller = new AbortController();
  const e = actor.ask({ kind: "echo", text: "e" }, {
    signal: controller.signal,
  });
  // Handled at once: the timer may fire before the step below awaits it.
  const timedOut = assert.rejects(
    actor.ask({ kind: "echo", text: "t" }, { timeout: 1 }),
    TimeoutError,
  );
  const f = send("f");

  await t.step("a blocked ask gives up on abort or timeout", async () => {
    const reason = new Error("not needed");
    controller.abort(reason);
    await assert.rejects(e, (error) => error === reason);
    await timedOut;
    assert.deepEqual(accepted, ["a", "b"]);
    assert.equal(actor.mailboxDepth, 2);
  });

  await t.step(
    "senders get in, in order, as the actor makes room",
    async () => {
      release();
      assert.equal(await held, "held");
      await c;
      assert.equal(await d, "d");
      await f;
      assert.deepEqual(accepted, ["a", "b", "c", "f"]);
      await actor.close();
      assert.deepEqual(seen, ["hold", "a", "b", "c", "d", "f"]);
      assert.equal(actor.dropped, 0);
    },
  );
});

Deno.test('Actor handles a flood of 100,000 tells under "wait" exactly once, in order, within capacity', async () => {
  const total = 100_000;
  const capacity = 1000;
  let next = 0;
  let deepest = 0;
  let outOfOrder = 0;
  const done = Promise.withResolvers<void>();
  const actor: Actor<{ kind: "n"; i: number }> = new Actor<
    { kind: "n"; i: number }
  >({
    n: async (message) => {
      if (message.i !== next) outOfOrder++;
      next++;
      deepest = Math.max(deepest, actor.mailboxDepth);
      if (next === total) done.resolve();
      await Promise.resolve();
    },
  }, { name: "flood", mailbox: { capacity, overflow: "wait" } });
  const tells: Promise<void>[] = [];
  for (let i = 0; i < total; i++) tells.push(actor.tell({ kind: "n", i }));
  assert.equal(actor.mailboxDepth, capacity);
  await Promise.all(tells);
  await done.promise;
  await actor.close();
  assert.equal(next, total);
  assert.equal(outOfOrder, 0);
  assert.ok(deepest <= capacity, `mailbox grew to ${deepest}`);
  assert.equal(actor.dropped, 0);
});

Deno.test('Actor handles every accepted tell of a flood under "reject", in order, and rejects the rest', async () => {
  const total = 100_000;
  const handled: number[] = [];
  let caughtUp = Promise.withResolvers<void>();
  const actor = new Actor<{ kind: "n"; i: number }>({
    n: (message, self) => {
      handled.push(message.i);
      if (self.mailboxDepth === 0) caughtUp.resolve();
    },
  }, { name: "flood", mailbox: { capacity: 1000, overflow: "reject" } });
  const accepted: number[] = [];
  let rejected = 0;
  const outcomes: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    outcomes.push(
      actor.tell({ kind: "n", i }).then(
        () => {
          accepted.push(i);
        },
        (error: unknown) => {
          assert.ok(error instanceof MailboxFullError);
          assert.equal(error.code, "mailbox_full");
          rejected++;
        },
      ),
    );
    // Let the actor catch up now and then, so some of every stretch gets in.
    if (i % 3000 === 2999) {
      await caughtUp.promise;
      caughtUp = Promise.withResolvers<void>();
    }
  }
  await Promise.all(outcomes);
  await actor.close();
  assert.ok(rejected > 0 && accepted.length > 1000, `${accepted.length}`);
  assert.equal(accepted.length + rejected, total);
  assert.deepEqual(handled, accepted);
});

Deno.test("Actor.ask() rejects with TimeoutError and drops the message or its reply", async (t) => {
  const { actor, seen, started, release } = blockable();
  // Both timers run at once: handle each rejection from the start.
  const running = assert.rejects(
    actor.ask({ kind: "hold" }, { timeout: 20 }),
    TimeoutError,
  );
  await started;
  const queued = actor.ask({ kind: "echo", text: "late" }, { timeout: 20 });

  await t.step("a queued ask times out and leaves the mailbox", async () => {
    await assert.rejects(queued, (error: unknown) => {
      assert.ok(error instanceof TimeoutError);
      assert.equal(error.code, "timeout");
      assert.equal(error.ms, 20);
      assert.match(error.message, /ask actor "test" for "echo"/);
      return true;
    });
    assert.equal(actor.mailboxDepth, 0);
  });

  await t.step("a running ask times out; its reply is discarded", async () => {
    await running;
    assert.equal(actor.running, true);
    release();
    assert.equal(await actor.ask({ kind: "echo", text: "next" }), "next");
    assert.deepEqual(seen, ["hold", "next"]);
  });

  await t.step("an answer within the timeout clears its timer", async () => {
    assert.equal(
      await actor.ask({ kind: "echo", text: "fast" }, { timeout: 60_000 }),
      "fast",
    );
  });

  await t.step("an invalid timeout is a RangeError", async () => {
    for (const timeout of [-1, Number.NaN, 2 ** 31]) {
      await assert.rejects(
        actor.ask({ kind: "echo", text: "x" }, { timeout }),
        (error: unknown) => {
          assert.ok(error instanceof RangeError);
          assert.match(error.message, /"timeout"/);
          return true;
        },
      );
    }
  });
  await actor.close();
  assert.deepEqual(seen, ["hold", "next", "fast"]);
});

Deno.test("Actor.ask() rejects with the signal's reason when aborted", async (t) => {
  const { actor, seen, started, release } = blockable();

  await t.step("an already aborted signal sends nothing", async () => {
    const reason = new Error("before");
    await assert.rejects(
      actor.ask({ kind: "echo", text: "never" }, {
        signal: AbortSignal.abort(reason),
      }),
      (error) => error === reason,
    );
  });

  const runningController = new AbortController();
  const running = actor.ask({ kind: "hold" }, {
    signal: runningController.signal,
  });
  await started;

  await t.step("a queued ask is taken out of the mailbox", async () => {
    const controller = new AbortController();
    const queued = actor.ask({ kind: "echo", text: "queued" }, {
      signal: controller.signal,
    });
    await actor.tell({ kind: "note", text: "kept" });
    assert.equal(actor.mailboxDepth, 2);
    const reason = new Error("queued abort");
    controller.abort(reason);
    await assert.rejects(queued, (error) => error === reason);
    assert.equal(actor.mailboxDepth, 1);
  });

  await t.step("a running ask has its reply discarded", async () => {
    const reason = new Error("running abort");
    runningController.abort(reason);
    await assert.rejects(running, (error) => error === reason);
    release();
    await actor.close();
    assert.deepEqual(seen, ["hold", "kept"]);
  });
});

Deno.test("Actor crashes when a handler throws, settling every pending ask", async (t) => {
  const { actor, seen, started, release } = blockable({
    capacity: 2,
    overflow: "wait",
  });
  const boom = new Error("boom");
  const held = actor.ask({ kind: "hold" });
  await started;
  const failing = actor.ask({ kind: "fail", error: boom });
  await actor.tell({ kind: "note", text: "queued tell" });
  const blockedAsk = actor.ask({ kind: "echo", text: "blocked ask" });
  const blockedTell = actor.tell({ kind: "note", text: "blocked tell" });
  const reasons: Promise<ActorExitedError>[] = [
    rejectsExited(blockedAsk, /^crashed: boom$/),
    rejectsExited(blockedTell, /^crashed: boom$/),
  ];

  await t.step(
    "the failing ask rejects with the handler's own error",
    async () => {
      release();
      assert.equal(await held, "held");
      await assert.rejects(failing, (error) => error === boom);
    },
  );

  await t.step("exited says crashed, with the error", async () => {
    assert.deepEqual(await actor.exited, { kind: "crashed", error: boom });
  });

  await t.step(
    "the others reject with ActorExitedError naming the cause",
    async () => {
      for (const error of await Promise.all(reasons)) {
        assert.equal(error.cause, boom);
        assert.match(error.message, /^Cannot reach actor "test": it crashed/);
      }
      assert.equal(actor.dropped, 1); // the queued tell
      assert.equal(actor.mailboxDepth, 0);
      assert.deepEqual(seen, ["hold", "fail"]);
    },
  );

  await t.step("later messages reject with ActorExitedError", async () => {
    await rejectsExited(actor.tell({ kind: "note", text: "x" }), /crashed/);
    await rejectsExited(actor.ask({ kind: "echo", text: "y" }), /crashed/);
  });
});

Deno.test("Actor crashes when a tell's handler rejects, and queued asks reject", async () => {
  const { actor, started, release } = blockable();
  const held = actor.ask({ kind: "hold" });
  await started;
  const oops = new TypeError("oops");
  await actor.tell({ kind: "fail", error: oops });
  const queued = actor.ask({ kind: "echo", text: "after" });
  release();
  await held;
  const error = await rejectsExited(queued, /^crashed: oops$/);
  assert.equal(error.cause, oops);
  assert.deepEqual(await actor.exited, { kind: "crashed", error: oops });
});

Deno.test("Actor.stop() handles every accepted message, then exits with shutdown", async (t) => {
  const { actor, seen, started, release } = blockable({
    capacity: 2,
    overflow: "wait",
  });
  const held = actor.ask({ kind: "hold" });
  await started;
  await actor.tell({ kind: "note", text: "a" });
  const b = actor.ask({ kind: "echo", text: "b" });
  const blocked = actor.tell({ kind: "note", text: "blocked" });
  let exited = false;
  void actor.exited.then(() => {
    exited = true;
  });

  await t.step("stop() refuses new and blocked senders", async () => {
    actor.stop();
    actor.stop();
    await rejectsExited(blocked, /^is stopping$/);
    await rejectsExited(actor.tell({ kind: "note", text: "c" }), /stopping/);
    await rejectsExited(actor.ask({ kind: "echo", text: "d" }), /stopping/);
    assert.equal(actor.mailboxDepth, 2);
    assert.equal(exited, false);
  });

  await t.step("accepted messages are still handled", async () => {
    release();
    assert.equal(await held, "held");
    assert.equal(await b, "b");
    assert.deepEqual(await actor.exited, { kind: "shutdown" });
    assert.deepEqual(seen, ["hold", "a", "b"]);
    assert.equal(actor.dropped, 0);
  });

  await t.step("later messages reject with ActorExitedError", async () => {
    await rejectsExited(
      actor.tell({ kind: "note", text: "e" }),
      /^has stopped$/,
    );
    actor.kill(); // too late: no effect
    assert.deepEqual(await actor.exited, { kind: "shutdown" });
  });
});

Deno.test("Actor.stop() from a handler lets the queued messages finish", async () => {
  const seen: string[] = [];
  const actor = new Actor<{ kind: "note"; text: string } | { kind: "quit" }>({
    note: (message) => {
      seen.push(message.text);
    },
    quit: (_message, self) => {
      seen.push("quit");
      self.stop();
    },
  });
  const sends = [
    actor.tell({ kind: "note", text: "a" }),
    actor.tell({ kind: "quit" }),
    actor.tell({ kind: "note", text: "b" }),
  ];
  await Promise.all(sends);
  assert.deepEqual(await actor.exited, { kind: "shutdown" });
  assert.deepEqual(seen, ["a", "quit", "b"]);
});

Deno.test("Actor.kill() during stop() rejects the asks it had still to handle", async () => {
  const { actor, seen, started, release } = blockable();
  const held = actor.ask({ kind: "hold" });
  await started;
  await actor.tell({ kind: "note", text: "a" });
  const b = actor.ask({ kind: "echo", text: "b" });
  actor.stop();
  actor.kill();
  await Promise.all([
    rejectsExited(held, /^was killed$/),
    rejectsExited(b, /^was killed$/),
  ]);
  assert.deepEqual(await actor.exited, { kind: "killed" });
  assert.equal(actor.dropped, 1);
  assert.equal(actor.mailboxDepth, 0);
  release();
  assert.deepEqual(seen, ["hold"]);
});

Deno.test("Actor.stop() ends with crashed when a handler throws while stopping", async () => {
  const { actor, seen, started, release } = blockable();
  const boom = new Error("late boom");
  const held = actor.ask({ kind: "hold" });
  await started;
  await actor.tell({ kind: "fail", error: boom });
  const after = actor.ask({ kind: "echo", text: "after" });
  actor.stop();
  release();
  assert.equal(await held, "held");
  await rejectsExited(after, /^crashed: late boom$/);
  assert.deepEqual(await actor.exited, { kind: "crashed", error: boom });
  assert.deepEqual(seen, ["hold", "fail"]);
});

Deno.test("Actor.kill() ends at once and rejects every pending ask", async () => {
  const { actor, seen, started, release } = blockable({
    capacity: 1,
    overflow: "wait",
  });
  const held = actor.ask({ kind: "hold" });
  await started;
  const queued = actor.ask({ kind: "echo", text: "queued" });
  const blockedAsk = actor.ask({ kind: "echo", text: "blocked" });
  const blockedTell = actor.tell({ kind: "note", text: "blocked" });
  actor.kill();
  actor.kill();
  actor.stop();
  await Promise.all(
    [held, queued, blockedAsk, blockedTell].map((pending) =>
      rejectsExited(pending, /^was killed$/)
    ),
  );
  assert.deepEqual(await actor.exited, { kind: "killed" });
  assert.equal(actor.running, false);
  release(); // the running handler finishes; nothing more happens
  await rejectsExited(actor.tell({ kind: "note", text: "x" }), /killed/);
  assert.deepEqual(seen, ["hold"]);
});

Deno.test("Actor.kill() discards queued tells and counts them as dropped", async () => {
  const { actor, started, release } = blockable();
  void actor.tell({ kind: "hold" });
  await started;
  await actor.tell({ kind: "note", text: "a" });
  await actor.tell({ kind: "note", text: "b" });
  actor.kill();
  release();
  assert.deepEqual(await actor.exited, { kind: "killed" });
  assert.equal(actor.dropped, 2);
  assert.equal(actor.mailboxDepth, 0);
});

Deno.test("Actor.describe() reports the mailbox depth, the running handler and utilization", async () => {
  const { actor, started, release } = blockable();
  const idle = actor.describe();
  assert.equal(idle.mailboxDepth, 0);
  assert.equal(idle.running, 0);
  const held = actor.ask({ kind: "hold" });
  await started;
  await actor.tell({ kind: "note", text: "a" });
  const busy = actor.describe();
  assert.equal(busy.mailboxDepth, 1);
  assert.equal(busy.running, 1);
  assert.equal(actor.running, true);
  assert.ok(busy.utilization! >= 0 && busy.utilization! <= 1);
  release();
  await held;
  await actor.close();
  const after = actor.describe();
  assert.equal(after.mailboxDepth, 0);
  assert.equal(after.running, 0);
  assert.ok(after.utilization! > 0 && after.utilization! <= 1);
});

Deno.test("Actor.close() and await using stop the actor and wait for it", async () => {
  let handled = 0;
  let outer: Actor<{ kind: "tick" }> | undefined;
  {
    await using actor = new Actor<{ kind: "tick" }>({
      tick: async () => {
        await Promise.resolve();
        handled++;
      },
    });
    outer = actor;
    for (let i = 0; i < 10; i++) void actor.tell({ kind: "tick" });
  }
  assert.equal(handled, 10);
  assert.deepEqual(await outer.exited, { kind: "shutdown" });
  await outer.close(); // idempotent
});
