// Behaviour from /work/shared/spec/flutter_wire_format.md (sections 8, 10
// and 12): MethodChannel with Flutter's semantics, called on the main thread
// and from a background isolate; a worker serving calls from the main thread;
// FIFO order; fairness; every pending call settles.
import assert from "node:assert/strict";
import {
  Isolate,
  IsolateExitedError,
  JSONMethodCodec,
  MethodChannel,
  MissingPluginException,
  PlatformException,
  ReceivePort,
  RootIsolateToken,
  ServicesBinding,
  StandardMethodCodec,
  UnsupportedValueError,
} from "@isolates/isolates";
import type { ManyResult } from "./fixtures/_calls.ts";
import {
  type Caller,
  CallerExitedError,
  capturingConsoleError,
  fromMainAndWorker,
  missingPlugin,
  nextTurn,
  platformException,
  serveOnMain,
  uniqueChannel,
  WorkerClient,
  WorkerError,
} from "./_harness.ts";

function invoke(
  caller: Caller,
  channel: string,
  method: string,
  args?: unknown,
): Promise<unknown> {
  return caller.perform({ op: "invoke", channel, method, args });
}

Deno.test("MethodChannel.invokeMethod() resolves with the handler's result", async (t) => {
  const name = uniqueChannel("method");
  using _served = serveOnMain(name);
  await fromMainAndWorker(t, async (caller) => {
    const values: unknown[] = [
      null,
      true,
      42,
      -(2 ** 40),
      2n ** 62n,
      1.5,
      "héllo",
      [1, "two", [null]],
      new Map<unknown, unknown>([["k", 1], [2, [3]]]),
      new Uint8Array([1, 2, 3]),
      new Float64Array([0.5]),
    ];
    for (const value of values) {
      assert.deepEqual(await invoke(caller, name, "return", value), value);
    }
    assert.equal(await invoke(caller, name, "return"), null);
  });
});

Deno.test("MethodChannel.setMethodCallHandler() gives the handler the method, the arguments and the caller's isolate as context.isolate", async (t) => {
  const name = uniqueChannel("method");
  using _served = serveOnMain(name);
  await fromMainAndWorker(t, async (caller) => {
    assert.deepEqual(await invoke(caller, name, "echo", ["a", 1]), [
      ["a", 1],
      caller.id,
      "0",
    ]);
  });
  await t.step('the main thread\'s id is "0"', () => {
    assert.equal(ServicesBinding.isolateId, "0");
  });
});

Deno.test("MethodChannel.invokeMethod() rejects with the PlatformException the handler throws, without its stacktrace", async (t) => {
  const name = uniqueChannel("method");
  using _served = serveOnMain(name);
  await fromMainAndWorker(t, async (caller) => {
    const details = new Map<unknown, unknown>([["why", [1, 2]]]);
    await assert.rejects(
      invoke(caller, name, "throwPlatform", details),
      platformException({ code: "E_CODE", message: "it failed", details }),
    );
    await assert.rejects(
      invoke(caller, name, "throwPlatformNoMessage"),
      platformException({ code: "E_BARE", message: null }),
    );
  });
});

Deno.test("MethodChannel.invokeMethod() rejects with MissingPluginException when the handler throws MissingPluginException", async (t) => {
  const name = uniqueChannel("method");
  using _served = serveOnMain(name);
  await fromMainAndWorker(t, async (caller) => {
    await assert.rejects(
      invoke(caller, name, "throwMissing"),
      missingPlugin("throwMissing", name),
    );
  });
});

Deno.test('MethodChannel.invokeMethod() rejects with PlatformException code "error" and String(error) when the handler throws another Error', async (t) => {
  const name = uniqueChannel("method");
  using _served = serveOnMain(name);
  await fromMainAndWorker(t, async (caller) => {
    await assert.rejects(
      invoke(caller, name, "throwError"),
      platformException({ code: "error", message: "TypeError: bad input" }),
    );
  });
});

Deno.test('MethodChannel.invokeMethod() rejects with PlatformException code "error" when the handler throws a non-Error value', async (t) => {
  const name = uniqueChannel("method");
  using _served = serveOnMain(name);
  await fromMainAndWorker(t, async (caller) => {
    for (
      const [value, message] of [["boom", "boom"], [42, "42"], [null, "null"]]
    ) {
      await assert.rejects(
        invoke(caller, name, "throwValue", value),
        platformException({ code: "error", message: message as string }),
      );
    }
  });
  await t.step("an object without toString settles too", async () => {
    // String(Object.create(null)) throws; Dart's toString never does, so
    // the caller must still get the handler's failure, not "no handler".
    await assert.rejects(
      new MethodChannel(name).invokeMethod("throwNullProto"),
      (error) => {
        assert.ok(error instanceof PlatformException, String(error));
        return true;
      },
    );
  });
});

Deno.test('MethodChannel.invokeMethod() rejects with PlatformException code "error" when the handler\'s result cannot be encoded', async (t) => {
  const name = uniqueChannel("method");
  using _served = serveOnMain(name);
  await fromMainAndWorker(t, async (caller) => {
    await assert.rejects(invoke(caller, name, "unencodable"), (error) => {
      assert.ok(error instanceof PlatformException, String(error));
      assert.equal(error.code, "error");
      assert.equal(error.details, null);
      return true;
    });
  });
});

Deno.test("MethodChannel.invokeMethod() rejects with MissingPluginException naming the method and the channel when no handler is set", async (t) => {
  const name = uniqueChannel("unserved");
  await fromMainAndWorker(t, async (caller) => {
    await assert.rejects(
      invoke(caller, name, "getBatteryLevel"),
      missingPlugin(
        `No implementation found for method getBatteryLevel on channel ${name}`,
      ),
    );
  });
});

Deno.test("MethodChannel.invokeMethod() rejects, rather than throws, when the arguments cannot be encoded", async () => {
  const name = uniqueChannel("method");
  using _served = serveOnMain(name);
  let promise: Promise<unknown> | undefined;
  assert.doesNotThrow(() => {
    promise = new MethodChannel(name).invokeMethod("return", () => {});
  });
  await assert.rejects(promise!, UnsupportedValueError);
});

Deno.test("MethodChannel.setMethodCallHandler() replaces the previous handler, and null removes it", async (t) => {
  const name = uniqueChannel("method");
  const channel = new MethodChannel(name);
  try {
    await fromMainAndWorker(t, async (caller) => {
      channel.setMethodCallHandler(() => "first");
      assert.equal(await invoke(caller, name, "m"), "first");
      channel.setMethodCallHandler(() => "second");
      assert.equal(await invoke(caller, name, "m"), "second");
      channel.setMethodCallHandler(null);
      await assert.rejects(invoke(caller, name, "m"), missingPlugin("m", name));
    });
  } finally {
    channel.setMethodCallHandler(null);
  }
});

Deno.test("MethodChannel.setMethodCallHandler() answers a malformed call with no reply and reports it", async () => {
  const name = uniqueChannel("method");
  let called = false;
  using _served = serveOnMain(name, () => called = true);
  let reply: Uint8Array | null | undefined;
  const printed = await capturingConsoleError(async () => {
    // A String tag followed by nothing: not a method call.
    reply = await ServicesBinding.defaultBinaryMessenger.send(
      name,
      new Uint8Array([7, 1, 0x6d, 0xff]),
    );
  });
  assert.equal(reply, null);
  assert.equal(called, false);
  assert.equal(printed.length, 1);
  assert.match(String(printed[0][0]), new RegExp(name));
});

Deno.test("MethodChannel.invokeListMethod() resolves with the list, keeps null, and rejects with TypeError otherwise", async (t) => {
  const name = uniqueChannel("list");
  using _served = serveOnMain(name);
  await fromMainAndWorker(t, async (caller) => {
    const list = (args: unknown): Promise<unknown> =>
      caller.perform({
        op: "invoke",
        channel: name,
        method: "return",
        args,
        variant: "list",
      });
    assert.deepEqual(await list(["a", "b"]), ["a", "b"]);
    assert.deepEqual(await list([]), []);
    assert.equal(await list(null), null);
    for (const wrong of ["ab", 3, new Map([["a", 1]]), true]) {
      await assert.rejects(list(wrong), TypeError, `for ${String(wrong)}`);
    }
  });
});

Deno.test("MethodChannel.invokeMapMethod() resolves with a Map, keeps null, and rejects with TypeError otherwise", async (t) => {
  const name = uniqueChannel("map");
  const jsonName = uniqueChannel("map-json");
  using _served = serveOnMain(name);
  using _jsonServed = serveOnMain(
    jsonName,
    (call) => call.arguments,
    new JSONMethodCodec(),
  );
  await fromMainAndWorker(t, async (caller) => {
    const map = (args: unknown, codec: "standard" | "json" = "standard") =>
      caller.perform({
        op: "invoke",
        channel: codec === "json" ? jsonName : name,
        method: "return",
        args,
        variant: "map",
        codec,
      });
    const standard = new Map<unknown, unknown>([["a", 1], [2, "b"]]);
    assert.deepEqual(await map(standard), standard);
    assert.equal(await map(null), null);
    // JSONMethodCodec decodes objects as plain objects: they become a Map.
    const fromJson = await map({ a: 1, b: [true] }, "json");
    assert.ok(fromJson instanceof Map, `got ${String(fromJson)}`);
    assert.deepEqual(
      fromJson,
      new Map<string, unknown>([["a", 1], ["b", [true]]]),
    );
    assert.equal(await map(null, "json"), null);
    for (const wrong of [[1, 2], "ab", 3, false]) {
      await assert.rejects(map(wrong), TypeError, `for ${String(wrong)}`);
    }
    await assert.rejects(map([1], "json"), TypeError);
  });
});

Deno.test("MethodChannel.invokeMapMethod() rejects with TypeError when the result is a typed list", async (t) => {
  // A typed list is a list in Dart (Uint8List is a List<int>), never a map:
  // Flutter's cast to Map fails with a TypeError.
  const name = uniqueChannel("map");
  using _served = serveOnMain(name);
  await fromMainAndWorker(t, async (caller) => {
    for (
      const typed of [
        new Uint8Array([5, 6]),
        new Int32Array([7]),
        new Float64Array([0.5]),
      ]
    ) {
      await assert.rejects(
        caller.perform({
          op: "invoke",
          channel: name,
          method: "return",
          args: typed,
          variant: "map",
        }),
        TypeError,
        `for ${typed.constructor.name}`,
      );
    }
  });
});

Deno.test("MethodChannel with JSONMethodCodec carries calls, results and PlatformExceptions", async (t) => {
  const name = uniqueChannel("json");
  using _served = serveOnMain(name, undefined, new JSONMethodCodec());
  await fromMainAndWorker(t, async (caller) => {
    const json = (method: string, args?: unknown): Promise<unknown> =>
      caller.perform({
        op: "invoke",
        channel: name,
        method,
        args,
        codec: "json",
      });
    assert.deepEqual(await json("return", { a: [1, "x", null] }), {
      a: [1, "x", null],
    });
    assert.deepEqual(await json("echo", "hi"), ["hi", caller.id, "0"]);
    await assert.rejects(
      json("throwPlatform", { n: 1 }),
      platformException({
        code: "E_CODE",
        message: "it failed",
        details: { n: 1 },
      }),
    );
    await assert.rejects(json("nothing"), missingPlugin("nothing", name));
  });
});

Deno.test("MethodChannel.invokeMethod() delivers many concurrent calls in FIFO order", async (t) => {
  const name = uniqueChannel("fifo");
  const count = 500;
  await fromMainAndWorker(t, async (caller) => {
    const arrived: unknown[] = [];
    using _served = serveOnMain(name, (call) => {
      arrived.push(call.arguments);
      return call.arguments;
    });
    const { results, settled } = await caller.perform({
      op: "invokeMany",
      channel: name,
      method: "order",
      count,
    }) as ManyResult;
    const expected = Array.from({ length: count }, (_, i) => i);
    assert.deepEqual(arrived, expected, "handled in the order sent");
    assert.deepEqual(results, expected);
    assert.deepEqual(settled, expected, "answered in the order sent");
  });
});

Deno.test("MethodChannel.invokeMethod() in a tight loop on the main thread does not starve a worker's handshake and first call", async () => {
  const name = uniqueChannel("fairness");
  let workerCallHandled = false;
  using _served = serveOnMain(name, (_call, context) => {
    if (context.isolate !== "0") workerCallHandled = true;
    return context.isolate;
  });
  const port = new ReceivePort();
  const workerAnswered = Promise.withResolvers<unknown>();
  let workerDone = false;
  port.listen((message) => {
    workerDone = true;
    workerAnswered.resolve(message);
  });
  // Not awaited: the worker loads, registers and calls while the loop runs.
  const spawned = Isolate.spawn(
    new URL("./fixtures/fairness_worker.ts", import.meta.url),
    { token: RootIsolateToken.instance, port: port.sendPort, channel: name },
  );
  // The cap only bounds a starving implementation: a fair one lets the
  // worker through long before it.
  const cap = 200_000;
  const channel = new MethodChannel(name);
  let iterations = 0;
  let handledBeforeLoopEnded = false;
  while (iterations < cap && !workerDone) {
    await channel.invokeMethod("ping");
    iterations++;
  }
  handledBeforeLoopEnded = workerCallHandled && workerDone;
  const isolate = await spawned;
  const answer = await workerAnswered.promise;
  port.close();
  await isolate.exited;
  assert.ok(
    handledBeforeLoopEnded,
    `the worker's call was not answered during ${iterations} awaited calls`,
  );
  assert.equal(answer, isolate.id);
});

Deno.test("MethodChannel.setMethodCallHandler() in a worker answers calls from the main thread through ServicesBinding.messengerFor()", async (t) => {
  const name = uniqueChannel("into-worker");
  await using worker = await WorkerClient.spawn();
  await worker.perform({ op: "serve", channel: name });
  const channel = new MethodChannel(
    name,
    undefined,
    ServicesBinding.messengerFor(worker.id),
  );
  await t.step('results, with context.isolate "0"', async () => {
    assert.deepEqual(await channel.invokeMethod("echo", [1, "a"]), [
      [1, "a"],
      "0",
      worker.id,
    ]);
    assert.deepEqual(
      await channel.invokeMethod("return", new Map([["k", 2n ** 62n]])),
      new Map([["k", 2n ** 62n]]),
    );
  });
  await t.step("PlatformException", async () => {
    await assert.rejects(
      channel.invokeMethod("throwPlatform", "why"),
      platformException({
        code: "E_CODE",
        message: "it failed",
        details: "why",
      }),
    );
  });
  await t.step('other errors become code "error"', async () => {
    await assert.rejects(
      channel.invokeMethod("throwError"),
      platformException({ code: "error", message: "TypeError: bad input" }),
    );
  });
  await t.step("MissingPluginException", async () => {
    await assert.rejects(
      channel.invokeMethod("throwMissing"),
      missingPlugin("throwMissing", name),
    );
  });
  await t.step("no handler after it is removed", async () => {
    await worker.perform({ op: "unserve", channel: name });
    await assert.rejects(
      channel.invokeMethod("echo"),
      missingPlugin(
        `No implementation found for method echo on channel ${name}`,
      ),
    );
  });
  await t.step("a channel nobody serves in the worker", async () => {
    const other = new MethodChannel(
      uniqueChannel("into-worker"),
      undefined,
      ServicesBinding.messengerFor(worker.id),
    );
    await assert.rejects(other.invokeMethod("m"), MissingPluginException);
  });
});

Deno.test("MethodChannel.invokeMethod() into a worker rejects with IsolateExitedError when the worker is killed during the call", async () => {
  const name = uniqueChannel("into-worker");
  const worker = await WorkerClient.spawn();
  await worker.perform({ op: "serve", channel: name });
  const channel = new MethodChannel(
    name,
    undefined,
    ServicesBinding.messengerFor(worker.id),
  );
  const call = channel.invokeMethod("hang");
  // The command travels behind the call: once it is answered, the call is
  // in the worker's handler.
  await worker.perform({ op: "probe" });
  await worker.kill();
  await assert.rejects(call, (error) => {
    assert.ok(error instanceof IsolateExitedError, String(error));
    assert.equal(error.code, "isolate_exited");
    assert.equal(error.isolate, worker.id);
    assert.match(error.message, new RegExp(name));
    return true;
  });
});

Deno.test("MethodChannel.invokeMethod() into an isolate that is not running rejects with IsolateExitedError", async () => {
  const channel = new MethodChannel(
    uniqueChannel("nowhere"),
    undefined,
    ServicesBinding.messengerFor("0.999999"),
  );
  await assert.rejects(channel.invokeMethod("m"), IsolateExitedError);
});

Deno.test("MethodChannel handler's late reply to a killed worker is dropped without error", async () => {
  const name = uniqueChannel("late");
  const release = Promise.withResolvers<void>();
  const arrived = Promise.withResolvers<void>();
  using _served = serveOnMain(name, async () => {
    arrived.resolve();
    await release.promise;
    return "late";
  });
  const worker = await WorkerClient.spawn();
  const call = invoke(worker, name, "m");
  await arrived.promise;
  await worker.kill();
  await assert.rejects(call, CallerExitedError);
  release.resolve();
  // The reply is routed to the dead worker on the next microtasks; an error
  // there would surface as an unhandled rejection and fail this test.
  await nextTurn();
});

Deno.test("MethodChannel in a worker without ensureInitialized", async (t) => {
  const name = uniqueChannel("uninitialized");
  using _served = serveOnMain(name);
  await using worker = await WorkerClient.spawn({ initialize: false });
  await t.step("RootIsolateToken.instance is null there", async () => {
    const probe = await worker.perform({ op: "probe" }) as {
      tokenIsNull: boolean;
      initialized: boolean;
    };
    assert.equal(probe.tokenIsNull, true);
    assert.equal(probe.initialized, false);
  });
  await t.step(
    "invokeMethod() rejects with MissingPluginException naming the method, the channel and the fix",
    async () => {
      await assert.rejects(
        invoke(worker, name, "getAll"),
        missingPlugin(
          "getAll",
          name,
          "BackgroundIsolateBinaryMessenger.ensureInitialized",
        ),
      );
    },
  );
  await t.step(
    "setMethodCallHandler() throws StateError saying to initialize",
    async () => {
      await assert.rejects(
        worker.perform({ op: "serve", channel: name }),
        (error) => {
          assert.ok(error instanceof WorkerError, String(error));
          assert.equal(error.name, "StateError");
          assert.match(error.message, /ensureInitialized/);
          return true;
        },
      );
    },
  );
});

Deno.test("MethodChannel uses the codec it was given", () => {
  assert.ok(new MethodChannel("a").codec instanceof StandardMethodCodec);
  const json = new JSONMethodCodec();
  assert.equal(new MethodChannel("a", json).codec, json);
  assert.equal(
    new MethodChannel("a").binaryMessenger,
    ServicesBinding.defaultBinaryMessenger,
  );
});
