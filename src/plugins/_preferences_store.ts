import { DatabaseSync, type StatementSync } from "node:sqlite";
import { dirname } from "node:path";
import { PreferencesStoreError } from "./preferences_store_error.ts";

/**
 * A preference value, tagged with the Flutter type it was written as. An
 * `int` reads back as a `number` when it is a safe integer and as a `bigint`
 * otherwise, as the standard message codec decodes int64.
 */
export type PreferenceValue =
  | { type: "bool"; value: boolean }
  | { type: "int"; value: number | bigint }
  | { type: "double"; value: number }
  | { type: "string"; value: string }
  | { type: "stringList"; value: string[] };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Decimal integers, as `bigint.toString()` writes them. */
const DECIMAL_INT = /^-?(?:0|[1-9][0-9]*)$/;
/** Every string `String(number)` can produce, plus our `"-0"`. */
const NUMBER_TEXT =
  /^(?:NaN|-?Infinity|-?[0-9]+(?:\.[0-9]+)?(?:e[+-][0-9]+)?)$/;

/**
 * Keys and values are read back as BLOBs and decoded here: Deno's
 * `node:sqlite` returns TEXT columns cut at the first U+0000, while a bound
 * string is stored whole, so `"a\0b"` would read back as `"a"`.
 */
const SELECT_ALL = "SELECT CAST(key AS BLOB) AS key, CAST(type AS BLOB) AS " +
  "type, CAST(value AS BLOB) AS value FROM preferences ORDER BY key";
const SELECT_ONE = "SELECT CAST(type AS BLOB) AS type, CAST(value AS BLOB) " +
  "AS value FROM preferences WHERE key = ?";
const UPSERT = "INSERT INTO preferences (key, type, value) VALUES (?, ?, ?) " +
  "ON CONFLICT (key) DO UPDATE SET type = excluded.type, value = excluded.value";

/**
 * The SharedPreferences file: one SQLite table of `(key, type, value)` rows,
 * all text. Several stores, in any isolates, may open the same file; in WAL
 * mode each read sees every write that returned before it.
 *
 * Every write is a single statement that commits on its own with
 * `synchronous=FULL`, so a write that returned survives a crash or power
 * loss.
 *
 * Strings are stored as UTF-8, so a lone surrogate reads back as U+FFFD, as
 * it does after crossing a platform channel; U+0000 is kept.
 */
export class PreferencesStore {
  #db: DatabaseSync;
  #selectAll: StatementSync;
  #selectOne: StatementSync;
  #upsert: StatementSync;
  #delete: StatementSync;
  #clear: StatementSync;
  #closed = false;

  private constructor(db: DatabaseSync) {
    this.#db = db;
    this.#selectAll = db.prepare(SELECT_ALL);
    this.#selectOne = db.prepare(SELECT_ONE);
    this.#upsert = db.prepare(UPSERT);
    this.#delete = db.prepare("DELETE FROM preferences WHERE key = ?");
    this.#clear = db.prepare("DELETE FROM preferences");
  }

  /**
   * Opens the preferences file at `path`, creating it and its parent
   * directories if needed.
   *
   * @param path The SQLite file to open.
   * @returns The open store.
   * @throws {PreferencesStoreError} When the directory or the file cannot be
   * created or opened, or the file is not a SQLite database.
   */
  static open(path: string): PreferencesStore {
    try {
      Deno.mkdirSync(dirname(path), { recursive: true });
    } catch (error) {
      throw new PreferencesStoreError(
        `Cannot open preferences at "${path}": creating its directory failed (${
          messageOf(error)
        }); choose a writable path or set ISOLATES_DATA_DIR`,
        { cause: error },
      );
    }
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(path);
      // busy_timeout goes first: switching to WAL and creating the table
      // take locks that another isolate opening the same file may hold.
      db.exec("PRAGMA busy_timeout = 5000");
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = FULL");
      db.exec(
        "CREATE TABLE IF NOT EXISTS preferences " +
          "(key TEXT PRIMARY KEY, type TEXT NOT NULL, value TEXT NOT NULL)",
      );
      return new PreferencesStore(db);
    } catch (error) {
      if (db?.isOpen) db.close();
      throw new PreferencesStoreError(
        `Cannot open preferences at "${path}": SQLite says "${
          messageOf(error)
        }"; choose a writable path to a SQLite file or set ISOLATES_DATA_DIR`,
        { cause: error },
      );
    }
  }

  /**
   * Reads every preference.
   *
   * @returns The preferences by key, in key order.
   * @throws {PreferencesStoreError} When the store is closed or a row is
   * corrupt.
   */
  getAll(): Map<string, PreferenceValue> {
    this.#assertOpen("read preferences");
    const result = new Map<string, PreferenceValue>();
    for (const row of this.#selectAll.all()) {
      const key = textOf(row.key, "?", "key");
      result.set(
        key,
        decode(key, textOf(row.type, key, "type"), textOf(row.value, key)),
      );
    }
    return result;
  }

  /**
   * Reads one preference.
   *
   * @param key The preference's key.
   * @returns The value, or `undefined` when the key is not set.
   * @throws {PreferencesStoreError} When the store is closed or the row is
   * corrupt.
   */
  get(key: string): PreferenceValue | undefined {
    this.#assertOpen(`read preference "${key}"`);
    const row = this.#selectOne.get(key);
    if (row === undefined) return undefined;
    return decode(key, textOf(row.type, key, "type"), textOf(row.value, key));
  }

  /**
   * Sets a preference, replacing any value and type it had.
   *
   * @param key The preference's key.
   * @param value The value, tagged with its Flutter type.
   * @throws {TypeError} When `value.value` does not match `value.type`.
   * @throws {RangeError} When an `int` is not an integer in the int64 range.
   * @throws {PreferencesStoreError} When the store is closed or SQLite fails.
   */
  set(key: string, value: PreferenceValue): void {
    this.#assertOpen(`write preference "${key}"`);
    const text = encode(key, value);
    this.#write(`write preference "${key}"`, () => {
      this.#upsert.run(key, value.type, text);
    });
  }

  /**
   * Removes a preference.
   *
   * @param key The preference's key.
   * @returns Whether the key was set.
   * @throws {PreferencesStoreError} When the store is closed or SQLite fails.
   */
  remove(key: string): boolean {
    this.#assertOpen(`remove preference "${key}"`);
    return this.#write(
      `remove preference "${key}"`,
      () => this.#delete.run(key).changes !== 0,
    );
  }

  /**
   * Removes every preference.
   *
   * @throws {PreferencesStoreError} When the store is closed or SQLite fails.
   */
  clear(): void {
    this.#assertOpen("clear preferences");
    this.#write("clear preferences", () => {
      this.#clear.run();
    });
  }

  /** Closes the file. Calling it again does nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  /** Closes the file, so callers can write `using store = …`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #assertOpen(action: string): void {
    if (this.#closed) {
      throw new PreferencesStoreError(
        `Cannot ${action}: the preferences store is closed; open a new one`,
      );
    }
  }

  #write<T>(action: string, run: () => T): T {
    try {
      return run();
    } catch (error) {
      throw new PreferencesStoreError(
        `Cannot ${action}: SQLite says "${
          messageOf(error)
        }"; check that the preferences file is writable and not locked`,
        { cause: error },
      );
    }
  }
}

/** Turns a value into the text stored for it, checking it fits its type. */
function encode(key: string, preference: PreferenceValue): string {
  const { type, value } = preference;
  switch (type) {
    case "bool":
      expectType(key, preference, typeof value === "boolean");
      return value ? "true" : "false";
    case "int": {
      expectType(
        key,
        preference,
        typeof value === "bigint" || typeof value === "number",
      );
      if (typeof value === "number" && !Number.isInteger(value)) {
        throw new RangeError(
          `Cannot write preference "${key}": int value ${value} is not an integer; store it as a "double"`,
        );
      }
      const int = BigInt(value);
      if (int < INT64_MIN || int > INT64_MAX) {
        throw new RangeError(
          `Cannot write preference "${key}": int value ${int} is outside the int64 range; store it as a "string"`,
        );
      }
      return int.toString();
    }
    case "double":
      expectType(key, preference, typeof value === "number");
      // String(-0) is "0"; keep the sign so the value reads back as written.
      return Object.is(value, -0) ? "-0" : String(value);
    case "string":
      expectType(key, preference, typeof value === "string");
      return value;
    case "stringList":
      expectType(
        key,
        preference,
        Array.isArray(value) && value.every((item) => typeof item === "string"),
      );
      return JSON.stringify(value);
    default: {
      const unknown: { type: unknown } = preference;
      throw new TypeError(
        `Cannot write preference "${key}": type ${
          JSON.stringify(unknown.type)
        } is unknown; use "bool", "int", "double", "string" or "stringList"`,
      );
    }
  }
}

function expectType(
  key: string,
  preference: PreferenceValue,
  matches: boolean,
): void {
  if (matches) return;
  const value: unknown = preference.value;
  const got = Array.isArray(value) ? "array" : typeof value;
  throw new TypeError(
    `Cannot write preference "${key}": a "${preference.type}" value must not be a ${got}; pass a value of the declared type`,
  );
}

/** Turns a stored row back into a value, rejecting anything `encode` can't write. */
function decode(key: string, type: string, text: string): PreferenceValue {
  switch (type) {
    case "bool":
      if (text === "true") return { type, value: true };
      if (text === "false") return { type, value: false };
      break;
    case "int": {
      if (!DECIMAL_INT.test(text)) break;
      const int = BigInt(text);
      if (int < INT64_MIN || int > INT64_MAX) break;
      const number = Number(int);
      return { type, value: Number.isSafeInteger(number) ? number : int };
    }
    case "double":
      if (NUMBER_TEXT.test(text)) return { type, value: Number(text) };
      break;
    case "string":
      return { type, value: text };
    case "stringList": {
      const list = parseJson(text);
      if (
        Array.isArray(list) && list.every((item) => typeof item === "string")
      ) {
        return { type, value: list };
      }
      break;
    }
    default:
      throw new PreferencesStoreError(
        `Cannot read preference "${key}": stored type "${type}" is unknown; remove the key or clear the preferences`,
      );
  }
  throw new PreferencesStoreError(
    `Cannot read preference "${key}": stored ${type} value ${
      JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)
    } is corrupt; remove the key or write it again`,
  );
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decodes a column read as a BLOB; anything else means the row is corrupt. */
function textOf(column: unknown, key: string, what = "value"): string {
  if (column instanceof Uint8Array) {
    try {
      return UTF8.decode(column);
    } catch (error) {
      throw new PreferencesStoreError(
        `Cannot read preference "${key}": its stored ${what} is not valid UTF-8; remove the key or clear the preferences`,
        { cause: error },
      );
    }
  }
  throw new PreferencesStoreError(
    `Cannot read preference "${key}": its stored ${what} is ${
      column === null ? "NULL" : typeof column
    }, not text; remove the key or clear the preferences`,
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
