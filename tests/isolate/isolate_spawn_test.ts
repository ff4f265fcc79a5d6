import assert from "node:assert/strict";
import {
  Isolate,
  IsolatesError,
  IsolateSpawnError,
  ReceivePort,
  RemoteError,
  type SendPort,
} from "../../mod.ts";
import {
  collect,
  firstFrom,
  fixture,
  guarded,
  mentions,
  sanitized,
} from "./_helpers.ts";

const ENTRIES = fixture("entries.ts");

/** Checks an IsolateSpawnError whose message mentions every `parts`. */
function spawnError(...parts: string[]): (error: unknown) => true {
  return (error) => {
    assert.ok(error instanceof IsolateSpawnError, String(error));
    assert.ok(error instanceof IsolatesError);
    assert.equal(error.code, "isolate_spawn");
    assert.equal(error.name, "IsolateSpawnError");
    assert.match(error.message, /^Cannot start isolate /);
    mentions(error.message, ...parts);
    return true;
  };
}

/** A temporary directory, removed on dispose. */
async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "isolates_spawn_" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

Deno.test(
  "Isolate.spawn() calls the entry's default export with the message",
  sanitized,
  guarded(async () => {
    const port = new ReceivePort();
    const value = { list: [1, "two", null], map: new Map([["k", 3n]]) };
    const isolate = await Isolate.spawn(ENTRIES, {
      reply: port.sendPort,
      value,
    });
    assert.match(isolate.id, /^0\.\d+$/);
    assert.equal(isolate.debugName, isolate.id);
    assert.deepEqual(await firstFrom(port, isolate), {
      via: "default",
      value,
    });
    await isolate.exited;
  }),
);

Deno.test(
  "Isolate.spawn() calls the export named by exportName and uses debugName",
  sanitized,
  guarded(async () => {
    const port = new ReceivePort();
    const isolate = await Isolate.spawn(
      ENTRIES.href, // a URL string works as well as a URL
      { reply: port.sendPort, value: "hey" },
      { exportName: "shout", debugName: "shouter" },
    );
    assert.equal(isolate.debugName, "shouter");
    assert.deepEqual(await firstFrom(port, isolate), {
      via: "shout",
      value: "hey!",
    });
    await isolate.exited;
  }),
);

Deno.test(
  "Isolate.spawn() rejects with IsolateSpawnError when the entry has a syntax error",
  sanitized,
  guarded(async () => {
    await using dir = await tempDir();
    const path = `${dir.path}/broken_entry.ts`;
    await Deno.writeTextFile(
      path,
      "export default function entry( {\n  return 1;\n}\n",
    );
    await assert.rejects(
      Isolate.spawn(path, null, { debugName: "broken" }),
      spawnError('"broken"', "could not load its entry", "broken_entry.ts"),
    );
  }),
);

Deno.test(
  "Isolate.spawn() rejects with IsolateSpawnError when the entry module does not exist",
  sanitized,
  guarded(async () => {
    await using dir = await tempDir();
    const missing = new URL(`file://${dir.path}/no_such_entry.ts`);
    await assert.rejects(
      Isolate.spawn(missing, null),
      spawnError("could not load its entry", "no_such_entry.ts"),
    );
  }),
);

Deno.test(
  "Isolate.spawn() rejects with IsolateSpawnError when the module lacks the export",
  sanitized,
  guarded(async (t) => {
    await t.step("an export that does not exist", async () => {
      await assert.rejects(
        Isolate.spawn(ENTRIES, null, { exportName: "noSuchExport" }),
        spawnError(
          '"noSuchExport"',
          "entries.ts",
          // The message lists what the module does export.
          "shout",
        ),
      );
    });
    await t.step("an export that is not a function", async () => {
      await assert.rejects(
        Isolate.spawn(ENTRIES, null, { exportName: "notAFunction" }),
        spawnError('"notAFunction"'),
      );
    });
  }),
);

Deno.test(
  "Isolate.spawn() rejects with IsolateSpawnError when the entry throws when called",
  sanitized,
  guarded(async () => {
    await assert.rejects(
      Isolate.spawn(ENTRIES, null, {
        exportName: "throwsOnCall",
        debugName: "refuser",
      }),
      (error: unknown) => {
        spawnError('"refuser"', "RangeError", "entry refused its message")(
          error,
        );
        const cause = (error as Error).cause;
        assert.ok(cause instanceof RemoteError);
        assert.equal(cause.remoteName, "RangeError");
        mentions(cause.remoteStack ?? "", "entries.ts");
        return true;
      },
    );
  }),
);

Deno.test(
  "Isolate.spawn() sends an uncaught error after start to an onError callback as a RemoteError",
  sanitized,
  guarded(async () => {
    const port = new ReceivePort();
    const errors: RemoteError[] = [];
    const reported = Promise.withResolvers<void>();
    const ended = Promise.withResolvers<void>();
    const isolate = await Isolate.spawn(ENTRIES, port.sendPort, {
      exportName: "failsLater",
      onError: (error) => {
        errors.push(error);
        reported.resolve();
      },
      onExit: () => ended.resolve(),
    });
    port.close();
    await reported.promise;
    assert.equal(errors.length, 1);
    const [error] = errors;
    assert.ok(error instanceof RemoteError);
    assert.equal(error.code, "remote_error");
    assert.equal(error.remoteName, "Error");
    mentions(error.message, "async failure after start");
    mentions(error.remoteStack ?? "", "failsLater", "entries.ts");
    // errorsAreFatal defaults to true: the error ends the isolate.
    await ended.promise;
    await isolate.exited;
  }),
);

Deno.test(
  "Isolate.spawn() sends an uncaught error to an onError SendPort as [message, stack]",
  sanitized,
  guarded(async () => {
    const port = new ReceivePort();
    const errors = new ReceivePort("errors");
    const isolate = await Isolate.spawn(ENTRIES, port.sendPort, {
      exportName: "failsLater",
      onError: errors.sendPort,
    });
    port.close();
    const report = await firstFrom(errors, isolate);
    assert.ok(Array.isArray(report), `not a list: ${String(report)}`);
    assert.equal(report.length, 2);
    assert.equal(report[0], "Error: async failure after start");
    assert.equal(typeof report[1], "string");
    mentions(report[1], "failsLater", "entries.ts");
    await isolate.exited;
  }),
);

Deno.test(
  "Isolate.spawn() with errorsAreFatal: false keeps the isolate running after uncaught errors",
  sanitized,
  guarded(async (t) => {
    const replies = new ReceivePort("replies");
    const { next } = collect(replies);
    const errors: RemoteError[] = [];
    let errorSeen = Promise.withResolvers<void>();
    const isolate = await Isolate.spawn(ENTRIES, replies.sendPort, {
      exportName: "failsOnCommand",
      errorsAreFatal: false,
      onError: (error) => {
        errors.push(error);
        errorSeen.resolve();
      },
    });
    const commands = await next() as SendPort;

    await t.step("an error thrown in a port listener", async () => {
      commands.send("throw");
      await errorSeen.promise;
      mentions(errors[0].message, "thrown in a port listener");
      commands.send("ping");
      assert.equal(await next(), "pong");
    });

    await t.step("an unhandled promise rejection", async () => {
      errorSeen = Promise.withResolvers();
      commands.send("reject");
      await errorSeen.promise;
      mentions(errors[1].message, "rejection nobody handled");
      commands.send("ping");
      assert.equal(await next(), "pong");
    });

    await t.step("it still ends by itself when its port closes", async () => {
      commands.send("close");
      await isolate.exited;
      assert.equal(errors.length, 2);
    });
    replies.close();
  }),
);

Deno.test(
  "Isolate.spawn() with errorsAreFatal: false keeps running after its entry's promise rejects",
  sanitized,
  guarded(async () => {
    const replies = new ReceivePort("replies");
    const errorSeen = Promise.withResolvers<RemoteError>();
    const isolate = await Isolate.spawn(ENTRIES, replies.sendPort, {
      exportName: "failsLater",
      errorsAreFatal: false,
      onError: errorSeen.resolve,
    });
    const iterator = replies[Symbol.asyncIterator]();
    const commands = (await iterator.next()).value as SendPort;
    mentions((await errorSeen.promise).message, "async failure after start");
    commands.send("ping");
    assert.deepEqual(await iterator.next(), { value: "pong", done: false });
    commands.send("close");
    await isolate.exited;
    replies.close();
  }),
);

Deno.test(
  "Isolate.spawn() ends the isolate on an uncaught error in a listener by default",
  sanitized,
  guarded(async () => {
    const replies = new ReceivePort("replies");
    const errorSeen = Promise.withResolvers<RemoteError>();
    const isolate = await Isolate.spawn(ENTRIES, replies.sendPort, {
      exportName: "failsOnCommand",
      onError: errorSeen.resolve,
    });
    const commands = await firstFrom<SendPort>(replies, isolate);
    commands.send("throw");
    mentions((await errorSeen.promise).message, "thrown in a port listener");
    await isolate.exited;
  }),
);

Deno.test(
  "Isolate.spawn() prints an uncaught error when nobody listens for errors",
  sanitized,
  guarded(async () => {
    const printed = Promise.withResolvers<string>();
    const original = console.error;
    console.error = (...args: unknown[]) => printed.resolve(args.join(" "));
    try {
      const port = new ReceivePort();
      const isolate = await Isolate.spawn(ENTRIES, port.sendPort, {
        exportName: "failsLater",
        debugName: "unwatched",
      });
      port.close();
      mentions(await printed.promise, '"unwatched"', "async failure");
      await isolate.exited;
    } finally {
      console.error = original;
    }
  }),
);

Deno.test(
  "Isolate.spawn() tells onExit listeners when the isolate ends",
  sanitized,
  guarded(async (t) => {
    await t.step("a callback", async () => {
      const called = Promise.withResolvers<void>();
      const isolate = await Isolate.spawn(ENTRIES, null, {
        exportName: "returnsAtOnce",
        onExit: () => called.resolve(),
      });
      await called.promise;
      await isolate.exited;
    });

    await t.step("a SendPort receives onExitMessage", async () => {
      const exits = new ReceivePort("exits");
      const isolate = await Isolate.spawn(ENTRIES, null, {
        exportName: "returnsAtOnce",
        onExit: exits.sendPort,
        onExitMessage: { bye: [1, 2] },
      });
      assert.deepEqual(
        await exits.first,
        { bye: [1, 2] },
      );
      await isolate.exited;
    });

    await t.step("a SendPort without onExitMessage receives null", async () => {
      const exits = new ReceivePort("exits");
      const isolate = await Isolate.spawn(ENTRIES, null, {
        exportName: "returnsAtOnce",
        onExit: exits.sendPort,
      });
      assert.equal(await exits.first, null);
      await isolate.exited;
    });

    await t.step("addOnExitListener() and addErrorListener()", async () => {
      const replies = new ReceivePort("replies");
      const isolate = await Isolate.spawn(ENTRIES, replies.sendPort, {
        exportName: "failsOnCommand",
      });
      const commands = await firstFrom<SendPort>(replies, isolate);
      const exits = new ReceivePort("exits");
      const errors = new ReceivePort("errors");
      isolate.addOnExitListener(exits.sendPort, { response: "gone" });
      isolate.addErrorListener(errors.sendPort);
      commands.send("throw");
      const [message] = await errors.first as [string, string];
      assert.equal(message, "Error: thrown in a port listener");
      assert.equal(await exits.first, "gone");
      await isolate.exited;
    });
  }),
);

Deno.test(
  "Isolate.kill() ends an isolate that holds a port; exited resolves",
  sanitized,
  guarded(async () => {
    const replies = new ReceivePort("replies");
    const exits = new ReceivePort("exits");
    const isolate = await Isolate.spawn(ENTRIES, replies.sendPort, {
      exportName: "holdsPort",
      onExit: exits.sendPort,
      onExitMessage: "killed",
    });
    const commands = await firstFrom<SendPort>(replies, isolate);
    isolate.kill();
    isolate.kill(); // idempotent
    await isolate.exited;
    assert.equal(await exits.first, "killed");
    // Sending to a port of a dead isolate drops the message, as in Dart.
    commands.send("ping");
  }),
);
