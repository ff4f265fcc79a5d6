// Edge cases found in review: values that cannot be copied, a listener that
// throws in the middle of a batch, concurrent iteration, workers that end
// themselves. Each must settle, and leave nothing running.
import assert from "node:assert/strict";
import {
  Isolate,
  IsolateSpawnError,
  ReceivePort,
  RemoteError,
  type SendPort,
} from "../../mod.ts";
import { fixture, sanitized } from "./_helpers.ts";

const FORWARDER = fixture("forwarder.ts");

/** Spawns the forwarder; returns its port and the main thread's inbox. */
async function forwarder(options: { errorsAreFatal?: boolean } = {}): Promise<{
  isolate: Isolate;
  worker: SendPort;
  next: () => Promise<unknown>;
  close: () => void;
}> {
  const inbox = new ReceivePort();
  const iterator = inbox[Symbol.asyncIterator]();
  const next = async (): Promise<unknown> => (await iterator.next()).value;
  const isolate = await Isolate.spawn(FORWARDER, inbox.sendPort, options);
  const worker = await next() as SendPort;
  return { isolate, worker, next, close: () => inbox.close() };
}

Deno.test(
  "Isolate.spawn() rejects with IsolateSpawnError when its message cannot be copied, and leaves nothing running",
  sanitized,
  async () => {
    await assert.rejects(
      Isolate.spawn(FORWARDER, { callback: () => 1 }),
      (error: unknown) =>
        error instanceof IsolateSpawnError &&
        /cannot be copied/.test(error.message),
    );
  },
);

Deno.test(
  "Isolate.run() rejects, not throws, for a relative module path",
  sanitized,
  async () => {
    const pending = Isolate.run("./tasks.ts", "add", [1, 2]);
    assert.ok(pending instanceof Promise);
    await assert.rejects(pending, TypeError);
  },
);

Deno.test(
  "SendPort.send() to another isolate throws when the message cannot be copied; the messages around it still arrive",
  sanitized,
  async () => {
    const { isolate, worker, next, close } = await forwarder();
    worker.send("a");
    assert.throws(() => worker.send({ callback: () => 1 }), DOMException);
    worker.send("b");
    assert.deepEqual(await next(), ["got", "a"]);
    assert.deepEqual(await next(), ["got", "b"]);
    worker.send("stop");
    assert.deepEqual(await next(), ["got", "stop"]);
    await isolate.exited;
    close();
  },
);

Deno.test(
  "a port listener that throws does not drop the messages sent with it",
  sanitized,
  async () => {
    const errors: RemoteError[] = [];
    const inbox = new ReceivePort();
    const iterator = inbox[Symbol.asyncIterator]();
    const next = async (): Promise<unknown> => (await iterator.next()).value;
    const isolate = await Isolate.spawn(FORWARDER, inbox.sendPort, {
      errorsAreFatal: false,
      onError: (error) => errors.push(error),
    });
    const worker = await next() as SendPort;
    // One task: the three leave in one batch.
    worker.send("bad");
    worker.send("good");
    worker.send("stop");
    assert.deepEqual(await next(), ["got", "bad"]);
    assert.deepEqual(await next(), ["got", "good"]);
    assert.deepEqual(await next(), ["got", "stop"]);
    await isolate.exited;
    inbox.close();
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /listener failed on 'bad'/);
  },
);

Deno.test(
  "ReceivePort settles every pending next() of its iterator, in order",
  sanitized,
  async () => {
    const port = new ReceivePort();
    const iterator = port[Symbol.asyncIterator]();
    const first = iterator.next();
    const second = iterator.next();
    const third = iterator.next();
    port.sendPort.send(1);
    port.sendPort.send(2);
    assert.deepEqual(await first, { value: 1, done: false });
    assert.deepEqual(await second, { value: 2, done: false });
    port.close();
    assert.deepEqual(await third, { value: undefined, done: true });
  },
);

Deno.test(
  "Isolate.run() settles when the task ends its own worker",
  sanitized,
  async (t) => {
    await t.step("with self.close()", async () => {
      await assert.rejects(
        Isolate.run(() => {
          (self as unknown as { close(): void }).close();
          return 1;
        }),
        IsolateSpawnError,
      );
    });
    await t.step("with Deno.exit()", async () => {
      await assert.rejects(
        Isolate.run(() => Deno.exit(0)),
        IsolateSpawnError,
      );
    });
  },
);

Deno.test(
  "Isolate.run() rejects with RemoteError when its result cannot be copied back",
  sanitized,
  async () => {
    await assert.rejects(
      Isolate.run(() => ({ callback: () => 1 })),
      (error: unknown) =>
        error instanceof RemoteError &&
        /cannot be copied back/.test(error.message),
    );
  },
);
