import { PlatformException } from "../codec/platform_exception.ts";

/**
 * What went wrong in a SQL database call, as {@linkcode SqlDatabaseError.code}:
 *
 * - `bad_args`: a malformed call (SQL that is not a string or is empty,
 *   arguments that are not an array, a value SQLite cannot bind, a bad table
 *   or column name);
 * - `closed`: the database (or the transaction) is closed, or the handle is
 *   unknown to the isolate serving the call;
 * - `path_not_allowed`: a proxied call (from a sandboxed worker) named a
 *   file outside the directories the main thread allows;
 * - `open_failed`: the file could not be opened or created;
 * - `sqlite_error`: SQLite refused the statement
 *   ({@linkcode SqlDatabaseError.resultCode} says why);
 * - `bad_state`: the call does not fit the object's state (a batch
 *   committed twice).
 *
 * @example
 * ```ts
 * import type { SqlDatabaseErrorCode } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const code: SqlDatabaseErrorCode = "path_not_allowed";
 * assert.equal(code, "path_not_allowed");
 * ```
 */
export type SqlDatabaseErrorCode =
  | "bad_args"
  | "closed"
  | "path_not_allowed"
  | "open_failed"
  | "sqlite_error"
  | "bad_state";

/**
 * Options of {@linkcode SqlDatabaseError}.
 *
 * @example
 * ```ts
 * import type { SqlDatabaseErrorOptions } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const options: SqlDatabaseErrorOptions = { resultCode: 2067, sql: "INSERT INTO t VALUES (?)" };
 * assert.equal(options.resultCode, 2067);
 * ```
 */
export interface SqlDatabaseErrorOptions {
  /**
   * SQLite's (extended) result code, e.g. `5` (`SQLITE_BUSY`) or `2067`
   * (`SQLITE_CONSTRAINT_UNIQUE`).
   *
   * @default {null}
   */
  resultCode?: number | null;
  /**
   * The statement that failed.
   *
   * @default {null}
   */
  sql?: string | null;
  /** The error that led to this one. */
  cause?: unknown;
}

/** The codes {@linkcode SqlDatabaseError} can carry. */
const CODES: ReadonlySet<string> = new Set<SqlDatabaseErrorCode>([
  "bad_args",
  "closed",
  "path_not_allowed",
  "open_failed",
  "sqlite_error",
  "bad_state",
]);

/**
 * The error of the SQL database plugin, in the manner of sqflite's
 * `DatabaseException`. It is a {@linkcode PlatformException} (so it crosses
 * the plugin's channel with its `code`, `message` and `details`) whose
 * `code` is one of {@linkcode SqlDatabaseErrorCode}; `details` holds
 * `{ resultCode, sql }`. Calls made through `Database` reject with it
 * whether they ran in the calling isolate or on the main thread.
 *
 * @example Telling a constraint failure apart
 * ```ts
 * import { openDatabase, SqlDatabaseError } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const db = await openDatabase(":memory:");
 * await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)");
 * await db.insert("t", { id: 1 });
 * await assert.rejects(db.insert("t", { id: 1 }), (error: unknown) => {
 *   assert.ok(error instanceof SqlDatabaseError);
 *   assert.equal(error.code, "sqlite_error");
 *   assert.equal(error.resultCode, 1555); // SQLITE_CONSTRAINT_PRIMARYKEY
 *   assert.ok(error.isUniqueConstraintError());
 *   return true;
 * });
 * await db.close();
 * ```
 */
export class SqlDatabaseError extends PlatformException {
  /** What went wrong. */
  declare readonly code: SqlDatabaseErrorCode;
  /** The message: `Cannot <action>: <state>; <fix>`. */
  declare readonly message: string;
  /** SQLite's (extended) result code, when SQLite reported the error. */
  readonly resultCode: number | null;
  /** The statement that failed, when there is one. */
  readonly sql: string | null;

  /**
   * Creates the error.
   *
   * @param code What went wrong.
   * @param message What failed, why, and how to fix it.
   * @param options SQLite's result code, the statement, the cause.
   */
  constructor(
    code: SqlDatabaseErrorCode,
    message: string,
    options: SqlDatabaseErrorOptions = {},
  ) {
    const resultCode = options.resultCode ?? null;
    const sql = options.sql ?? null;
    super({ code, message, details: { resultCode, sql } });
    this.name = "SqlDatabaseError";
    this.resultCode = resultCode;
    this.sql = sql;
    if (options.cause !== undefined) this.cause = options.cause;
  }

  /**
   * Whether a `PlatformException` code is one of this error's.
   *
   * @param code A code.
   * @returns Whether it is a {@linkcode SqlDatabaseErrorCode}.
   */
  static isCode(code: unknown): code is SqlDatabaseErrorCode {
    return typeof code === "string" && CODES.has(code);
  }

  /**
   * Whether a `UNIQUE` or `PRIMARY KEY` constraint failed.
   *
   * @returns Whether it did.
   */
  isUniqueConstraintError(): boolean {
    return this.resultCode === 2067 || this.resultCode === 1555 ||
      /(UNIQUE|PRIMARY KEY) constraint failed/.test(this.message);
  }

  /**
   * Whether the statement named a table that does not exist.
   *
   * @param table Only this table, when given.
   * @returns Whether it did.
   */
  isNoSuchTableError(table?: string): boolean {
    return this.message.includes(
      table === undefined ? "no such table" : `no such table: ${table}`,
    );
  }

  /**
   * Whether SQLite could not parse the statement.
   *
   * @returns Whether it could not.
   */
  isSyntaxError(): boolean {
    return this.message.includes("syntax error");
  }

  /**
   * Whether the statement tried to write a read-only database.
   *
   * @returns Whether it did.
   */
  isReadOnlyError(): boolean {
    return (this.resultCode !== null && (this.resultCode & 0xff) === 8) ||
      this.message.includes("readonly database");
  }

  /**
   * Whether another connection held the lock for longer than the busy
   * timeout.
   *
   * @returns Whether it did.
   */
  isBusyError(): boolean {
    return this.resultCode !== null && (this.resultCode & 0xff) === 5;
  }

  /**
   * Whether the database (or transaction) was closed.
   *
   * @returns Whether it was.
   */
  isDatabaseClosedError(): boolean {
    return this.code === "closed";
  }

  /**
   * Whether the database could not be opened.
   *
   * @returns Whether it could not.
   */
  isOpenFailedError(): boolean {
    return this.code === "open_failed";
  }
}
