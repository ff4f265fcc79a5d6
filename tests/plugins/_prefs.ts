// Shared by the SharedPreferences tests.
import { join } from "node:path";
import { SharedPreferences } from "@isolates/isolates";
import { freshDataDir } from "../isolate/_helpers.ts";

/**
 * Points the preferences at a fresh directory for one test, and reloads the
 * main thread's instance (it is cached per isolate) so it reads from there.
 * Workers read the same ISOLATES_DATA_DIR (the environment is the process's).
 */
export async function freshPreferences(): Promise<
  AsyncDisposable & { prefs: SharedPreferences; dir: string; file: string }
> {
  const data = await freshDataDir("isolates_prefs_");
  const prefs = await SharedPreferences.getInstance();
  await prefs.reload();
  return {
    prefs,
    dir: data.dir,
    file: join(data.dir, "shared_preferences.db"),
    [Symbol.asyncDispose]: () => data[Symbol.asyncDispose](),
  };
}
