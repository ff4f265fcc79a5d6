import assert from "node:assert/strict";
import {
  Isolate,
  IsolateExitedError,
  MethodChannel,
  ReceivePort,
  ServicesBinding,
} from "../../mod.ts";
import type { Ready } from "./fixtures/agent.ts";
import type { Outcome } from "./fixtures/_report.ts";
import {
  ask,
  errorOf,
  firstFrom,
  fixture,
  guarded,
  mainHandler,
  mentions,
  okOf,
  rootToken,
  sanitized,
  spawnAgent,
} from "./_helpers.ts";

const AGENT = fixture("agent.ts");

/**
 * Asks the agent `parent` to spawn another agent that reports to the main
 * thread; resolves with that child's Ready report. `alive` is the isolate
 * whose end means the child is gone too (the top of its branch).
 */
async function spawnChildAgent(
  alive: Isolate,
  parent: Ready,
  token: unknown,
): Promise<Ready> {
  const port = new ReceivePort("child ready");
  const spawned = ask(alive, parent.commands, {
    op: "spawn",
    entry: AGENT.href,
    message: { reply: port.sendPort, token },
  });
  const [ready, id] = await Promise.all([
    firstFrom<Ready>(port, alive),
    spawned.then(okOf),
  ]);
  assert.equal(ready.id, id);
  return ready;
}

Deno.test(
  "Isolate spawned by a worker reaches the main thread's handlers with the token passed down",
  sanitized,
  guarded(async (t) => {
    const callers: string[] = [];
    using handler = mainHandler("tests/nested/who", (call, context) => {
      callers.push(context.isolate);
      return `hello ${call.arguments}`;
    });
    // The middle isolate never connects itself: it only passes the token.
    const middle = await spawnAgent({}, { debugName: "middle" });
    const child = await spawnChildAgent(
      middle.isolate,
      middle.ready,
      rootToken(),
    );

    await t.step("the child's id is below its parent's", () => {
      assert.equal(child.id, `${middle.isolate.id}.1`);
      assert.equal(child.tokenIsNull, true);
      assert.equal(child.tokenArrived, true);
    });

    await t.step(
      "the child's call reaches the handler, which sees its id",
      async () => {
        const answer = await ask(middle.isolate, child.commands, {
          op: "invoke",
          channel: handler.channel,
          method: "greet",
          args: "child",
        });
        assert.equal(okOf(answer), "hello child");
        assert.deepEqual(callers, [child.id]);
      },
    );

    await t.step("the main thread calls into the child", async () => {
      okOf(
        await ask(middle.isolate, child.commands, {
          op: "serve",
          channel: "tests/nested/into",
          behaviour: "echo",
        }),
      );
      const result = await new MethodChannel(
        "tests/nested/into",
        undefined,
        ServicesBinding.messengerFor(child.id),
      ).invokeMethod("ping", 1);
      assert.deepEqual(
        result,
        new Map<unknown, unknown>([["method", "ping"], ["args", 1], [
          "from",
          "0",
        ]]),
      );
    });

    await t.step("a grandchild, two levels down, reaches it too", async () => {
      const grandchild = await spawnChildAgent(
        middle.isolate,
        child,
        rootToken(),
      );
      assert.equal(grandchild.id, `${child.id}.1`);
      const answer = await ask(middle.isolate, grandchild.commands, {
        op: "invoke",
        channel: handler.channel,
        method: "greet",
        args: "grandchild",
      });
      assert.equal(okOf(answer), "hello grandchild");
      assert.deepEqual(callers, [child.id, grandchild.id]);
      grandchild.commands.send({ op: "close" });
    });

    child.commands.send({ op: "close" });
    await middle.close();
  }),
);

Deno.test(
  "Isolate.spawn() in a worker rejects with IsolateSpawnError there when the entry is missing",
  sanitized,
  guarded(async () => {
    const middle = await spawnAgent();
    const missing = new URL("./fixtures/no_such_entry.ts", import.meta.url);
    const error = errorOf(
      await middle.ask({ op: "spawn", entry: missing.href, message: null }),
    );
    assert.equal(error.name, "IsolateSpawnError");
    assert.equal(error.code, "isolate_spawn");
    mentions(error.message, "could not load its entry", "no_such_entry.ts");
    await middle.close();
  }),
);

Deno.test(
  "Isolate spawned by a worker without the token gets MissingPluginException",
  sanitized,
  guarded(async () => {
    let calls = 0;
    using handler = mainHandler("tests/nested/no_token", () => {
      calls++;
      return null;
    });
    const middle = await spawnAgent({ token: rootToken() });
    // RootIsolateToken.instance is null in the middle isolate: it cannot
    // hand a token down that it was not given.
    const child = await spawnChildAgent(
      middle.isolate,
      middle.ready,
      undefined,
    );
    const error = errorOf(
      await ask(middle.isolate, child.commands, {
        op: "invoke",
        channel: handler.channel,
        method: "read",
      }),
    );
    assert.ok(error.classes.includes("MissingPluginException"), error.text);
    mentions(error.message, "read", handler.channel, "ensureInitialized");
    assert.equal(calls, 0);
    child.commands.send({ op: "close" });
    await middle.close();
  }),
);

Deno.test(
  "Isolate whose entry returned stays alive while its child lives, then ends by itself",
  sanitized,
  guarded(async () => {
    const port = new ReceivePort("child ready");
    const ids = new ReceivePort("child id");
    const middle = await Isolate.spawn(fixture("lifetimes.ts"), {
      entry: AGENT.href,
      message: { reply: port.sendPort },
      reply: ids.sendPort,
    }, { exportName: "spawnsChild", debugName: "middle" });
    const child = await firstFrom<Ready>(port, middle);
    assert.equal(await firstFrom(ids, middle), child.id);
    // The child answers: so the middle isolate (its route) is still alive.
    const answer = await Promise.race([
      ask(middle, child.commands, { op: "instance" }),
      middle.exited.then(() => "exited"),
    ]);
    assert.notEqual(answer, "exited");
    child.commands.send({ op: "close" });
    await middle.exited;
  }),
);

Deno.test(
  "Isolate killed in the middle of a tree fails the calls in flight below it",
  sanitized,
  guarded(async (t) => {
    const called = Promise.withResolvers<string>();
    const gate = Promise.withResolvers<void>();
    const finished = Promise.withResolvers<void>();
    using handler = mainHandler("tests/nested/blocked", async (_, context) => {
      called.resolve(context.isolate);
      await gate.promise;
      finished.resolve();
      return "too late";
    });
    const middle = await spawnAgent({}, { debugName: "middle" });
    const grandchild = await spawnChildAgent(
      middle.isolate,
      middle.ready,
      rootToken(),
    );
    const notify = new ReceivePort("notify");
    okOf(
      await ask(middle.isolate, grandchild.commands, {
        op: "serve",
        channel: "tests/nested/hold",
        behaviour: "hold",
        notify: notify.sendPort,
      }),
    );
    const into = new MethodChannel(
      "tests/nested/hold",
      undefined,
      ServicesBinding.messengerFor(grandchild.id),
    );
    // In flight both ways: main -> grandchild, and grandchild -> main.
    const down = assert.rejects(
      into.invokeMethod("work"),
      (error: unknown) => {
        assert.ok(error instanceof IsolateExitedError, String(error));
        assert.equal(error.code, "isolate_exited");
        mentions(error.message, '"middle"', "killed", '"tests/nested/hold"');
        return true;
      },
    );
    await notify.first;
    const up = ask<Outcome>(middle.isolate, grandchild.commands, {
      op: "invoke",
      channel: handler.channel,
      method: "block",
    });
    assert.equal(await called.promise, grandchild.id);

    middle.isolate.kill();
    await middle.isolate.exited;

    await t.step(
      "the main thread's call into the grandchild rejects",
      async () => {
        await down;
      },
    );

    await t.step(
      "the grandchild's call to the main thread goes nowhere",
      async () => {
        await assert.rejects(up, /ended before it answered/);
        gate.resolve();
        await finished.promise;
      },
    );

    await t.step("a new call to the grandchild fails at once", async () => {
      await assert.rejects(into.invokeMethod("again"), (error: unknown) => {
        assert.ok(error instanceof IsolateExitedError, String(error));
        assert.equal(error.isolate, grandchild.id);
        return true;
      });
    });
  }),
);
