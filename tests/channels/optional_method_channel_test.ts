// Behaviour from /work/shared/spec/flutter_wire_format.md (sections 8 and
// 12): OptionalMethodChannel is a MethodChannel whose unhandled calls resolve
// to null, on the main thread and from a background isolate.
import assert from "node:assert/strict";
import {
  JSONMethodCodec,
  MethodChannel,
  OptionalMethodChannel,
  ServicesBinding,
  StandardMethodCodec,
} from "@isolates/isolates";
import {
  type Caller,
  fromMainAndWorker,
  missingPlugin,
  platformException,
  serveOnMain,
  uniqueChannel,
  WorkerClient,
} from "./_harness.ts";

function optional(
  caller: Caller,
  channel: string,
  method: string,
  args?: unknown,
): Promise<unknown> {
  return caller.perform({
    op: "invoke",
    channel,
    method,
    args,
    variant: "optional",
  });
}

Deno.test("OptionalMethodChannel.invokeMethod() resolves to null when no handler is set", async (t) => {
  const name = uniqueChannel("optional");
  await fromMainAndWorker(t, async (caller) => {
    assert.equal(await optional(caller, name, "anything", [1]), null);
  });
});

Deno.test("OptionalMethodChannel.invokeMethod() resolves to null when the handler throws MissingPluginException", async (t) => {
  const name = uniqueChannel("optional");
  using _served = serveOnMain(name);
  await fromMainAndWorker(t, async (caller) => {
    assert.equal(await optional(caller, name, "throwMissing"), null);
  });
});

Deno.test("OptionalMethodChannel.invokeMethod() resolves with the handler's result", async (t) => {
  const name = uniqueChannel("optional");
  using _served = serveOnMain(name);
  await fromMainAndWorker(t, async (caller) => {
    assert.deepEqual(await optional(caller, name, "echo", "x"), [
      "x",
      caller.id,
      "0",
    ]);
    assert.equal(await optional(caller, name, "return", 0), 0);
    assert.equal(await optional(caller, name, "return", false), false);
  });
});

Deno.test("OptionalMethodChannel.invokeMethod() rejects with the PlatformException the handler throws", async (t) => {
  const name = uniqueChannel("optional");
  using _served = serveOnMain(name);
  await fromMainAndWorker(t, async (caller) => {
    await assert.rejects(
      optional(caller, name, "throwPlatform", 7),
      platformException({ code: "E_CODE", message: "it failed", details: 7 }),
    );
    await assert.rejects(
      optional(caller, name, "throwError"),
      platformException({ code: "error", message: "TypeError: bad input" }),
    );
  });
});

Deno.test("OptionalMethodChannel.invokeMethod() rejects with MissingPluginException in a worker without ensureInitialized", async () => {
  // Not null: the isolate cannot reach any handler, and the message says
  // how to fix it (spec section 12).
  const name = uniqueChannel("optional");
  using _served = serveOnMain(name);
  await using worker = await WorkerClient.spawn({ initialize: false });
  await assert.rejects(
    optional(worker, name, "echo"),
    missingPlugin("echo", name, "ensureInitialized"),
  );
});

Deno.test("OptionalMethodChannel.invokeMethod() into a worker resolves to null when the worker has no handler", async () => {
  await using worker = await WorkerClient.spawn();
  const channel = new OptionalMethodChannel(
    uniqueChannel("optional"),
    undefined,
    ServicesBinding.messengerFor(worker.id),
  );
  assert.equal(await channel.invokeMethod("m"), null);
});

Deno.test("OptionalMethodChannel is a MethodChannel with its codec", () => {
  const channel = new OptionalMethodChannel("a");
  assert.ok(channel instanceof MethodChannel);
  assert.ok(channel.codec instanceof StandardMethodCodec);
  const json = new JSONMethodCodec();
  assert.equal(new OptionalMethodChannel("a", json).codec, json);
  assert.equal(channel.name, "a");
});
