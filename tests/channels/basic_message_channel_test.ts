// Behaviour from /work/shared/spec/flutter_wire_format.md (sections 6, 7 and
// 12): BasicMessageChannel sends messages with a MessageCodec; a null reply
// is null (no MissingPluginException); a failing handler answers null.
import assert from "node:assert/strict";
import {
  BasicMessageChannel,
  JSONMessageCodec,
  type MessageCodec,
  StandardMessageCodec,
  StringCodec,
} from "@isolates/isolates";
import type { MessageCodecName } from "./fixtures/_calls.ts";
import {
  type Caller,
  capturingConsoleError,
  fromMainAndWorker,
  missingPlugin,
  uniqueChannel,
  WorkerClient,
} from "./_harness.ts";

function send(
  caller: Caller,
  channel: string,
  codec: MessageCodecName,
  message: unknown,
): Promise<unknown> {
  return caller.perform({ op: "send", channel, codec, message });
}

/** Serves a BasicMessageChannel on the main thread until disposed. */
function serveMessages<T>(
  name: string,
  codec: MessageCodec<T>,
  handler: Parameters<BasicMessageChannel<T>["setMessageHandler"]>[0],
): Disposable {
  const channel = new BasicMessageChannel(name, codec);
  channel.setMessageHandler(handler);
  return { [Symbol.dispose]: () => channel.setMessageHandler(null) };
}

Deno.test("BasicMessageChannel.send() with StringCodec resolves with the handler's reply", async (t) => {
  const name = uniqueChannel("basic-string");
  using _served = serveMessages(
    name,
    new StringCodec(),
    (message, context) => `${message} from ${context.isolate}`,
  );
  await fromMainAndWorker(t, async (caller) => {
    assert.equal(
      await send(caller, name, "string", "héllo 👋"),
      `héllo 👋 from ${caller.id}`,
    );
    assert.equal(await send(caller, name, "string", ""), ` from ${caller.id}`);
  });
});

Deno.test("BasicMessageChannel.send() with JSONMessageCodec resolves with the handler's reply", async (t) => {
  const name = uniqueChannel("basic-json");
  using _served = serveMessages(
    name,
    new JSONMessageCodec(),
    (message, context) => ({ got: message, from: context.isolate }),
  );
  await fromMainAndWorker(t, async (caller) => {
    const message = { list: [1, 2.5, "x", null, true], nested: { a: {} } };
    assert.deepEqual(await send(caller, name, "json", message), {
      got: message,
      from: caller.id,
    });
    assert.deepEqual(await send(caller, name, "json", 3), {
      got: 3,
      from: caller.id,
    });
  });
});

Deno.test("BasicMessageChannel.send() with StandardMessageCodec resolves with the handler's reply", async (t) => {
  const name = uniqueChannel("basic-standard");
  using _served = serveMessages(
    name,
    new StandardMessageCodec(),
    (message, context) => [message, context.isolate],
  );
  await fromMainAndWorker(t, async (caller) => {
    const message = new Map<unknown, unknown>([
      ["bytes", new Uint8Array([1, 2])],
      [1, 2n ** 63n - 1n],
      [null, [1.5, "s"]],
    ]);
    assert.deepEqual(await send(caller, name, "standard", message), [
      message,
      caller.id,
    ]);
  });
});

Deno.test("BasicMessageChannel.send() resolves to null when no handler is set", async (t) => {
  const name = uniqueChannel("basic-unserved");
  await fromMainAndWorker(t, async (caller) => {
    for (const codec of ["string", "json", "standard"] as const) {
      assert.equal(await send(caller, name, codec, "x"), null, codec);
    }
  });
});

Deno.test("BasicMessageChannel.send() resolves to null when the handler replies null", async (t) => {
  const name = uniqueChannel("basic-null");
  let received: unknown = "nothing yet";
  using _served = serveMessages(name, new JSONMessageCodec(), (message) => {
    received = message;
    return null;
  });
  await fromMainAndWorker(t, async (caller) => {
    received = "nothing yet";
    assert.equal(await send(caller, name, "json", [1]), null);
    assert.deepEqual(received, [1]);
    assert.equal(await send(caller, name, "json", null), null);
    assert.equal(received, null);
  });
});

Deno.test("BasicMessageChannel.setMessageHandler() replaces the previous handler, and null removes it", async (t) => {
  const name = uniqueChannel("basic-replace");
  const channel = new BasicMessageChannel(name, new StringCodec());
  try {
    await fromMainAndWorker(t, async (caller) => {
      channel.setMessageHandler(() => "first");
      assert.equal(await send(caller, name, "string", "m"), "first");
      channel.setMessageHandler(async () => {
        await Promise.resolve();
        return "second";
      });
      assert.equal(await send(caller, name, "string", "m"), "second");
      channel.setMessageHandler(null);
      assert.equal(await send(caller, name, "string", "m"), null);
    });
  } finally {
    channel.setMessageHandler(null);
  }
});

Deno.test("BasicMessageChannel.send() resolves to null when the handler throws, and the error is reported", async (t) => {
  const name = uniqueChannel("basic-throws");
  using _served = serveMessages(name, new StringCodec(), () => {
    throw new RangeError("handler broke");
  });
  await fromMainAndWorker(t, async (caller) => {
    let reply: unknown = "unset";
    const printed = await capturingConsoleError(async () => {
      reply = await send(caller, name, "string", "m");
    });
    assert.equal(reply, null);
    assert.equal(printed.length, 1, "reported once");
    assert.ok(
      printed[0].some((part) =>
        part instanceof RangeError && part.message === "handler broke"
      ),
      "the report carries the error",
    );
    assert.match(String(printed[0][0]), new RegExp(name));
  });
});

Deno.test("BasicMessageChannel.send() rejects with MissingPluginException naming the channel in a worker without ensureInitialized", async () => {
  const name = uniqueChannel("basic-uninitialized");
  using _served = serveMessages(name, new StringCodec(), () => "never");
  await using worker = await WorkerClient.spawn({ initialize: false });
  await assert.rejects(
    send(worker, name, "string", "m"),
    missingPlugin(name, "ensureInitialized"),
  );
});

Deno.test("BasicMessageChannel keeps its name and codec", () => {
  const codec = new StringCodec();
  const channel = new BasicMessageChannel("n", codec);
  assert.equal(channel.name, "n");
  assert.equal(channel.codec, codec);
});
