import { MethodChannel } from "../channels/method_channel.ts";
import { Double } from "../codec/double.ts";
import { isMainThread } from "../isolate/_thread.ts";
import type { PreferenceValue } from "./_preferences_store.ts";

/** The channel of the SharedPreferences plugin. */
const CHANNEL = "plugins.flutter.io/shared_preferences";

/** The Flutter types a preference can have. */
export type PreferenceType = PreferenceValue["type"];

/**
 * The methods of the SharedPreferences channel. Values travel with their
 * Flutter type, `[type, value]`, so every isolate applies Flutter's type
 * rules (JavaScript has one number type where Dart has `int` and `double`).
 */
export type PreferencesMethods = {
  getAll: { args: null; result: Map<string, [PreferenceType, unknown]> };
  set: { args: [string, PreferenceType, unknown]; result: boolean };
  remove: { args: string; result: boolean };
  clear: { args: null; result: boolean };
  getStoragePath: { args: null; result: string };
};

const DART_TYPES: Record<PreferenceType, string> = {
  bool: "bool",
  int: "int",
  double: "double",
  string: "String",
  stringList: "List<String>",
};

let instance: Promise<SharedPreferences> | null = null;

/**
 * Persistent key-value storage with Flutter's `SharedPreferences` API, kept
 * in an embedded SQLite database (`node:sqlite`, WAL mode) in the user's
 * data directory (`$XDG_DATA_HOME/isolates` on Linux, `~/Library/Application
 * Support/isolates` on macOS, `%APPDATA%\isolates` on Windows), or in
 * `ISOLATES_DATA_DIR` when set.
 *
 * Works the same on the main thread and in a background isolate (after
 * `BackgroundIsolateBinaryMessenger.ensureInitialized`): the storage is
 * served by the root isolate behind the channel
 * `plugins.flutter.io/shared_preferences`. As in Flutter, reads come from a
 * cache loaded by {@linkcode SharedPreferences.getInstance} and refreshed by
 * {@linkcode SharedPreferences.reload}; a `setX` that resolved is on disk.
 *
 * Flutter's type rules hold: `getInt` on a key that holds a string (or a
 * double) throws `TypeError`; a missing key reads as `null`.
 *
 * @example
 * ```ts
 * import { SharedPreferences } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * Deno.env.set("ISOLATES_DATA_DIR", await Deno.makeTempDir());
 * const prefs = await SharedPreferences.getInstance();
 * await prefs.setInt("counter", 3);
 * assert.equal(prefs.getInt("counter"), 3);
 * assert.throws(() => prefs.getString("counter"), TypeError);
 * await prefs.clear();
 * ```
 */
export class SharedPreferences {
  #cache: Map<string, [PreferenceType, unknown]>;
  readonly #channel: MethodChannel<PreferencesMethods>;

  private constructor(
    channel: MethodChannel<PreferencesMethods>,
    cache: Map<string, [PreferenceType, unknown]>,
  ) {
    this.#channel = channel;
    this.#cache = cache;
  }

  /**
   * The instance of this isolate, loaded with every stored value.
   *
   * @returns The preferences.
   * @throws {MissingPluginException} In a worker that did not call
   * `BackgroundIsolateBinaryMessenger.ensureInitialized(token)`.
   */
  static getInstance(): Promise<SharedPreferences> {
    if (instance === null) {
      const channel = new MethodChannel<PreferencesMethods>(CHANNEL);
      instance = channel.invokeMethod("getAll").then(
        (all) => new SharedPreferences(channel, all),
      );
      // A failed load is not cached: the next call tries again.
      instance.catch(() => instance = null);
    }
    return instance;
  }

  /**
   * The file the root isolate keeps the preferences in.
   *
   * @returns The absolute path of the SQLite file.
   */
  getStoragePath(): Promise<string> {
    return this.#channel.invokeMethod("getStoragePath");
  }

  /** The keys of every stored value. */
  getKeys(): Set<string> {
    return new Set(this.#cache.keys());
  }

  /**
   * Whether a value is stored under `key`.
   *
   * @param key The key.
   * @returns Whether it is present.
   */
  containsKey(key: string): boolean {
    return this.#cache.has(key);
  }

  /**
   * The value under `key`, whatever its type.
   *
   * @param key The key.
   * @returns The value, or `null`.
   */
  get(key: string): unknown {
    const entry = this.#cache.get(key);
    return entry === undefined ? null : copy(entry[1]);
  }

  /**
   * Reads a boolean.
   *
   * @param key The key.
   * @returns The boolean, or `null` when absent.
   * @throws {TypeError} When the value is not a `bool`.
   */
  getBool(key: string): boolean | null {
    return this.#read(key, "bool") as boolean | null;
  }

  /**
   * Reads an integer.
   *
   * @param key The key.
   * @returns The integer (a `bigint` beyond the safe range), or `null`.
   * @throws {TypeError} When the value is not an `int`.
   */
  getInt(key: string): number | bigint | null {
    return this.#read(key, "int") as number | bigint | null;
  }

  /**
   * Reads a double.
   *
   * @param key The key.
   * @returns The number, or `null`.
   * @throws {TypeError} When the value is not a `double`.
   */
  getDouble(key: string): number | null {
    return this.#read(key, "double") as number | null;
  }

  /**
   * Reads a string.
   *
   * @param key The key.
   * @returns The string, or `null`.
   * @throws {TypeError} When the value is not a `String`.
   */
  getString(key: string): string | null {
    return this.#read(key, "string") as string | null;
  }

  /**
   * Reads a list of strings.
   *
   * @param key The key.
   * @returns A copy of the list, or `null`.
   * @throws {TypeError} When the value is not a `List<String>`.
   */
  getStringList(key: string): string[] | null {
    return this.#read(key, "stringList") as string[] | null;
  }

  /**
   * Stores a boolean.
   *
   * @param key The key.
   * @param value The value.
   * @returns `true` once it is on disk.
   * @throws {TypeError} (as a rejection) When `value` is not a boolean.
   */
  async setBool(key: string, value: boolean): Promise<boolean> {
    if (typeof value !== "boolean") {
      throw wrongValue("setBool", "a boolean", value);
    }
    return await this.#write(key, "bool", value);
  }

  /**
   * Stores an integer.
   *
   * @param key The key.
   * @param value A safe integer or a `bigint` in the int64 range.
   * @returns `true` once it is on disk.
   * @throws {TypeError} (as a rejection) When `value` is not an integer.
   */
  async setInt(key: string, value: number | bigint): Promise<boolean> {
    if (
      !(typeof value === "bigint" || Number.isSafeInteger(value)) ||
      (typeof value === "bigint" &&
        (value < -(2n ** 63n) || value >= 2n ** 63n))
    ) {
      throw wrongValue("setInt", "a safe integer or an int64 bigint", value);
    }
    // Safe integers read back as numbers everywhere, whatever was written.
    return await this.#write(
      key,
      "int",
      typeof value === "bigint" && value >= BigInt(Number.MIN_SAFE_INTEGER) &&
        value <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(value)
        : value,
    );
  }

  /**
   * Stores a double.
   *
   * @param key The key.
   * @param value The number.
   * @returns `true` once it is on disk.
   * @throws {TypeError} (as a rejection) When `value` is not a number.
   */
  async setDouble(key: string, value: number): Promise<boolean> {
    if (typeof value !== "number") {
      throw wrongValue("setDouble", "a number", value);
    }
    return await this.#write(key, "double", value);
  }

  /**
   * Stores a string.
   *
   * @param key The key.
   * @param value The string.
   * @returns `true` once it is on disk.
   * @throws {TypeError} (as a rejection) When `value` is not a string.
   */
  async setString(key: string, value: string): Promise<boolean> {
    if (typeof value !== "string") {
      throw wrongValue("setString", "a string", value);
    }
    return await this.#write(key, "string", value);
  }

  /**
   * Stores a list of strings.
   *
   * @param key The key.
   * @param value The strings.
   * @returns `true` once it is on disk.
   * @throws {TypeError} (as a rejection) When `value` is not an array of strings.
   */
  async setStringList(key: string, value: string[]): Promise<boolean> {
    if (
      !Array.isArray(value) || !value.every((item) => typeof item === "string")
    ) {
      throw wrongValue("setStringList", "an array of strings", value);
    }
    return await this.#write(key, "stringList", [...value]);
  }

  /**
   * Removes the value under `key`.
   *
   * @param key The key.
   * @returns `true` once the removal is on disk.
   */
  async remove(key: string): Promise<boolean> {
    const done = await this.#channel.invokeMethod("remove", key);
    this.#cache.delete(key);
    return done;
  }

  /**
   * Removes every value.
   *
   * @returns `true` once the removal is on disk.
   */
  async clear(): Promise<boolean> {
    const done = await this.#channel.invokeMethod("clear");
    this.#cache.clear();
    return done;
  }

  /** Reloads every value from storage (to see other isolates' writes). */
  async reload(): Promise<void> {
    this.#cache = await this.#channel.invokeMethod("getAll");
  }

  async #write(
    key: string,
    type: PreferenceType,
    value: unknown,
  ): Promise<boolean> {
    const done = await this.#channel.invokeMethod("set", [
      key,
      type,
      type === "double" ? new Double(value as number) : value,
    ]);
    this.#cache.set(key, [type, value]);
    return done;
  }

  #read(key: string, type: PreferenceType): unknown {
    const entry = this.#cache.get(key);
    if (entry === undefined) return null;
    if (entry[0] !== type) {
      throw new TypeError(
        `Cannot read "${key}" as ${DART_TYPES[type]}: it holds a ${
          DART_TYPES[entry[0]]
        } (type '${DART_TYPES[entry[0]]}' is not a subtype of type '${
          DART_TYPES[type]
        }?'); read it with the getter of its type or get()`,
      );
    }
    return copy(entry[1]);
  }
}

function copy(value: unknown): unknown {
  return Array.isArray(value) ? [...value] : value;
}

function wrongValue(
  method: string,
  expected: string,
  value: unknown,
): TypeError {
  return new TypeError(
    `Cannot ${method}: the value must be ${expected}, got ${
      value === null ? "null" : typeof value
    }`,
  );
}

/**
 * The platform side: serves the channel on the root isolate. The storage
 * code (SQLite, paths) is loaded on the first call, so importing the module
 * costs workers nothing.
 */
function registerPlatformSide(): void {
  let platform:
    | Promise<typeof import("./_shared_preferences_platform.ts")>
    | null = null;
  new MethodChannel<PreferencesMethods>(CHANNEL).setMethodCallHandler(
    async (call) => {
      platform ??= import("./_shared_preferences_platform.ts");
      return (await platform).handlePreferencesCall(call);
    },
  );
}

if (isMainThread) registerPlatformSide();
