/**
 * The platform side of the SQL database plugin: its methods over
 * `node:sqlite` connections. It runs in whichever isolate a call is placed
 * in: a worker with file access keeps its own connections; the main thread
 * keeps its own and those of the sandboxed workers it serves, by (caller,
 * handle). Loaded with the first call (see `sql_database.ts`).
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { tmpdir } from "node:os";
import {
  basename,
  dirname,
  isAbsolute,
  join,
  relative,
  resolve,
  sep,
} from "node:path";
import type { PluginContext } from "./plugin.ts";
import { userDataDirectory } from "./_data_dir.ts";
import { isMainThread } from "../isolate/_thread.ts";
import { SqlDatabaseError } from "./sql_database_error.ts";

/** A value SQLite stores, as it crosses the plugin's channel. */
export type WireValue = null | number | bigint | string | Uint8Array;
/** A query's result: its column names and its rows, as arrays. */
export type WireRows = [columns: string[], rows: WireValue[][]];
/** What a batch operation does. */
export type BatchKind = "execute" | "query" | "insert" | "update" | "delete";
/** One operation of a batch. */
export type WireOperation = [kind: BatchKind, sql: string, args: WireValue[]];
/** The outcome of one batch operation. */
export type WireOutcome =
  | ["ok", null | number | bigint | WireRows]
  | ["error", code: string, message: string, resultCode: number | null];

/** What the main thread tells the platform side about sandboxed callers. */
export interface AccessPolicy {
  /** Directories, beyond the defaults, proxied calls may open files in. */
  allowed(): Iterable<string>;
  /**
   * Calls `onGone` once when the isolate ends; returns a function that stops
   * watching.
   */
  watch(isolate: string, onGone: () => void): () => void;
}

/**
 * On the main thread SQLite's own busy handler sleeps the thread, and a
 * lock held by another connection of the same thread (a sandboxed worker's
 * transaction) cannot be released while it sleeps: wait this little there,
 * then retry from the event loop.
 */
const MAIN_BUSY_TIMEOUT_MS = 10;
/** The longest pause between two retries of a busy statement. */
const MAX_BACKOFF_MS = 50;
/** How much SQL an error message quotes. */
const QUOTED_SQL = 60;

// SQLite's authorizer codes (sqlite3.h).
const SQLITE_OK = 0;
const SQLITE_DENY = 1;
const SQLITE_PRAGMA = 19;
const SQLITE_ATTACH = 24;
/** Pragmas that point SQLite at other directories: refused to sandboxes. */
const DIRECTORY_PRAGMAS = new Set([
  "temp_store_directory",
  "data_store_directory",
]);

/**
 * What this Deno's `node:sqlite` offers beyond its bundled type definitions
 * (checked at run time: a missing feature degrades, it does not fail).
 */
interface DatabaseExtras {
  limits?: { attach: number };
  enableDefensive?(active: boolean): void;
  setAuthorizer?(
    callback: ((action: number, arg1: string | null) => number) | null,
  ): void;
}
interface StatementExtras {
  setReturnArrays?(enabled: boolean): void;
}

/** An open connection, in the isolate that serves its calls. */
interface Connection {
  readonly id: number;
  readonly db: DatabaseSync;
  readonly path: string;
  /** The isolate that opened it: the only one that may use it. */
  readonly owner: string;
  /** How long a statement may wait for another connection's lock, in ms. */
  readonly busyTimeout: number;
}

/** The connections a sandboxed isolate keeps on the main thread. */
interface Owner {
  readonly handles: Set<number>;
  /** Opens in flight: the record must outlive them. */
  pending: number;
  gone: boolean;
  unwatch: () => void;
}

const connections = new Map<number, Connection>();
const owners = new Map<string, Owner>();
let nextHandle = 1;

/** `<userDataDirectory()>/databases`. */
export function databasesDirectory(): string {
  return join(userDataDirectory(), "databases");
}

/** The databases directory, created if missing. */
export function getDatabasesPath(): string {
  const dir = databasesDirectory();
  try {
    Deno.mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new SqlDatabaseError(
      "open_failed",
      `Cannot create the databases directory "${dir}": ${
        messageOf(error)
      }; set ISOLATES_DATA_DIR to a writable directory`,
    );
  }
  return dir;
}

/** Opens a connection: `[path, readOnly, busyTimeout]` → `[handle, path]`. */
export async function open(
  args: unknown,
  context: PluginContext,
  policy: AccessPolicy,
): Promise<[number, string]> {
  if (
    !Array.isArray(args) || args.length !== 3 || typeof args[0] !== "string" ||
    typeof args[1] !== "boolean" || typeof args[2] !== "number" ||
    !(args[2] >= 0) || !Number.isFinite(args[2])
  ) {
    throw badArgs(
      "open a database",
      "the arguments must be [path, readOnly, busyTimeout]",
    );
  }
  const [path, readOnly, busyTimeout] = args as [string, boolean, number];
  if (path === "" || path.includes("\0")) {
    throw badArgs(
      "open a database",
      `the path ${JSON.stringify(path)} is empty or holds U+0000`,
    );
  }
  const proxied = context.placement === "proxied";
  const owner = proxied ? ownerOf(context.caller, policy) : null;
  if (owner !== null) owner.pending++;
  try {
    const target = path === ":memory:"
      ? path
      : resolve(databasesDirectory(), path);
    if (proxied && target !== ":memory:") {
      assertAllowed(target, context.caller, policy);
    }
    const db = connect(target, readOnly, busyTimeout, proxied);
    const connection: Connection = {
      id: nextHandle++,
      db,
      path: target,
      owner: context.caller,
      busyTimeout,
    };
    try {
      if (!readOnly && target !== ":memory:") {
        // Every isolate may open the file at once: switching to WAL takes a
        // lock another one may hold.
        await retrying(connection, "switch to WAL mode", () => {
          db.prepare("PRAGMA journal_mode = WAL").get();
        });
        db.prepare("PRAGMA synchronous = FULL").run();
      }
    } catch (error) {
      db.close();
      const failure = sqliteError(
        connection,
        "switch to WAL mode",
        error,
        null,
      );
      throw new SqlDatabaseError("open_failed", failure.message, {
        resultCode: failure.resultCode,
      });
    }
    if (owner?.gone === true) {
      // The caller ended while its open was in flight: nobody will close it.
      db.close();
      throw new SqlDatabaseError(
        "closed",
        `Cannot open "${target}" for isolate ${context.caller}: the isolate has ended; open it from a running isolate`,
      );
    }
    connections.set(connection.id, connection);
    owner?.handles.add(connection.id);
    return [connection.id, target];
  } finally {
    if (owner !== null) {
      owner.pending--;
      forgetIfIdle(context.caller, owner);
    }
  }
}

/** Closes a connection (rolling back an open transaction). */
export function close(args: unknown, context: PluginContext): null {
  const connection = connectionOf(args, context, "close the database");
  drop(connection);
  return null;
}

/** Runs statements for their effects: `[handle, sql, args]`. */
export async function execute(
  args: unknown,
  context: PluginContext,
): Promise<null> {
  const [connection, sql, values] = statementArgs(args, context, "execute");
  await runScript(connection, sql, values);
  return null;
}

/** Runs a query: `[handle, sql, args]` → `[columns, rows]`. */
export async function query(
  args: unknown,
  context: PluginContext,
): Promise<WireRows> {
  const [connection, sql, values] = statementArgs(args, context, "query");
  return await runOne(
    connection,
    sql,
    (statement) => rowsOf(statement, values),
  );
}

/** Runs an insert: `[handle, sql, args]` → the new row id (0: none). */
export async function insert(
  args: unknown,
  context: PluginContext,
): Promise<number | bigint> {
  const [connection, sql, values] = statementArgs(args, context, "insert");
  return await runOne(
    connection,
    sql,
    (statement) => insertOf(statement, values),
  );
}

/** Runs an update or a delete: `[handle, sql, args]` → rows changed. */
export async function update(
  args: unknown,
  context: PluginContext,
): Promise<number> {
  const [connection, sql, values] = statementArgs(args, context, "update");
  return await runOne(
    connection,
    sql,
    (statement) => changesOf(statement, values),
  );
}

/** Starts a transaction: `[handle, exclusive]`. */
export async function begin(
  args: unknown,
  context: PluginContext,
): Promise<null> {
  if (
    !Array.isArray(args) || args.length !== 2 || typeof args[1] !== "boolean"
  ) {
    throw badArgs(
      "begin a transaction",
      "the arguments must be [handle, exclusive]",
    );
  }
  const connection = connectionOf(args[0], context, "begin a transaction");
  const sql = args[1] ? "BEGIN EXCLUSIVE" : "BEGIN IMMEDIATE";
  await retrying(connection, "begin a transaction", () => {
    connection.db.prepare(sql).run();
  });
  return null;
}

/** Commits the transaction: `handle`. */
export async function commit(
  args: unknown,
  context: PluginContext,
): Promise<null> {
  const connection = connectionOf(args, context, "commit");
  // COMMIT may be retried after SQLITE_BUSY: the transaction stays open.
  await retrying(connection, "commit", () => {
    connection.db.prepare("COMMIT").run();
  }, true);
  return null;
}

/** Rolls the transaction back, if one is open: `handle`. */
export function rollback(args: unknown, context: PluginContext): null {
  const connection = connectionOf(args, context, "roll back");
  // SQLite may have rolled it back already (after some errors).
  if (connection.db.isTransaction) {
    try {
      connection.db.prepare("ROLLBACK").run();
    } catch (error) {
      throw sqliteError(connection, "roll back", error, "ROLLBACK");
    }
  }
  return null;
}

/**
 * Runs a batch: `[handle, operations, noResult, continueOnError,
 * inTransaction]` → one outcome per operation (none with `noResult`). Unless
 * the caller is in a transaction already, the batch runs in its own, and a
 * failure (without `continueOnError`) rolls it all back.
 */
export async function batch(
  args: unknown,
  context: PluginContext,
): Promise<WireOutcome[]> {
  if (
    !Array.isArray(args) || args.length !== 5 || !Array.isArray(args[1]) ||
    typeof args[2] !== "boolean" || typeof args[3] !== "boolean" ||
    typeof args[4] !== "boolean"
  ) {
    throw badArgs(
      "commit a batch",
      "the arguments must be [handle, operations, noResult, continueOnError, inTransaction]",
    );
  }
  const operations = (args[1] as unknown[]).map((operation, index) =>
    operationOf(operation, index)
  );
  const connection = connectionOf(args[0], context, "commit a batch");
  const [, , noResult, continueOnError, inTransaction] = args as [
    unknown,
    unknown,
    boolean,
    boolean,
    boolean,
  ];
  const { db } = connection;
  if (!inTransaction) {
    await retrying(connection, "begin a batch", () => {
      db.prepare("BEGIN IMMEDIATE").run();
    });
  }
  const outcomes: WireOutcome[] = [];
  try {
    for (const [kind, sql, values] of operations) {
      try {
        const result = runOperation(connection, kind, sql, values);
        if (!noResult) outcomes.push(["ok", result]);
      } catch (error) {
        if (!continueOnError) throw error;
        const failure = error instanceof SqlDatabaseError
          ? error
          : sqliteError(connection, kind, error, sql);
        if (!noResult) {
          outcomes.push([
            "error",
            failure.code,
            failure.message,
            failure.resultCode,
          ]);
        }
      }
    }
    if (!inTransaction) {
      await retrying(connection, "commit a batch", () => {
        db.prepare("COMMIT").run();
      }, true);
    }
  } catch (error) {
    if (!inTransaction && db.isOpen && db.isTransaction) {
      try {
        db.prepare("ROLLBACK").run();
      } catch {
        // The batch's own error says more; SQLite rolls back on close.
      }
    }
    throw error;
  }
  return outcomes;
}

// ---------------------------------------------------------------------------
// Connections

function connect(
  target: string,
  readOnly: boolean,
  busyTimeout: number,
  proxied: boolean,
): DatabaseSync {
  if (!readOnly && target !== ":memory:") {
    try {
      Deno.mkdirSync(dirname(target), { recursive: true });
    } catch (error) {
      throw new SqlDatabaseError(
        "open_failed",
        `Cannot open "${target}": creating its directory failed (${
          messageOf(error)
        }); choose a writable path`,
      );
    }
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(target, {
      readOnly,
      timeout: isMainThread
        ? Math.min(MAIN_BUSY_TIMEOUT_MS, busyTimeout)
        : busyTimeout,
      // sqflite's default (SQLite's): turn them on in onConfigure.
      enableForeignKeyConstraints: false,
    });
  } catch (error) {
    throw new SqlDatabaseError(
      "open_failed",
      `Cannot open "${target}": SQLite says "${messageOf(error)}"; ${
        readOnly
          ? "a read-only open needs an existing database file"
          : "choose a writable path to a SQLite file"
      }`,
    );
  }
  if (proxied) sandbox(db, target);
  return db;
}

/**
 * Keeps a sandboxed caller's connection to its file: no ATTACH (nor VACUUM
 * INTO, which attaches), which would open any path with the main thread's
 * permissions, no pragma that moves files elsewhere, and SQLite's defensive
 * mode. Extensions stay off (`node:sqlite`'s default).
 */
function sandbox(db: DatabaseSync, target: string): void {
  const extras = db as unknown as DatabaseExtras;
  let attachBlocked = false;
  if (extras.limits !== undefined) {
    extras.limits.attach = 0;
    attachBlocked = extras.limits.attach === 0;
  }
  if (typeof extras.setAuthorizer === "function") {
    extras.setAuthorizer((action, arg1) =>
      action === SQLITE_ATTACH ||
        (action === SQLITE_PRAGMA &&
          DIRECTORY_PRAGMAS.has(String(arg1).toLowerCase()))
        ? SQLITE_DENY
        : SQLITE_OK
    );
    attachBlocked = true;
  }
  extras.enableDefensive?.(true);
  if (!attachBlocked) {
    db.close();
    throw new SqlDatabaseError(
      "open_failed",
      `Cannot open "${target}" for a sandboxed isolate: this Deno's node:sqlite cannot forbid ATTACH; upgrade Deno, or give the isolate file access`,
    );
  }
}

function ownerOf(caller: string, policy: AccessPolicy): Owner {
  let owner = owners.get(caller);
  if (owner === undefined) {
    const created: Owner = {
      handles: new Set(),
      pending: 0,
      gone: false,
      unwatch: () => {},
    };
    owners.set(caller, created);
    created.unwatch = policy.watch(caller, () => {
      // The isolate died: close what it left open (rolling back its
      // transaction, which would otherwise hold the write lock forever).
      created.gone = true;
      owners.delete(caller);
      for (const handle of created.handles) {
        const connection = connections.get(handle);
        if (connection !== undefined) drop(connection);
      }
    });
    owner = created;
  }
  return owner;
}

function forgetIfIdle(caller: string, owner: Owner): void {
  if (owner.handles.size === 0 && owner.pending === 0 && !owner.gone) {
    owner.unwatch();
    owners.delete(caller);
  }
}

function drop(connection: Connection): void {
  connections.delete(connection.id);
  const owner = owners.get(connection.owner);
  if (owner !== undefined) {
    owner.handles.delete(connection.id);
    forgetIfIdle(connection.owner, owner);
  }
  if (connection.db.isOpen) connection.db.close();
}

function connectionOf(
  handle: unknown,
  context: PluginContext,
  action: string,
): Connection {
  if (
    typeof handle !== "number" || !Number.isSafeInteger(handle) || handle < 1
  ) {
    throw badArgs(
      action,
      `the handle must be a positive integer, got ${describe(handle)}`,
    );
  }
  const connection = connections.get(handle);
  // Another isolate's handle is as unknown as a closed one.
  if (connection === undefined || connection.owner !== context.caller) {
    throw new SqlDatabaseError(
      "closed",
      `Cannot ${action}: database handle ${handle} is not open for isolate ${context.caller}; open the database again`,
    );
  }
  return connection;
}

// ---------------------------------------------------------------------------
// Paths

/** Refuses a sandboxed caller a file outside the allowed directories. */
function assertAllowed(
  target: string,
  caller: string,
  policy: AccessPolicy,
): void {
  const roots = [
    databasesDirectory(),
    userDataDirectory(),
    tmpdir(),
    ...policy.allowed(),
  ];
  const real = realTarget(target, caller);
  for (const root of roots) {
    const base = resolve(root);
    if (within(real, base)) return;
    let realBase: string;
    try {
      realBase = Deno.realPathSync(base);
    } catch {
      continue;
    }
    if (within(real, realBase)) return;
  }
  throw notAllowed(
    target,
    caller,
    "it is outside the directories a sandboxed isolate may use",
  );
}

/**
 * The real path `target` would open: symbolic links resolved in the part
 * that exists (so a link cannot lead out of an allowed directory).
 */
function realTarget(target: string, caller: string): string {
  const rest: string[] = [];
  let current = target;
  while (true) {
    try {
      return join(Deno.realPathSync(current), ...rest.reverse());
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        throw notAllowed(
          target,
          caller,
          `its real path cannot be checked (${messageOf(error)})`,
        );
      }
    }
    let exists = true;
    try {
      Deno.lstatSync(current);
    } catch {
      exists = false;
    }
    if (exists) {
      throw notAllowed(
        target,
        caller,
        "it goes through a dangling symbolic link",
      );
    }
    const parent = dirname(current);
    if (parent === current) return target;
    rest.push(basename(current));
    current = parent;
  }
}

function within(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === "" ||
    (!isAbsolute(rel) && rel !== ".." && !rel.startsWith(`..${sep}`));
}

function notAllowed(
  target: string,
  caller: string,
  state: string,
): SqlDatabaseError {
  return new SqlDatabaseError(
    "path_not_allowed",
    `Cannot open "${target}" for sandboxed isolate ${caller}: ${state}; open a file under getDatabasesPath(), or allow its directory on the main thread with Database.allowDirectory()`,
  );
}

// ---------------------------------------------------------------------------
// Statements

function statementArgs(
  args: unknown,
  context: PluginContext,
  method: string,
): [Connection, string, WireValue[]] {
  if (!Array.isArray(args) || args.length !== 3) {
    throw badArgs(method, "the arguments must be [handle, sql, args]");
  }
  const sql = sqlOf(args[1], method);
  const values = valuesOf(args[2], method);
  return [connectionOf(args[0], context, method), sql, values];
}

function operationOf(operation: unknown, index: number): WireOperation {
  const action = `commit a batch (operation ${index})`;
  if (
    !Array.isArray(operation) || operation.length !== 3 ||
    !["execute", "query", "insert", "update", "delete"].includes(operation[0])
  ) {
    throw badArgs(
      action,
      'each operation must be [kind, sql, args] with kind "execute", "query", "insert", "update" or "delete"',
    );
  }
  return [
    operation[0] as BatchKind,
    sqlOf(operation[1], action),
    valuesOf(operation[2], action),
  ];
}

function sqlOf(sql: unknown, action: string): string {
  if (typeof sql !== "string") {
    throw badArgs(action, `the SQL must be a string, got ${describe(sql)}`);
  }
  // SQLite reads SQL as a C string: text after a U+0000 would be dropped
  // (and a statement of nothing crashes node:sqlite, see skipTrivia).
  if (sql.includes("\0")) {
    throw badArgs(
      action,
      "the SQL holds U+0000 (bind such text as an argument)",
    );
  }
  if (skipTrivia(sql) === "") {
    throw badArgs(action, "the SQL holds no statement");
  }
  return sql;
}

function valuesOf(values: unknown, action: string): WireValue[] {
  if (!Array.isArray(values)) {
    throw badArgs(
      action,
      `the SQL arguments must be an array, got ${describe(values)}`,
    );
  }
  values.forEach((value, index) => {
    if (
      value !== null && typeof value !== "number" &&
      typeof value !== "bigint" && typeof value !== "string" &&
      !(value instanceof Uint8Array)
    ) {
      throw badArgs(
        action,
        `argument ${index} is a ${
          describe(value)
        }, which SQLite cannot store (use null, a number, a bigint, a string or a Uint8Array)`,
      );
    }
  });
  return values as WireValue[];
}

/**
 * `sql` without its leading whitespace, comments and empty statements.
 * `node:sqlite` crashes the process when asked for the text of a statement
 * prepared from nothing but those, so only text that starts with a token is
 * ever prepared.
 */
function skipTrivia(sql: string): string {
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (
      c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" ||
      c === "\v" || c === ";"
    ) {
      i++;
    } else if (c === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i + 2);
      i = end === -1 ? sql.length : end + 1;
    } else if (c === "/" && sql[i + 1] === "*") {
      // An unterminated comment runs to the end, as in SQLite's tokenizer.
      const end = sql.indexOf("*/", i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else {
      break;
    }
  }
  return sql.slice(i);
}

/** Prepares the first statement of `text` (which starts with a token). */
function prepareFirst(
  connection: Connection,
  text: string,
): { statement: StatementSync; tail: string } {
  const statement = connection.db.prepare(text);
  const source = statement.sourceSQL;
  return { statement, tail: skipTrivia(text.slice(source.length)) };
}

/** Runs a one-statement SQL, retrying while the file is busy. */
async function runOne<T>(
  connection: Connection,
  sql: string,
  use: (statement: StatementSync) => T,
): Promise<T> {
  const text = skipTrivia(sql);
  return await retrying(
    connection,
    `run ${quote(sql)}`,
    () => {
      const { statement, tail } = prepareFirst(connection, text);
      if (tail !== "") {
        throw badArgs(
          `run ${quote(sql)}`,
          "it holds more than one statement; run them one at a time (or with execute() and no arguments)",
        );
      }
      return use(statement);
    },
    false,
    sql,
  );
}

/** Runs every statement of `sql` in turn, each retried while busy. */
async function runScript(
  connection: Connection,
  sql: string,
  values: WireValue[],
): Promise<void> {
  let text = skipTrivia(sql);
  let first = true;
  while (text !== "") {
    const current = text;
    text = await retrying(
      connection,
      `execute ${quote(sql)}`,
      () => {
        const { statement, tail } = prepareFirst(connection, current);
        if (first && values.length > 0 && tail !== "") {
          throw badArgs(
            `execute ${quote(sql)}`,
            "arguments bind to one statement, and it holds several; run them one at a time",
          );
        }
        statement.run(...bind(values));
        return tail;
      },
      false,
      sql,
    );
    first = false;
  }
}

function runOperation(
  connection: Connection,
  kind: BatchKind,
  sql: string,
  values: WireValue[],
): null | number | bigint | WireRows {
  // Inside the batch's transaction nothing waits: no retry.
  try {
    let text = skipTrivia(sql);
    if (kind === "execute") {
      let first = true;
      while (text !== "") {
        const { statement, tail } = prepareFirst(connection, text);
        if (first && values.length > 0 && tail !== "") {
          throw badArgs(
            `execute ${quote(sql)}`,
            "arguments bind to one statement, and it holds several; run them one at a time",
          );
        }
        statement.run(...bind(values));
        text = tail;
        first = false;
      }
      return null;
    }
    const { statement, tail } = prepareFirst(connection, text);
    if (tail !== "") {
      throw badArgs(
        `run ${quote(sql)}`,
        "it holds more than one statement; run them one at a time",
      );
    }
    switch (kind) {
      case "query":
        return rowsOf(statement, values);
      case "insert":
        return insertOf(statement, values);
      default:
        return changesOf(statement, values);
    }
  } catch (error) {
    if (error instanceof SqlDatabaseError) throw error;
    throw sqliteError(connection, `run ${quote(sql)}`, error, sql);
  }
}

function rowsOf(statement: StatementSync, values: WireValue[]): WireRows {
  statement.setReadBigInts(true);
  const extras = statement as unknown as StatementExtras;
  const columns = statement.columns().map((column) => column.name);
  if (typeof extras.setReturnArrays === "function") {
    extras.setReturnArrays(true);
    const rows = statement.all(...bind(values)) as unknown as unknown[][];
    return [columns, rows.map((row) => row.map(fromSqlite))];
  }
  // Without arrays, a repeated column name keeps its last value.
  const rows = statement.all(...bind(values)) as Record<string, unknown>[];
  return [
    columns,
    rows.map((row) => columns.map((name) => fromSqlite(row[name]))),
  ];
}

function insertOf(
  statement: StatementSync,
  values: WireValue[],
): number | bigint {
  statement.setReadBigInts(true);
  const { changes, lastInsertRowid } = statement.run(...bind(values));
  // As sqflite: 0 when no row was inserted (OR IGNORE), not a stale id.
  return Number(changes) === 0
    ? 0
    : fromSqlite(lastInsertRowid) as number | bigint;
}

function changesOf(statement: StatementSync, values: WireValue[]): number {
  return Number(statement.run(...bind(values)).changes);
}

/** Safe integers bind as INTEGER (`node:sqlite` binds numbers as REAL). */
function bind(values: WireValue[]): WireValue[] {
  return values.map((value) =>
    typeof value === "number" && Number.isSafeInteger(value) &&
      !Object.is(value, -0)
      ? BigInt(value)
      : value
  );
}

/** Integers read as bigint; safe ones become numbers, as the codec's do. */
function fromSqlite(value: unknown): WireValue {
  if (typeof value === "bigint") {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) &&
        value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value;
  }
  return value as WireValue;
}

/**
 * Runs `step`, retrying with backoff while another connection holds the
 * lock, for up to the connection's busy timeout. A statement is retried only
 * outside a transaction (it then had no effect), or when `always` (BEGIN,
 * COMMIT, which SQLite allows to retry).
 */
async function retrying<T>(
  connection: Connection,
  action: string,
  step: () => T,
  always = false,
  sql: string | null = null,
): Promise<T> {
  const start = performance.now();
  let delay = 1;
  while (true) {
    const retryable = always || !connection.db.isTransaction;
    try {
      return step();
    } catch (error) {
      if (error instanceof SqlDatabaseError) throw error;
      if (
        !retryable || !isBusy(error) ||
        performance.now() - start >= connection.busyTimeout
      ) {
        throw sqliteError(connection, action, error, sql);
      }
    }
    await new Promise<void>((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, MAX_BACKOFF_MS);
  }
}

// ---------------------------------------------------------------------------
// Errors

function isBusy(error: unknown): boolean {
  const code = resultCodeOf(error);
  return code !== null && (code & 0xff) === 5;
}

/** SQLite's result code, read from the error (or its message). */
function resultCodeOf(error: unknown): number | null {
  const errcode = (error as { errcode?: unknown } | null)?.errcode;
  if (typeof errcode === "number") return errcode;
  const message = messageOf(error);
  if (message.includes("database is locked")) return 5;
  if (message.includes("readonly database")) return 8;
  if (message.includes("UNIQUE constraint failed")) return 2067;
  if (message.includes("NOT NULL constraint failed")) return 1299;
  if (message.includes("constraint failed")) return 19;
  return (error as { code?: unknown } | null)?.code === "ERR_SQLITE_ERROR"
    ? 1
    : null;
}

function sqliteError(
  connection: Connection,
  action: string,
  error: unknown,
  sql: string | null,
): SqlDatabaseError {
  if (error instanceof SqlDatabaseError) return error;
  const resultCode = resultCodeOf(error);
  const message = messageOf(error);
  if (resultCode === null || (resultCode & 0xff) === 25) {
    // Not SQLite refusing the statement, but a value or count it could not
    // bind (SQLITE_RANGE: more arguments than placeholders).
    return new SqlDatabaseError(
      "bad_args",
      `Cannot ${action}: ${message}; pass one supported value per placeholder`,
      { resultCode, sql },
    );
  }
  const primary = resultCode & 0xff;
  const fix = primary === 5
    ? `another connection held the lock for over ${connection.busyTimeout} ms; retry, shorten the other transactions, or raise "busyTimeout"`
    : primary === 8
    ? "the database was opened read-only; open it without readOnly to write"
    : "check the statement, its arguments and the schema";
  return new SqlDatabaseError(
    "sqlite_error",
    `Cannot ${action} in "${connection.path}": SQLite says "${message}"; ${fix}`,
    { resultCode, sql },
  );
}

function badArgs(action: string, state: string): SqlDatabaseError {
  return new SqlDatabaseError(
    "bad_args",
    `Cannot ${action}: ${state}; fix the call's arguments`,
  );
}

function quote(sql: string): string {
  const text = sql.trim();
  return JSON.stringify(
    text.length > QUOTED_SQL ? `${text.slice(0, QUOTED_SQL)}…` : text,
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

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
