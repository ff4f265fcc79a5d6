import assert from "node:assert/strict";
import {
  Isolate,
  IsolatesError,
  IsolateSpawnError,
  RemoteError,
} from "../../mod.ts";
import type * as tasks from "./fixtures/tasks.ts";
import { fixture, guarded, mentions, sanitized } from "./_helpers.ts";

const TASKS = fixture("tasks.ts");

/** Checks a RemoteError of class `remoteName` that mentions `parts`. */
function remoteError(
  remoteName: string,
  ...parts: string[]
): (error: unknown) => true {
  return (error) => {
    assert.ok(error instanceof RemoteError, `not a RemoteError: ${error}`);
    assert.ok(error instanceof IsolatesError);
    assert.equal(error.code, "remote_error");
    assert.equal(error.remoteName, remoteName);
    mentions(error.message, ...parts);
    return true;
  };
}

Deno.test(
  "Isolate.run() returns what a function returns",
  sanitized,
  guarded(async (t) => {
    await t.step("a synchronous function", async () => {
      const sum = await Isolate.run(() => {
        let total = 0;
        for (let i = 1; i <= 100; i++) total += i;
        return total;
      });
      assert.equal(sum, 5050);
    });
    await t.step("an async function", async () => {
      const text = await Isolate.run(async () => {
        await Promise.resolve();
        return "done";
      });
      assert.equal(text, "done");
    });
    await t.step("a structured value", async () => {
      const value = await Isolate.run(() => ({
        map: new Map([["a", [1, 2]]]),
        bytes: new Uint8Array([1, 2, 3]),
        nothing: null,
      }));
      assert.deepEqual(value, {
        map: new Map([["a", [1, 2]]]),
        bytes: new Uint8Array([1, 2, 3]),
        nothing: null,
      });
    });
  }),
);

Deno.test(
  "Isolate.run() rejects with RemoteError carrying the worker's stack when the function throws",
  sanitized,
  guarded(async (t) => {
    // The function runs from its source text in the worker, so its frames
    // are the worker's evaluated code, below the isolate's worker module.
    const fromWorker = (error: unknown): true => {
      const remote = error as RemoteError;
      assert.ok(remote.remoteStack !== null, "no remote stack");
      mentions(remote.remoteStack, "computation failed", "_worker_main.ts");
      mentions(remote.stack ?? "", "from the remote isolate");
      return true;
    };
    await t.step("a synchronous throw", async () => {
      await assert.rejects(
        Isolate.run(() => {
          throw new Error("computation failed");
        }),
        (error) =>
          remoteError("Error", "computation failed")(error) &&
          fromWorker(error),
      );
    });
    await t.step("an async rejection", async () => {
      await assert.rejects(
        Isolate.run(async () => {
          await Promise.resolve();
          throw new Error("computation failed");
        }),
        (error) =>
          remoteError("Error", "computation failed")(error) &&
          fromWorker(error),
      );
    });
  }),
);

Deno.test(
  "Isolate.run() rejects with a RemoteError saying a function cannot capture variables",
  sanitized,
  guarded(async (t) => {
    const outside = 41;
    await t.step("a synchronous function", async () => {
      await assert.rejects(
        Isolate.run(() => outside + 1),
        remoteError(
          "ReferenceError",
          "outside",
          "cannot use variables",
          "enclosing scope",
        ),
      );
    });
    await t.step("an async function", async () => {
      await assert.rejects(
        Isolate.run(async () => {
          await Promise.resolve();
          return outside + 1;
        }),
        remoteError(
          "ReferenceError",
          "outside",
          "cannot use variables",
          "enclosing scope",
        ),
      );
    });
  }),
);

Deno.test(
  "Isolate.run() rejects a native or bound function with TypeError",
  sanitized,
  guarded(async () => {
    await assert.rejects(
      Isolate.run(Math.random),
      (error: unknown) => {
        assert.ok(error instanceof TypeError);
        mentions(error.message, "native or bound function");
        return true;
      },
    );
  }),
);

Deno.test(
  "Isolate.run() calls a module's export with typed arguments",
  sanitized,
  guarded(async (t) => {
    await t.step("a synchronous export", async () => {
      const sum: number = await Isolate.run<typeof tasks.add>(TASKS, "add", {
        args: [2, 3],
      });
      assert.equal(sum, 5);
    });
    await t.step("an async export, by URL string", async () => {
      const text: string = await Isolate.run<typeof tasks.joinLater>(
        TASKS.href,
        "joinLater",
        { args: [["a", "b", "c"], "-"], debugName: "joiner" },
      );
      assert.equal(text, "a-b-c");
    });
    await t.step("arguments are structured-cloned", async () => {
      const kind = await Isolate.run<typeof tasks.describe>(
        TASKS,
        "describe",
        { args: [new Map([[1, 2]])] },
      );
      assert.equal(kind, "[object Map]");
    });
    await t.step("arguments given as a list", async () => {
      const sum: number = await Isolate.run<typeof tasks.add>(
        TASKS,
        "add",
        [4, 5],
        { debugName: "adder" },
      );
      assert.equal(sum, 9);
    });
  }),
);

// Compile-time checks only: never called. The types come from the module.
function _typeChecks(): void {
  // @ts-expect-error: add takes numbers
  Isolate.run<typeof tasks.add>(TASKS, "add", { args: ["2", 3] });
  // @ts-expect-error: add takes numbers, in the list form too
  Isolate.run<typeof tasks.add>(TASKS, "add", ["2", 3]);
  // @ts-expect-error: add resolves to a number, not a string
  const _text: Promise<string> = Isolate.run<typeof tasks.add>(TASKS, "add", {
    args: [2, 3],
  });
}

Deno.test(
  "Isolate.run() rejects with RemoteError when a module's export throws",
  sanitized,
  guarded(async (t) => {
    await t.step("a synchronous throw", async () => {
      await assert.rejects(
        Isolate.run<typeof tasks.failNow>(TASKS, "failNow", {
          args: ["bad input"],
        }),
        (error) => {
          remoteError("TypeError", "bad input")(error);
          mentions((error as RemoteError).remoteStack ?? "", "tasks.ts");
          return true;
        },
      );
    });
    await t.step("an async rejection", async () => {
      await assert.rejects(
        Isolate.run<typeof tasks.failLater>(TASKS, "failLater", {
          args: ["too late"],
        }),
        (error) => {
          remoteError("RangeError", "too late")(error);
          mentions((error as RemoteError).remoteStack ?? "", "tasks.ts");
          return true;
        },
      );
    });
  }),
);

Deno.test(
  "Isolate.run() rejects with IsolateSpawnError when the module lacks the export",
  sanitized,
  guarded(async () => {
    await assert.rejects(
      Isolate.run(TASKS, "noSuchTask"),
      (error: unknown) => {
        assert.ok(error instanceof IsolateSpawnError);
        assert.equal(error.code, "isolate_spawn");
        mentions(error.message, '"noSuchTask"', "tasks.ts");
        return true;
      },
    );
  }),
);
