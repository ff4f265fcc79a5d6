// The SQL database plugin (sqflite's API over node:sqlite): CRUD, versions,
// transactions, batches, quoting and bound values; the same results on the
// main thread, in a worker with its own connection and in a sandboxed worker
// served by the main thread; the sandbox's path limits; concurrent writers;
// and typed errors for malformed calls.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ConflictAlgorithm,
  Database,
  getDatabasesPath,
  Isolate,
  openDatabase,
  PlatformException,
  Plugin,
  type PluginCallTrace,
  ReceivePort,
  SqlDatabaseError,
  type SqlDatabaseErrorCode,
} from "@isolates/isolates";
import {
  ask,
  firstFrom,
  freshDataDir,
  guarded,
  rootToken,
  SANDBOX,
  sanitized,
  setEnv,
} from "../isolate/_helpers.ts";
import { scenario, type ScenarioResult } from "./fixtures/sql_scenario.ts";
import type {
  SqlCommand,
  SqlOutcome,
  SqlWorkerReady,
} from "./fixtures/sql_worker.ts";

/** Asserts a SqlDatabaseError with `code`, whether thrown or rejected. */
async function rejectsWith(
  run: () => unknown,
  code: SqlDatabaseErrorCode,
  message?: RegExp,
): Promise<void> {
  await assert.rejects(async () => await run(), (error: unknown) => {
    assert.ok(
      error instanceof SqlDatabaseError,
      `expected SqlDatabaseError, got ${String(error)}`,
    );
    assert.ok(error instanceof PlatformException);
    assert.equal(error.code, code, error.message);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  });
}

/** The error of a failed outcome. */
function errorOf(
  outcome: SqlOutcome,
): Extract<SqlOutcome, { error: unknown }>["error"] {
  assert.ok(
    "error" in outcome,
    `expected an error, got ${JSON.stringify(outcome, replacer)}`,
  );
  return outcome.error;
}

function replacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? `${value}n` : value;
}

/** A command without its reply port (the helper adds one). */
type Order = SqlCommand extends infer C
  ? C extends SqlCommand ? Omit<C, "reply"> : never
  : never;

/** A running `fixtures/sql_worker.ts`. */
interface SqlWorker extends AsyncDisposable {
  isolate: Isolate;
  ready: SqlWorkerReady;
  ask<T = SqlOutcome>(command: Order): Promise<T>;
}

/** Spawns the SQL worker, with file access or sandboxed. */
async function spawnWorker(sandboxed: boolean): Promise<SqlWorker> {
  const port = new ReceivePort("sql ready");
  let isolate: Isolate;
  try {
    isolate = await Isolate.spawn(
      new URL("./fixtures/sql_worker.ts", import.meta.url),
      { token: rootToken(), report: port.sendPort },
      sandboxed ? { permissions: SANDBOX } : {},
    );
  } catch (error) {
    port.close();
    throw error;
  }
  const ready = await firstFrom<SqlWorkerReady>(port, isolate);
  let ended = false;
  isolate.exited.then(() => ended = true);
  return {
    isolate,
    ready,
    ask: <T>(command: Order) => ask<T>(isolate, ready.commands, command),
    async [Symbol.asyncDispose](): Promise<void> {
      if (!ended) await ask(isolate, ready.commands, { op: "close" });
      await isolate.exited;
    },
  };
}

Deno.test({
  name:
    "getDatabasesPath() is <ISOLATES_DATA_DIR>/databases, and openDatabase() resolves relative paths there",
  ...sanitized,
  fn: guarded(async () => {
    await using data = await freshDataDir("isolates_sql_");
    const databases = join(data.dir, "databases");
    assert.equal(await getDatabasesPath(), databases);
    assert.ok((await Deno.stat(databases)).isDirectory);
    await using db = await openDatabase("nested/app.db");
    assert.equal(db.path, join(databases, "nested", "app.db"));
    assert.equal(db.database, db);
    await db.execute("CREATE TABLE t (x)");
    assert.ok((await Deno.stat(db.path)).isFile);
    assert.deepEqual(await db.rawQuery("PRAGMA journal_mode"), [{
      journal_mode: "wal",
    }]);
    assert.deepEqual(await db.rawQuery("PRAGMA synchronous"), [{
      synchronous: 2, // FULL
    }]);
  }),
});

Deno.test({
  name:
    "openDatabase() runs onConfigure, onCreate or onUpgrade or onDowngrade with the versions, then onOpen",
  ...sanitized,
  fn: guarded(async (t) => {
    await using data = await freshDataDir("isolates_sql_");
    const path = join(data.dir, "versions.db");
    const calls: string[] = [];
    const record = {
      onConfigure: () => {
        calls.push("configure");
      },
      onCreate: async (db: Database, version: number) => {
        calls.push(`create ${version}`);
        await db.execute("CREATE TABLE t (a)");
      },
      onUpgrade: async (db: Database, from: number, to: number) => {
        calls.push(`upgrade ${from}->${to}`);
        await db.execute("ALTER TABLE t ADD COLUMN b");
      },
      onDowngrade: (_db: Database, from: number, to: number) => {
        calls.push(`downgrade ${from}->${to}`);
      },
      onOpen: () => {
        calls.push("open");
      },
    };

    await t.step("a new file: onCreate with the version", async () => {
      const db = await openDatabase(path, { version: 1, ...record });
      assert.deepEqual(calls.splice(0), ["configure", "create 1", "open"]);
      assert.equal(await db.getVersion(), 1);
      await db.close();
    });
    await t.step("the same version: no version callback", async () => {
      const db = await openDatabase(path, { version: 1, ...record });
      assert.deepEqual(calls.splice(0), ["configure", "open"]);
      await db.close();
    });
    await t.step("a higher version: onUpgrade(old, new)", async () => {
      const db = await openDatabase(path, { version: 3, ...record });
      assert.deepEqual(calls.splice(0), ["configure", "upgrade 1->3", "open"]);
      assert.equal(await db.getVersion(), 3);
      assert.deepEqual(
        (await db.rawQuery<{ name: string }>("PRAGMA table_info(t)")).map((
          c,
        ) => c.name),
        ["a", "b"],
      );
      await db.close();
    });
    await t.step("a lower version: onDowngrade(old, new)", async () => {
      const db = await openDatabase(path, { version: 2, ...record });
      assert.deepEqual(calls.splice(0), [
        "configure",
        "downgrade 3->2",
        "open",
      ]);
      assert.equal(await db.getVersion(), 2);
      await db.close();
    });
    await t.step(
      "a failing onUpgrade rolls back its changes and the version, and the open rejects",
      async () => {
        await assert.rejects(
          openDatabase(path, {
            version: 5,
            onUpgrade: async (db) => {
              await db.execute("CREATE TABLE half (x)");
              await db.insert("t", { a: 1 });
              throw new Error("migration failed");
            },
          }),
          /migration failed/,
        );
        const db = await openDatabase(path);
        assert.equal(await db.getVersion(), 2);
        assert.deepEqual(
          await db.rawQuery(
            "SELECT name FROM sqlite_master WHERE name = 'half'",
          ),
          [],
        );
        assert.deepEqual(await db.query("t"), []);
        await db.close();
      },
    );
    await t.step(
      "a new file without onCreate: onUpgrade from 0, with a transaction and a batch inside",
      async () => {
        const db = await openDatabase(join(data.dir, "fresh.db"), {
          version: 4,
          onUpgrade: async (db, from, to) => {
            calls.push(`upgrade ${from}->${to}`);
            await db.transaction(async (txn) => {
              await txn.execute("CREATE TABLE u (x)");
            });
            const batch = db.batch();
            batch.insert("u", { x: 1 });
            await batch.commit();
          },
        });
        assert.deepEqual(calls.splice(0), ["upgrade 0->4"]);
        assert.deepEqual(await db.query("u"), [{ x: 1 }]);
        await db.close();
      },
    );
    await t.step("invalid options are refused up front", async () => {
      await assert.rejects(openDatabase(path, { version: 0 }), RangeError);
      await assert.rejects(openDatabase(path, { version: 1.5 }), RangeError);
      await assert.rejects(
        openDatabase(path, { busyTimeout: -1 }),
        RangeError,
      );
      await assert.rejects(openDatabase(42 as never), TypeError);
    });
  }),
});

Deno.test({
  name:
    "Database CRUD, quoting, injection through values, transactions and batches give sqflite's results",
  ...sanitized,
  fn: guarded(async () => {
    await using _data = await freshDataDir("isolates_sql_");
    const steps = await scenario("main");
    assert.deepEqual(steps.created, [1]);
    assert.equal(steps.path, true);
    assert.equal(steps.version, 1);
    assert.equal(steps.rawInsert, 1);
    assert.equal(steps.rawInsert2, 2);
    assert.deepEqual(steps.rawQuery, [
      {
        id: 1,
        name: "apple",
        qty: 3,
        price: 0.5,
        data: new Uint8Array([0, 1, 255]),
      },
      { id: 2, name: "big", qty: 2n ** 60n, price: 1e300, data: null },
    ]);
    assert.equal(steps.rawUpdate, 1);
    assert.equal(steps.insert, 3);
    assert.equal(steps.quotedTable, 1);
    assert.deepEqual(steps.quotedQuery, [{ from: "x", "a b": 1 }]);
    assert.equal(steps.update, 1);
    assert.deepEqual(steps.query, [
      { name: "apple", qty: 4, 'we"ird col': null },
      { name: "big", qty: 2n ** 60n, 'we"ird col': null },
      { name: "pear", qty: 7, 'we"ird col': "quoted" },
    ]);
    assert.deepEqual(steps.distinct, [{ qty: 7 }, { qty: 4 }]);
    assert.deepEqual(steps.grouped, [{ many: 0, n: 1 }, { many: 1, n: 2 }]);
    assert.deepEqual(steps.duplicate, {
      error: {
        name: "SqlDatabaseError",
        code: "sqlite_error",
        resultCode: 2067,
        unique: true,
      },
    });
    assert.equal(steps.ignored, 0);
    assert.equal(steps.replaced, 4);
    assert.deepEqual(steps.injection, [{ name: "x'); DROP TABLE item; --" }]);
    assert.deepEqual(steps.tables, [{ name: "item" }, { name: "select" }]);
    assert.deepEqual(steps.committed, { n: 6 });
    assert.deepEqual(steps.rolledBack, {
      error: {
        name: "SqlDatabaseError",
        code: "sqlite_error",
        resultCode: 2067,
        unique: true,
      },
    });
    assert.deepEqual(steps.ghost, []);
    assert.deepEqual(steps.batch, [8, 1, [{ name: "b1", qty: 5 }], 1, null]);
    assert.equal(
      (steps.batchFailed as { error: { code: string } }).error.code,
      "sqlite_error",
    );
    assert.deepEqual(steps.batchFailedLeft, [], "a failed batch rolls back");
    assert.deepEqual(steps.batchContinued, [8, {
      name: "SqlDatabaseError",
      code: "sqlite_error",
      resultCode: 2067,
      unique: true,
    }]);
    assert.deepEqual(steps.batchNoResult, []);
    assert.equal(steps.delete, 2);
    assert.equal(steps.rawDelete, 2); // the injection row and b3
    assert.deepEqual(steps.final, [
      {
        name: "apple",
        qty: 4,
        price: 0.5,
        data: new Uint8Array([0, 1, 255]),
      },
      { name: "big", qty: 2n ** 60n, price: 1e300, data: null },
      { name: "pear", qty: 8, price: null, data: null },
    ]);
    assert.deepEqual(steps.noSuchTable, {
      error: {
        name: "SqlDatabaseError",
        code: "sqlite_error",
        resultCode: 1,
        unique: false,
      },
    });
    assert.equal(
      (steps.closed as { error: { code: string } }).error.code,
      "closed",
    );
    assert.equal(steps.isOpen, false);
  }),
});

Deno.test({
  name:
    "Database gives the same results on the main thread, in a worker (local connection) and in a sandboxed worker (proxied)",
  ...sanitized,
  fn: guarded(async (t) => {
    await using _data = await freshDataDir("isolates_sql_");
    using _options = setEnv("ISOLATES_WORKER_OPTIONS", "1");
    const traces: PluginCallTrace[] = [];
    const stop = Plugin.addCallListener((trace) => traces.push(trace));
    let main: ScenarioResult;
    try {
      main = await scenario("main");
    } finally {
      stop();
    }
    assert.ok(traces.length > 0);
    assert.ok(traces.every((trace) => trace.placement === "local"));

    await t.step(
      "a worker with file access runs on its own connection",
      async () => {
        await using worker = await spawnWorker(false);
        assert.equal(worker.ready.placement, "local");
        const served: PluginCallTrace[] = [];
        const stopServed = Plugin.addCallListener((trace) => {
          if (trace.served) served.push(trace);
        });
        const { result, placements } = await worker.ask<
          { result: SqlOutcome; placements: string[] }
        >({ op: "scenario", name: "local" });
        stopServed();
        assert.deepEqual(placements, ["local"]);
        assert.deepEqual(
          served,
          [],
          "the main thread served none of its calls",
        );
        assert.ok("ok" in result, JSON.stringify(result, replacer));
        assert.deepEqual(result.ok, main);
      },
    );

    await t.step(
      "a sandboxed worker is served by the main thread",
      async () => {
        await using worker = await spawnWorker(true);
        assert.equal(worker.ready.placement, "proxied");
        const served: PluginCallTrace[] = [];
        const stopServed = Plugin.addCallListener((trace) => {
          if (trace.served) served.push(trace);
        });
        const { result, placements } = await worker.ask<
          { result: SqlOutcome; placements: string[] }
        >({ op: "scenario", name: "sandboxed" });
        stopServed();
        assert.deepEqual(placements, ["proxied"]);
        assert.ok(served.length > 0);
        assert.ok(served.every((trace) => trace.isolate === worker.isolate.id));
        assert.ok("ok" in result, JSON.stringify(result, replacer));
        assert.deepEqual(result.ok, main);
      },
    );
  }),
});

Deno.test({
  name:
    "Database.transaction() commits what its action did and returns its result, rolls back when it throws, and queues database calls behind it",
  ...sanitized,
  fn: guarded(async () => {
    await using db = await openDatabase(":memory:");
    await db.execute("CREATE TABLE t (x INTEGER)");
    const entered = Promise.withResolvers<void>();
    const release = Promise.withResolvers<void>();
    const order: string[] = [];
    const txn = db.transaction(async (txn) => {
      await txn.insert("t", { x: 1 });
      entered.resolve();
      await release.promise;
      order.push("txn done");
      return "result";
    });
    await entered.promise;
    // Queued behind the transaction: it sees the committed row.
    const outside = db.query("t").then((rows) => {
      order.push("outside");
      return rows;
    });
    release.resolve();
    assert.equal(await txn, "result");
    assert.deepEqual(await outside, [{ x: 1 }]);
    assert.deepEqual(order, ["txn done", "outside"]);

    let kept: unknown;
    await assert.rejects(
      db.transaction(async (txn) => {
        kept = txn;
        await txn.insert("t", { x: 2 });
        throw new RangeError("abandon");
      }, { exclusive: true }),
      RangeError,
    );
    assert.deepEqual(await db.query("t"), [{ x: 1 }]);
    const ended = kept as { insert(t: string, v: object): Promise<unknown> };
    await rejectsWith(
      () => ended.insert("t", { x: 3 }),
      "closed",
      /transaction has ended/,
    );

    await db.transaction(async (txn) => {
      const batch = txn.batch();
      batch.insert("t", { x: 4 });
      assert.deepEqual(await batch.commit(), [2]);
      await rejectsWith(() => batch.commit(), "bad_state");
      assert.equal(batch.length, 1);
    });
    assert.deepEqual(await db.query("t", { orderBy: "x" }), [{ x: 1 }, {
      x: 4,
    }]);
    await assert.rejects(
      db.transaction(async (txn) => {
        const batch = txn.batch();
        batch.insert("t", { x: 5 });
        await batch.commit();
        throw new Error("undo the batch too");
      }),
      /undo the batch too/,
    );
    assert.deepEqual(await db.query("t", { where: "x = 5" }), []);
  }),
});

Deno.test({
  name:
    "Database opened readOnly refuses writes; a missing file (readOnly) or a file that is not SQLite fails with open_failed",
  ...sanitized,
  fn: guarded(async () => {
    await using data = await freshDataDir("isolates_sql_");
    const path = join(data.dir, "ro.db");
    const writer = await openDatabase(path, {
      version: 1,
      onCreate: (db) => db.execute("CREATE TABLE t (x)"),
    });
    await writer.insert("t", { x: 1 });
    await writer.close();
    await using reader = await openDatabase(path, { readOnly: true });
    assert.deepEqual(await reader.query("t"), [{ x: 1 }]);
    await assert.rejects(reader.insert("t", { x: 2 }), (error: unknown) => {
      assert.ok(error instanceof SqlDatabaseError);
      assert.equal(error.code, "sqlite_error");
      assert.ok(error.isReadOnlyError(), error.message);
      return true;
    });
    await rejectsWith(
      () => openDatabase(join(data.dir, "missing.db"), { readOnly: true }),
      "open_failed",
    );
    const garbage = join(data.dir, "garbage.db");
    await Deno.writeTextFile(garbage, "not a database, ".repeat(100));
    await rejectsWith(
      () => openDatabase(garbage),
      "open_failed",
      /not a database/,
    );
  }),
});

Deno.test({
  name:
    "Database plugin answers malformed calls with typed errors, and keeps serving",
  ...sanitized,
  fn: guarded(async (t) => {
    await using _data = await freshDataDir("isolates_sql_");
    using _options = setEnv("ISOLATES_WORKER_OPTIONS", "1");
    const plugin = Database.plugin;

    await t.step("raw plugin calls on the main thread", async () => {
      const db = await openDatabase(":memory:");
      await db.execute("CREATE TABLE t (x)");
      await db.close();
      const raw = async (run: () => Promise<unknown>, code: string) => {
        await assert.rejects(run, (error: unknown) => {
          assert.ok(error instanceof PlatformException);
          assert.equal(error.code, code, String(error.message));
          return true;
        });
      };
      await raw(
        () => plugin.invoke("query", [424242, "SELECT 1", []]),
        "closed",
      );
      await raw(() => plugin.invoke("query", [1, 42 as never, []]), "bad_args");
      await raw(
        () => plugin.invoke("query", [1, "  -- nothing ;", []]),
        "bad_args",
      );
      await raw(() => plugin.invoke("query", "nope" as never), "bad_args");
      await raw(
        () => plugin.invoke("execute", [1, "SELECT 1", "x" as never]),
        "bad_args",
      );
      await raw(
        () => plugin.invoke("insert", [1, "SELECT ?", [true as never]]),
        "bad_args",
      );
      await raw(
        () => plugin.invoke("insert", [1, "SELECT ?", [[1] as never]]),
        "bad_args",
      );
      await raw(() => plugin.invoke("query", [-1, "SELECT 1", []]), "bad_args");
      await raw(
        () => plugin.invoke("open", ["x.db", "yes" as never, 5]),
        "bad_args",
      );
      await raw(
        () =>
          plugin.invoke("batch", [
            1,
            [["drop", "x", []] as never],
            false,
            false,
            false,
          ]),
        "bad_args",
      );
      await raw(() => plugin.invoke("commit", 424242), "closed");
    });

    await t.step("Database methods validate before calling", async () => {
      const db = await openDatabase(":memory:");
      await db.execute("CREATE TABLE t (x)");
      await rejectsWith(
        () => db.rawQuery(42 as never),
        "bad_args",
        /SQL must be a string/,
      );
      await rejectsWith(() => db.rawQuery("SELECT ?", 1 as never), "bad_args");
      await rejectsWith(
        () => db.rawQuery("SELECT ?", [new Date() as never]),
        "bad_args",
      );
      await rejectsWith(
        () => db.rawQuery("SELECT ?", [true as never]),
        "bad_args",
      );
      await rejectsWith(
        () => db.rawQuery("SELECT ?", [undefined as never]),
        "bad_args",
      );
      await rejectsWith(() => db.rawQuery("SELECT ?", [2n ** 64n]), "bad_args");
      await rejectsWith(() => db.rawQuery(""), "bad_args", /no statement/);
      await rejectsWith(
        () => db.rawQuery("SELECT 1; DROP TABLE t"),
        "bad_args",
        /more than one statement/,
      );
      await rejectsWith(() => db.rawQuery("SELECT ?", [1, 2]), "bad_args");
      await rejectsWith(
        () => db.rawQuery("SELEC 1"),
        "sqlite_error",
        /syntax error/,
      );
      await rejectsWith(() => db.insert("", { x: 1 }), "bad_args");
      await rejectsWith(() => db.insert("t", [1] as never), "bad_args");
      await rejectsWith(() => db.update("t", {}), "bad_args");
      await assert.rejects(db.query("t", { limit: -1 }), RangeError);
      await assert.rejects(
        db.insert("t", { x: 1 }, { conflictAlgorithm: "bogus" as never }),
        RangeError,
      );
      assert.throws(
        () => db.batch().insert("t", { x: new Date() as never }),
        SqlDatabaseError,
      );
      // A script runs each statement; arguments need a single one.
      await db.execute("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);");
      await rejectsWith(
        () => db.execute("INSERT INTO t VALUES (?); SELECT 1", [3]),
        "bad_args",
      );
      assert.deepEqual(await db.query("t"), [{ x: 1 }, { x: 2 }]);
      await db.close();
      await db.close(); // idempotent
      await rejectsWith(() => db.query("t"), "closed", /database is closed/);
      await rejectsWith(() => db.transaction(() => null), "closed");
      await rejectsWith(() => db.batch().commit(), "closed");
    });

    await t.step(
      "from a sandboxed worker, served by the main thread",
      async () => {
        await using worker = await spawnWorker(true);
        const got = await worker.ask<Record<string, SqlOutcome>>({
          op: "malformed",
        });
        assert.equal(errorOf(got.unknownHandle).code, "closed");
        assert.equal(errorOf(got.sqlNotString).code, "bad_args");
        assert.equal(errorOf(got.argsNotArray).code, "bad_args");
        assert.equal(errorOf(got.badValue).code, "bad_args");
        assert.equal(errorOf(got.unknownHandle).platformException, true);
        assert.deepEqual(got.stillServing, { ok: [{ one: 1 }] });
      },
    );

    await t.step("the main thread still serves", async () => {
      await using db = await openDatabase(":memory:");
      assert.deepEqual(await db.rawQuery("SELECT 2 AS two"), [{ two: 2 }]);
    });
  }),
});

Deno.test({
  name:
    "openDatabase() from a sandboxed worker is refused outside the allowed directories with path_not_allowed, and cannot ATTACH",
  ...sanitized,
  fn: guarded(async (t) => {
    const base = await Deno.makeTempDir({ prefix: "isolates_sql_sandbox_" });
    const data = join(base, "data");
    const tmp = join(base, "tmp");
    const outside = join(base, "outside");
    await Deno.mkdir(data);
    await Deno.mkdir(tmp);
    await Deno.mkdir(outside);
    try {
      using _data = setEnv("ISOLATES_DATA_DIR", data);
      // The temp directory is allowed: point it away from `outside`.
      using _tmp = setEnv("TMPDIR", tmp);
      using _options = setEnv("ISOLATES_WORKER_OPTIONS", "1");
      await using worker = await spawnWorker(true);
      type Tried = { open: SqlOutcome; results: SqlOutcome[] };

      await t.step(
        "inside the databases, data and temp directories",
        async () => {
          for (
            const path of [
              "inside.db",
              join(data, "data.db"),
              join(tmp, "tmp.db"),
            ]
          ) {
            const tried = await worker.ask<Tried>({
              op: "try",
              path,
              statements: [["CREATE TABLE t (x)", []]],
            });
            assert.ok("ok" in tried.open, JSON.stringify(tried.open));
            assert.deepEqual(tried.results, [{ ok: undefined }]);
          }
        },
      );

      await t.step("outside: refused, and nothing is created", async () => {
        for (
          const path of [
            join(outside, "x.db"),
            "../../outside/x.db",
            "/definitely/not/allowed.db",
          ]
        ) {
          const tried = await worker.ask<Tried>({
            op: "try",
            path,
            statements: [],
          });
          const error = errorOf(tried.open);
          assert.equal(error.code, "path_not_allowed", error.message);
          assert.equal(error.sqlDatabaseError, true);
          assert.match(error.message, /Database\.allowDirectory/);
        }
        assert.deepEqual([...Deno.readDirSync(outside)], []);
      });

      await t.step("through a symbolic link: refused", async () => {
        await Deno.symlink(outside, join(data, "link"));
        const tried = await worker.ask<Tried>({
          op: "try",
          path: join(data, "link", "x.db"),
          statements: [],
        });
        assert.equal(errorOf(tried.open).code, "path_not_allowed");
        assert.deepEqual([...Deno.readDirSync(outside)], []);
      });

      await t.step(
        "ATTACH and VACUUM INTO cannot reach other files",
        async () => {
          const tried = await worker.ask<Tried>({
            op: "try",
            path: "attacker.db",
            statements: [
              ["ATTACH DATABASE ? AS other", [join(outside, "attached.db")]],
              ["VACUUM INTO ?", [join(outside, "copy.db")]],
              ["CREATE TABLE still_works (x)", []],
            ],
          });
          assert.equal(errorOf(tried.results[0]).code, "sqlite_error");
          assert.equal(errorOf(tried.results[1]).code, "sqlite_error");
          assert.deepEqual(tried.results[2], { ok: undefined });
          assert.deepEqual([...Deno.readDirSync(outside)], []);
        },
      );

      await t.step(
        "Database.allowDirectory() lets it in, until withdrawn",
        async () => {
          const withdraw = Database.allowDirectory(outside);
          try {
            const tried = await worker.ask<Tried>({
              op: "try",
              path: join(outside, "allowed.db"),
              statements: [["CREATE TABLE t (x)", []]],
            });
            assert.deepEqual(tried.open, { ok: join(outside, "allowed.db") });
          } finally {
            withdraw();
          }
          const again = await worker.ask<Tried>({
            op: "try",
            path: join(outside, "allowed.db"),
            statements: [],
          });
          assert.equal(errorOf(again.open).code, "path_not_allowed");
        },
      );

      await t.step("the main thread itself is not limited", async () => {
        await using db = await openDatabase(join(outside, "main.db"));
        await db.execute("CREATE TABLE t (x)");
      });
    } finally {
      await Deno.remove(base, { recursive: true });
    }
  }),
});

Deno.test({
  name:
    "Database with concurrent writers: the main thread, a worker and a sandboxed worker each insert 300 rows into one file without SQLITE_BUSY",
  ...sanitized,
  fn: guarded(async () => {
    await using _data = await freshDataDir("isolates_sql_");
    using _options = setEnv("ISOLATES_WORKER_OPTIONS", "1");
    const ROWS = 300;
    await using db = await openDatabase("concurrent.db", {
      version: 1,
      onCreate: (db) =>
        db.execute(
          "CREATE TABLE entry (id INTEGER PRIMARY KEY, who TEXT NOT NULL, n INTEGER NOT NULL)",
        ),
    });
    await using local = await spawnWorker(false);
    await using sandboxed = await spawnWorker(true);
    assert.deepEqual(
      await local.ask({ op: "prepareWrites", path: "concurrent.db" }),
      { ok: db.path },
    );
    assert.deepEqual(
      await sandboxed.ask({ op: "prepareWrites", path: "concurrent.db" }),
      { ok: db.path },
    );

    const writes = [
      local.ask({ op: "writeMany", count: ROWS, label: "local" }),
      sandboxed.ask({ op: "writeMany", count: ROWS, label: "sandboxed" }),
      (async (): Promise<SqlOutcome> => {
        for (let i = 0; i < ROWS; i++) {
          await db.insert("entry", { who: "main", n: i });
        }
        return { ok: ROWS };
      })(),
    ];
    assert.deepEqual(await Promise.all(writes), [
      { ok: ROWS },
      { ok: ROWS },
      { ok: ROWS },
    ]);
    assert.deepEqual(
      await db.rawQuery(
        "SELECT who, COUNT(*) AS n, COUNT(DISTINCT n) AS distinct_n FROM entry GROUP BY who ORDER BY who",
      ),
      [
        { who: "local", n: ROWS, distinct_n: ROWS },
        { who: "main", n: ROWS, distinct_n: ROWS },
        { who: "sandboxed", n: ROWS, distinct_n: ROWS },
      ],
    );
    assert.deepEqual(await db.rawQuery("SELECT COUNT(*) AS n FROM entry"), [{
      n: 3 * ROWS,
    }]);
  }),
});

Deno.test({
  name:
    "Database connections an isolate leaves open in a transaction are released when it dies: a sandboxed one's on the main thread, a worker's own with it",
  ...sanitized,
  fn: guarded(async (t) => {
    await using _data = await freshDataDir("isolates_sql_");
    using _options = setEnv("ISOLATES_WORKER_OPTIONS", "1");
    await using db = await openDatabase("held.db", {
      version: 1,
      // Bounded: if a dead isolate's lock were kept, the insert below would
      // fail with SQLITE_BUSY instead of hanging the test.
      busyTimeout: 10_000,
      onCreate: (db) => db.execute("CREATE TABLE entry (who TEXT, n INTEGER)"),
    });
    for (const sandboxed of [true, false]) {
      await t.step(
        sandboxed ? "sandboxed (proxied)" : "with file access",
        async () => {
          const worker = await spawnWorker(sandboxed);
          assert.deepEqual(await worker.ask({ op: "hold", path: "held.db" }), {
            ok: "holding",
          });
          worker.isolate.kill();
          assert.equal((await worker.isolate.exited).kind, "killed");
          await db.insert("entry", { who: "main", n: sandboxed ? 1 : 2 });
          await worker[Symbol.asyncDispose]();
        },
      );
    }
    assert.deepEqual(await db.query("entry", { orderBy: "n" }), [
      { who: "main", n: 1 },
      { who: "main", n: 2 },
    ]);
  }),
});

Deno.test({
  name:
    "Database on the main thread waits for another connection's write lock without blocking the event loop, and fails with SQLITE_BUSY after busyTimeout",
  ...sanitized,
  fn: guarded(async () => {
    await using data = await freshDataDir("isolates_sql_");
    const path = join(data.dir, "busy.db");
    await using holder = await openDatabase(path, {
      version: 1,
      onCreate: (db) => db.execute("CREATE TABLE t (who TEXT)"),
    });
    await using waiter = await openDatabase(path, { busyTimeout: 60_000 });
    await using impatient = await openDatabase(path, { busyTimeout: 20 });
    const locked = Promise.withResolvers<void>();
    const release = Promise.withResolvers<void>();
    const holding = holder.transaction(async (txn) => {
      await txn.insert("t", { who: "holder" });
      locked.resolve();
      await release.promise;
      // The event loop kept running while the waiter waited.
      await txn.insert("t", { who: "holder again" });
    });
    await locked.promise;
    let waited = false;
    const waiting = waiter.insert("t", { who: "waiter" }).then((id) => {
      waited = true;
      return id;
    });
    await assert.rejects(impatient.insert("t", { who: "x" }), (error) => {
      assert.ok(error instanceof SqlDatabaseError);
      assert.equal(error.code, "sqlite_error");
      assert.ok(error.isBusyError(), error.message);
      assert.match(error.message, /busyTimeout/);
      return true;
    });
    assert.equal(
      waited,
      false,
      "the waiter cannot write while the lock is held",
    );
    release.resolve();
    await holding;
    assert.equal(await waiting, 3);
    assert.deepEqual(await waiter.query("t", { columns: ["who"] }), [
      { who: "holder" },
      { who: "holder again" },
      { who: "waiter" },
    ]);
  }),
});

Deno.test({
  name: "ConflictAlgorithm names SQLite's five conflict resolutions",
  fn: () => {
    assert.deepEqual(Object.values(ConflictAlgorithm), [
      "rollback",
      "abort",
      "fail",
      "ignore",
      "replace",
    ]);
    assert.ok(Object.isFrozen(ConflictAlgorithm));
  },
});
