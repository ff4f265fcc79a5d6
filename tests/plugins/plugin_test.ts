// The Plugin API (issue 6): one plugin module serves the main thread, plain
// workers (where `worker` and thread-safe `auto` methods run locally) and
// sandboxed workers (which proxy what they lack the permissions for), with
// the same results and errors everywhere; placements, contexts and traces.
import assert from "node:assert/strict";
import {
  type ExitReason,
  Isolate,
  MissingPluginException,
  PlatformException,
  Plugin,
  type PluginCallTrace,
  type PluginMethods,
  ReceivePort,
} from "../../mod.ts";
import type { Outcome } from "../isolate/fixtures/_report.ts";
import { outcome } from "../isolate/fixtures/_report.ts";
import {
  ask,
  errorOf,
  firstFrom,
  guarded,
  rootToken,
  SANDBOX,
  sanitized,
} from "../isolate/_helpers.ts";
import {
  AFFINITIES,
  type CaseName,
  METHOD_NAMES,
  type PluginName,
  plugins,
  requiresAsked,
  runCase,
} from "./fixtures/plugin_test_plugins.ts";
import type {
  PluginWorkerCommand,
  PluginWorkerInit,
  PluginWorkerReady,
  TraceReport,
} from "./fixtures/plugin_worker.ts";

/**
 * How the workers are started: `plain` inherits every permission and
 * connects with the root token; `sandboxed` connects but has no permission;
 * `uninitialized` inherits every permission but never connects.
 */
type WorkerKind = "plain" | "sandboxed" | "uninitialized";

interface PluginWorker extends AsyncDisposable {
  id: string;
  isolate: Isolate;
  ask<T = Outcome>(
    command: Exclude<PluginWorkerCommand, { op: "close" }>,
  ): Promise<T>;
}

/** Spawns `fixtures/plugin_worker.ts` and waits for its ready report. */
async function spawnPluginWorker(kind: WorkerKind): Promise<PluginWorker> {
  const ready = new ReceivePort("plugin worker ready");
  const previous = Deno.env.get("ISOLATES_WORKER_OPTIONS");
  if (kind === "sandboxed") Deno.env.set("ISOLATES_WORKER_OPTIONS", "1");
  let isolate: Isolate;
  try {
    isolate = await Isolate.spawn(
      new URL("./fixtures/plugin_worker.ts", import.meta.url),
      {
        token: kind === "uninitialized" ? null : rootToken(),
        ready: ready.sendPort,
      } satisfies PluginWorkerInit,
      {
        debugName: `plugin worker (${kind})`,
        permissions: kind === "sandboxed" ? SANDBOX : "inherit",
      },
    );
  } catch (error) {
    ready.close();
    throw error;
  } finally {
    if (previous === undefined) Deno.env.delete("ISOLATES_WORKER_OPTIONS");
    else Deno.env.set("ISOLATES_WORKER_OPTIONS", previous);
  }
  const { id, commands } = await firstFrom<PluginWorkerReady>(ready, isolate);
  return {
    id,
    isolate,
    ask: (command) => ask(isolate, commands, command),
    async [Symbol.asyncDispose](): Promise<void> {
      commands.send({ op: "close" } satisfies PluginWorkerCommand);
      const reason: ExitReason = await isolate.exited;
      assert.deepEqual(reason, { kind: "normal" });
    },
  };
}

/** What a case gives, wherever it runs (see `CASES` in the fixture). */
const EXPECTED_RESULTS: Partial<Record<CaseName, unknown>> = {
  maps: new Map<unknown, unknown>([
    [1, "int key"],
    ["nested", new Map([["list", [1, "two", null, true]]])],
    [-1.5, "double key"],
    // A plain object travels as a map.
    [null, new Map([["plain", "object"]])],
  ]),
  bigints: [
    2n ** 62n,
    -(2n ** 63n),
    2n ** 63n - 1n,
    5, // a safe integer decodes as a number
    Number.MAX_SAFE_INTEGER,
    -(2 ** 31),
    2 ** 31,
  ],
  bytes: [
    new Uint8Array([0, 1, 127, 128, 255]),
    new Uint8Array(0),
    new Float64Array([1.5, -0]),
    new Int32Array([-1, 2 ** 31 - 1]),
  ],
  doubles: [3, -0, 2 ** 60, 1.5, NaN, -Infinity],
  doubleVersusInt: [2 ** 62, 2n ** 62n],
  doublesResult: [3, -0, 1.5],
  // What the implementation received: the codec ran, even for a local call
  // (a Double arrives as a number, a plain object as a Map, a small bigint
  // as a number, undefined as null).
  received: [
    "number",
    "number",
    "number",
    "bigint",
    "Uint8Array",
    "Map",
    "Map",
    "null",
    "Array",
    "string",
    "boolean",
  ],
  half: 10.5,
};

const VALUE_CASES: CaseName[] = [
  "maps",
  "bigints",
  "bytes",
  "doubles",
  "doubleVersusInt",
  "doublesResult",
  "received",
  "half",
];

const ERROR_CASES: CaseName[] = [
  "platformError",
  "asyncPlatformError",
  "plainError",
  "unencodable",
  "badArgs",
  "unknownMethod",
];

/** The context `run` should see. */
function contextOf(
  plugin: PluginName,
  method: string,
  isolate: string,
  caller: string,
  placement: "local" | "proxied",
): Map<string, string> {
  return new Map(Object.entries({
    plugin: plugins[plugin].channel,
    method,
    isolate,
    caller,
    placement,
  }));
}

Deno.test({
  name:
    "Plugin.invoke() gives the same values on the main thread, in a worker (local) and in a sandboxed worker (proxied)",
  ...sanitized,
  fn: guarded(async (t) => {
    await using worker = await spawnPluginWorker("plain");
    await using sandbox = await spawnPluginWorker("sandboxed");
    const echo = plugins.worker;
    await t.step("placements of the calls compared", async () => {
      assert.equal(echo.placement("echo"), "local");
      const inWorker = await worker.ask<Record<string, string>>({
        op: "placements",
        plugin: "worker",
      });
      assert.equal(inWorker.echo, "local");
      const inSandbox = await sandbox.ask<Record<string, string>>({
        op: "placements",
        plugin: "worker",
      });
      assert.equal(inSandbox.echo, "proxied");
    });
    for (const name of VALUE_CASES) {
      await t.step(name, async () => {
        const onMain = await outcome(() => runCase(echo, name));
        assert.deepEqual(onMain, { ok: EXPECTED_RESULTS[name] });
        assert.deepEqual(
          await worker.ask({ op: "case", plugin: "worker", name }),
          onMain,
          "in a worker (local)",
        );
        assert.deepEqual(
          await sandbox.ask({ op: "case", plugin: "worker", name }),
          onMain,
          "in a sandboxed worker (proxied)",
        );
        // A `main` plugin, proxied from a plain worker, answers the same.
        assert.deepEqual(
          await worker.ask({ op: "case", plugin: "main", name }),
          onMain,
          "proxied from a plain worker",
        );
      });
    }
  }),
});

/** The error `p` rejects with (failing the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  return await p.then(
    (value) => assert.fail(`expected a rejection, got ${String(value)}`),
    (error: unknown) => error,
  );
}

Deno.test({
  name:
    "Plugin.invoke() rejects with the same PlatformException or MissingPluginException on the main thread, in a worker (local) and in a sandboxed worker (proxied)",
  ...sanitized,
  fn: guarded(async (t) => {
    await using worker = await spawnPluginWorker("plain");
    await using sandbox = await spawnPluginWorker("sandboxed");
    const plugin = plugins.worker;

    await t.step(
      "a PlatformException keeps its code, message and details",
      async () => {
        await assert.rejects(plugin.invoke("platformError"), PlatformException);
        const error = await rejection(plugin.invoke("platformError"));
        assert.ok(error instanceof PlatformException);
        assert.equal(error.code, "E_TEST");
        assert.equal(error.message, "the test plugin failed");
        assert.deepEqual(
          error.details,
          new Map<unknown, unknown>([
            ["attempt", 3],
            ["big", 2n ** 62n],
            ["bytes", new Uint8Array([1, 2, 3])],
          ]),
        );
        const later = await rejection(plugin.invoke("asyncPlatformError"));
        assert.ok(later instanceof PlatformException);
        assert.equal(later.code, "E_ASYNC");
        assert.equal(later.message, null);
        assert.deepEqual(later.details, ["later", 1.5]);
      },
    );

    await t.step(
      "a plain Error arrives as PlatformException code error",
      async () => {
        await assert.rejects(plugin.invoke("plainError"), PlatformException);
        const error = await rejection(plugin.invoke("plainError"));
        assert.ok(error instanceof PlatformException);
        assert.equal(error.code, "error");
        assert.equal(error.message, "Error: plain failure");
        assert.equal(error.details, null);
      },
    );

    await t.step(
      "an unencodable result arrives as PlatformException code error",
      async () => {
        await assert.rejects(plugin.invoke("unencodable"), PlatformException);
        const error = await rejection(plugin.invoke("unencodable"));
        assert.ok(error instanceof PlatformException);
        assert.equal(error.code, "error");
        assert.match(error.message ?? "", /^UnsupportedValueError/);
      },
    );

    await t.step("an unknown method is a MissingPluginException", async () => {
      for (const name of ["worker", "main", "auto"] as const) {
        await assert.rejects(
          plugins[name].invoke("noSuchMethod" as never),
          MissingPluginException,
        );
        const error = await rejection(
          plugins[name].invoke("noSuchMethod" as never),
        );
        assert.ok(error instanceof MissingPluginException);
        assert.match(error.message ?? "", /noSuchMethod/);
        assert.match(error.message ?? "", new RegExp(plugins[name].channel));
      }
    });

    for (const name of ERROR_CASES) {
      await t.step(`${name}: the same in every isolate`, async () => {
        const onMain = await outcome(() => runCase(plugins.worker, name));
        assert.deepEqual(
          errorOf(onMain).classes,
          name === "unknownMethod"
            ? ["MissingPluginException"]
            : ["PlatformException"],
        );
        assert.deepEqual(
          await worker.ask({ op: "case", plugin: "worker", name }),
          onMain,
          "in a worker (local)",
        );
        assert.deepEqual(
          await sandbox.ask({ op: "case", plugin: "worker", name }),
          onMain,
          "in a sandboxed worker (proxied)",
        );
        // A `main` plugin, proxied from a plain worker, fails the same (an
        // unknown method names the plugin's own channel).
        assert.deepEqual(
          await worker.ask({ op: "case", plugin: "main", name }),
          await outcome(() => runCase(plugins.main, name)),
          "proxied from a plain worker",
        );
      });
    }
  }),
});

Deno.test({
  name:
    "Plugin.invoke() with malformed arguments rejects with the method's PlatformException code, and the plugin keeps serving",
  ...sanitized,
  fn: guarded(async () => {
    await using worker = await spawnPluginWorker("plain");
    await using sandbox = await spawnPluginWorker("sandboxed");
    await assert.rejects(
      plugins.worker.invoke("half", "x" as never),
      PlatformException,
    );
    const error = await rejection(plugins.worker.invoke("half", "x" as never));
    assert.ok(error instanceof PlatformException);
    assert.equal(error.code, "bad_args");
    assert.equal(error.details, "string");
    const cases: [PluginWorker, PluginName][] = [
      [worker, "worker"], // local
      [worker, "main"], // proxied
      [worker, "auto"], // local
      [sandbox, "worker"], // proxied: no read permission
    ];
    for (const [from, plugin] of cases) {
      const report = errorOf(
        await from.ask({ op: "case", plugin, name: "badArgs" }),
      );
      assert.deepEqual(report.classes, ["PlatformException"]);
      assert.equal(report.code, "bad_args");
      assert.equal(report.message, error.message);
      assert.equal(report.details, "string");
      assert.deepEqual(
        await from.ask({ op: "case", plugin, name: "half" }),
        { ok: 10.5 },
      );
    }
    assert.equal(await plugins.worker.invoke("half", 3), 1.5);
  }),
});

Deno.test({
  name:
    "Plugin.placement() follows the affinity: worker runs locally, main is proxied, auto runs threadSafe methods locally, and missing permissions proxy",
  ...sanitized,
  fn: guarded(async (t) => {
    const all = (placement: string): Record<string, string> =>
      Object.fromEntries(METHOD_NAMES.map((method) => [method, placement]));

    await t.step("on the main thread every call is local", () => {
      for (const name of ["worker", "main", "auto"] as const) {
        assert.equal(plugins[name].affinity, AFFINITIES[name]);
        for (const method of METHOD_NAMES) {
          assert.equal(plugins[name].placement(method), "local");
        }
      }
      // No permission is asked about on the main thread.
      assert.equal(requiresAsked.count, 0);
    });

    await t.step("in a plain worker", async () => {
      await using worker = await spawnPluginWorker("plain");
      assert.deepEqual(
        await worker.ask({ op: "placements", plugin: "worker" }),
        all("local"),
      );
      assert.deepEqual(
        await worker.ask({ op: "placements", plugin: "main" }),
        all("proxied"),
      );
      assert.deepEqual(
        await worker.ask({ op: "placements", plugin: "auto" }),
        { ...all("local"), unsafeContext: "proxied" },
      );
      // The auto plugin's `requires` function was asked (and its answer
      // kept: placing the methods again asks nothing more).
      const asked = await worker.ask<number>({ op: "requiresAsked" });
      assert.ok(asked > 0, "the requires function was asked");
      await worker.ask({ op: "placements", plugin: "auto" });
      assert.equal(await worker.ask<number>({ op: "requiresAsked" }), asked);
    });

    await t.step("in a sandboxed worker (no read, no env)", async () => {
      await using sandbox = await spawnPluginWorker("sandboxed");
      // `freeContext` requires nothing: it runs locally even in a sandbox.
      assert.deepEqual(
        await sandbox.ask({ op: "placements", plugin: "worker" }),
        { ...all("proxied"), freeContext: "local" },
      );
      assert.deepEqual(
        await sandbox.ask({ op: "placements", plugin: "main" }),
        all("proxied"),
      );
      assert.deepEqual(
        await sandbox.ask({ op: "placements", plugin: "auto" }),
        { ...all("proxied"), freeContext: "local" },
      );
    });
  }),
});

Deno.test({
  name:
    "Plugin passes run the context of the call: the isolate running it, the caller and the placement",
  ...sanitized,
  fn: guarded(async (t) => {
    await using worker = await spawnPluginWorker("plain");
    await using sandbox = await spawnPluginWorker("sandboxed");
    type ContextMethod = "context" | "unsafeContext" | "freeContext";

    await t.step("on the main thread", async () => {
      for (const name of ["worker", "main", "auto"] as const) {
        for (
          const method of ["context", "unsafeContext", "freeContext"] as const
        ) {
          assert.deepEqual(
            await plugins[name].invoke(method),
            contextOf(name, method, "0", "0", "local"),
          );
        }
      }
    });

    const expectations: [
      "worker" | "sandbox",
      PluginName,
      ContextMethod,
      "local" | "proxied",
    ][] = [
      ["worker", "worker", "context", "local"],
      ["worker", "worker", "unsafeContext", "local"],
      ["worker", "main", "context", "proxied"],
      ["worker", "main", "freeContext", "proxied"],
      ["worker", "auto", "context", "local"],
      ["worker", "auto", "unsafeContext", "proxied"],
      ["sandbox", "worker", "context", "proxied"],
      ["sandbox", "worker", "freeContext", "local"],
      ["sandbox", "main", "freeContext", "proxied"],
      ["sandbox", "auto", "context", "proxied"],
      ["sandbox", "auto", "unsafeContext", "proxied"],
      ["sandbox", "auto", "freeContext", "local"],
    ];
    for (const [where, plugin, method, placement] of expectations) {
      await t.step(
        `${plugin} ${method} from a ${where}: ${placement}`,
        async () => {
          const from = where === "worker" ? worker : sandbox;
          assert.deepEqual(
            await from.ask({ op: "case", plugin, name: method }),
            {
              ok: contextOf(
                plugin,
                method,
                placement === "local" ? from.id : "0",
                from.id,
                placement,
              ),
            },
          );
        },
      );
    }
  }),
});

Deno.test({
  name:
    "Plugin.addCallListener() traces each call in the caller, and proxied calls again on the main thread as served",
  ...sanitized,
  fn: guarded(async (t) => {
    const onMain: TraceReport[] = [];
    const stop = Plugin.addCallListener(
      ({ duration, ...trace }: PluginCallTrace) => {
        if (!trace.plugin.startsWith("test.isolates/plugin/")) return;
        assert.ok(duration >= 0, `duration ${duration}`);
        onMain.push(trace);
      },
    );
    try {
      await using worker = await spawnPluginWorker("plain");
      const trace = (
        plugin: PluginName,
        method: string,
        isolate: string,
        placement: "local" | "proxied",
        served: boolean,
        ok: boolean,
      ): TraceReport => ({
        plugin: plugins[plugin].channel,
        method,
        isolate,
        placement,
        served,
        ok,
      });

      await t.step(
        "a call on the main thread is traced once, locally",
        async () => {
          await plugins.auto.invoke("echo", 1);
          await assert.rejects(
            plugins.auto.invoke("platformError"),
            PlatformException,
          );
          assert.deepEqual(onMain.splice(0), [
            trace("auto", "echo", "0", "local", false, true),
            trace("auto", "platformError", "0", "local", false, false),
          ]);
        },
      );

      await t.step("calls from a worker", async () => {
        const calls: [PluginName, CaseName][] = [
          ["auto", "context"], // local
          ["auto", "unsafeContext"], // proxied
          ["worker", "platformError"], // local, fails
          ["main", "platformError"], // proxied, fails
          ["main", "half"], // proxied
        ];
        for (const [plugin, name] of calls) {
          await worker.ask({ op: "case", plugin, name });
        }
        const id = worker.id;
        assert.deepEqual(await worker.ask({ op: "traces" }), {
          traces: [
            trace("auto", "context", id, "local", false, true),
            trace("auto", "unsafeContext", id, "proxied", false, true),
            trace("worker", "platformError", id, "local", false, false),
            trace("main", "platformError", id, "proxied", false, false),
            trace("main", "half", id, "proxied", false, true),
          ],
          badDurations: [],
        });
        // The main thread traced the calls it served, for the caller.
        assert.deepEqual(onMain.splice(0), [
          trace("auto", "unsafeContext", id, "proxied", true, true),
          trace("main", "platformError", id, "proxied", true, false),
          trace("main", "half", id, "proxied", true, true),
        ]);
      });

      await t.step("a removed listener sees no more calls", async () => {
        stop();
        await plugins.auto.invoke("echo", 1);
        await worker.ask({ op: "case", plugin: "main", name: "half" });
        assert.deepEqual(onMain, []);
      });
    } finally {
      stop();
    }
  }),
});

Deno.test({
  name:
    "Plugin.invoke() in a worker that never called ensureInitialized rejects with MissingPluginException, even for a local method",
  ...sanitized,
  fn: guarded(async (t) => {
    await using worker = await spawnPluginWorker("uninitialized");
    await t.step(
      "the worker plugin's methods are still placed locally",
      async () => {
        assert.deepEqual(
          await worker.ask({ op: "placements", plugin: "worker" }),
          Object.fromEntries(METHOD_NAMES.map((method) => [method, "local"])),
        );
      },
    );
    const calls: [PluginName, CaseName][] = [
      ["worker", "context"], // local
      ["auto", "freeContext"], // local
      ["main", "context"], // proxied
    ];
    for (const [plugin, name] of calls) {
      await t.step(`${plugin} ${name}`, async () => {
        const error = errorOf(await worker.ask({ op: "case", plugin, name }));
        assert.deepEqual(error.classes, ["MissingPluginException"]);
        assert.match(error.message, new RegExp(plugins[plugin].channel));
        assert.match(error.message, new RegExp(`\\b${name}\\b`));
        assert.match(
          error.message,
          /BackgroundIsolateBinaryMessenger\.ensureInitialized/,
        );
      });
    }
  }),
});

Deno.test({
  name:
    "Plugin.dispose() on the main thread makes workers' proxied calls fail with MissingPluginException",
  ...sanitized,
  fn: guarded(async (t) => {
    await using worker = await spawnPluginWorker("plain");
    const plugin = plugins.disposable;
    await t.step("before", async () => {
      assert.deepEqual(
        await worker.ask({
          op: "case",
          plugin: "disposable",
          name: "unsafeContext",
        }),
        {
          ok: contextOf(
            "disposable",
            "unsafeContext",
            "0",
            worker.id,
            "proxied",
          ),
        },
      );
      assert.equal(await plugin.invoke("half", 2), 1);
    });
    plugin.dispose();
    await t.step("after: proxied calls are missing", async () => {
      const error = errorOf(
        await worker.ask({
          op: "case",
          plugin: "disposable",
          name: "unsafeContext",
        }),
      );
      assert.deepEqual(error.classes, ["MissingPluginException"]);
      assert.match(error.message, /unsafeContext/);
      assert.match(error.message, new RegExp(plugin.channel));
    });
    await t.step("after: the main thread's own calls are missing", async () => {
      await assert.rejects(plugin.invoke("half", 2), MissingPluginException);
    });
    await t.step("after: the worker's own side still serves it", async () => {
      // Disposal is per isolate: the worker's side of the plugin is its own.
      assert.deepEqual(
        await worker.ask({ op: "case", plugin: "disposable", name: "context" }),
        {
          ok: contextOf("disposable", "context", worker.id, worker.id, "local"),
        },
      );
    });
  }),
});

Deno.test("Plugin.invoke() is checked by the compiler against the method map", async () => {
  const plugin = plugins.worker;
  await assert.rejects(
    // @ts-expect-error: "nope" is not a method of the plugin
    plugin.invoke("nope"),
    MissingPluginException,
  );
  // @ts-expect-error: half takes a number
  const wrongType = plugin.invoke("half", "two");
  await assert.rejects(wrongType, PlatformException);
  const error = await rejection(plugin.invoke("half", "two" as never));
  assert.equal((error as PlatformException).code, "bad_args");
  // @ts-expect-error: half needs its argument
  await assert.rejects(plugin.invoke("half"), PlatformException);
  // @ts-expect-error: half's result is a number
  const text: string = await plugin.invoke("half", 4);
  assert.equal(text, 2);
  // @ts-expect-error: placement() knows the method names too
  assert.equal(plugin.placement("nope"), "local");
  const methods: PluginMethods<{ one: { args: null; result: number } }> = {
    // @ts-expect-error: the implementation must return the declared result
    one: { run: () => "not a number" },
  };
  assert.equal(typeof methods.one.run, "function");
});

Deno.test("Plugin constructor rejects an unknown affinity with RangeError naming it", () => {
  assert.throws(
    () =>
      new Plugin({
        channel: "test.isolates/plugin/never",
        affinity: "everywhere" as never,
        methods: {},
      }),
    RangeError,
  );
  assert.throws(
    () =>
      new Plugin({
        channel: "test.isolates/plugin/never",
        affinity: "everywhere" as never,
        methods: {},
      }),
    /"affinity" must be "worker", "main" or "auto", got "everywhere"/,
  );
});
