import assert from "node:assert/strict";
import {
  BackgroundIsolateBinaryMessenger,
  BasicMessageChannel,
  EventChannel,
  MethodChannel,
  MissingPluginException,
  PlatformException,
  ServicesBinding,
  StandardMessageCodec,
  StateError,
} from "../../mod.ts";
import type { ErrorReport } from "./fixtures/_report.ts";
import {
  errorOf,
  guarded,
  mainHandler,
  mentions,
  okOf,
  rootToken,
  sanitized,
  spawnAgent,
} from "./_helpers.ts";

/** Flutter's text for `instance` before `ensureInitialized`. */
const FLUTTER_STATE_ERROR =
  "The BackgroundIsolateBinaryMessenger.instance value is invalid until BackgroundIsolateBinaryMessenger.ensureInitialized is executed.";

/** Checks that a worker reported a MissingPluginException. */
function missingPlugin(error: ErrorReport, ...parts: string[]): void {
  assert.ok(
    error.classes.includes("MissingPluginException"),
    `not a MissingPluginException: ${error.text}`,
  );
  assert.equal(error.name, "MissingPluginException");
  assert.match(error.text, /^MissingPluginException\(.*\)$/s);
  mentions(error.message, ...parts);
}

Deno.test(
  "BackgroundIsolateBinaryMessenger.instance throws Flutter's StateError before ensureInitialized",
  sanitized,
  guarded(async (t) => {
    await t.step("in a worker", async () => {
      const agent = await spawnAgent();
      const error = errorOf(await agent.ask({ op: "instance" }));
      assert.ok(error.classes.includes("StateError"), error.text);
      assert.equal(error.message, FLUTTER_STATE_ERROR);
      assert.equal(error.text, `Bad state: ${FLUTTER_STATE_ERROR}`);
      await agent.close();
    });
    await t.step("on the main thread", () => {
      assert.throws(
        () => BackgroundIsolateBinaryMessenger.instance,
        (error: unknown) => {
          assert.ok(error instanceof StateError);
          assert.equal(error.message, FLUTTER_STATE_ERROR);
          return true;
        },
      );
    });
  }),
);

Deno.test(
  "BackgroundIsolateBinaryMessenger.ensureInitialized() is idempotent and ignores later tokens",
  sanitized,
  guarded(async () => {
    using handler = mainHandler("tests/bg/idempotent", () => "answered");
    const agent = await spawnAgent({ token: rootToken() });
    okOf(agent.ready.init!);
    assert.equal(okOf(await agent.ask({ op: "instance" })), true);
    assert.deepEqual(
      okOf(await agent.ask({ op: "init", token: rootToken() })),
      { tokenArrived: true, sameInstance: true },
    );
    // As Flutter: once initialized, the token is not even looked at.
    assert.deepEqual(
      okOf(await agent.ask({ op: "init", token: "not a token" })),
      { tokenArrived: false, sameInstance: true },
    );
    const call = await agent.ask({
      op: "invoke",
      channel: handler.channel,
      method: "read",
    });
    assert.equal(okOf(call), "answered");
    await agent.close();
  }),
);

Deno.test(
  "BackgroundIsolateBinaryMessenger.ensureInitialized() throws TypeError for what is not a token",
  sanitized,
  guarded(async () => {
    const agent = await spawnAgent();
    const error = errorOf(await agent.ask({ op: "init", token: null }));
    assert.ok(error.classes.includes("TypeError"), error.text);
    mentions(error.message, "RootIsolateToken", "null");
    // Still uninitialized.
    errorOf(await agent.ask({ op: "instance" }));
    await agent.close();
  }),
);

Deno.test(
  "MethodChannel.invokeMethod() in a worker without ensureInitialized rejects with MissingPluginException saying how to fix it",
  sanitized,
  guarded(async (t) => {
    let calls = 0;
    using handler = mainHandler("tests/bg/uninitialized", () => {
      calls++;
      return "answered";
    });
    const agent = await spawnAgent();
    assert.equal(agent.ready.tokenIsNull, true);

    await t.step("MethodChannel", async () => {
      const error = errorOf(
        await agent.ask({
          op: "invoke",
          channel: handler.channel,
          method: "getThing",
        }),
      );
      missingPlugin(
        error,
        "getThing",
        handler.channel,
        "BackgroundIsolateBinaryMessenger.ensureInitialized",
      );
    });
    await t.step("OptionalMethodChannel fails too", async () => {
      const error = errorOf(
        await agent.ask({
          op: "optional",
          channel: handler.channel,
          method: "getThing",
        }),
      );
      missingPlugin(error, "getThing", handler.channel, "ensureInitialized");
    });
    await t.step("BasicMessageChannel fails too", async () => {
      const error = errorOf(
        await agent.ask({
          op: "basic",
          channel: handler.channel,
          message: "hi",
        }),
      );
      missingPlugin(error, handler.channel, "ensureInitialized");
    });
    assert.equal(calls, 0);
    await agent.close();
  }),
);

Deno.test(
  "MethodChannel.invokeMethod() in an initialized worker reaches the main thread's handler",
  sanitized,
  guarded(async (t) => {
    const seen: { method: string; args: unknown; from: string }[] = [];
    using handler = mainHandler("tests/bg/echo", (call, context) => {
      seen.push({
        method: call.method,
        args: call.arguments,
        from: context.isolate,
      });
      return { echoed: call.arguments, list: [1, 2.5, "three"] };
    });
    const agent = await spawnAgent({ token: rootToken() });

    await t.step("arguments and result cross with the codec", async () => {
      const args = new Map<unknown, unknown>([["key", [1, true, null]]]);
      const result = okOf(
        await agent.ask({
          op: "invoke",
          channel: handler.channel,
          method: "echo",
          args,
        }),
      );
      assert.deepEqual(
        result,
        new Map<unknown, unknown>([
          ["echoed", args],
          ["list", [1, 2.5, "three"]],
        ]),
      );
      assert.deepEqual(seen, [{
        method: "echo",
        args,
        from: agent.isolate.id,
      }]);
    });

    await t.step(
      "calls run concurrently and each gets its answer",
      async () => {
        const answers = await Promise.all(
          [1, 2, 3, 4, 5].map((n) =>
            agent.ask({
              op: "invoke",
              channel: handler.channel,
              method: "echo",
              args: n,
            })
          ),
        );
        assert.deepEqual(
          answers.map((answer) =>
            (okOf(answer) as Map<string, unknown>).get("echoed")
          ),
          [1, 2, 3, 4, 5],
        );
      },
    );
    await agent.close();
  }),
);

Deno.test(
  "MethodChannel.invokeMethod() in a worker rejects with MissingPluginException when the main thread has no handler",
  sanitized,
  guarded(async (t) => {
    const agent = await spawnAgent({ token: rootToken() });
    await t.step("MethodChannel: no hang, unlike Flutter", async () => {
      const error = errorOf(
        await agent.ask({
          op: "invoke",
          channel: "tests/bg/nobody",
          method: "anything",
        }),
      );
      missingPlugin(error, "anything", "tests/bg/nobody");
    });
    await t.step("OptionalMethodChannel resolves to null", async () => {
      const result = await agent.ask({
        op: "optional",
        channel: "tests/bg/nobody",
        method: "anything",
      });
      assert.equal(okOf(result), null);
    });
    await agent.close();
  }),
);

Deno.test(
  "MethodChannel handler on the main thread that throws fails the worker's call with PlatformException",
  sanitized,
  guarded(async (t) => {
    using handler = mainHandler("tests/bg/throws", (call) => {
      if (call.method === "platform") {
        throw new PlatformException({
          code: "E_MAIN",
          message: "refused by main",
          details: [1, "two"],
        });
      }
      throw new RangeError("main handler failed");
    });
    const agent = await spawnAgent({ token: rootToken() });
    await t.step("a PlatformException keeps its fields", async () => {
      const error = errorOf(
        await agent.ask({
          op: "invoke",
          channel: handler.channel,
          method: "platform",
        }),
      );
      assert.ok(error.classes.includes("PlatformException"), error.text);
      assert.equal(error.code, "E_MAIN");
      assert.equal(error.message, "refused by main");
      assert.deepEqual(error.details, [1, "two"]);
    });
    await t.step('any other error becomes code "error"', async () => {
      const error = errorOf(
        await agent.ask({
          op: "invoke",
          channel: handler.channel,
          method: "other",
        }),
      );
      assert.ok(error.classes.includes("PlatformException"), error.text);
      assert.equal(error.code, "error");
      mentions(error.message, "RangeError", "main handler failed");
    });
    await agent.close();
  }),
);

Deno.test(
  "BasicMessageChannel.send() in a worker reaches the main thread's handler",
  sanitized,
  guarded(async () => {
    const channel = new BasicMessageChannel(
      "tests/bg/basic",
      new StandardMessageCodec(),
    );
    channel.setMessageHandler((message, context) => ({
      got: message,
      from: context.isolate,
    }));
    try {
      const agent = await spawnAgent({ token: rootToken() });
      const reply = okOf(
        await agent.ask({
          op: "basic",
          channel: channel.name,
          message: [1, "a"],
        }),
      );
      assert.deepEqual(
        reply,
        new Map<unknown, unknown>([["got", [1, "a"]], [
          "from",
          agent.isolate.id,
        ]]),
      );
      await agent.close();
    } finally {
      channel.setMessageHandler(null);
    }
  }),
);

Deno.test(
  "EventChannel.receiveBroadcastStream() works in a worker",
  sanitized,
  guarded(async (t) => {
    const channel = new EventChannel("tests/bg/events");
    const listens: unknown[] = [];
    let cancelled = Promise.withResolvers<unknown>();
    channel.setStreamHandler({
      onListen(args, events): void {
        listens.push(args);
        const [count, end] = args as [number, boolean];
        for (let i = 0; i < count; i++) events.success(i * 10);
        if (end) events.endOfStream();
      },
      onCancel(args): void {
        cancelled.resolve(args);
      },
    });
    const agent = await spawnAgent({ token: rootToken() });
    try {
      await t.step("events, then the end of the stream", async () => {
        const args = [3, true];
        const events = okOf(
          await agent.ask({ op: "listen", channel: channel.name, args }),
        );
        assert.deepEqual(events, [0, 10, 20]);
        assert.deepEqual(listens, [[3, true]]);
        // As Flutter, cancel is still sent after the end of the stream.
        assert.deepEqual(await cancelled.promise, [3, true]);
      });
      await t.step("leaving the stream early cancels it", async () => {
        cancelled = Promise.withResolvers();
        const args = [5, false];
        const events = okOf(
          await agent.ask({
            op: "listen",
            channel: channel.name,
            args,
            take: 2,
          }),
        );
        assert.deepEqual(events, [0, 10]);
        await cancelled.promise;
      });
      await t.step("an error event fails the stream", async () => {
        const failing = new EventChannel("tests/bg/events_error");
        failing.setStreamHandler({
          onListen(_args, events): void {
            events.error("E_STREAM", "stream broke", 404);
          },
        });
        try {
          const error = errorOf(
            await agent.ask({ op: "listen", channel: failing.name }),
          );
          assert.ok(error.classes.includes("PlatformException"), error.text);
          assert.equal(error.code, "E_STREAM");
          assert.equal(error.details, 404);
        } finally {
          failing.setStreamHandler(null);
        }
      });
    } finally {
      await agent.close();
      channel.setStreamHandler(null);
    }
  }),
);

Deno.test(
  "MethodChannel.setMethodCallHandler() in a worker answers calls from the main thread",
  sanitized,
  guarded(async (t) => {
    const agent = await spawnAgent({ token: rootToken() });
    const into = (name: string): MethodChannel =>
      new MethodChannel(
        name,
        undefined,
        ServicesBinding.messengerFor(agent.isolate.id),
      );
    okOf(
      await agent.ask({
        op: "serve",
        channel: "tests/bg/into/echo",
        behaviour: "echo",
      }),
    );
    okOf(
      await agent.ask({
        op: "serve",
        channel: "tests/bg/into/throw",
        behaviour: "throw",
      }),
    );
    okOf(
      await agent.ask({
        op: "serve",
        channel: "tests/bg/into/platform",
        behaviour: "platform",
      }),
    );

    await t.step("its result comes back", async () => {
      const result = await into("tests/bg/into/echo").invokeMethod("hello", [
        1,
        2,
      ]);
      assert.deepEqual(
        result,
        new Map<unknown, unknown>([
          ["method", "hello"],
          ["args", [1, 2]],
          ["from", "0"],
        ]),
      );
    });
    await t.step("an error it throws is a PlatformException here", async () => {
      await assert.rejects(
        into("tests/bg/into/throw").invokeMethod("boom"),
        (error: unknown) => {
          assert.ok(error instanceof PlatformException, String(error));
          assert.equal(error.code, "error");
          mentions(error.message ?? "", "handler failed on boom");
          return true;
        },
      );
    });
    await t.step("a PlatformException it throws keeps its fields", async () => {
      await assert.rejects(
        into("tests/bg/into/platform").invokeMethod("nope"),
        (error: unknown) => {
          assert.ok(error instanceof PlatformException, String(error));
          assert.equal(error.code, "E_AGENT");
          assert.equal(error.message, "refused nope");
          assert.deepEqual(
            error.details,
            new Map([["isolate", agent.isolate.id]]),
          );
          return true;
        },
      );
    });
    await t.step(
      "a channel it does not serve is MissingPluginException",
      async () => {
        await assert.rejects(
          into("tests/bg/into/none").invokeMethod("anything"),
          (error: unknown) => {
            assert.ok(error instanceof MissingPluginException, String(error));
            mentions(error.message ?? "", "anything", "tests/bg/into/none");
            return true;
          },
        );
      },
    );
    await agent.close();
  }),
);

Deno.test(
  "MethodChannel call from the main thread into a worker without ensureInitialized rejects with MissingPluginException",
  sanitized,
  guarded(async () => {
    // The worker is alive; it just serves nothing: as for any channel
    // without a handler, the caller gets MissingPluginException.
    const agent = await spawnAgent();
    const channel = new MethodChannel(
      "tests/bg/into/uninitialized",
      undefined,
      ServicesBinding.messengerFor(agent.isolate.id),
    );
    await assert.rejects(
      channel.invokeMethod("anything"),
      (error: unknown) => {
        assert.ok(error instanceof MissingPluginException, String(error));
        mentions(error.message ?? "", "anything", channel.name);
        return true;
      },
    );
    await agent.close();
  }),
);

Deno.test(
  "MethodChannel.invokeMethod() awaited in a tight loop on the main thread does not starve isolates",
  sanitized,
  guarded(async () => {
    using local = mainHandler("tests/bg/fair/local", () => "tick");
    using remote = mainHandler("tests/bg/fair/remote", () => "answered");
    let done = false;
    // A spawn handshake, ensureInitialized and a worker's call all need the
    // main thread's event loop while it is busy awaiting its own calls.
    const work = (async () => {
      const agent = await spawnAgent({ token: rootToken() });
      const answer = await agent.ask({
        op: "invoke",
        channel: remote.channel,
        method: "read",
      });
      await agent.close();
      return answer;
    })().finally(() => done = true);
    const channel = new MethodChannel(local.channel);
    let ticks = 0;
    // Bounded, so that starvation fails the test instead of hanging it (a
    // loop that never yields to the event loop would also starve timers).
    while (!done && ticks < 2_000_000) {
      assert.equal(await channel.invokeMethod("tick"), "tick");
      ticks++;
    }
    assert.ok(done, `the isolate got nothing done in ${ticks} main calls`);
    assert.equal(okOf(await work), "answered");
  }),
);
