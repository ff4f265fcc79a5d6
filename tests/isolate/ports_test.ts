import assert from "node:assert/strict";
import {
  Isolate,
  MethodChannel,
  ReceivePort,
  RootIsolateToken,
  SendPort,
  StateError,
} from "../../mod.ts";
import type { Outcome } from "./fixtures/_report.ts";
import {
  collect,
  firstFrom,
  fixture,
  guarded,
  mentions,
  okOf,
  sanitized,
} from "./_helpers.ts";

const PORTS = fixture("ports.ts");

Deno.test(
  "ReceivePort.listen() delivers messages in order, including those sent before it",
  sanitized,
  guarded(async () => {
    const port = new ReceivePort("ordered");
    port.sendPort.send(1);
    port.sendPort.send({ two: [2] });
    const got: unknown[] = [];
    const third = Promise.withResolvers<void>();
    const done = Promise.withResolvers<void>();
    const subscription = port.listen((message) => {
      got.push(message);
      if (got.length === 3) third.resolve();
    }, { onDone: done.resolve });
    port.sendPort.send("three");
    await third.promise;
    assert.deepEqual(got, [1, { two: [2] }, "three"]);
    assert.equal(port.isClosed, false);
    subscription.cancel();
    await done.promise;
    assert.equal(port.isClosed, true);
  }),
);

Deno.test(
  "ReceivePort.first resolves with the first message and closes the port",
  sanitized,
  guarded(async () => {
    const port = new ReceivePort();
    port.sendPort.send("a");
    port.sendPort.send("b");
    assert.equal(await port.first, "a");
    assert.equal(port.isClosed, true);
    // A closed port drops what is sent to it, as in Dart.
    port.sendPort.send("c");
  }),
);

Deno.test(
  "ReceivePort.first rejects with StateError when the port closes before a message",
  sanitized,
  guarded(async () => {
    const port = new ReceivePort();
    const first = port.first;
    port.close();
    await assert.rejects(first, (error: unknown) => {
      assert.ok(error instanceof StateError);
      assert.equal(error.code, "bad_state");
      mentions(error.message, "closed before a message");
      return true;
    });
  }),
);

Deno.test(
  "ReceivePort iterates with for await; leaving the loop closes the port",
  sanitized,
  guarded(async () => {
    const port = new ReceivePort();
    for (const n of [1, 2, 3, 4]) port.sendPort.send(n);
    const got: unknown[] = [];
    for await (const message of port) {
      got.push(message);
      if (message === 3) break;
    }
    assert.deepEqual(got, [1, 2, 3]);
    assert.equal(port.isClosed, true);
  }),
);

Deno.test(
  "ReceivePort.close() ends a pending for-await iteration",
  sanitized,
  guarded(async () => {
    const port = new ReceivePort();
    const got: unknown[] = [];
    const firstSeen = Promise.withResolvers<void>();
    const loop = (async () => {
      for await (const message of port) {
        got.push(message);
        firstSeen.resolve();
      }
      return "ended";
    })();
    port.sendPort.send("only");
    await firstSeen.promise;
    port.close();
    port.close(); // idempotent
    assert.equal(await loop, "ended");
    assert.deepEqual(got, ["only"]);
  }),
);

Deno.test(
  "ReceivePort throws StateError on a second listener",
  sanitized,
  guarded(async (t) => {
    const alreadyListened = (error: unknown): true => {
      assert.ok(error instanceof StateError, String(error));
      mentions(error.message, "already been listened to");
      return true;
    };
    await t.step("listen() after listen()", () => {
      const port = new ReceivePort();
      port.listen(() => {});
      assert.throws(() => port.listen(() => {}), alreadyListened);
      port.close();
    });
    await t.step("for await after listen()", () => {
      const port = new ReceivePort();
      port.listen(() => {});
      assert.throws(() => port[Symbol.asyncIterator](), alreadyListened);
      port.close();
    });
    await t.step("listen() after first", async () => {
      const port = new ReceivePort();
      const first = port.first;
      assert.throws(() => port.listen(() => {}), alreadyListened);
      port.sendPort.send("x");
      assert.equal(await first, "x");
    });
  }),
);

Deno.test(
  "SendPort.send() copies the message now and throws DOMException when it cannot be cloned",
  sanitized,
  guarded(async () => {
    const port = new ReceivePort();
    const message = { list: [1, 2] };
    port.sendPort.send(message);
    message.list.push(3);
    assert.throws(() => port.sendPort.send({ fn: () => 1 }), DOMException);
    assert.deepEqual(await port.first, { list: [1, 2] });
  }),
);

Deno.test(
  "SendPort nested at any depth of a message arrives as a working SendPort",
  sanitized,
  guarded(async (t) => {
    const labels = new ReceivePort("labels");
    const labelled = collect(labels);
    const replies = new ReceivePort("replies");
    const replied = collect(replies);
    const isolate = await Isolate.spawn(PORTS, {
      reply: replies.sendPort,
      inArray: [0, [labels.sendPort]],
      inObject: { a: { b: { c: labels.sendPort } } },
      inMap: new Map([["key", { port: labels.sendPort }]]),
      asMapKey: new Map([[labels.sendPort, "asMapKey"]]),
      inSet: new Set([labels.sendPort]),
    }, { exportName: "fanOut" });

    await t.step("the worker sends through every nested port", async () => {
      const got = [];
      for (let i = 0; i < 5; i++) got.push(await labelled.next());
      assert.deepEqual(got.sort(), [
        "asMapKey",
        "inArray",
        "inMap",
        "inObject",
        "inSet",
      ]);
    });

    await t.step(
      "a port the worker nests in its reply works here",
      async () => {
        const { back } = await replied.next() as {
          back: [Map<string, SendPort>];
        };
        const port = back[0].get("port");
        assert.ok(port instanceof SendPort, `arrived as ${String(port)}`);
        assert.equal(port.isolate, isolate.id);
        port.send({ hello: "from main" });
        assert.deepEqual(await replied.next(), {
          echoed: { hello: "from main" },
        });
      },
    );

    await isolate.exited;
    labels.close();
    replies.close();
  }),
);

Deno.test(
  "SendPort sent to two isolates works in both",
  sanitized,
  guarded(async () => {
    const shared = new ReceivePort("shared");
    const messages = collect(shared);
    const [a, b] = await Promise.all([
      Isolate.spawn(PORTS, { target: shared.sendPort, value: "a" }, {
        exportName: "sendTo",
      }),
      Isolate.spawn(PORTS, { target: shared.sendPort, value: "b" }, {
        exportName: "sendTo",
      }),
    ]);
    const got = [await messages.next(), await messages.next()];
    assert.deepEqual(
      new Set(got.map((m) => JSON.stringify(m))),
      new Set([
        JSON.stringify({ from: a.id, value: "a" }),
        JSON.stringify({ from: b.id, value: "b" }),
      ]),
    );
    await Promise.all([a.exited, b.exited]);
    shared.close();
  }),
);

Deno.test(
  "SendPort of one worker sent to a sibling worker works there",
  sanitized,
  guarded(async () => {
    const replies = new ReceivePort("replies");
    const replied = collect(replies);
    const receiver = await Isolate.spawn(
      fixture("entries.ts"),
      replies.sendPort,
      {
        exportName: "forwardsOne",
      },
    );
    const siblingPort = await replied.next() as SendPort;
    assert.equal(siblingPort.isolate, receiver.id);
    const sender = await Isolate.spawn(PORTS, {
      target: siblingPort,
      value: "via a sibling",
    }, { exportName: "sendTo" });
    assert.deepEqual(await replied.next(), {
      forwarded: { from: sender.id, value: "via a sibling" },
    });
    await Promise.all([sender.exited, receiver.exited]);
    replies.close();
  }),
);

Deno.test(
  "SendPort in a message that contains itself arrives as a working SendPort",
  sanitized,
  guarded(async () => {
    const port = new ReceivePort();
    const message: unknown[] = [];
    message.push(message, port.sendPort);
    const isolate = await Isolate.spawn(PORTS, message, {
      exportName: "cyclic",
    });
    // The port worked (this message came through it); the cycle must
    // survive too, so the same port is reached through it.
    assert.deepEqual(await firstFrom(port, isolate), {
      cycleKept: true,
      innerPort: "SendPort",
    });
    await isolate.exited;
  }),
);

Deno.test(
  "RootIsolateToken nested deep in a message connects the worker to the main thread's handlers",
  sanitized,
  guarded(async () => {
    const token = RootIsolateToken.instance;
    assert.ok(token !== null);
    const channel = new MethodChannel("tests/ports/deep_token");
    const callers: string[] = [];
    channel.setMethodCallHandler((call, context) => {
      callers.push(context.isolate);
      return `hello, ${call.arguments}`;
    });
    try {
      const port = new ReceivePort();
      const isolate = await Isolate.spawn(PORTS, {
        reply: port.sendPort,
        channel: channel.name,
        wrapped: { list: [new Map([["t", { token }]])] },
      }, { exportName: "deepToken" });
      const report = await firstFrom<{ arrived: boolean; result: Outcome }>(
        port,
        isolate,
      );
      assert.equal(report.arrived, true);
      assert.equal(okOf(report.result), "hello, worker");
      assert.deepEqual(callers, [isolate.id]);
      await isolate.exited;
    } finally {
      channel.setMethodCallHandler(null);
    }
  }),
);

Deno.test(
  "MessagePort inside a message is transferred and works",
  sanitized,
  guarded(async (t) => {
    const replies = new ReceivePort("replies");
    const replied = collect(replies);
    const first = new MessageChannel();
    const second = new MessageChannel();
    /** The next message on a MessagePort. */
    const nextOn = (port: MessagePort): Promise<unknown> =>
      new Promise((resolve) => {
        port.onmessage = (event) => resolve(event.data);
      });
    const firstHello = nextOn(first.port1);
    const isolate = await Isolate.spawn(PORTS, {
      reply: replies.sendPort,
      nested: { list: [first.port2] },
    }, { exportName: "messagePorts" });
    const { commands, own } = await replied.next() as {
      commands: SendPort;
      own: [MessagePort];
    };

    await t.step("one nested in the spawn message", async () => {
      assert.equal(await firstHello, "hello on spawn message port");
      const echo = nextOn(first.port1);
      first.port1.postMessage("ping");
      assert.equal(await echo, "spawn message port echo: ping");
      first.port1.close();
    });

    await t.step("one sent through a SendPort", async () => {
      const hello = nextOn(second.port1);
      commands.send({ port: second.port2 });
      assert.equal(await hello, "hello on sent port");
      const echo = nextOn(second.port1);
      second.port1.postMessage("pong");
      assert.equal(await echo, "sent port echo: pong");
      second.port1.close();
    });

    await t.step("one the worker sent back", async () => {
      assert.ok(own[0] instanceof MessagePort);
      own[0].postMessage("from main");
      assert.equal(await replied.next(), "own port got: from main");
      own[0].close();
    });

    await isolate.exited;
    replies.close();
  }),
);
