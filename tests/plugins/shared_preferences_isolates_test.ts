// SharedPreferences across isolates and processes (issue 6): change events
// fanned out by the main thread, concurrent writers in several isolates,
// durability of acknowledged writes when the writing process is killed,
// malformed raw calls, and a sandboxed worker storing through the main
// thread.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  Isolate,
  MethodChannel,
  PlatformException,
  Plugin,
  type PluginCallTrace,
  type PreferenceChange,
  ReceivePort,
  SharedPreferences,
} from "../../mod.ts";
import type { Outcome } from "../isolate/fixtures/_report.ts";
import {
  ask,
  collect,
  errorOf,
  firstFrom,
  guarded,
  mainHandler,
  rootToken,
  SANDBOX,
  sanitized,
} from "../isolate/_helpers.ts";
import {
  type PrefsWorkerCommand,
  type PrefsWorkerInit,
  type PrefsWorkerReady,
  probe,
} from "./fixtures/prefs_worker.ts";
import { freshPreferences } from "./_prefs.ts";

const CHANNEL = "plugins.flutter.io/shared_preferences";

interface PrefsWorker extends AsyncDisposable {
  id: string;
  isolate: Isolate;
  ask<T = Outcome>(
    command: Exclude<PrefsWorkerCommand, { op: "close" }>,
  ): Promise<T>;
}

/** Spawns `fixtures/prefs_worker.ts` (connected) and waits until it is ready. */
async function spawnPrefsWorker(
  kind: "plain" | "sandboxed" = "plain",
): Promise<PrefsWorker> {
  const ready = new ReceivePort("prefs worker ready");
  const previous = Deno.env.get("ISOLATES_WORKER_OPTIONS");
  if (kind === "sandboxed") Deno.env.set("ISOLATES_WORKER_OPTIONS", "1");
  let isolate: Isolate;
  try {
    isolate = await Isolate.spawn(
      new URL("./fixtures/prefs_worker.ts", import.meta.url),
      { token: rootToken(), ready: ready.sendPort } satisfies PrefsWorkerInit,
      {
        debugName: `prefs worker (${kind})`,
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
  const { id, commands } = await firstFrom<PrefsWorkerReady>(ready, isolate);
  return {
    id,
    isolate,
    ask: (command) => ask(isolate, commands, command),
    async [Symbol.asyncDispose](): Promise<void> {
      commands.send({ op: "close" } satisfies PrefsWorkerCommand);
      assert.deepEqual(await isolate.exited, { kind: "normal" });
    },
  };
}

/**
 * A live subscription on the main thread: `prefs.onChange()`, once the main
 * thread's side of it is registered.
 *
 * The stream's `listen` call is dispatched by the root messenger on a later
 * turn (setImmediate), while a main-thread write announces its change
 * within microtasks, so a probe written right away would be missed (see the
 * test "...reports a change the main thread makes right after subscribing").
 * A call through the root messenger is dispatched after the `listen` call:
 * once it is answered, a probe change comes back.
 */
async function mainSubscription(
  prefs: SharedPreferences,
): Promise<ReadableStreamDefaultReader<PreferenceChange>> {
  using turn = mainHandler("test/prefs/turn", () => null);
  const reader = prefs.onChange().getReader();
  await new MethodChannel(turn.channel).invokeMethod("after listen");
  await probe(prefs, reader);
  return reader;
}

/** The error `p` rejects with (failing the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  return await p.then(
    (value) => assert.fail(`expected a rejection, got ${String(value)}`),
    (error: unknown) => error,
  );
}

Deno.test({
  name:
    "SharedPreferences.onChange() on the main thread reports a worker's write with the worker's id, and reload() shows the value",
  ...sanitized,
  fn: guarded(async () => {
    await using fresh = await freshPreferences();
    const { prefs } = fresh;
    const changes = await mainSubscription(prefs);
    await using worker = await spawnPrefsWorker();
    assert.deepEqual(
      await worker.ask({ op: "setInts", entries: [["from the worker", 41]] }),
      { ok: 1 },
    );
    assert.deepEqual(await changes.read(), {
      done: false,
      value: { key: "from the worker", isolate: worker.id },
    });
    // The event says what changed; the cache is refreshed by reload().
    assert.equal(prefs.containsKey("from the worker"), false);
    await prefs.reload();
    assert.equal(prefs.getInt("from the worker"), 41);
    await changes.cancel();
    assert.deepEqual(await changes.read(), { done: true, value: undefined });
  }),
});

Deno.test({
  name:
    "SharedPreferences.onChange() on the main thread reports a change the main thread makes right after subscribing",
  ...sanitized,
  fn: guarded(async () => {
    await using fresh = await freshPreferences();
    const { prefs } = fresh;
    using turn = mainHandler("test/prefs/turn", () => null);
    const changes = prefs.onChange().getReader();
    try {
      // onChange(): "A stream of the changes made from now on, by any
      // isolate (including this one)".
      await prefs.setInt("right after subscribing", 1);
      // Made once the main thread's side of the stream is surely registered
      // (see mainSubscription): it arrives either way.
      await new MethodChannel(turn.channel).invokeMethod("after listen");
      await prefs.setInt("once registered", 2);
      assert.deepEqual(
        (await changes.read()).value,
        { key: "right after subscribing", isolate: "0" },
        "the change made right after onChange() was lost",
      );
      assert.deepEqual((await changes.read()).value, {
        key: "once registered",
        isolate: "0",
      });
    } finally {
      await changes.cancel();
    }
  }),
});

Deno.test({
  name:
    "SharedPreferences.onChange() in a worker reports the main thread's writes and clear(), and reload() there shows them",
  ...sanitized,
  fn: guarded(async (t) => {
    await using fresh = await freshPreferences();
    const { prefs } = fresh;
    await using worker = await spawnPrefsWorker();
    const events = new ReceivePort("changes seen by the worker");
    try {
      const changes = collect(events);
      assert.deepEqual(
        await worker.ask({ op: "subscribe", events: events.sendPort }),
        { ok: null },
      );

      await t.step("a write on the main thread", async () => {
        await prefs.setInt("from main", 2);
        assert.deepEqual(await changes.next(), {
          key: "from main",
          isolate: "0",
        });
        assert.deepEqual(
          await worker.ask({ op: "read", keys: ["from main"] }),
          { ok: [2] },
        );
      });

      await t.step("a remove on the main thread", async () => {
        await prefs.setString("to remove", "x");
        assert.deepEqual(await changes.next(), {
          key: "to remove",
          isolate: "0",
        });
        await prefs.remove("to remove");
        assert.deepEqual(await changes.next(), {
          key: "to remove",
          isolate: "0",
        });
        assert.deepEqual(
          await worker.ask({ op: "read", keys: ["to remove", "from main"] }),
          { ok: [null, 2] },
        );
      });

      await t.step("clear() on the main thread: the key is null", async () => {
        await prefs.clear();
        assert.deepEqual(await changes.next(), { key: null, isolate: "0" });
        assert.deepEqual(
          await worker.ask({ op: "read", keys: ["from main"] }),
          { ok: [null] },
        );
      });

      await t.step("cancelling the worker's stream ends it", async () => {
        assert.deepEqual(await worker.ask({ op: "unsubscribe" }), {
          ok: { done: true, value: undefined },
        });
      });
    } finally {
      events.close();
    }
    // Disposing the worker asserts it exits normally: a subscription left
    // open would keep it alive.
  }),
});

Deno.test({
  name:
    "SharedPreferences.onChange() streams end when cancelled, and the others keep receiving",
  ...sanitized,
  fn: guarded(async (t) => {
    await using fresh = await freshPreferences();
    const { prefs } = fresh;
    const first = prefs.onChange().getReader();
    // Live once its probe came back; `first` shares the feed.
    const second = await mainSubscription(prefs);
    assert.equal(
      (await first.read()).value?.key,
      "probe of isolate 0",
      "the first stream saw the second one's probe",
    );

    await t.step("cancelling one stream ends it", async () => {
      await first.cancel();
      assert.deepEqual(await first.read(), { done: true, value: undefined });
    });

    await t.step("the other stream keeps receiving", async () => {
      await prefs.setBool("after the first cancel", true);
      assert.deepEqual(await second.read(), {
        done: false,
        value: { key: "after the first cancel", isolate: "0" },
      });
    });

    await t.step("cancelling the last stream ends it", async () => {
      await second.cancel();
      assert.deepEqual(await second.read(), { done: true, value: undefined });
    });

    await t.step("a new stream after that receives again", async () => {
      const third = await mainSubscription(prefs);
      await prefs.setInt("after resubscribing", 3);
      assert.deepEqual(await third.read(), {
        done: false,
        value: { key: "after resubscribing", isolate: "0" },
      });
      await third.cancel();
      assert.deepEqual(await third.read(), { done: true, value: undefined });
    });
  }),
});

Deno.test({
  name:
    "SharedPreferences written concurrently by two workers and the main thread keeps every write, without SQLITE_BUSY",
  ...sanitized,
  fn: guarded(async () => {
    await using fresh = await freshPreferences();
    const { prefs } = fresh;
    await using one = await spawnPrefsWorker();
    await using two = await spawnPrefsWorker();
    const WRITES = 200;
    /** Distinct keys per writer, and every 20th write also on "shared". */
    const entriesOf = (writer: number): [string, number][] => {
      const entries: [string, number][] = [];
      for (let i = 0; i < WRITES; i++) {
        entries.push([`writer ${writer} key ${i}`, writer * 1_000_000 + i]);
        if (i % 20 === 0) entries.push(["shared", writer * 1_000_000 + i]);
      }
      return entries;
    };
    const [onMain, inOne, inTwo] = [entriesOf(0), entriesOf(1), entriesOf(2)];
    // All three start before any finishes: each isolate has every write in
    // flight at once, through its own connection to the file.
    const results = await Promise.all([
      one.ask({ op: "setInts", entries: inOne }),
      two.ask({ op: "setInts", entries: inTwo }),
      Promise.all(onMain.map(([key, value]) => prefs.setInt(key, value))).then(
        (done) => ({ ok: done.filter((ok) => ok === true).length }),
        (error) => ({ error: String(error) }),
      ),
    ]);
    assert.deepEqual(results, [
      { ok: inOne.length },
      { ok: inTwo.length },
      { ok: onMain.length },
    ]);

    const distinct = [...onMain, ...inOne, ...inTwo].filter(([key]) =>
      key !== "shared"
    );
    const shared = new Set(
      [...onMain, ...inOne, ...inTwo].filter(([key]) => key === "shared").map((
        [, value],
      ) => value),
    );
    await prefs.reload();
    assert.deepEqual(
      prefs.getKeys(),
      new Set(["shared", ...distinct.map(([key]) => key)]),
    );
    for (const [key, value] of distinct) assert.equal(prefs.getInt(key), value);
    assert.ok(shared.has(prefs.getInt("shared") as number));
    // Every isolate reads the same file.
    const keys = distinct.map(([key]) => key);
    const reads = await one.ask<Outcome>({ op: "read", keys });
    assert.deepEqual(reads, { ok: distinct.map(([, value]) => value) });
  }),
});

Deno.test({
  name:
    "SharedPreferences.setInt() writes acknowledged by a process killed with SIGKILL are all in the file, which passes integrity_check",
  // Starting a process needs --allow-run.
  ignore: Deno.permissions.querySync({ name: "run" }).state !== "granted",
  ...sanitized,
  fn: guarded(async () => {
    await using fresh = await freshPreferences();
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./fixtures/prefs_kill_writer.ts", import.meta.url).href,
        "1000",
      ],
      env: { ISOLATES_DATA_DIR: fresh.dir },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const acknowledged: string[] = [];
    let killedAt = -1;
    let pending = "";
    // Lines that arrive after the kill were acknowledged before it too.
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop()!;
      acknowledged.push(...lines.filter((line) => line.startsWith("key ")));
      if (killedAt === -1 && acknowledged.length >= 300) {
        child.kill("SIGKILL");
        killedAt = acknowledged.length;
      }
    }
    const status = await child.status;
    assert.ok(killedAt >= 300, `the writer stopped early: ${await stderr}`);
    assert.equal(status.signal, "SIGKILL", await stderr);
    assert.equal(status.success, false);
    await stderr;

    const db = new DatabaseSync(fresh.file);
    try {
      assert.deepEqual(
        db.prepare("PRAGMA integrity_check").all().map((row) => ({ ...row })),
        [{ integrity_check: "ok" }],
      );
      const select = db.prepare(
        "SELECT type, value FROM preferences WHERE key = ?",
      );
      for (const key of acknowledged) {
        const i = Number(key.slice("key ".length));
        assert.deepEqual(
          { ...select.get(key) },
          { type: "int", value: String(i * 7) },
          key,
        );
      }
    } finally {
      db.close();
    }
    await fresh.prefs.reload();
    for (const key of acknowledged) {
      assert.equal(
        fresh.prefs.getInt(key),
        Number(key.slice("key ".length)) * 7,
      );
    }
  }),
});

Deno.test({
  name:
    "SharedPreferences.plugin.invoke() with malformed arguments rejects with PlatformException code bad_args, and the plugin keeps working",
  ...sanitized,
  fn: guarded(async (t) => {
    await using fresh = await freshPreferences();
    const { prefs } = fresh;
    const plugin = SharedPreferences.plugin;

    await t.step("on the main thread", async () => {
      await assert.rejects(
        plugin.invoke("set", ["k", "nonsense-type", 1] as never),
        PlatformException,
      );
      const malformed: [
        "set" | "get" | "remove",
        unknown,
      ][] = [
        ["set", ["k", "nonsense-type", 1]],
        ["set", "k"],
        ["set", [1, "int", 1]],
        ["set", ["k", "int"]],
        ["get", 123],
        ["remove", null],
      ];
      for (const [method, args] of malformed) {
        const error = await rejection(plugin.invoke(method, args as never));
        assert.ok(error instanceof PlatformException, String(error));
        assert.equal(error.code, "bad_args", `${method} ${String(args)}`);
        assert.match(error.message ?? "", new RegExp(`Cannot ${method}`));
      }
      assert.equal(await prefs.setInt("k", 1), true);
      await prefs.reload();
      assert.equal(prefs.getInt("k"), 1);
      assert.deepEqual(prefs.getKeys(), new Set(["k"]));
    });

    await t.step("in a worker, where the plugin runs locally", async () => {
      await using worker = await spawnPrefsWorker();
      assert.deepEqual(
        await worker.ask({ op: "placement", method: "set" }),
        { ok: "local" },
      );
      const error = errorOf(
        await worker.ask({
          op: "raw",
          method: "set",
          args: ["k", "nonsense-type", 1],
        }),
      );
      assert.deepEqual(error.classes, ["PlatformException"]);
      assert.equal(error.code, "bad_args");
      assert.deepEqual(
        await worker.ask({ op: "setInts", entries: [["k", 2]] }),
        { ok: 1 },
      );
      await prefs.reload();
      assert.equal(prefs.getInt("k"), 2);
    });
  }),
});

Deno.test({
  name:
    "SharedPreferences in a sandboxed worker stores through the main thread (placement proxied), and the main thread sees the value and the change",
  ...sanitized,
  fn: guarded(async () => {
    await using fresh = await freshPreferences();
    const { prefs } = fresh;
    const served: Omit<PluginCallTrace, "duration">[] = [];
    const stop = Plugin.addCallListener(({ duration: _, ...trace }) => {
      if (trace.plugin === CHANNEL && trace.served) served.push(trace);
    });
    try {
      const changes = await mainSubscription(prefs);
      await using sandbox = await spawnPrefsWorker("sandboxed");
      assert.deepEqual(
        await sandbox.ask({ op: "placement", method: "set" }),
        { ok: "proxied" },
      );
      assert.deepEqual(
        await sandbox.ask({ op: "setInts", entries: [["sandboxed", 7]] }),
        { ok: 1 },
      );
      assert.deepEqual(await changes.read(), {
        done: false,
        value: { key: "sandboxed", isolate: sandbox.id },
      });
      await prefs.reload();
      assert.equal(prefs.getInt("sandboxed"), 7);
      // The main thread served the sandbox's calls: its getAll at start,
      // then the write.
      assert.deepEqual(served, [
        {
          plugin: CHANNEL,
          method: "getAll",
          isolate: sandbox.id,
          placement: "proxied",
          served: true,
          ok: true,
        },
        {
          plugin: CHANNEL,
          method: "set",
          isolate: sandbox.id,
          placement: "proxied",
          served: true,
          ok: true,
        },
      ]);
      assert.deepEqual(
        await sandbox.ask({ op: "read", keys: ["sandboxed"] }),
        { ok: [7] },
      );
      await changes.cancel();
    } finally {
      stop();
    }
  }),
});
