// Behaviour from /work/shared/spec/flutter_wire_format.md (sections 6, 10
// and 12): the default BinaryMessenger of each isolate, the
// BackgroundIsolateBinaryMessenger of a worker, and the messenger the main
// thread uses to reach handlers set in a worker.
import assert from "node:assert/strict";
import {
  BackgroundIsolateBinaryMessenger,
  type BinaryMessenger,
  IsolateExitedError,
  type MessageHandler,
  RootIsolateToken,
  ServicesBinding,
  StateError,
} from "@isolates/isolates";
import {
  type Caller,
  capturingConsoleError,
  fromMainAndWorker,
  uniqueChannel,
  WorkerClient,
  WorkerError,
} from "./_harness.ts";

const INSTANCE_MESSAGE =
  "The BackgroundIsolateBinaryMessenger.instance value is invalid until BackgroundIsolateBinaryMessenger.ensureInitialized is executed.";

function sendBytes(
  caller: Caller,
  channel: string,
  bytes: Uint8Array | null,
): Promise<unknown> {
  return caller.perform({ op: "sendBytes", channel, bytes });
}

/** Sets a handler on the main thread's messenger until disposed. */
function handle(channel: string, handler: MessageHandler): Disposable {
  const messenger = ServicesBinding.defaultBinaryMessenger;
  messenger.setMessageHandler(channel, handler);
  return {
    [Symbol.dispose]: () => messenger.setMessageHandler(channel, null),
  };
}

Deno.test("BinaryMessenger.send() resolves with the bytes the handler replies, and the handler sees the sender's isolate", async (t) => {
  const name = uniqueChannel("binary");
  using _handled = handle(name, (bytes, context) =>
    new Uint8Array([
      ...(bytes ?? [255]),
      ...new TextEncoder().encode(context.isolate),
    ]));
  await fromMainAndWorker(t, async (caller) => {
    assert.deepEqual(
      await sendBytes(caller, name, new Uint8Array([1, 2, 3])),
      new Uint8Array([1, 2, 3, ...new TextEncoder().encode(caller.id)]),
    );
    assert.deepEqual(
      await sendBytes(caller, name, null),
      new Uint8Array([255, ...new TextEncoder().encode(caller.id)]),
      "a null message reaches the handler as null",
    );
    assert.deepEqual(
      await sendBytes(caller, name, new Uint8Array(0)),
      new TextEncoder().encode(caller.id),
      "an empty message stays empty, not null",
    );
  });
});

Deno.test("BinaryMessenger.send() resolves to null when no handler is set or the handler replies null", async (t) => {
  const unhandled = uniqueChannel("binary");
  const silent = uniqueChannel("binary");
  using _handled = handle(silent, () => null);
  await fromMainAndWorker(t, async (caller) => {
    assert.equal(await sendBytes(caller, unhandled, new Uint8Array([1])), null);
    assert.equal(await sendBytes(caller, silent, new Uint8Array([1])), null);
  });
});

Deno.test("BinaryMessenger.setMessageHandler() replaces the previous handler, and null removes it", async (t) => {
  const name = uniqueChannel("binary");
  const messenger = ServicesBinding.defaultBinaryMessenger;
  try {
    await fromMainAndWorker(t, async (caller) => {
      messenger.setMessageHandler(name, () => new Uint8Array([1]));
      assert.deepEqual(
        await sendBytes(caller, name, null),
        new Uint8Array([1]),
      );
      messenger.setMessageHandler(
        name,
        () => Promise.resolve(new Uint8Array([2])),
      );
      assert.deepEqual(
        await sendBytes(caller, name, null),
        new Uint8Array([2]),
      );
      messenger.setMessageHandler(name, null);
      assert.equal(await sendBytes(caller, name, null), null);
    });
  } finally {
    messenger.setMessageHandler(name, null);
  }
});

Deno.test("BinaryMessenger.send() resolves to null when the handler throws, and the error is reported", async (t) => {
  const name = uniqueChannel("binary");
  using _handled = handle(
    name,
    () => Promise.reject(new Error("handler broke")),
  );
  await fromMainAndWorker(t, async (caller) => {
    let reply: unknown = "unset";
    const printed = await capturingConsoleError(async () => {
      reply = await sendBytes(caller, name, new Uint8Array([1]));
    });
    assert.equal(reply, null);
    assert.equal(printed.length, 1);
    assert.match(String(printed[0][0]), new RegExp(name));
    assert.match(String(printed[0][0]), new RegExp(`isolate ${caller.id}`));
  });
});

Deno.test("BinaryMessenger.send() from one worker arrives in the order sent", async () => {
  const name = uniqueChannel("binary-order");
  const arrived: number[] = [];
  using _handled = handle(name, (bytes) => {
    arrived.push(bytes![0]);
    return bytes;
  });
  await using worker = await WorkerClient.spawn();
  const sends = Array.from(
    { length: 100 },
    (_, i) => sendBytes(worker, name, new Uint8Array([i])),
  );
  const replies = await Promise.all(sends);
  const expected = Array.from({ length: 100 }, (_, i) => i);
  assert.deepEqual(arrived, expected);
  assert.deepEqual(replies, expected.map((i) => new Uint8Array([i])));
});

Deno.test("BackgroundIsolateBinaryMessenger is a worker's default messenger after ensureInitialized", async () => {
  await using worker = await WorkerClient.spawn();
  assert.deepEqual(await worker.perform({ op: "probe" }), {
    isolate: worker.id,
    tokenIsNull: true,
    initialized: true,
    defaultIsBackground: true,
  });
});

Deno.test("BackgroundIsolateBinaryMessenger.ensureInitialized() is idempotent and ignores its token afterwards", async () => {
  await using worker = await WorkerClient.spawn();
  assert.equal(await worker.perform({ op: "ensureInitializedAgain" }), true);
  const name = uniqueChannel("binary");
  using _handled = handle(name, () => new Uint8Array([9]));
  assert.deepEqual(await sendBytes(worker, name, null), new Uint8Array([9]));
});

Deno.test("BackgroundIsolateBinaryMessenger.instance throws StateError with Flutter's text before ensureInitialized", async (t) => {
  await t.step("in a worker", async () => {
    await using worker = await WorkerClient.spawn({ initialize: false });
    await assert.rejects(worker.perform({ op: "instance" }), (error) => {
      assert.ok(error instanceof WorkerError, String(error));
      assert.equal(error.name, "StateError");
      assert.equal(error.code, "bad_state");
      assert.equal(error.message, INSTANCE_MESSAGE);
      return true;
    });
  });
  await t.step(
    "on the main thread, where ensureInitialized does nothing",
    () => {
      BackgroundIsolateBinaryMessenger.ensureInitialized(
        RootIsolateToken.instance!,
      );
      assert.throws(
        () => BackgroundIsolateBinaryMessenger.instance,
        (error) => {
          assert.ok(error instanceof StateError);
          assert.equal(error.message, INSTANCE_MESSAGE);
          assert.equal(
            String(error),
            `Bad state: ${INSTANCE_MESSAGE}`,
          );
          return true;
        },
      );
    },
  );
});

Deno.test("BinaryMessenger.send() in a worker without ensureInitialized rejects with MissingPluginException naming the channel", async () => {
  const name = uniqueChannel("binary");
  using _handled = handle(name, () => new Uint8Array([1]));
  await using worker = await WorkerClient.spawn({ initialize: false });
  await assert.rejects(sendBytes(worker, name, null), (error) => {
    assert.equal((error as Error).name, "MissingPluginException");
    assert.match((error as Error).message, new RegExp(name));
    assert.match((error as Error).message, /ensureInitialized/);
    return true;
  });
});

Deno.test("ServicesBinding.messengerFor() reaches the handler a worker set with setMessageHandler", async () => {
  const name = uniqueChannel("binary-into-worker");
  await using worker = await WorkerClient.spawn();
  await worker.perform({ op: "serveBytes", channel: name });
  const messenger: BinaryMessenger = ServicesBinding.messengerFor(worker.id);
  assert.deepEqual(
    await messenger.send(name, new Uint8Array([1, 2, 3])),
    new Uint8Array([3, 2, 1, ...new TextEncoder().encode("0")]),
  );
  assert.equal(await messenger.send(name, null), null);
  assert.equal(
    await messenger.send(uniqueChannel("binary-unserved"), new Uint8Array([1])),
    null,
  );
});

Deno.test("ServicesBinding.messengerFor() refuses to set handlers for another isolate", () => {
  const messenger = ServicesBinding.messengerFor("0.1");
  assert.throws(
    () => messenger.setMessageHandler("x", () => null),
    TypeError,
  );
});

Deno.test("ServicesBinding.messengerFor() of the main thread reaches the main thread's handlers", async () => {
  const name = uniqueChannel("binary");
  using _handled = handle(
    name,
    (_bytes, context) => new TextEncoder().encode(context.isolate),
  );
  assert.deepEqual(
    await ServicesBinding.messengerFor("0").send(name, null),
    new TextEncoder().encode("0"),
  );
});

Deno.test("ServicesBinding.messengerFor() send to an isolate that is not running rejects with IsolateExitedError", async () => {
  const worker = await WorkerClient.spawn();
  await worker.close();
  await assert.rejects(
    ServicesBinding.messengerFor(worker.id).send("x", null),
    (error) => {
      assert.ok(error instanceof IsolateExitedError, String(error));
      assert.equal(error.isolate, worker.id);
      return true;
    },
  );
});
