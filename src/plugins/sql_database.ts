import { isEventMessenger } from "../channels/event_messenger.ts";
import { PlatformException } from "../codec/platform_exception.ts";
import { ServicesBinding } from "../isolate/services_binding.ts";
import { isMainThread } from "../isolate/_thread.ts";
import type { AccessPolicy } from "./_sql_platform.ts";
import { Plugin } from "./plugin.ts";
import { SqlDatabaseError } from "./sql_database_error.ts";

/**
 * node:path, on the main thread only (`Database.allowDirectory` is
 * main-thread only): it costs a new worker milliseconds to load.
 */
const nodePath: typeof import("node:path") | null = isMainThread
  ? await import("node:path")
  : null;

/** The channel of the SQL database plugin. */
const CHANNEL = "isolates/sql_database";
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INT32_MAX = 2 ** 31 - 1;

/**
 * A value SQLite stores and returns: `null`, a number (`REAL`, or `INTEGER`
 * when it is a safe integer), a `bigint` (`INTEGER`; results give one only
 * beyond `Number.MAX_SAFE_INTEGER`), a string (`TEXT`) or a `Uint8Array`
 * (`BLOB`).
 *
 * @example
 * ```ts
 * import type { SqlValue } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const values: SqlValue[] = [null, 1, 2.5, 2n ** 60n, "text", new Uint8Array([1])];
 * assert.equal(values.length, 6);
 * ```
 */
export type SqlValue = null | number | bigint | string | Uint8Array;

/**
 * A result row: its values by column name.
 *
 * @example
 * ```ts
 * import type { SqlRow } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const row: SqlRow = { id: 1, name: "Ada" };
 * assert.equal(row.name, "Ada");
 * ```
 */
export type SqlRow = Record<string, SqlValue>;

/**
 * What `insert` and `update` do when a row would break a constraint, as
 * sqflite's `ConflictAlgorithm` (SQLite's `INSERT OR …`): `rollback`,
 * `abort` (SQLite's default), `fail`, `ignore` or `replace`.
 *
 * @example Upserting a row
 * ```ts
 * import { ConflictAlgorithm, openDatabase } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const db = await openDatabase(":memory:");
 * await db.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)");
 * await db.insert("kv", { k: "a", v: "1" });
 * await db.insert("kv", { k: "a", v: "2" }, { conflictAlgorithm: ConflictAlgorithm.replace });
 * assert.equal(await db.insert("kv", { k: "a", v: "3" }, { conflictAlgorithm: "ignore" }), 0);
 * assert.deepEqual(await db.query("kv"), [{ k: "a", v: "2" }]);
 * await db.close();
 * ```
 */
export const ConflictAlgorithm: {
  readonly rollback: "rollback";
  readonly abort: "abort";
  readonly fail: "fail";
  readonly ignore: "ignore";
  readonly replace: "replace";
} = Object.freeze({
  rollback: "rollback",
  abort: "abort",
  fail: "fail",
  ignore: "ignore",
  replace: "replace",
});

/** One of the {@linkcode ConflictAlgorithm} values. */
export type ConflictAlgorithm =
  typeof ConflictAlgorithm[keyof typeof ConflictAlgorithm];

/**
 * Options of {@linkcode openDatabase}, as sqflite's. The callbacks run in
 * this order: `onConfigure`, then one of `onCreate`, `onUpgrade` or
 * `onDowngrade` (when `version` differs from the file's `PRAGMA
 * user_version`), then `onOpen`. The version callbacks and the version
 * update run in one transaction: if one throws, nothing they did is kept
 * and `openDatabase` rejects with its error.
 *
 * @example
 * ```ts
 * import { openDatabase, type OpenDatabaseOptions } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const options: OpenDatabaseOptions = {
 *   version: 1,
 *   onCreate: (db) => db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"),
 * };
 * const db = await openDatabase(":memory:", options);
 * assert.equal(await db.getVersion(), 1);
 * await db.close();
 * ```
 */
export interface OpenDatabaseOptions {
  /**
   * The schema version (a positive 32-bit integer), kept in `PRAGMA
   * user_version`. Ignored with `readOnly`.
   */
  version?: number;
  /**
   * The first callback, before the version check: for pragmas such as
   * `PRAGMA foreign_keys = ON`.
   */
  onConfigure?: (db: Database) => void | Promise<void>;
  /** Called when the file had no version (a new database). */
  onCreate?: (db: Database, version: number) => void | Promise<void>;
  /**
   * Called when `version` is higher than the file's (and for a new
   * database when there is no `onCreate`, with `oldVersion` 0).
   */
  onUpgrade?: (
    db: Database,
    oldVersion: number,
    newVersion: number,
  ) => void | Promise<void>;
  /** Called when `version` is lower than the file's. */
  onDowngrade?: (
    db: Database,
    oldVersion: number,
    newVersion: number,
  ) => void | Promise<void>;
  /** The last callback, once the version is set. */
  onOpen?: (db: Database) => void | Promise<void>;
  /**
   * Opens the file read-only (it must exist).
   *
   * @default {false}
   */
  readOnly?: boolean;
  /**
   * How long a statement waits, in ms, while another connection (another
   * isolate's, or the same file opened twice) holds the write lock, before
   * it fails with `SQLITE_BUSY`. Workers wait in SQLite; the main thread
   * never blocks for long: it waits a few ms, then retries from its event
   * loop with backoff.
   *
   * @default {5000}
   */
  busyTimeout?: number;
}

/**
 * Options of `query`: the parts of the `SELECT`. `columns` are names
 * (quoted as identifiers); `where`, `groupBy`, `having` and `orderBy` are SQL
 * written by the program, with `?` placeholders for the values in
 * `whereArgs` (never put values in them).
 *
 * @example
 * ```ts
 * import { openDatabase, type QueryOptions } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const db = await openDatabase(":memory:");
 * await db.execute("CREATE TABLE t (n INTEGER)");
 * for (const n of [3, 1, 2]) await db.insert("t", { n });
 * const options: QueryOptions = { where: "n > ?", whereArgs: [1], orderBy: "n DESC", limit: 1 };
 * assert.deepEqual(await db.query("t", options), [{ n: 3 }]);
 * await db.close();
 * ```
 */
export interface QueryOptions {
  /** `SELECT DISTINCT`. @default {false} */
  distinct?: boolean;
  /** The columns to return. @default {every column (`*`)} */
  columns?: readonly string[];
  /** The `WHERE` clause, without the keyword. */
  where?: string;
  /** The values of the `?` in `where` and `having`, in order. */
  whereArgs?: readonly SqlValue[];
  /** The `GROUP BY` clause, without the keywords. */
  groupBy?: string;
  /** The `HAVING` clause, without the keyword. */
  having?: string;
  /** The `ORDER BY` clause, without the keywords. */
  orderBy?: string;
  /** At most this many rows (a non-negative integer). */
  limit?: number;
  /** Skip this many rows first (a non-negative integer). */
  offset?: number;
}

/**
 * Options of `insert`.
 *
 * @example
 * ```ts
 * import type { InsertOptions } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const options: InsertOptions = { conflictAlgorithm: "replace" };
 * assert.equal(options.conflictAlgorithm, "replace");
 * ```
 */
export interface InsertOptions {
  /** What to do on a constraint conflict. @default {SQLite's: "abort"} */
  conflictAlgorithm?: ConflictAlgorithm;
}

/**
 * Options of `update`.
 *
 * @example
 * ```ts
 * import type { UpdateOptions } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const options: UpdateOptions = { where: "id = ?", whereArgs: [1] };
 * assert.equal(options.where, "id = ?");
 * ```
 */
export interface UpdateOptions {
  /** The `WHERE` clause, without the keyword. @default {every row} */
  where?: string;
  /** The values of the `?` in `where`. */
  whereArgs?: readonly SqlValue[];
  /** What to do on a constraint conflict. @default {SQLite's: "abort"} */
  conflictAlgorithm?: ConflictAlgorithm;
}

/**
 * Options of `delete`.
 *
 * @example
 * ```ts
 * import type { DeleteOptions } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const options: DeleteOptions = { where: "done = ?", whereArgs: [1] };
 * assert.deepEqual(options.whereArgs, [1]);
 * ```
 */
export interface DeleteOptions {
  /** The `WHERE` clause, without the keyword. @default {every row} */
  where?: string;
  /** The values of the `?` in `where`. */
  whereArgs?: readonly SqlValue[];
}

/**
 * Options of {@linkcode Database.transaction}.
 *
 * @example
 * ```ts
 * import type { TransactionOptions } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const options: TransactionOptions = { exclusive: true };
 * assert.ok(options.exclusive);
 * ```
 */
export interface TransactionOptions {
  /**
   * `BEGIN EXCLUSIVE` instead of `BEGIN IMMEDIATE` (which already takes the
   * write lock up front, so two writers never deadlock upgrading).
   *
   * @default {false}
   */
  exclusive?: boolean;
}

/**
 * Options of {@linkcode Batch.commit}.
 *
 * @example
 * ```ts
 * import type { BatchCommitOptions } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const options: BatchCommitOptions = { continueOnError: true };
 * assert.ok(options.continueOnError);
 * ```
 */
export interface BatchCommitOptions {
  /**
   * Return no results (faster for large batches).
   *
   * @default {false}
   */
  noResult?: boolean;
  /**
   * Run every operation even if some fail; a failed one's result is its
   * {@linkcode SqlDatabaseError}. Otherwise the first failure rolls the
   * batch back and rejects with it.
   *
   * @default {false}
   */
  continueOnError?: boolean;
}

/**
 * The result of one batch operation: `null` (execute), the new row id
 * (insert), the rows changed (update, delete), the rows (query), or, with
 * `continueOnError`, the operation's error.
 *
 * @example
 * ```ts
 * import type { BatchResult } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const results: BatchResult[] = [null, 1, [{ id: 1 }]];
 * assert.equal(results.length, 3);
 * ```
 */
export type BatchResult =
  | null
  | number
  | bigint
  | SqlRow[]
  | SqlDatabaseError;

/**
 * One batch operation as it crosses the plugin's channel: its kind, its SQL
 * and its arguments.
 *
 * @example
 * ```ts
 * import type { SqlBatchOperation } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const operation: SqlBatchOperation = ["insert", "INSERT INTO t (n) VALUES (?)", [1]];
 * assert.equal(operation[0], "insert");
 * ```
 */
export type SqlBatchOperation = [
  kind: "execute" | "query" | "insert" | "update" | "delete",
  sql: string,
  args: SqlValue[],
];

/**
 * The outcome of one batch operation as it crosses the plugin's channel: a
 * result (rows as `[columns, rows]`) or an error's code, message and SQLite
 * result code.
 *
 * @example
 * ```ts
 * import type { SqlBatchOutcome } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const outcome: SqlBatchOutcome = ["ok", [["id"], [[1]]]];
 * assert.equal(outcome[0], "ok");
 * ```
 */
export type SqlBatchOutcome =
  | ["ok", null | number | bigint | [columns: string[], rows: SqlValue[][]]]
  | [
    "error",
    code: string,
    message: string,
    resultCode: number | null,
  ];

/**
 * The methods of the SQL database plugin (channel `isolates/sql_database`),
 * for tracing and for direct calls through {@linkcode Database.plugin}. A
 * connection is a handle, valid only for the isolate that opened it.
 *
 * @example
 * ```ts
 * import { Database, type SqlDatabaseMethods } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * type Query = SqlDatabaseMethods["query"];
 * const args: Query["args"] = [1, "SELECT 1", []];
 * assert.equal(args[1], "SELECT 1");
 * assert.equal(Database.plugin.placement("query"), "local"); // on the main thread
 * ```
 */
export type SqlDatabaseMethods = {
  getDatabasesPath: { args: null; result: string };
  open: {
    args: [path: string, readOnly: boolean, busyTimeout: number];
    result: [handle: number, path: string];
  };
  close: { args: number; result: null };
  execute: {
    args: [handle: number, sql: string, args: SqlValue[]];
    result: null;
  };
  query: {
    args: [handle: number, sql: string, args: SqlValue[]];
    result: [columns: string[], rows: SqlValue[][]];
  };
  insert: {
    args: [handle: number, sql: string, args: SqlValue[]];
    result: number | bigint;
  };
  update: {
    args: [handle: number, sql: string, args: SqlValue[]];
    result: number;
  };
  delete: {
    args: [handle: number, sql: string, args: SqlValue[]];
    result: number;
  };
  begin: { args: [handle: number, exclusive: boolean]; result: null };
  commit: { args: number; result: null };
  rollback: { args: number; result: null };
  batch: {
    args: [
      handle: number,
      operations: SqlBatchOperation[],
      noResult: boolean,
      continueOnError: boolean,
      inTransaction: boolean,
    ];
    result: SqlBatchOutcome[];
  };
};

type Method = keyof SqlDatabaseMethods & string;
type StatementMethod = "execute" | "query" | "insert" | "update" | "delete";

type Platform = typeof import("./_sql_platform.ts");
let platform: Promise<Platform> | null = null;
function load(): Promise<Platform> {
  // node:sqlite loads with the first call, in the isolate that runs it (a
  // sandboxed worker never loads it).
  return platform ??= import("./_sql_platform.ts");
}

/** Directories the main thread lets sandboxed isolates open files in. */
const allowedDirectories = new Map<string, number>();

const policy: AccessPolicy = {
  allowed: () => allowedDirectories.keys(),
  watch: (isolate, onGone) => {
    const messenger = ServicesBinding.defaultBinaryMessenger;
    return isEventMessenger(messenger)
      ? messenger.watchIsolate(isolate, onGone)
      : () => {};
  },
};

const FILE_ACCESS: Deno.PermissionDescriptor[] = [
  { name: "read" },
  { name: "write" },
  { name: "env" },
];

/**
 * The plugin, with `auto` affinity and every method thread-safe: an isolate
 * with file access runs each call on its own connection, with no hop; a
 * sandboxed one proxies every call to the main thread, which keeps its
 * connections by (caller, handle) and lets it reach only allowed
 * directories.
 */
const sqlPlugin = new Plugin<SqlDatabaseMethods>({
  channel: CHANNEL,
  affinity: "auto",
  requires: FILE_ACCESS,
  methods: {
    getDatabasesPath: {
      threadSafe: true,
      run: async () => (await load()).getDatabasesPath(),
    },
    open: {
      threadSafe: true,
      run: async (args, context) => (await load()).open(args, context, policy),
    },
    close: {
      threadSafe: true,
      run: async (args, context) => (await load()).close(args, context),
    },
    execute: {
      threadSafe: true,
      run: async (args, context) => (await load()).execute(args, context),
    },
    query: {
      threadSafe: true,
      run: async (args, context) => (await load()).query(args, context),
    },
    insert: {
      threadSafe: true,
      run: async (args, context) => (await load()).insert(args, context),
    },
    update: {
      threadSafe: true,
      run: async (args, context) => (await load()).update(args, context),
    },
    delete: {
      threadSafe: true,
      run: async (args, context) => (await load()).update(args, context),
    },
    begin: {
      threadSafe: true,
      run: async (args, context) => (await load()).begin(args, context),
    },
    commit: {
      threadSafe: true,
      run: async (args, context) => (await load()).commit(args, context),
    },
    rollback: {
      threadSafe: true,
      run: async (args, context) => (await load()).rollback(args, context),
    },
    batch: {
      threadSafe: true,
      run: async (args, context) => (await load()).batch(args, context),
    },
  },
});

/** Calls a plugin method; its errors arrive as {@linkcode SqlDatabaseError}. */
async function call<K extends Method>(
  method: K,
  args: SqlDatabaseMethods[K]["args"],
): Promise<SqlDatabaseMethods[K]["result"]> {
  try {
    return await sqlPlugin.invoke(method, ...[args] as never);
  } catch (error) {
    throw translate(error);
  }
}

/** A `PlatformException` of ours, decoded, back as a SqlDatabaseError. */
function translate(error: unknown): unknown {
  if (
    error instanceof SqlDatabaseError || !(error instanceof PlatformException)
  ) {
    return error;
  }
  if (!SqlDatabaseError.isCode(error.code)) return error;
  const details = error.details;
  const field = (name: string): unknown =>
    details instanceof Map
      ? details.get(name)
      : typeof details === "object" && details !== null
      ? (details as Record<string, unknown>)[name]
      : undefined;
  const resultCode = field("resultCode");
  const sql = field("sql");
  return new SqlDatabaseError(error.code, error.message ?? "", {
    resultCode: typeof resultCode === "number" ? resultCode : null,
    sql: typeof sql === "string" ? sql : null,
    cause: error,
  });
}

/**
 * One open connection, as the isolate that opened it sees it. Calls on the
 * database run one after another, in call order; a transaction holds the
 * queue until it ends.
 */
class Connection {
  readonly handle: number;
  readonly path: string;
  /** Closing or closed: no new call is accepted. */
  closing: Promise<void> | null = null;
  /** Inside openDatabase's version transaction: calls skip the queue. */
  setup = false;
  #tail: Promise<void> = Promise.resolve();

  constructor(handle: number, path: string) {
    this.handle = handle;
    this.path = path;
  }

  /** Runs `fn` after every call queued before it, and before later ones. */
  serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn);
    this.#tail = run.then(() => {}, () => {});
    return run;
  }

  assertOpen(action: string): void {
    if (this.closing !== null) {
      throw new SqlDatabaseError(
        "closed",
        `Cannot ${action} on "${this.path}": the database is closed; open it again with openDatabase()`,
      );
    }
  }

  /** A call on the database itself: queued (but not during setup). */
  queued<K extends Method>(
    action: string,
    method: K,
    args: SqlDatabaseMethods[K]["args"],
  ): Promise<SqlDatabaseMethods[K]["result"]> {
    try {
      this.assertOpen(action);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.setup
      ? call(method, args)
      : this.serialize(() => call(method, args));
  }
}

/** Whether a transaction may still run statements. */
interface TransactionState {
  active: boolean;
}

/** Sends one statement for an executor. */
type Send = <K extends StatementMethod>(
  action: string,
  method: K,
  sql: string,
  args: SqlValue[],
) => Promise<SqlDatabaseMethods[K]["result"]>;

/**
 * What {@linkcode Database} and {@linkcode Transaction} share, as sqflite's
 * `DatabaseExecutor`: raw SQL with bound arguments, the table helpers, and
 * batches.
 *
 * @example A helper that works on a database or in a transaction
 * ```ts
 * import { type DatabaseExecutor, openDatabase } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * async function count(executor: DatabaseExecutor): Promise<number> {
 *   const [row] = await executor.rawQuery<{ n: number }>("SELECT COUNT(*) AS n FROM t");
 *   return row.n;
 * }
 * const db = await openDatabase(":memory:");
 * await db.execute("CREATE TABLE t (x)");
 * await db.transaction(async (txn) => {
 *   await txn.insert("t", { x: 1 });
 *   assert.equal(await count(txn), 1);
 * });
 * assert.equal(await count(db), 1);
 * await db.close();
 * ```
 */
export abstract class DatabaseExecutor {
  /** Only {@linkcode Database} and {@linkcode Transaction} extend it. */
  protected constructor() {}

  /** The database the statements run on. */
  abstract get database(): Database;

  /**
   * A batch: operations queued now, run in one transaction on
   * {@linkcode Batch.commit} (or with the transaction, for a
   * {@linkcode Transaction}).
   *
   * @returns An empty batch.
   */
  abstract batch(): Batch;

  /**
   * Runs SQL for its effects. Without arguments it may hold several
   * statements (each runs in turn); with arguments, exactly one.
   *
   * @param sql The SQL, with `?` placeholders.
   * @param args The placeholders' values.
   * @throws {SqlDatabaseError} `bad_args`, `closed`, or `sqlite_error`
   * when SQLite refuses it.
   */
  async execute(sql: string, args?: readonly SqlValue[]): Promise<void> {
    await runExecute(sendOf(this), sql, args);
  }

  /**
   * Runs one query.
   *
   * @param sql A statement that returns rows, with `?` placeholders.
   * @param args The placeholders' values.
   * @returns Its rows, as objects keyed by column name.
   * @throws {SqlDatabaseError} `bad_args`, `closed`, or `sqlite_error`.
   */
  async rawQuery<R extends object = SqlRow>(
    sql: string,
    args?: readonly SqlValue[],
  ): Promise<R[]> {
    return await runQuery<R>(sendOf(this), "rawQuery", sql, args);
  }

  /**
   * Runs one `INSERT`.
   *
   * @param sql The statement, with `?` placeholders.
   * @param args The placeholders' values.
   * @returns The new row's id (a `bigint` only beyond the safe range); 0
   * when no row was inserted.
   * @throws {SqlDatabaseError} `bad_args`, `closed`, or `sqlite_error`.
   */
  async rawInsert(
    sql: string,
    args?: readonly SqlValue[],
  ): Promise<number | bigint> {
    return await runStatement(sendOf(this), "rawInsert", "insert", sql, args);
  }

  /**
   * Runs one `UPDATE`.
   *
   * @param sql The statement, with `?` placeholders.
   * @param args The placeholders' values.
   * @returns How many rows changed.
   * @throws {SqlDatabaseError} `bad_args`, `closed`, or `sqlite_error`.
   */
  async rawUpdate(sql: string, args?: readonly SqlValue[]): Promise<number> {
    return await runStatement(sendOf(this), "rawUpdate", "update", sql, args);
  }

  /**
   * Runs one `DELETE`.
   *
   * @param sql The statement, with `?` placeholders.
   * @param args The placeholders' values.
   * @returns How many rows were deleted.
   * @throws {SqlDatabaseError} `bad_args`, `closed`, or `sqlite_error`.
   */
  async rawDelete(sql: string, args?: readonly SqlValue[]): Promise<number> {
    return await runStatement(sendOf(this), "rawDelete", "delete", sql, args);
  }

  /**
   * Selects rows from a table.
   *
   * @param table The table's name (quoted as an identifier).
   * @param options Columns, `where` with `whereArgs`, grouping, order and
   * paging.
   * @returns The rows.
   * @throws {RangeError} When `limit` or `offset` is not a non-negative
   * integer.
   * @throws {SqlDatabaseError} `bad_args`, `closed`, or `sqlite_error`.
   */
  async query<R extends object = SqlRow>(
    table: string,
    options?: QueryOptions,
  ): Promise<R[]> {
    const [sql, args] = buildQuery(table, options);
    return await runQuery<R>(sendOf(this), "query", sql, args);
  }

  /**
   * Inserts a row (`DEFAULT VALUES` when `values` is empty).
   *
   * @param table The table's name (quoted as an identifier).
   * @param values The row's values by column name (quoted as identifiers).
   * @param options The conflict algorithm.
   * @returns The new row's id; 0 when none was inserted (`ignore`).
   * @throws {RangeError} When the conflict algorithm is unknown.
   * @throws {SqlDatabaseError} `bad_args`, `closed`, or `sqlite_error`.
   */
  async insert(
    table: string,
    values: Readonly<Record<string, SqlValue>>,
    options?: InsertOptions,
  ): Promise<number | bigint> {
    const [sql, args] = buildInsert(table, values, options);
    return await runStatement(sendOf(this), "insert", "insert", sql, args);
  }

  /**
   * Updates rows.
   *
   * @param table The table's name (quoted as an identifier).
   * @param values The new values by column name (at least one).
   * @param options `where` with `whereArgs`, and the conflict algorithm.
   * @returns How many rows changed.
   * @throws {RangeError} When the conflict algorithm is unknown.
   * @throws {SqlDatabaseError} `bad_args`, `closed`, or `sqlite_error`.
   */
  async update(
    table: string,
    values: Readonly<Record<string, SqlValue>>,
    options?: UpdateOptions,
  ): Promise<number> {
    const [sql, args] = buildUpdate(table, values, options);
    return await runStatement(sendOf(this), "update", "update", sql, args);
  }

  /**
   * Deletes rows.
   *
   * @param table The table's name (quoted as an identifier).
   * @param options `where` with `whereArgs`; every row without.
   * @returns How many rows were deleted.
   * @throws {SqlDatabaseError} `bad_args`, `closed`, or `sqlite_error`.
   */
  async delete(table: string, options?: DeleteOptions): Promise<number> {
    const [sql, args] = buildDelete(table, options);
    return await runStatement(sendOf(this), "delete", "delete", sql, args);
  }
}

/** How each executor sends its statements (set by its constructor). */
const senders = new WeakMap<DatabaseExecutor, Send>();

function sendOf(executor: DatabaseExecutor): Send {
  return senders.get(executor)!;
}

let makeDatabase: (connection: Connection) => Database;
let makeTransaction: (
  database: Database,
  connection: Connection,
  state: TransactionState,
) => Transaction;
let makeBatch: (
  connection: Connection,
  state: TransactionState | null,
) => Batch;

/**
 * An open SQLite database, in the manner of sqflite's `Database`. Get one
 * with {@linkcode openDatabase}.
 *
 * Works the same on the main thread and in a background isolate (after
 * `BackgroundIsolateBinaryMessenger.ensureInitialized(token)`): an isolate
 * with file access opens its own connection (no hop to the main thread); a
 * sandboxed one is served by the main thread, within the allowed
 * directories. Many isolates may write the same file at once (WAL mode;
 * waiting writers retry up to `busyTimeout`); every commit is durable
 * (`synchronous = FULL`).
 *
 * Calls on one `Database` run one after another. Inside
 * {@linkcode Database.transaction}, use the `txn` it gives: a call on the
 * database waits for the transaction to end, so awaiting one inside the
 * transaction never finishes.
 *
 * Values are always bound, never spliced into SQL; table and column names
 * given to the helpers are quoted as identifiers. `node:sqlite` reads a
 * `TEXT` value only up to its first U+0000: select such columns with
 * `CAST(column AS BLOB)` (or store them as `BLOB`).
 *
 * @example CRUD with raw SQL and the helpers
 * ```ts
 * import { openDatabase } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const db = await openDatabase(":memory:", {
 *   version: 1,
 *   onCreate: (db) => db.execute("CREATE TABLE todo (id INTEGER PRIMARY KEY, title TEXT, done INTEGER)"),
 * });
 * const id = await db.insert("todo", { title: "write docs", done: 0 });
 * await db.rawInsert("INSERT INTO todo (title, done) VALUES (?, ?)", ["ship", 0]);
 * assert.equal(await db.update("todo", { done: 1 }, { where: "id = ?", whereArgs: [id] }), 1);
 * const open = await db.query<{ title: string }>("todo", { columns: ["title"], where: "done = 0" });
 * assert.deepEqual(open, [{ title: "ship" }]);
 * assert.equal(await db.delete("todo", { where: "done = ?", whereArgs: [1] }), 1);
 * assert.deepEqual(await db.rawQuery("SELECT COUNT(*) AS n FROM todo"), [{ n: 1 }]);
 * await db.close();
 * assert.equal(db.isOpen, false);
 * ```
 *
 * @example A transaction rolls back when its action throws
 * ```ts
 * import { openDatabase } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * await using db = await openDatabase(":memory:");
 * await db.execute("CREATE TABLE t (x)");
 * await assert.rejects(db.transaction(async (txn) => {
 *   await txn.insert("t", { x: 1 });
 *   throw new Error("changed my mind");
 * }), /changed my mind/);
 * assert.deepEqual(await db.query("t"), []);
 * ```
 */
export class Database extends DatabaseExecutor {
  readonly #connection: Connection;

  static {
    makeDatabase = (connection) => new Database(connection);
  }

  private constructor(connection: Connection) {
    super();
    this.#connection = connection;
    senders.set(
      this,
      (action, method, sql, args) =>
        connection.queued(action, method, [connection.handle, sql, args]),
    );
  }

  /**
   * The plugin behind every database (channel `isolates/sql_database`,
   * `auto` affinity), for tracing (`Plugin.addCallListener`,
   * `placement()`) and raw calls.
   */
  static get plugin(): Plugin<SqlDatabaseMethods> {
    return sqlPlugin;
  }

  /**
   * Lets sandboxed isolates (proxied to the main thread) open databases in
   * `directory` and below, besides the defaults: the databases directory,
   * the user data directory and the temp directory. Main thread only.
   *
   * @param directory The directory (relative to the working directory).
   * @returns A function that withdraws the permission.
   * @throws {TypeError} In a worker, or when `directory` is not a
   * non-empty string.
   */
  static allowDirectory(directory: string): () => void {
    if (!isMainThread) {
      throw new TypeError(
        "Cannot allow a database directory from a worker: only the main thread serves sandboxed isolates; call Database.allowDirectory() on the main thread",
      );
    }
    if (typeof directory !== "string" || directory === "") {
      throw new TypeError(
        `Cannot allow a database directory: it must be a non-empty string, got ${
          JSON.stringify(directory)
        }; pass a path`,
      );
    }
    const dir = nodePath!.resolve(directory);
    allowedDirectories.set(dir, (allowedDirectories.get(dir) ?? 0) + 1);
    let withdrawn = false;
    return () => {
      if (withdrawn) return;
      withdrawn = true;
      const count = (allowedDirectories.get(dir) ?? 1) - 1;
      if (count === 0) allowedDirectories.delete(dir);
      else allowedDirectories.set(dir, count);
    };
  }

  /** The database itself (for code written against DatabaseExecutor). */
  get database(): Database {
    return this;
  }

  /** The absolute path of the file (or `":memory:"`). */
  get path(): string {
    return this.#connection.path;
  }

  /** Whether the database is open (not yet closing). */
  get isOpen(): boolean {
    return this.#connection.closing === null;
  }

  /**
   * Reads the schema version (`PRAGMA user_version`).
   *
   * @returns The version; 0 for a new database.
   * @throws {SqlDatabaseError} When the database is closed.
   */
  async getVersion(): Promise<number> {
    const rows = await this.rawQuery<{ user_version: number }>(
      "PRAGMA user_version",
    );
    return Number(rows[0]?.user_version ?? 0);
  }

  /**
   * Sets the schema version (`PRAGMA user_version`).
   *
   * @param version A 32-bit integer.
   * @throws {RangeError} When `version` is not a 32-bit integer.
   * @throws {SqlDatabaseError} When the database is closed or read-only.
   */
  async setVersion(version: number): Promise<void> {
    if (!Number.isInteger(version) || Math.abs(version) > INT32_MAX) {
      throw new RangeError(
        `Cannot set the database version: "version" must be a 32-bit integer, got ${version}`,
      );
    }
    await this.execute(`PRAGMA user_version = ${version}`);
  }

  /**
   * A batch: operations queued now, run in one transaction on
   * {@linkcode Batch.commit}.
   *
   * @returns An empty batch.
   */
  batch(): Batch {
    return makeBatch(this.#connection, null);
  }

  /**
   * Runs `action` in a transaction (`BEGIN IMMEDIATE`): committed when it
   * resolves, rolled back when it throws. Use the `txn` it is given, not
   * the database (see the class notes).
   *
   * @param action The work; its `txn` is valid until it settles.
   * @param options `exclusive` for `BEGIN EXCLUSIVE`.
   * @returns What `action` returned.
   * @throws {SqlDatabaseError} When the database is closed, or beginning
   * or committing fails (after the busy timeout, say).
   * @throws What `action` threw, after the rollback.
   */
  async transaction<T>(
    action: (txn: Transaction) => T | Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    const connection = this.#connection;
    connection.assertOpen("begin a transaction");
    if (connection.setup) {
      // Inside openDatabase's own transaction: join it.
      const state: TransactionState = { active: true };
      try {
        return await action(makeTransaction(this, connection, state));
      } finally {
        state.active = false;
      }
    }
    const exclusive = options.exclusive ?? false;
    return await connection.serialize(async () => {
      connection.assertOpen("begin a transaction");
      await call("begin", [connection.handle, exclusive]);
      const state: TransactionState = { active: true };
      let result: T;
      try {
        result = await action(makeTransaction(this, connection, state));
      } catch (error) {
        state.active = false;
        await rollbackQuietly(connection);
        throw error;
      }
      state.active = false;
      try {
        await call("commit", connection.handle);
      } catch (error) {
        await rollbackQuietly(connection);
        throw error;
      }
      return result;
    });
  }

  /**
   * Closes the database, after the calls already queued (so inside a
   * transaction's action, awaiting it never finishes). Calling it again
   * returns the same promise.
   *
   * @returns When the connection is closed.
   */
  close(): Promise<void> {
    const connection = this.#connection;
    if (connection.closing !== null) return connection.closing;
    const close = (): Promise<void> =>
      call("close", connection.handle).then(() => {}, (error) => {
        // Already closed for us (the connection was dropped): done.
        if (error instanceof SqlDatabaseError && error.code === "closed") {
          return;
        }
        throw error;
      });
    connection.closing = connection.setup
      ? close()
      : connection.serialize(close);
    return connection.closing;
  }

  /** Closes the database, so callers can write `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * A transaction, as sqflite's `Transaction`: the executor
 * {@linkcode Database.transaction} gives its action. Its statements run
 * inside the transaction; once the action settles, it refuses new ones
 * (`closed`).
 *
 * @example
 * ```ts
 * import { openDatabase, SqlDatabaseError, type Transaction } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * await using db = await openDatabase(":memory:");
 * await db.execute("CREATE TABLE t (x)");
 * let kept: Transaction | undefined;
 * const n = await db.transaction(async (txn) => {
 *   kept = txn;
 *   await txn.insert("t", { x: 1 });
 *   await txn.insert("t", { x: 2 });
 *   return (await txn.query("t")).length;
 * });
 * assert.equal(n, 2);
 * await assert.rejects(kept!.insert("t", { x: 3 }), SqlDatabaseError);
 * ```
 */
export class Transaction extends DatabaseExecutor {
  readonly #database: Database;
  readonly #connection: Connection;
  readonly #state: TransactionState;

  static {
    makeTransaction = (database, connection, state) =>
      new Transaction(database, connection, state);
  }

  private constructor(
    database: Database,
    connection: Connection,
    state: TransactionState,
  ) {
    super();
    this.#database = database;
    this.#connection = connection;
    this.#state = state;
    senders.set(this, (action, method, sql, args) => {
      try {
        assertActive(connection, state, action);
      } catch (error) {
        return Promise.reject(error);
      }
      return call(method, [connection.handle, sql, args]);
    });
  }

  /** The database the transaction runs on. */
  get database(): Database {
    return this.#database;
  }

  /**
   * A batch that commits inside this transaction (it is applied when
   * {@linkcode Batch.commit} is called, and kept or rolled back with the
   * transaction).
   *
   * @returns An empty batch.
   */
  batch(): Batch {
    return makeBatch(this.#connection, this.#state);
  }
}

/**
 * A batch, as sqflite's `Batch`: operations queued with the executor's
 * methods (which return nothing), then run together by
 * {@linkcode Batch.commit} in one plugin call and one transaction.
 *
 * @example
 * ```ts
 * import { openDatabase, SqlDatabaseError } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * await using db = await openDatabase(":memory:");
 * const batch = db.batch();
 * batch.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)");
 * batch.insert("t", { name: "a" });
 * batch.insert("t", { name: "a" }); // breaks UNIQUE
 * batch.query("t", { columns: ["name"] });
 * const results = await batch.commit({ continueOnError: true });
 * assert.equal(results[1], 1);
 * assert.ok(results[2] instanceof SqlDatabaseError);
 * assert.deepEqual(results[3], [{ name: "a" }]);
 * ```
 */
export class Batch {
  readonly #connection: Connection;
  readonly #transaction: TransactionState | null;
  readonly #operations: SqlBatchOperation[] = [];
  #committed = false;

  static {
    makeBatch = (connection, state) => new Batch(connection, state);
  }

  private constructor(
    connection: Connection,
    transaction: TransactionState | null,
  ) {
    this.#connection = connection;
    this.#transaction = transaction;
  }

  /** How many operations are queued. */
  get length(): number {
    return this.#operations.length;
  }

  /**
   * Queues SQL run for its effects.
   *
   * @param sql The SQL.
   * @param args The placeholders' values.
   * @throws {SqlDatabaseError} `bad_args` for malformed SQL or values.
   */
  execute(sql: string, args?: readonly SqlValue[]): void {
    this.#add("execute", "execute", sql, args);
  }

  /**
   * Queues a query; its result is its rows.
   *
   * @param sql The query.
   * @param args The placeholders' values.
   * @throws {SqlDatabaseError} `bad_args` for malformed SQL or values.
   */
  rawQuery(sql: string, args?: readonly SqlValue[]): void {
    this.#add("rawQuery", "query", sql, args);
  }

  /**
   * Queues an `INSERT`; its result is the new row id.
   *
   * @param sql The statement.
   * @param args The placeholders' values.
   * @throws {SqlDatabaseError} `bad_args` for malformed SQL or values.
   */
  rawInsert(sql: string, args?: readonly SqlValue[]): void {
    this.#add("rawInsert", "insert", sql, args);
  }

  /**
   * Queues an `UPDATE`; its result is how many rows changed.
   *
   * @param sql The statement.
   * @param args The placeholders' values.
   * @throws {SqlDatabaseError} `bad_args` for malformed SQL or values.
   */
  rawUpdate(sql: string, args?: readonly SqlValue[]): void {
    this.#add("rawUpdate", "update", sql, args);
  }

  /**
   * Queues a `DELETE`; its result is how many rows were deleted.
   *
   * @param sql The statement.
   * @param args The placeholders' values.
   * @throws {SqlDatabaseError} `bad_args` for malformed SQL or values.
   */
  rawDelete(sql: string, args?: readonly SqlValue[]): void {
    this.#add("rawDelete", "delete", sql, args);
  }

  /**
   * Queues a table query (see {@linkcode Database.query}).
   *
   * @param table The table's name.
   * @param options The query's parts.
   * @throws {RangeError} When `limit` or `offset` is not a non-negative
   * integer.
   * @throws {SqlDatabaseError} `bad_args` for bad names or values.
   */
  query(table: string, options?: QueryOptions): void {
    const [sql, args] = buildQuery(table, options);
    this.#operations.push(["query", sql, args]);
  }

  /**
   * Queues a row insert (see {@linkcode Database.insert}).
   *
   * @param table The table's name.
   * @param values The row's values by column name.
   * @param options The conflict algorithm.
   * @throws {RangeError} When the conflict algorithm is unknown.
   * @throws {SqlDatabaseError} `bad_args` for bad names or values.
   */
  insert(
    table: string,
    values: Readonly<Record<string, SqlValue>>,
    options?: InsertOptions,
  ): void {
    const [sql, args] = buildInsert(table, values, options);
    this.#operations.push(["insert", sql, args]);
  }

  /**
   * Queues an update (see {@linkcode Database.update}).
   *
   * @param table The table's name.
   * @param values The new values by column name.
   * @param options `where` with `whereArgs`, and the conflict algorithm.
   * @throws {RangeError} When the conflict algorithm is unknown.
   * @throws {SqlDatabaseError} `bad_args` for bad names or values.
   */
  update(
    table: string,
    values: Readonly<Record<string, SqlValue>>,
    options?: UpdateOptions,
  ): void {
    const [sql, args] = buildUpdate(table, values, options);
    this.#operations.push(["update", sql, args]);
  }

  /**
   * Queues a delete (see {@linkcode Database.delete}).
   *
   * @param table The table's name.
   * @param options `where` with `whereArgs`.
   * @throws {SqlDatabaseError} `bad_args` for bad names or values.
   */
  delete(table: string, options?: DeleteOptions): void {
    const [sql, args] = buildDelete(table, options);
    this.#operations.push(["delete", sql, args]);
  }

  /**
   * Runs every queued operation, in order, in one transaction (the
   * enclosing one for a batch made by a `Transaction`). A batch commits
   * once.
   *
   * @param options `noResult`, `continueOnError`.
   * @returns One result per operation (none with `noResult`).
   * @throws {SqlDatabaseError} The first failure (after rolling the batch
   * back) unless `continueOnError`; `bad_state` when committed before;
   * `closed` when the database or transaction is.
   */
  async commit(options: BatchCommitOptions = {}): Promise<BatchResult[]> {
    if (this.#committed) {
      throw new SqlDatabaseError(
        "bad_state",
        "Cannot commit the batch: it was committed already; create a new batch",
      );
    }
    const connection = this.#connection;
    const noResult = options.noResult ?? false;
    const continueOnError = options.continueOnError ?? false;
    const operations = this.#operations;
    let outcomes: SqlBatchOutcome[];
    if (this.#transaction !== null) {
      assertActive(connection, this.#transaction, "commit a batch");
      this.#committed = true;
      outcomes = await call("batch", [
        connection.handle,
        operations,
        noResult,
        continueOnError,
        true,
      ]);
    } else {
      this.#committed = true;
      outcomes = await connection.queued("commit a batch", "batch", [
        connection.handle,
        operations,
        noResult,
        continueOnError,
        connection.setup,
      ]);
    }
    return outcomes.map((outcome, index) => {
      if (outcome[0] === "error") {
        const [, code, message, resultCode] = outcome;
        return new SqlDatabaseError(
          SqlDatabaseError.isCode(code) ? code : "sqlite_error",
          message,
          { resultCode, sql: operations[index]?.[1] ?? null },
        );
      }
      const value = outcome[1];
      return Array.isArray(value) ? rowsFrom(value) : value;
    });
  }

  #add(
    action: string,
    kind: SqlBatchOperation[0],
    sql: string,
    args: readonly SqlValue[] | undefined,
  ): void {
    this.#operations.push([
      kind,
      checkSql(sql, action),
      checkArgs(args, action),
    ]);
  }
}

/**
 * Opens (creating if needed) a SQLite database, as sqflite's
 * `openDatabase`, and runs the version callbacks. `path` is absolute, or
 * relative to {@linkcode getDatabasesPath}; `":memory:"` opens a private
 * in-memory database.
 *
 * From a sandboxed isolate (no file access), the call is proxied to the
 * main thread, which only opens files under the databases directory, the
 * user data directory, the temp directory and the directories allowed
 * with {@linkcode Database.allowDirectory}.
 *
 * @example Versions: create, then upgrade
 * ```ts
 * import { openDatabase } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 * import { join } from "node:path";
 *
 * const path = join(await Deno.makeTempDir(), "app.db");
 * const v1 = await openDatabase(path, {
 *   version: 1,
 *   onCreate: (db) => db.execute("CREATE TABLE user (id INTEGER PRIMARY KEY, name TEXT)"),
 * });
 * await v1.insert("user", { name: "Ada" });
 * await v1.close();
 *
 * const steps: string[] = [];
 * const v2 = await openDatabase(path, {
 *   version: 2,
 *   onUpgrade: async (db, from, to) => {
 *     steps.push(`${from}->${to}`);
 *     await db.execute("ALTER TABLE user ADD COLUMN email TEXT");
 *   },
 * });
 * assert.deepEqual(steps, ["1->2"]);
 * assert.deepEqual(await v2.query("user"), [{ id: 1, name: "Ada", email: null }]);
 * await v2.close();
 * ```
 *
 * @param path The file: absolute, relative to the databases directory, or
 * `":memory:"`.
 * @param options Version, callbacks, `readOnly`, `busyTimeout`.
 * @returns The open database.
 * @throws {TypeError} When `path` is not a string.
 * @throws {RangeError} When `version` is not a positive 32-bit integer, or
 * `busyTimeout` not a non-negative number.
 * @throws {SqlDatabaseError} `open_failed`, `path_not_allowed` (a
 * sandboxed caller outside the allowed directories), `bad_args`, or what
 * the callbacks' statements failed with.
 * @throws {MissingPluginException} In a worker that did not call
 * `BackgroundIsolateBinaryMessenger.ensureInitialized(token)`.
 */
export async function openDatabase(
  path: string,
  options: OpenDatabaseOptions = {},
): Promise<Database> {
  if (typeof path !== "string") {
    throw new TypeError(
      `Cannot open a database: the path must be a string, got ${typeof path}; pass a file path or ":memory:"`,
    );
  }
  const { version, readOnly = false, busyTimeout = 5000 } = options;
  if (
    version !== undefined &&
    (!Number.isInteger(version) || version < 1 || version > INT32_MAX)
  ) {
    throw new RangeError(
      `Cannot open database "${path}": "version" must be a positive 32-bit integer, got ${version}`,
    );
  }
  if (
    typeof busyTimeout !== "number" || !Number.isFinite(busyTimeout) ||
    busyTimeout < 0
  ) {
    throw new RangeError(
      `Cannot open database "${path}": "busyTimeout" must be a non-negative number of ms, got ${busyTimeout}`,
    );
  }
  const [handle, resolved] = await call("open", [
    path,
    readOnly === true,
    busyTimeout,
  ]);
  const connection = new Connection(handle, resolved);
  const db = makeDatabase(connection);
  try {
    await options.onConfigure?.(db);
    if (version !== undefined && readOnly !== true) {
      await migrate(db, connection, options, version);
    }
    await options.onOpen?.(db);
  } catch (error) {
    connection.setup = false;
    await db.close().catch(() => {
      // The open's own error says more.
    });
    throw error;
  }
  return db;
}

/**
 * The directory relative database paths are resolved in:
 * `<user data directory>/databases` (the user data directory is
 * `ISOLATES_DATA_DIR` when set), created if missing. From a sandboxed
 * isolate it is the main thread's.
 *
 * @example
 * ```ts
 * import { getDatabasesPath } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 * import { join } from "node:path";
 *
 * const dir = await Deno.makeTempDir();
 * Deno.env.set("ISOLATES_DATA_DIR", dir);
 * assert.equal(await getDatabasesPath(), join(dir, "databases"));
 * assert.ok((await Deno.stat(join(dir, "databases"))).isDirectory);
 * ```
 *
 * @returns The absolute path of the databases directory.
 * @throws {SqlDatabaseError} `open_failed` when it cannot be created.
 * @throws {DataDirectoryError} (as a `PlatformException` with code
 * `"error"`) when no data directory can be located.
 */
export async function getDatabasesPath(): Promise<string> {
  return await call("getDatabasesPath", null);
}

/** Runs the version callbacks in one transaction (see OpenDatabaseOptions). */
async function migrate(
  db: Database,
  connection: Connection,
  options: OpenDatabaseOptions,
  version: number,
): Promise<void> {
  if (await db.getVersion() === version) return;
  await connection.serialize(async () => {
    await call("begin", [connection.handle, false]);
    connection.setup = true;
    try {
      // Read again under the write lock: another isolate may have just
      // created (or upgraded) the same file.
      const old = await db.getVersion();
      if (old !== version) {
        if (old === 0 && options.onCreate !== undefined) {
          await options.onCreate(db, version);
        } else if (version > old) {
          await options.onUpgrade?.(db, old, version);
        } else {
          await options.onDowngrade?.(db, old, version);
        }
        await db.setVersion(version);
      }
      connection.setup = false;
      await call("commit", connection.handle);
    } catch (error) {
      connection.setup = false;
      await rollbackQuietly(connection);
      throw error;
    }
  });
}

async function rollbackQuietly(connection: Connection): Promise<void> {
  try {
    await call("rollback", connection.handle);
  } catch {
    // Closed meanwhile: SQLite rolled back when the connection closed.
  }
}

function assertActive(
  connection: Connection,
  state: TransactionState,
  action: string,
): void {
  connection.assertOpen(action);
  if (!state.active) {
    throw new SqlDatabaseError(
      "closed",
      `Cannot ${action} on "${connection.path}": the transaction has ended; run it on the database, or in a new transaction`,
    );
  }
}

// ---------------------------------------------------------------------------
// Statements

async function runExecute(
  send: Send,
  sql: string,
  args: readonly SqlValue[] | undefined,
): Promise<void> {
  await send(
    "execute",
    "execute",
    checkSql(sql, "execute"),
    checkArgs(args, "execute"),
  );
}

async function runQuery<R>(
  send: Send,
  action: string,
  sql: string,
  args: readonly SqlValue[] | undefined,
): Promise<R[]> {
  const result = await send(
    action,
    "query",
    checkSql(sql, action),
    checkArgs(args, action),
  );
  return rowsFrom(result) as R[];
}

async function runStatement<K extends "insert" | "update" | "delete">(
  send: Send,
  action: string,
  method: K,
  sql: string,
  args: readonly SqlValue[] | undefined,
): Promise<SqlDatabaseMethods[K]["result"]> {
  return await send(
    action,
    method,
    checkSql(sql, action),
    checkArgs(args, action),
  );
}

/** `[columns, rows]` as row objects (a repeated name keeps the last). */
function rowsFrom([columns, rows]: [string[], SqlValue[][]]): SqlRow[] {
  return rows.map((row) =>
    Object.fromEntries(columns.map((name, index) => [name, row[index]]))
  );
}

function checkSql(sql: unknown, action: string): string {
  if (typeof sql !== "string") {
    throw badArgs(action, `the SQL must be a string, got ${describe(sql)}`);
  }
  return sql;
}

function checkArgs(
  args: readonly unknown[] | undefined,
  action: string,
): SqlValue[] {
  if (args === undefined) return [];
  if (!Array.isArray(args)) {
    throw badArgs(
      action,
      `the arguments must be an array, got ${describe(args)}`,
    );
  }
  return args.map((value, index) =>
    checkValue(value, action, `argument ${index}`)
  );
}

function checkValue(value: unknown, action: string, what: string): SqlValue {
  if (
    value === null || typeof value === "number" || typeof value === "string" ||
    value instanceof Uint8Array
  ) {
    return value;
  }
  if (typeof value === "bigint") {
    if (value >= INT64_MIN && value <= INT64_MAX) return value;
    throw badArgs(
      action,
      `${what} (${value}) is outside SQLite's 64-bit integer range`,
    );
  }
  throw badArgs(
    action,
    `${what} is ${
      value === undefined ? "undefined" : `a ${describe(value)}`
    }, which SQLite cannot store (use null, a number, a bigint, a string or a Uint8Array)`,
  );
}

/** Quotes a table or column name as a SQL identifier. */
function identifier(name: unknown, action: string, what: string): string {
  if (typeof name !== "string" || name === "" || name.includes("\0")) {
    throw badArgs(
      action,
      `the ${what} must be a non-empty string without U+0000, got ${
        JSON.stringify(name) ?? describe(name)
      }`,
    );
  }
  return `"${name.replaceAll('"', '""')}"`;
}

function clause(value: unknown, action: string, option: string): string {
  if (typeof value !== "string") {
    throw badArgs(
      action,
      `"${option}" must be a string of SQL, got ${describe(value)}`,
    );
  }
  return value;
}

function count(value: unknown, action: string, option: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot ${action}: "${option}" must be a non-negative integer, got ${
        String(value)
      }`,
    );
  }
  return value;
}

function conflict(
  algorithm: ConflictAlgorithm | undefined,
  action: string,
): string {
  if (algorithm === undefined) return "";
  if (!Object.values(ConflictAlgorithm).includes(algorithm)) {
    throw new RangeError(
      `Cannot ${action}: "conflictAlgorithm" must be one of ${
        Object.values(ConflictAlgorithm).map((name) => `"${name}"`).join(", ")
      }, got ${JSON.stringify(algorithm)}`,
    );
  }
  return ` OR ${algorithm.toUpperCase()}`;
}

function columnsOf(
  values: unknown,
  action: string,
): [names: string[], args: SqlValue[]] {
  if (
    typeof values !== "object" || values === null || Array.isArray(values) ||
    values instanceof Map || values instanceof Uint8Array
  ) {
    throw badArgs(
      action,
      `the values must be an object of column names, got ${describe(values)}`,
    );
  }
  const names = Object.keys(values);
  const args = names.map((name) =>
    checkValue(
      (values as Record<string, unknown>)[name],
      action,
      `the value of column "${name}"`,
    )
  );
  return [names.map((name) => identifier(name, action, "column name")), args];
}

function buildQuery(
  table: string,
  options: QueryOptions = {},
): [string, SqlValue[]] {
  const action = "query";
  const columns = options.columns === undefined || options.columns.length === 0
    ? "*"
    : options.columns.map((name) => identifier(name, action, "column name"))
      .join(", ");
  let sql = `SELECT ${options.distinct === true ? "DISTINCT " : ""}${columns}` +
    ` FROM ${identifier(table, action, "table name")}`;
  if (options.where !== undefined) {
    sql += ` WHERE ${clause(options.where, action, "where")}`;
  }
  if (options.groupBy !== undefined) {
    sql += ` GROUP BY ${clause(options.groupBy, action, "groupBy")}`;
  }
  if (options.having !== undefined) {
    sql += ` HAVING ${clause(options.having, action, "having")}`;
  }
  if (options.orderBy !== undefined) {
    sql += ` ORDER BY ${clause(options.orderBy, action, "orderBy")}`;
  }
  // Validated integers: written into the SQL, so they take no placeholder
  // after those of the clauses.
  if (options.limit !== undefined) {
    sql += ` LIMIT ${count(options.limit, action, "limit")}`;
  }
  if (options.offset !== undefined) {
    if (options.limit === undefined) sql += " LIMIT -1";
    sql += ` OFFSET ${count(options.offset, action, "offset")}`;
  }
  return [sql, checkArgs(options.whereArgs, action)];
}

function buildInsert(
  table: string,
  values: Readonly<Record<string, SqlValue>>,
  options: InsertOptions = {},
): [string, SqlValue[]] {
  const action = "insert";
  const head = `INSERT${conflict(options.conflictAlgorithm, action)} INTO ${
    identifier(table, action, "table name")
  }`;
  const [names, args] = columnsOf(values, action);
  if (names.length === 0) return [`${head} DEFAULT VALUES`, []];
  return [
    `${head} (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})`,
    args,
  ];
}

function buildUpdate(
  table: string,
  values: Readonly<Record<string, SqlValue>>,
  options: UpdateOptions = {},
): [string, SqlValue[]] {
  const action = "update";
  const [names, args] = columnsOf(values, action);
  if (names.length === 0) {
    throw badArgs(action, "the values are empty; set at least one column");
  }
  let sql = `UPDATE${conflict(options.conflictAlgorithm, action)} ${
    identifier(table, action, "table name")
  } SET ${names.map((name) => `${name} = ?`).join(", ")}`;
  if (options.where !== undefined) {
    sql += ` WHERE ${clause(options.where, action, "where")}`;
  }
  return [sql, [...args, ...checkArgs(options.whereArgs, action)]];
}

function buildDelete(
  table: string,
  options: DeleteOptions = {},
): [string, SqlValue[]] {
  const action = "delete";
  let sql = `DELETE FROM ${identifier(table, action, "table name")}`;
  if (options.where !== undefined) {
    sql += ` WHERE ${clause(options.where, action, "where")}`;
  }
  return [sql, checkArgs(options.whereArgs, action)];
}

function badArgs(action: string, state: string): SqlDatabaseError {
  return new SqlDatabaseError(
    "bad_args",
    `Cannot ${action}: ${state}; fix the call's arguments`,
  );
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "object") {
    return (value as object).constructor?.name ?? "object";
  }
  return typeof value;
}
