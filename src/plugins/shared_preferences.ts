import { EventChannel } from "../channels/event_channel.ts";
import { Double } from "../codec/double.ts";
import { ServicesBinding } from "../isolate/services_binding.ts";
import { Plugin } from "./plugin.ts";

/** The channel of the SharedPreferences plugin. */
const CHANNEL = "plugins.flutter.io/shared_preferences";
/** Where writers tell the main thread of a change, and it tells listeners. */
const NOTIFY = "isolates/shared_preferences/notify";
const CHANGES = "isolates/shared_preferences/changes";

/**
 * The Flutter types a preference can have: `bool`, `int`, `double`,
 * `String` and `List<String>`.
 *
 * @example
 * ```ts
 * import type { PreferenceType } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const type: PreferenceType = "stringList";
 * assert.equal(type, "stringList");
 * ```
 */
export type PreferenceType =
  | "bool"
  | "int"
  | "double"
  | "string"
  | "stringList";

/**
 * The methods of the SharedPreferences channel. Values travel with their
 * Flutter type, `[type, value]`, so every isolate applies Flutter's type
 * rules (JavaScript has one number type where Dart has `int` and `double`).
 *
 * @example Reading one raw value through the plugin
 * ```ts
 * import { type PreferencesMethods, SharedPreferences } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * Deno.env.set("ISOLATES_DATA_DIR", await Deno.makeTempDir());
 * const prefs = await SharedPreferences.getInstance();
 * await prefs.reload();
 * await prefs.setInt("answer", 42);
 * const raw: PreferencesMethods["get"]["result"] =
 *   await SharedPreferences.plugin.invoke("get", "answer");
 * assert.deepEqual(raw, ["int", 42]);
 * ```
 */
export type PreferencesMethods = {
  getAll: { args: null; result: Map<string, [PreferenceType, unknown]> };
  get: { args: string; result: [PreferenceType, unknown] | null };
  set: { args: [string, PreferenceType, unknown]; result: boolean };
  remove: { args: string; result: boolean };
  clear: { args: null; result: boolean };
  getStoragePath: { args: null; result: string };
};

/**
 * A change to the stored preferences, as {@linkcode SharedPreferences.onChange}
 * reports it.
 *
 * @example
 * ```ts
 * import type { PreferenceChange } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const change: PreferenceChange = { key: "counter", isolate: "0.1" };
 * assert.equal(change.key, "counter");
 * ```
 */
export interface PreferenceChange {
  /** The key that was set or removed; `null` when every key was cleared. */
  key: string | null;
  /** The isolate that made the change. */
  isolate: string;
}

type Storage = typeof import("./_shared_preferences_platform.ts");
let storage: Storage | null = null;
let loading: Promise<Storage> | null = null;

/**
 * Runs `use` on the storage module: node:sqlite and the store load with
 * the first call, in the isolate that runs it; later calls run at once.
 */
function withStorage<T>(use: (storage: Storage) => T): T | Promise<T> {
  if (storage !== null) return use(storage);
  loading ??= import("./_shared_preferences_platform.ts").then((module) =>
    storage = module
  );
  return loading.then(use);
}

/**
 * The storage, as a plugin with `worker` affinity: every isolate reads and
 * writes the SQLite file through its own connection, with no hop. A worker
 * without file or environment access (a sandbox) proxies to the main thread.
 */
const preferencesPlugin = new Plugin<PreferencesMethods>({
  channel: CHANNEL,
  affinity: "worker",
  requires: [{ name: "read" }, { name: "write" }, { name: "env" }],
  methods: {
    getAll: { run: () => withStorage((s) => s.getAll()) },
    get: { run: (key) => withStorage((s) => s.get(key)) },
    set: { run: (args) => withStorage((s) => s.set(args)) },
    remove: { run: (key) => withStorage((s) => s.remove(key)) },
    clear: { run: () => withStorage((s) => s.clear()) },
    getStoragePath: { run: () => withStorage((s) => s.getStoragePath()) },
  },
});

/** Who listens to changes, by isolate (kept on the main thread). */
const listeners = new Map<string, { success(event: unknown): void }>();

/** The main thread's side of change notifications: it fans them out. */
const notifyPlugin = new Plugin<{
  changed: { args: [string | null, string]; result: null };
}>({
  channel: NOTIFY,
  affinity: "main",
  methods: {
    changed: {
      run: ([key, isolate]) => {
        for (const sink of listeners.values()) sink.success([key, isolate]);
        // The main thread's own subscribers are fed here, in order with its
        // writes (an EventChannel listen on the root starts a turn later).
        for (const subscriber of subscribers) {
          subscriber.enqueue({ key, isolate });
        }
        return null;
      },
    },
  },
});

const changes = new EventChannel(CHANGES);
if (ServicesBinding.isolateId === "0") {
  changes.setStreamHandler({
    onListen: (args, sink) => {
      listeners.set(String(args), sink);
    },
    onCancel: (args) => {
      listeners.delete(String(args));
    },
  });
}

/** The local subscribers of this isolate, fed by one EventChannel stream. */
const subscribers = new Set<
  ReadableStreamDefaultController<PreferenceChange>
>();
let feed: ReadableStreamDefaultReader<unknown> | null = null;

function subscribe(): ReadableStream<PreferenceChange> {
  let self: ReadableStreamDefaultController<PreferenceChange>;
  return new ReadableStream<PreferenceChange>({
    start: (controller) => {
      self = controller;
      subscribers.add(controller);
      if (feed === null && ServicesBinding.isolateId !== "0") {
        const reader = changes.receiveBroadcastStream(
          ServicesBinding.isolateId,
        ).getReader();
        feed = reader;
        pump(reader);
      }
    },
    cancel: () => {
      subscribers.delete(self);
      if (subscribers.size === 0 && feed !== null) {
        const reader = feed;
        feed = null;
        reader.cancel().catch(() => {});
      }
    },
  });
}

async function pump(
  reader: ReadableStreamDefaultReader<unknown>,
): Promise<void> {
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      const [key, isolate] = value as [string | null, string];
      for (const subscriber of subscribers) {
        subscriber.enqueue({ key, isolate });
      }
    }
    if (feed === reader) {
      feed = null;
      for (const subscriber of subscribers) subscriber.close();
      subscribers.clear();
    }
  } catch (error) {
    if (feed === reader) {
      feed = null;
      for (const subscriber of subscribers) subscriber.error(error);
      subscribers.clear();
    }
  }
}

/** Tells every listening isolate of a change (without waiting). */
function announce(key: string | null): void {
  notifyPlugin.invoke("changed", [key, ServicesBinding.isolateId]).catch(
    () => {
      // No main thread to tell (a worker that was never initialized and
      // wrote through its own connection): nobody can be listening.
    },
  );
}

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
 * Works the same on the main thread and in a background isolate. It is a
 * plugin with `worker` affinity (channel
 * `plugins.flutter.io/shared_preferences`): each isolate reads and writes
 * the file through its own SQLite connection, with no hop to the main
 * thread; a worker without file access (a sandbox) is proxied to the main
 * thread instead, after `BackgroundIsolateBinaryMessenger.ensureInitialized`.
 * As in Flutter, reads come from a cache loaded by
 * {@linkcode SharedPreferences.getInstance} and refreshed by
 * {@linkcode SharedPreferences.reload}. A `setX` that resolved is committed
 * with `synchronous=FULL`: it survives a crash of the process and a power
 * loss. {@linkcode SharedPreferences.onChange} tells of changes made by any
 * isolate.
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
  readonly #channel: Plugin<PreferencesMethods>;

  private constructor(
    channel: Plugin<PreferencesMethods>,
    cache: Map<string, [PreferenceType, unknown]>,
  ) {
    this.#channel = channel;
    this.#cache = cache;
  }

  /**
   * The plugin behind the preferences (channel
   * `plugins.flutter.io/shared_preferences`, `worker` affinity), for
   * tracing and for callers that want the raw methods.
   */
  static get plugin(): Plugin<PreferencesMethods> {
    return preferencesPlugin;
  }

  /**
   * A stream of the changes made from now on, by any isolate (including
   * this one): each says which key changed and who changed it. Call
   * {@linkcode SharedPreferences.reload} to read the new values. Cancel the
   * stream (or its reader) when done: an open stream keeps the isolate
   * alive.
   *
   * @returns A new stream of changes.
   */
  onChange(): ReadableStream<PreferenceChange> {
    return subscribe();
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
      const channel = preferencesPlugin;
      instance = channel.invoke("getAll").then(
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
    return this.#channel.invoke("getStoragePath");
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
    const done = await this.#channel.invoke("remove", key);
    this.#cache.delete(key);
    announce(key);
    return done;
  }

  /**
   * Removes every value.
   *
   * @returns `true` once the removal is on disk.
   */
  async clear(): Promise<boolean> {
    const done = await this.#channel.invoke("clear");
    this.#cache.clear();
    announce(null);
    return done;
  }

  /** Reloads every value from storage (to see other isolates' writes). */
  async reload(): Promise<void> {
    this.#cache = await this.#channel.invoke("getAll");
  }

  async #write(
    key: string,
    type: PreferenceType,
    value: unknown,
  ): Promise<boolean> {
    const done = await this.#channel.invoke("set", [
      key,
      type,
      type === "double" ? new Double(value as number) : value,
    ]);
    this.#cache.set(key, [type, value]);
    announce(key);
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
