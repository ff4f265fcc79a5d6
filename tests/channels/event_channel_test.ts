// Behaviour from /work/shared/spec/flutter_wire_format.md (sections 9 and
// 12): EventChannel's protocol (listen, events as envelopes, end of stream,
// cancel), served on the main thread and listened to on the main thread and
// from background isolates.
import assert from "node:assert/strict";
import {
  EventChannel,
  type EventSink,
  JSONMethodCodec,
  PlatformException,
  ServicesBinding,
  type StreamHandler,
} from "@isolates/isolates";
import {
  type Caller,
  CallerExitedError,
  fromMainAndWorker,
  mainCaller,
  missingPlugin,
  platformException,
  serveOnMain,
  uniqueChannel,
  WorkerClient,
} from "./_harness.ts";

function listen(
  caller: Caller,
  channel: string,
  args?: unknown,
  options: { take?: number; codec?: "standard" | "json" } = {},
): Promise<unknown> {
  return caller.perform({ op: "listen", channel, args, ...options });
}

/** Serves a stream on the main thread until disposed. */
function serveStream(
  name: string,
  handler: StreamHandler,
  channel: EventChannel = new EventChannel(name),
): Disposable {
  channel.setStreamHandler(handler);
  return { [Symbol.dispose]: () => channel.setStreamHandler(null) };
}

/** A stream handler that records its listeners and their cancellations. */
class Recorder implements StreamHandler {
  readonly listened = Promise.withResolvers<
    { args: unknown; sink: EventSink }
  >();
  /** The arguments of each onCancel call. */
  readonly cancels: unknown[] = [];
  readonly #onListen: (args: unknown, sink: EventSink) => void;

  constructor(onListen: (args: unknown, sink: EventSink) => void = () => {}) {
    this.#onListen = onListen;
  }

  onListen(args: unknown, sink: EventSink): void {
    this.#onListen(args, sink);
    this.listened.resolve({ args, sink });
  }

  onCancel(args: unknown): void {
    this.cancels.push(args);
  }
}

/**
 * Resolves once the main thread has handled every call the caller sent
 * before (calls from one isolate are handled in the order sent), such as the
 * `cancel` a stream sends when it ends: a check that cannot hang.
 */
async function callsHandled(caller: Caller): Promise<void> {
  const name = uniqueChannel("barrier");
  using _served = serveOnMain(name);
  assert.equal(
    await caller.perform({ op: "invoke", channel: name, method: "return" }),
    null,
  );
}

Deno.test("EventChannel.receiveBroadcastStream() yields the events until endOfStream, then onCancel is called with the listen arguments", async (t) => {
  const name = uniqueChannel("events");
  await fromMainAndWorker(t, async (caller) => {
    const recorder = new Recorder((args, sink) => {
      sink.success("hello1");
      sink.success(args);
      sink.endOfStream();
    });
    using _served = serveStream(name, recorder);
    const args = ["listen", caller.id];
    assert.deepEqual(await listen(caller, name, args), ["hello1", args]);
    await callsHandled(caller);
    assert.deepEqual(recorder.cancels, [args]);
  });
});

Deno.test("EventChannel.receiveBroadcastStream() yields events sent after listen returned, in order", async (t) => {
  const name = uniqueChannel("events");
  await fromMainAndWorker(t, async (caller) => {
    const recorder = new Recorder();
    using _served = serveStream(name, recorder);
    const events = listen(caller, name);
    const { sink } = await recorder.listened.promise;
    const sent = Array.from({ length: 200 }, (_, i) => i);
    for (const event of sent) sink.success(event);
    sink.endOfStream();
    assert.deepEqual(await events, sent);
    await callsHandled(caller);
    assert.deepEqual(recorder.cancels, [null]);
  });
});

Deno.test("EventChannel.receiveBroadcastStream() yields null and falsy events as events, not as the end", async (t) => {
  const name = uniqueChannel("events");
  await fromMainAndWorker(t, async (caller) => {
    using _served = serveStream(
      name,
      new Recorder((_args, sink) => {
        sink.success(null);
        sink.success(0);
        sink.success("");
        sink.success(false);
        sink.endOfStream();
      }),
    );
    assert.deepEqual(await listen(caller, name), [null, 0, "", false]);
  });
});

Deno.test("EventChannel.receiveBroadcastStream() errors with the PlatformException of an error event", async (t) => {
  const name = uniqueChannel("events");
  await fromMainAndWorker(t, async (caller) => {
    const recorder = new Recorder((args, sink) => {
      sink.success("before");
      sink.error("404", "Not Found.", args);
    });
    using _served = serveStream(name, recorder);
    const args = new Map([["who", caller.id]]);
    await assert.rejects(
      listen(caller, name, args),
      platformException({ code: "404", message: "Not Found.", details: args }),
    );
    // The error ended the subscription: the platform side is told.
    await callsHandled(caller);
    assert.deepEqual(recorder.cancels, [args]);
  });
});

Deno.test("EventChannel.receiveBroadcastStream() cancelled by leaving for-await calls onCancel with the listen arguments", async (t) => {
  const name = uniqueChannel("events");
  await fromMainAndWorker(t, async (caller) => {
    const recorder = new Recorder((_args, sink) => {
      sink.success(1);
      sink.success(2);
      sink.success(3);
    });
    using _served = serveStream(name, recorder);
    assert.deepEqual(
      await listen(caller, name, "my args", { take: 2 }),
      [1, 2],
    );
    await callsHandled(caller);
    assert.deepEqual(recorder.cancels, ["my args"]);
    const { sink } = await recorder.listened.promise;
    // The listener is gone: its sink drops what it is given.
    sink.success(4);
    sink.endOfStream();
  });
});

Deno.test("EventChannel.receiveBroadcastStream() errors with MissingPluginException when no stream handler is set", async (t) => {
  const name = uniqueChannel("events-unserved");
  await fromMainAndWorker(t, async (caller) => {
    await assert.rejects(listen(caller, name), missingPlugin("listen", name));
  });
});

Deno.test("EventChannel.receiveBroadcastStream() errors with the PlatformException onListen throws", async (t) => {
  const name = uniqueChannel("events");
  await fromMainAndWorker(t, async (caller) => {
    using _served = serveStream(name, {
      onListen(args): never {
        throw new PlatformException({
          code: "NO_SENSOR",
          message: "no sensor",
          details: args,
        });
      },
    });
    await assert.rejects(
      listen(caller, name, 5),
      platformException({
        code: "NO_SENSOR",
        message: "no sensor",
        details: 5,
      }),
    );
  });
});

Deno.test("EventChannel.setStreamHandler(null) removes the stream handler", async (t) => {
  const name = uniqueChannel("events");
  const channel = new EventChannel(name);
  await fromMainAndWorker(t, async (caller) => {
    channel.setStreamHandler(new Recorder((_args, sink) => sink.endOfStream()));
    assert.deepEqual(await listen(caller, name), []);
    channel.setStreamHandler(null);
    await assert.rejects(listen(caller, name), missingPlugin("listen", name));
  });
});

Deno.test("EventChannel with JSONMethodCodec carries events and errors", async (t) => {
  const name = uniqueChannel("events-json");
  const channel = new EventChannel(name, new JSONMethodCodec());
  await fromMainAndWorker(t, async (caller) => {
    using _served = serveStream(
      name,
      new Recorder((args, sink) => {
        sink.success({ a: [1, "x"] });
        sink.success(args);
        if (args === "fail") sink.error("E", null, { n: 1 });
        else sink.endOfStream();
      }),
      channel,
    );
    assert.deepEqual(
      await listen(caller, name, { from: caller.id }, { codec: "json" }),
      [{ a: [1, "x"] }, { from: caller.id }],
    );
    await assert.rejects(
      listen(caller, name, "fail", { codec: "json" }),
      platformException({ code: "E", message: null, details: { n: 1 } }),
    );
  });
});

Deno.test("EventChannel.setStreamHandler() binds each sink to its listener: two workers and the main thread listening at once get their own events", async () => {
  const name = uniqueChannel("events-shared");
  const sinks = new Map<string, EventSink>();
  const allListening = Promise.withResolvers<void>();
  const cancelled: unknown[] = [];
  using _served = serveStream(name, {
    onListen(args, sink): void {
      sinks.set(args as string, sink);
      if (sinks.size === 3) allListening.resolve();
    },
    onCancel(args): void {
      cancelled.push(args);
    },
  });
  const first = await WorkerClient.spawn({ debugName: "first" });
  const second = await WorkerClient.spawn({ debugName: "second" });
  const reader = new EventChannel(name).receiveBroadcastStream("main")
    .getReader();
  try {
    // What each listener ended with: its events, or its error.
    const ended = new Map<string, unknown>();
    const track = (who: string, events: Promise<unknown>): void => {
      events.then((value) => ended.set(who, value), (e) => ended.set(who, e));
    };
    track("first", listen(first, name, "first"));
    track("second", listen(second, name, "second"));
    track(
      "main",
      (async () => {
        const events: unknown[] = [];
        for (let r = await reader.read(); !r.done; r = await reader.read()) {
          events.push(r.value);
        }
        return events;
      })(),
    );
    await allListening.promise;
    // Interleaved, so a sink that were shared or swapped would mix them up.
    for (let i = 0; i < 3; i++) {
      for (const [who, sink] of sinks) sink.success(`${who} ${i}`);
    }
    for (const sink of sinks.values()) sink.endOfStream();
    // Each listener has its events (and has sent its cancel) before its next
    // call is handled: a listener that has not ended by then never will.
    await Promise.all([first, second, mainCaller].map(callsHandled));
    assert.deepEqual(
      ended,
      new Map([
        ["first", ["first 0", "first 1", "first 2"]],
        ["second", ["second 0", "second 1", "second 2"]],
        ["main", ["main 0", "main 1", "main 2"]],
      ]),
    );
    assert.deepEqual(cancelled.toSorted(), ["first", "main", "second"]);
  } finally {
    await reader.cancel();
    await first.kill();
    await second.kill();
  }
});

Deno.test("EventChannel subscription of a killed worker: the worker ends, nothing hangs, and its sink drops events", async () => {
  const name = uniqueChannel("events-killed");
  const recorder = new Recorder((_args, sink) => sink.success("first"));
  using _served = serveStream(name, recorder);
  const worker = await WorkerClient.spawn();
  const events = listen(worker, name);
  const { sink } = await recorder.listened.promise;
  await worker.kill();
  await assert.rejects(events, CallerExitedError);
  sink.success("to nobody");
  sink.error("E", "to nobody");
  sink.endOfStream();
});

Deno.test("EventChannel.receiveBroadcastStream() in a worker without ensureInitialized errors and says how to fix it", async () => {
  const name = uniqueChannel("events-uninitialized");
  using _served = serveStream(name, new Recorder());
  await using worker = await WorkerClient.spawn({ initialize: false });
  await assert.rejects(listen(worker, name), (error) => {
    assert.match((error as Error).message, /ensureInitialized/);
    assert.match((error as Error).message, new RegExp(name));
    return true;
  });
});

Deno.test("EventChannel.receiveBroadcastStream() throws TypeError when its messenger cannot carry events", () => {
  const channel = new EventChannel(
    uniqueChannel("events"),
    undefined,
    ServicesBinding.messengerFor("0.1"),
  );
  assert.throws(() => channel.receiveBroadcastStream(), TypeError);
});

Deno.test("EventChannel.receiveBroadcastStream() delivers the events sent before an error event, then fails", async () => {
  const name = uniqueChannel("events-before-error");
  using _served = serveStream(name, {
    onListen(_args, events): void {
      events.success(50);
      events.success(90);
      events.error("LATE", "after two events", null);
    },
  });
  const got: unknown[] = [];
  await assert.rejects(
    async () => {
      for await (
        const event of new EventChannel(name).receiveBroadcastStream()
      ) {
        got.push(event);
      }
    },
    (error: unknown) =>
      error instanceof PlatformException && error.code === "LATE",
  );
  assert.deepEqual(got, [50, 90]);
});
