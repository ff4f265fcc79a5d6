/**
 * The storage side of SharedPreferences: the plugin's methods over the
 * SQLite store in the user's data directory. It runs in whichever isolate
 * the call is placed in (each isolate keeps its own connection to the same
 * file), and is loaded on the first call (see `shared_preferences.ts`).
 */
import { join } from "node:path";
import { Double } from "../codec/double.ts";
import { PlatformException } from "../codec/platform_exception.ts";
import { bumpVersion, readVersion } from "../isolate/_shared_versions.ts";
import { userDataDirectory } from "./_data_dir.ts";
import {
  PreferencesStore,
  type PreferenceValue,
} from "./_preferences_store.ts";

/** The Flutter types a preference can have. */
type PreferenceType = PreferenceValue["type"];

const TYPES = new Set<string>([
  "bool",
  "int",
  "double",
  "string",
  "stringList",
]);

let opened: { path: string; store: PreferencesStore } | null = null;

/** The shared version of the preferences: bumped after every write. */
const VERSION = "plugins.flutter.io/shared_preferences";

/**
 * Values this isolate read, valid while the shared version is the one they
 * were read at: a read after a write made by any isolate of the process
 * reads the file again. (Writes by another process are seen by `getAll`.)
 */
let cache: {
  path: string;
  version: number;
  entries: Map<string, PreferenceValue | null>;
} | null = null;

function cached(path: string): Map<string, PreferenceValue | null> | null {
  const version = readVersion(VERSION);
  if (version === null) return null;
  if (cache === null || cache.path !== path || cache.version !== version) {
    cache = { path, version, entries: new Map() };
  }
  return cache.entries;
}

/** The store for the current data directory (reopened if it changed). */
function open(): { path: string; store: PreferencesStore } {
  const path = join(userDataDirectory(), "shared_preferences.db");
  if (opened === null || opened.path !== path) {
    opened?.store.close();
    opened = { path, store: PreferencesStore.open(path) };
  }
  return opened;
}

function wire(entry: PreferenceValue): [PreferenceType, unknown] {
  // Doubles keep their type across a channel, even when integral.
  return [
    entry.type,
    entry.type === "double" ? new Double(entry.value) : entry.value,
  ];
}

function badArgs(method: string, expected: string): PlatformException {
  return new PlatformException({
    code: "bad_args",
    message: `Cannot ${method} a preference: the arguments must be ${expected}`,
  });
}

/** Every stored value, with its type. */
export function getAll(): Map<string, [PreferenceType, unknown]> {
  const all = new Map<string, [PreferenceType, unknown]>();
  for (const [key, entry] of open().store.getAll()) all.set(key, wire(entry));
  return all;
}

/** One stored value, with its type, or `null`. */
export function get(key: unknown): [PreferenceType, unknown] | null {
  if (typeof key !== "string") throw badArgs("get", "a key (a string)");
  const { path, store } = open();
  const entries = cached(path);
  let entry = entries?.get(key);
  if (entry === undefined) {
    entry = store.get(key) ?? null;
    entries?.set(key, entry);
  }
  return entry === null ? null : wire(entry);
}

/** Stores a value; durable once this returns. */
export function set(args: unknown): true {
  if (
    !Array.isArray(args) || args.length !== 3 ||
    typeof args[0] !== "string" || !TYPES.has(args[1])
  ) {
    throw badArgs("set", "[key, type, value] with a known type");
  }
  const [key, type, raw] = args as [string, PreferenceType, unknown];
  const value = raw instanceof Double ? raw.value : raw;
  if (!fits(type, value)) {
    throw badArgs("set", `[key, type, value] with a value of type "${type}"`);
  }
  open().store.set(key, { type, value } as PreferenceValue);
  bumpVersion(VERSION);
  return true;
}

/** Removes a value. */
export function remove(key: unknown): true {
  if (typeof key !== "string") throw badArgs("remove", "a key (a string)");
  open().store.remove(key);
  bumpVersion(VERSION);
  return true;
}

/** Removes every value. */
export function clear(): true {
  open().store.clear();
  bumpVersion(VERSION);
  return true;
}

/** The file the values are kept in. */
export function getStoragePath(): string {
  return open().path;
}

function fits(type: PreferenceType, value: unknown): boolean {
  switch (type) {
    case "bool":
      return typeof value === "boolean";
    case "int":
      return typeof value === "bigint" || Number.isSafeInteger(value);
    case "double":
      return typeof value === "number";
    case "string":
      return typeof value === "string";
    case "stringList":
      return Array.isArray(value) &&
        value.every((item) => typeof item === "string");
  }
}
