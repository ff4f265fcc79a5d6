/**
 * The platform side of SharedPreferences, on the root isolate: the methods
 * of the channel, over the SQLite store in the user's data directory.
 * Loaded on the first call (see `shared_preferences.ts`).
 */
import { join } from "node:path";
import { Double } from "../codec/double.ts";
import type { MethodCall } from "../codec/method_call.ts";
import { MissingPluginException } from "../codec/missing_plugin_exception.ts";
import { userDataDirectory } from "./_data_dir.ts";
import {
  PreferencesStore,
  type PreferenceValue,
} from "./_preferences_store.ts";
import type { PreferenceType } from "./shared_preferences.ts";

let opened: { path: string; store: PreferencesStore } | null = null;

/** The store for the current data directory (reopened if it changed). */
function open(): { path: string; store: PreferencesStore } {
  const path = join(userDataDirectory(), "shared_preferences.db");
  if (opened === null || opened.path !== path) {
    opened?.store.close();
    opened = { path, store: PreferencesStore.open(path) };
  }
  return opened;
}

/** Answers one call of the SharedPreferences channel. */
export function handlePreferencesCall(call: MethodCall): unknown {
  switch (call.method) {
    case "getAll": {
      const all = new Map<string, [PreferenceType, unknown]>();
      for (const [key, entry] of open().store.getAll()) {
        // Doubles keep their type across the channel, even when integral.
        all.set(key, [
          entry.type,
          entry.type === "double" ? new Double(entry.value) : entry.value,
        ]);
      }
      return all;
    }
    case "set": {
      const [key, type, value] = call.arguments as [
        string,
        PreferenceType,
        unknown,
      ];
      open().store.set(key, { type, value } as PreferenceValue);
      return true;
    }
    case "remove":
      open().store.remove(call.arguments as string);
      return true;
    case "clear":
      open().store.clear();
      return true;
    case "getStoragePath":
      return open().path;
    default:
      throw new MissingPluginException();
  }
}
