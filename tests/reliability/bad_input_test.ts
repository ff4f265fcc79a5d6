// Bad input on every boundary: malformed bytes on a channel, a reply that
// is no envelope, an unknown method and arguments of the wrong types to a
// plugin called through the main thread, messages of the wrong shape posted
// straight to a worker's port by foreign code, and an oversize message.
// Each fails typed (or is dropped and reported) and is followed by a
// successful next call.
import assert from "node:assert/strict";
import {
  FormatException,
  Isolate,
  IsolateExitedError,
  MethodCall,
  MethodChannel,
  MissingPluginException,
  ProtocolError,
  ReceivePort,
  ServicesBinding,
  StandardMethodCodec,
} from "../../mod.ts";
import {
  errorOf,
  firstFrom,
  guarded,
  mentions,
  sanitized,
} from "../isolate/_helpers.ts";
import {
  fixture,
  freshDataDir,
  okOf,
  recordErrors,
  SANDBOX,
  setEnv,
  spawnFaulty,
} from "./_faults.ts";

const codec = new StandardMethodCodec();
const valid = codec.encodeMethodCall(new MethodCall("echo", "fine"));

/** Bytes that are not a method call, with what is wrong with them. */
const MALFORMED: [string, Uint8Array | null][] = [
  ["no bytes at all (null)", null],
  ["an empty message", new Uint8Array(0)],
  ["an unknown type tag", new Uint8Array([0xff, 0x00, 0x01])],
  ["a method name that is not a string", new Uint8Array([3, 1, 0, 0, 0, 0])],
  ["a truncated call", valid.slice(0, valid.length - 2)],
  ["trailing bytes", Uint8Array.from([...valid, 0])],
  ["a size past the end", new Uint8Array([7, 0xfe, 0xff, 0xff, 0xff, 0x41])],
];

/** Serves `echo` on the main thread until disposed. */
function echoOnMain(name: string): Disposable {
  const channel = new MethodChannel(name);
  channel.setMethodCallHandler((call) => call.arguments);
  return { [Symbol.dispose]: () => channel.setMethodCallHandler(null) };
}

/** Whether a console.error call is the report of a failed handler. */
function handlerReport(
  channel: string,
  from: string,
): (args: unknown[]) => boolean {
  return (args: unknown[]): boolean =>
    String(args[0]).includes(`on channel "${channel}" ${from}`);
}

Deno.test(
  "MethodChannel handler sent malformed bytes through BinaryMessenger.send() answers an empty reply and reports the FormatException, then keeps serving",
  sanitized,
  guarded(async (t) => {
    using _served = echoOnMain("bad/echo");
    const messenger = ServicesBinding.defaultBinaryMessenger;
    await t.step("from the main thread", async () => {
      for (const [label, bytes] of MALFORMED) {
        using errors = recordErrors();
        assert.equal(await messenger.send("bad/echo", bytes), null, label);
        const [, error] = await errors.next(
          handlerReport("bad/echo", "from isolate 0"),
        );
        assert.ok(
          error instanceof FormatException || error instanceof RangeError,
          `${label}: ${error}`,
        );
        // As Flutter's MethodChannel reads an empty reply.
        await assert.rejects(
          new MethodChannel("bad/unserved").invokeMethod("x"),
          MissingPluginException,
        );
        assert.equal(
          await new MethodChannel("bad/echo").invokeMethod("echo", label),
          label,
        );
      }
    });
    await t.step("from a worker", async () => {
      await using worker = await spawnFaulty();
      for (const [label, bytes] of MALFORMED) {
        using errors = recordErrors();
        assert.equal(
          okOf(await worker.ask({ op: "raw", channel: "bad/echo", bytes })),
          null,
          label,
        );
        const [, error] = await errors.next(
          handlerReport("bad/echo", `from isolate ${worker.id}`),
        );
        assert.ok(
          error instanceof FormatException || error instanceof RangeError,
          `${label}: ${error}`,
        );
        assert.equal(
          okOf(
            await worker.ask({
              op: "invoke",
              channel: "bad/echo",
              method: "echo",
              args: label,
            }),
          ),
          label,
        );
      }
    });
    await t.step("into a worker's handler, from the main thread", async () => {
      await using worker = await spawnFaulty();
      okOf(await worker.ask({ op: "quiet" }));
      okOf(
        await worker.ask({ op: "serve", channel: "bad/in", behaviour: "echo" }),
      );
      const into = ServicesBinding.messengerFor(worker.id);
      for (const [label, bytes] of MALFORMED) {
        assert.equal(await into.send("bad/in", bytes), null, label);
        assert.equal(
          await new MethodChannel("bad/in", undefined, into).invokeMethod(
            "echo",
            label,
          ),
          label,
        );
      }
      const printed = okOf(await worker.ask({ op: "errors" })) as string[];
      assert.equal(printed.length, MALFORMED.length, printed.join("\n"));
      for (const line of printed) {
        mentions(line, `on channel "bad/in" in isolate ${worker.id}`);
      }
    });
  }),
);

Deno.test(
  "MethodChannel.invokeMethod() answered with bytes that are no envelope rejects with FormatException, and the worker keeps serving",
  sanitized,
  guarded(async () => {
    await using worker = await spawnFaulty();
    okOf(
      await worker.ask({
        op: "serve",
        channel: "bad/garbage-reply",
        behaviour: "garbageReply",
      }),
    );
    okOf(
      await worker.ask({ op: "serve", channel: "bad/fine", behaviour: "echo" }),
    );
    const into = ServicesBinding.messengerFor(worker.id);
    for (let round = 0; round < 3; round++) {
      await assert.rejects(
        new MethodChannel("bad/garbage-reply", undefined, into).invokeMethod(
          "anything",
        ),
        (error: unknown) => {
          assert.ok(error instanceof FormatException, String(error));
          assert.equal(error.code, "format_exception");
          return true;
        },
      );
      assert.equal(
        await new MethodChannel("bad/fine", undefined, into).invokeMethod(
          "echo",
          round,
        ),
        round,
      );
    }
  }),
);

Deno.test(
  "SharedPreferences and SQL plugins called from a sandboxed worker with an unknown method or arguments of the wrong types answer MissingPluginException or PlatformException bad_args, and keep serving",
  sanitized,
  guarded(async () => {
    await using _data = await freshDataDir("isolates_bad_args_");
    using _options = setEnv("ISOLATES_WORKER_OPTIONS", "1");
    await using worker = await spawnFaulty({ permissions: SANDBOX });
    const prefs = "plugins.flutter.io/shared_preferences";
    const sql = "isolates/sql_database";
    const badArgs: [string, string, unknown][] = [
      [prefs, "set", "not a list"],
      [prefs, "set", ["key", "int", "not an int"]],
      [prefs, "set", ["key", "color", "red"]],
      [prefs, "set", [42, "int", 1]],
      [prefs, "get", 42],
      [prefs, "remove", null],
      [sql, "open", [42, false, 5000]],
      [sql, "open", ["x.db", "yes", 5000]],
      [sql, "query", [1, 42, []]],
      [sql, "query", "SELECT 1"],
    ];
    for (const [channel, method, args] of badArgs) {
      const error = errorOf(
        await worker.ask({ op: "invoke", channel, method, args }),
      );
      const label = `${channel} ${method} ${JSON.stringify(args)}`;
      assert.ok(error.classes.includes("PlatformException"), label);
      assert.equal(error.code, "bad_args", `${label}: ${error.text}`);
    }
    for (const channel of [prefs, sql]) {
      const error = errorOf(
        await worker.ask({ op: "invoke", channel, method: "dropEverything" }),
      );
      assert.ok(error.classes.includes("MissingPluginException"), error.text);
      mentions(error.message, "dropEverything", channel);
    }
    // Both keep serving the same caller.
    assert.equal(
      okOf(
        await worker.ask({
          op: "invoke",
          channel: prefs,
          method: "set",
          args: ["after", "int", 7],
        }),
      ),
      true,
    );
    assert.deepEqual(
      okOf(
        await worker.ask({
          op: "invoke",
          channel: prefs,
          method: "get",
          args: "after",
        }),
      ),
      ["int", 7],
    );
    const opened = okOf(
      await worker.ask({
        op: "invoke",
        channel: sql,
        method: "open",
        args: [":memory:", false, 5000],
      }),
    ) as [number, string];
    assert.deepEqual(
      okOf(
        await worker.ask({
          op: "invoke",
          channel: sql,
          method: "query",
          args: [opened[0], "SELECT 1 AS one", []],
        }),
      ),
      [["one"], [[1]]],
    );
    okOf(
      await worker.ask({
        op: "invoke",
        channel: sql,
        method: "close",
        args: opened[0],
      }),
    );
  }),
);

/** Whether a console.error call is the report of a dropped message. */
function droppedFrom(isolate: string): (args: unknown[]) => boolean {
  return (args: unknown[]): boolean =>
    String(args[0]).includes("dropped a malformed message from isolate") &&
    String(args[0]).includes(`(${isolate})`);
}

Deno.test(
  "Isolate whose code posts foreign messages straight to its parent: each is dropped and reported as a ProtocolError, forged answers settle nothing, and the worker keeps serving",
  sanitized,
  guarded(async (t) => {
    using _served = echoOnMain("bad/echo");
    await using victim = await spawnFaulty();
    await using forger = await spawnFaulty();
    const notified = new ReceivePort("held");
    const held = notified[Symbol.asyncIterator]();
    okOf(
      await victim.ask({
        op: "serve",
        channel: "bad/held",
        behaviour: "hold",
        notify: notified.sendPort,
      }),
    );
    // A call the main thread waits on, in the victim; the forger tries to
    // answer it.
    const pending = new MethodChannel(
      "bad/held",
      undefined,
      ServicesBinding.messengerFor(victim.id),
    ).invokeMethod("wait");
    pending.catch(() => {});
    assert.deepEqual(await held.next(), { value: "wait", done: false });
    const reply = codec.encodeSuccessEnvelope("forged");
    const foreign: [string, unknown][] = [
      ["a string", "garbage"],
      ["a number", 42],
      ["null", null],
      ["an unknown kind", { kind: "hello" }],
      ["a call missing its fields", { kind: "call" }],
      ["a call posing as the main thread", {
        kind: "call",
        id: 1,
        from: "0",
        to: "0",
        channel: "bad/echo",
        payload: null,
      }],
      ["a call posing as its sibling", {
        kind: "call",
        id: 1,
        from: victim.id,
        to: "0",
        channel: "bad/echo",
        payload: null,
      }],
      ["a reply posing as its sibling", {
        kind: "reply",
        id: 1,
        from: victim.id,
        to: "0",
        payload: reply,
      }],
      ["a lifecycle message for another isolate", {
        kind: "exit",
        isolate: victim.id,
      }],
      ["news that the main thread is gone", {
        kind: "gone",
        isolate: "0",
        to: "0",
        reason: "forged",
      }],
      ["an event posing as the main thread", {
        kind: "event",
        from: "0",
        to: victim.id,
        channel: "bad/stream",
        payload: null,
      }],
      ["a port message posing as the main thread", {
        kind: "port",
        from: "0",
        to: victim.id,
        port: 1,
        payload: 1,
        refs: false,
      }],
      ["a message only a parent sends", {
        kind: "task",
        id: 1,
        task: 1,
        payload: null,
        refs: false,
      }],
      ["a task answer from an isolate that runs none", {
        kind: "done",
        id: 1,
        payload: null,
        refs: false,
      }],
      ["a batch inside a batch", {
        kind: "batch",
        messages: [{ kind: "batch", messages: [] }],
      }],
    ];
    await t.step("each foreign message is reported once", async () => {
      using errors = recordErrors();
      okOf(
        await forger.ask({
          op: "post",
          messages: foreign.map(([, data]) => data),
        }),
      );
      for (const [label] of foreign) {
        const [text, error] = await errors.next(droppedFrom(forger.id));
        assert.ok(error instanceof ProtocolError, `${label}: ${error}`);
        assert.equal(error.code, "protocol");
        assert.equal(error.isolate, "0");
        mentions(String(text), `(${forger.id})`);
      }
    });
    await t.step(
      "answers of its own to calls it never got settle nothing",
      async () => {
        using errors = recordErrors();
        const replies = Array.from({ length: 200 }, (_, i) => ({
          kind: "reply",
          id: i + 1,
          from: forger.id,
          to: "0",
          payload: reply,
        }));
        okOf(await forger.ask({ op: "post", messages: replies }));
        // The forger is still served: its calls are answered in order.
        assert.equal(
          okOf(
            await forger.ask({
              op: "invoke",
              channel: "bad/echo",
              method: "echo",
              args: "served",
            }),
          ),
          "served",
        );
        // Each forged answer is dropped, and reported as a protocol error.
        assert.equal(errors.calls.length, replies.length);
        for (const [text, error] of errors.calls) {
          assert.ok(error instanceof ProtocolError, String(error));
          mentions(String(text), `(${forger.id})`);
        }
      },
    );
    await t.step(
      "the victim's call is still pending, and fails typed when it dies",
      async () => {
        assert.equal(victim.isolate.describe().mailboxDepth, 1);
        victim.isolate.kill();
        await assert.rejects(pending, IsolateExitedError);
        notified.close();
      },
    );
  }),
);

Deno.test(
  "Isolate whose entry posts garbage to its parent: the parent reports a ProtocolError, the spawn succeeds, and its messages still arrive",
  sanitized,
  guarded(async () => {
    using errors = recordErrors();
    const port = new ReceivePort("after garbage");
    const isolate = await Isolate.spawn(
      fixture("garbage_entry.ts"),
      port.sendPort,
      { debugName: "garbage" },
    );
    assert.equal(
      await firstFrom(port, isolate),
      "answered after the garbage",
    );
    const [text, error] = await errors.next(droppedFrom(isolate.id));
    assert.ok(error instanceof ProtocolError, String(error));
    mentions(String(text), '"garbage"');
    mentions(error.message, '"garbage from the entry"');
    assert.deepEqual(await isolate.exited, { kind: "normal" });
  }),
);

Deno.test(
  "MethodChannel carries a 64 MiB Uint8Array from a worker to the main thread and back, and the next call is served",
  sanitized,
  guarded(async () => {
    const size = 64 * 1024 * 1024;
    const channel = new MethodChannel("bad/big");
    let seen = -1;
    channel.setMethodCallHandler((call) => {
      const data = call.arguments as Uint8Array;
      seen = data.length;
      return data;
    });
    try {
      await using worker = await spawnFaulty();
      const outcome = await worker.ask({
        op: "big",
        channel: "bad/big",
        bytes: size,
      });
      assert.deepEqual(okOf(outcome), {
        sent: size,
        answered: size,
        same: true,
      });
      assert.equal(seen, size);
      assert.equal(
        okOf(
          await worker.ask({
            op: "invoke",
            channel: "bad/big",
            method: "small",
            args: new Uint8Array([1, 2, 3]),
          }),
        )?.toString(),
        "1,2,3",
      );
    } finally {
      channel.setMethodCallHandler(null);
    }
  }),
);

Deno.test(
  "Isolate mailbox cannot be emptied by answers the isolate forges: past mailboxCapacity its calls still fail with MailboxFullError",
  sanitized,
  guarded(async () => {
    const held: PromiseWithResolvers<string>[] = [];
    let arrived = Promise.withResolvers<void>();
    const channel = new MethodChannel("bad/mailbox");
    channel.setMethodCallHandler((call) => {
      if (call.method === "ping") return "pong";
      const answer = Promise.withResolvers<string>();
      held.push(answer);
      arrived.resolve();
      return answer.promise;
    });
    await using worker = await spawnFaulty({ mailboxCapacity: 2 });
    // Disposed before the worker: its held calls must be answered first.
    using _release = {
      [Symbol.dispose]: () => {
        for (const answer of held) answer.resolve("released");
        channel.setMethodCallHandler(null);
      },
    };
    for (let i = 0; i < 2; i++) {
      arrived = Promise.withResolvers();
      worker.tell({ op: "invoke", channel: channel.name, method: "hold" });
      await arrived.promise;
    }
    assert.equal(worker.isolate.describe().mailboxDepth, 2);
    // Answers to calls the main thread never made into it.
    using errors = recordErrors();
    okOf(
      await worker.ask({
        op: "post",
        messages: [1, 2, 3].map((i) => ({
          kind: "fail",
          id: 1_000_000 + i,
          from: worker.id,
          to: "0",
          error: { name: "Error", message: "forged", stack: null, code: null },
        })),
      }),
    );
    // Dropped and reported; the mailbox keeps its two calls.
    assert.equal(errors.calls.length, 3);
    for (const [, error] of errors.calls) {
      assert.ok(error instanceof ProtocolError, String(error));
    }
    assert.equal(
      worker.isolate.describe().mailboxDepth,
      2,
      "forged answers emptied the mailbox",
    );
    const third = errorOf(
      await worker.ask({ op: "invoke", channel: channel.name, method: "ping" }),
    );
    assert.equal(third.name, "MailboxFullError", third.text);
    assert.equal(third.code, "mailbox_full");
    for (const answer of held) answer.resolve("released");
    assert.equal(
      okOf(
        await worker.ask({
          op: "invoke",
          channel: channel.name,
          method: "ping",
        }),
      ),
      "pong",
    );
  }),
);
