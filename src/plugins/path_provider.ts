import { PlatformException } from "../codec/platform_exception.ts";
import type { PathKind, ResolvedDirectory } from "./_paths.ts";
import { DataDirectoryError } from "./data_directory_error.ts";
import { Plugin } from "./plugin.ts";

/** Flutter's channel name for path_provider. */
const CHANNEL = "plugins.flutter.io/path_provider";

/**
 * The methods of the PathProvider channel (Flutter's names): each takes no
 * argument and answers an absolute path; the downloads directory may be
 * `null`.
 *
 * @example
 * ```ts
 * import type { PathProviderMethods } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const method: keyof PathProviderMethods = "getTemporaryDirectory";
 * assert.equal(method, "getTemporaryDirectory");
 * ```
 */
export type PathProviderMethods = {
  getTemporaryDirectory: { args: null; result: string };
  getApplicationSupportDirectory: { args: null; result: string };
  getApplicationDocumentsDirectory: { args: null; result: string };
  getApplicationCacheDirectory: { args: null; result: string };
  getDownloadsDirectory: { args: null; result: string | null };
};

const LABELS: Record<PathKind, string> = {
  temporary: "temporary",
  applicationSupport: "application support",
  applicationDocuments: "application documents",
  applicationCache: "application cache",
  downloads: "downloads",
};

/** Reads a file for XDG, `undefined` when it cannot. */
function readTextFile(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    // Missing or unreadable: XDG then falls back to its defaults.
    return undefined;
  }
}

/** Where a directory is here, created when it should be. */
async function locate(kind: PathKind): Promise<string | null> {
  // Loaded on first use: node:path costs a new worker milliseconds to load.
  const { resolveDirectory } = await import("./_paths.ts");
  let resolved: ResolvedDirectory | null;
  try {
    resolved = resolveDirectory(kind, {
      env: (name) => Deno.env.get(name),
      os: Deno.build.os,
      readTextFile,
    });
  } catch (error) {
    if (error instanceof DataDirectoryError) {
      // What a caller can handle, with the same fields however the call
      // was placed (the codec turns other errors into code "error").
      throw new PlatformException({
        code: error.code,
        message: error.message,
        details: [error.platform, ...error.variables],
      });
    }
    throw error;
  }
  if (resolved === null) return null;
  if (resolved.create) {
    try {
      await Deno.mkdir(resolved.path, { recursive: true });
    } catch (error) {
      throw new PlatformException({
        code: "directory_unavailable",
        message: `Cannot create the ${
          LABELS[kind]
        } directory "${resolved.path}": ${
          error instanceof Error ? error.message : String(error)
        }; make its parent writable or set ISOLATES_DATA_DIR to a writable directory`,
        details: resolved.path,
      });
    }
  }
  return resolved.path;
}

/** {@linkcode locate} for the directories that always have a path. */
async function located(kind: Exclude<PathKind, "downloads">): Promise<string> {
  const path = await locate(kind);
  // Only downloads may be missing (see resolveDirectory).
  if (path === null) {
    throw new TypeError(
      `Cannot locate the ${
        LABELS[kind]
      } directory: the platform table has none; report this bug`,
    );
  }
  return path;
}

/** What a local run needs: the variables, and the files some methods touch. */
const FILES: Deno.PermissionDescriptor[] = [
  { name: "env" },
  { name: "read" },
  { name: "write" },
];

/**
 * The plugin: `auto` affinity, every method thread-safe, so a worker
 * computes its paths itself with no hop; a worker without the permissions
 * (no environment access in a sandbox, say) is proxied to the main thread,
 * which answers the same.
 */
const pathPlugin = new Plugin<PathProviderMethods>({
  channel: CHANNEL,
  affinity: "auto",
  requires: FILES,
  methods: {
    getTemporaryDirectory: {
      threadSafe: true,
      requires: [{ name: "env" }],
      run: () => located("temporary"),
    },
    getApplicationSupportDirectory: {
      threadSafe: true,
      run: () => located("applicationSupport"),
    },
    getApplicationDocumentsDirectory: {
      threadSafe: true,
      run: () => located("applicationDocuments"),
    },
    getApplicationCacheDirectory: {
      threadSafe: true,
      run: () => located("applicationCache"),
    },
    getDownloadsDirectory: {
      threadSafe: true,
      run: () => locate("downloads"),
    },
  },
});

/**
 * The directory for temporary files, which the OS may delete: `TMPDIR` (else
 * `/tmp`) on Linux and macOS; `TMP`, `TEMP`, `USERPROFILE`, then the Windows
 * directory on Windows, as `GetTempPath` does. Trailing separators are
 * removed. Not created, and not moved by `ISOLATES_DATA_DIR`.
 *
 * Works the same on the main thread and in an initialized worker (see
 * {@linkcode PathProvider}).
 *
 * @returns The absolute path.
 * @throws {MissingPluginException} In a worker that did not call
 * `BackgroundIsolateBinaryMessenger.ensureInitialized(token)`.
 *
 * @example
 * ```ts
 * import { getTemporaryDirectory } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const temp = await getTemporaryDirectory();
 * assert.ok((await Deno.stat(temp)).isDirectory);
 * ```
 */
export function getTemporaryDirectory(): Promise<string> {
  return pathPlugin.invoke("getTemporaryDirectory");
}

/**
 * The directory for the app's support files, which users should not see
 * (SharedPreferences keeps its file here): `$XDG_DATA_HOME/isolates` (else
 * `~/.local/share/isolates`) on Linux, `~/Library/Application
 * Support/isolates` on macOS, `%APPDATA%\isolates` on Windows, or
 * `ISOLATES_DATA_DIR` itself when set. Created when missing, as Flutter
 * does.
 *
 * @returns The absolute path (or `ISOLATES_DATA_DIR` as given).
 * @throws {PlatformException} With code `"data_dir_unavailable"` when no
 * environment variable locates it, or `"directory_unavailable"` when it
 * cannot be created.
 * @throws {MissingPluginException} In a worker that did not call
 * `BackgroundIsolateBinaryMessenger.ensureInitialized(token)`.
 *
 * @example
 * ```ts
 * import { getApplicationSupportDirectory } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * Deno.env.set("ISOLATES_DATA_DIR", dir);
 * assert.equal(await getApplicationSupportDirectory(), dir);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function getApplicationSupportDirectory(): Promise<string> {
  return pathPlugin.invoke("getApplicationSupportDirectory");
}

/**
 * The directory for the user's documents made with the app: the XDG
 * `DOCUMENTS` user directory (from `user-dirs.dirs`, else `~/Documents`) on
 * Linux, `~/Documents` on macOS, `%USERPROFILE%\Documents` on Windows, or
 * `ISOLATES_DATA_DIR/documents` when set (created there).
 *
 * @returns The absolute path.
 * @throws {PlatformException} With code `"data_dir_unavailable"` when no
 * environment variable locates it.
 * @throws {MissingPluginException} In a worker that did not call
 * `BackgroundIsolateBinaryMessenger.ensureInitialized(token)`.
 *
 * @example
 * ```ts
 * import { getApplicationDocumentsDirectory } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 * import { join } from "node:path";
 *
 * const dir = await Deno.makeTempDir();
 * Deno.env.set("ISOLATES_DATA_DIR", dir);
 * assert.equal(await getApplicationDocumentsDirectory(), join(dir, "documents"));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function getApplicationDocumentsDirectory(): Promise<string> {
  return pathPlugin.invoke("getApplicationDocumentsDirectory");
}

/**
 * The directory for the app's cache files: `$XDG_CACHE_HOME/isolates` (else
 * `~/.cache/isolates`) on Linux, `~/Library/Caches/isolates` on macOS,
 * `%LOCALAPPDATA%\isolates` on Windows, or `ISOLATES_DATA_DIR/cache` when
 * set. Created when missing, as Flutter does.
 *
 * @returns The absolute path.
 * @throws {PlatformException} With code `"data_dir_unavailable"` when no
 * environment variable locates it, or `"directory_unavailable"` when it
 * cannot be created.
 * @throws {MissingPluginException} In a worker that did not call
 * `BackgroundIsolateBinaryMessenger.ensureInitialized(token)`.
 *
 * @example
 * ```ts
 * import { getApplicationCacheDirectory } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * Deno.env.set("ISOLATES_DATA_DIR", dir);
 * const cache = await getApplicationCacheDirectory();
 * assert.ok((await Deno.stat(cache)).isDirectory);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function getApplicationCacheDirectory(): Promise<string> {
  return pathPlugin.invoke("getApplicationCacheDirectory");
}

/**
 * The directory for downloaded files: the XDG `DOWNLOAD` user directory
 * (from `user-dirs.dirs`, else `~/Downloads`) on Linux, `~/Downloads` on
 * macOS, `%USERPROFILE%\Downloads` on Windows, or
 * `ISOLATES_DATA_DIR/downloads` when set (created there).
 *
 * @returns The absolute path, or `null` when the environment has no home
 * to put it in (Flutter returns `null` where there is no such directory).
 * @throws {MissingPluginException} In a worker that did not call
 * `BackgroundIsolateBinaryMessenger.ensureInitialized(token)`.
 *
 * @example
 * ```ts
 * import { getDownloadsDirectory } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 * import { join } from "node:path";
 *
 * const dir = await Deno.makeTempDir();
 * Deno.env.set("ISOLATES_DATA_DIR", dir);
 * assert.equal(await getDownloadsDirectory(), join(dir, "downloads"));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function getDownloadsDirectory(): Promise<string | null> {
  return pathPlugin.invoke("getDownloadsDirectory");
}

/**
 * Flutter's path_provider: where an app keeps its files, by the conventions
 * of each operating system. The same functions are exported on their own
 * (`getTemporaryDirectory()`…), as in Flutter; they answer paths as strings.
 *
 * | Directory | Linux (XDG) | macOS | Windows | `ISOLATES_DATA_DIR=D` |
 * | --- | --- | --- | --- | --- |
 * | temporary | `$TMPDIR`, `/tmp` | `$TMPDIR`, `/tmp` | `%TMP%`, `%TEMP%`, `%USERPROFILE%` | unchanged |
 * | support ✚ | `$XDG_DATA_HOME/isolates`, `~/.local/share/isolates` | `~/Library/Application Support/isolates` | `%APPDATA%\isolates` | `D` |
 * | documents | XDG `DOCUMENTS` dir, `~/Documents` | `~/Documents` | `%USERPROFILE%\Documents` | `D/documents` ✚ |
 * | cache ✚ | `$XDG_CACHE_HOME/isolates`, `~/.cache/isolates` | `~/Library/Caches/isolates` | `%LOCALAPPDATA%\isolates` | `D/cache` |
 * | downloads | XDG `DOWNLOAD` dir, `~/Downloads` | `~/Downloads` | `%USERPROFILE%\Downloads` | `D/downloads` ✚ |
 *
 * ✚: created when missing. Other Unix systems follow Linux. XDG and
 * Windows variables count only when they hold absolute paths. The app
 * folder is `isolates` (Flutter uses the application id): it is the
 * folder SharedPreferences uses, and `ISOLATES_DATA_DIR` is the way to move
 * everything, e.g. to keep tests and examples out of the user's home.
 *
 * It is a plugin (channel `plugins.flutter.io/path_provider`, `auto`
 * affinity, every method thread-safe): an initialized worker computes paths
 * in place from the shared process environment; a worker without
 * environment (or file) access is proxied to the main thread. Either way
 * the answer is the same.
 *
 * @example From the main thread and from a pool worker
 * ```ts
 * import { IsolatePool, PathProvider } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * Deno.env.set("ISOLATES_DATA_DIR", dir);
 * const here = await PathProvider.getApplicationCacheDirectory();
 * {
 *   await using pool = new IsolatePool({ size: 1 });
 *   const there = await pool.run(async () => {
 *     const { PathProvider } = await import("@isolates/isolates");
 *     return await PathProvider.getApplicationCacheDirectory();
 *   });
 *   assert.equal(there, here);
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class PathProvider {
  private constructor() {}

  /**
   * The plugin behind the functions (channel
   * `plugins.flutter.io/path_provider`, `auto` affinity), for tracing and
   * placement checks.
   */
  static get plugin(): Plugin<PathProviderMethods> {
    return pathPlugin;
  }

  /**
   * See {@linkcode getTemporaryDirectory}.
   *
   * @returns The absolute path.
   */
  static getTemporaryDirectory(): Promise<string> {
    return getTemporaryDirectory();
  }

  /**
   * See {@linkcode getApplicationSupportDirectory}.
   *
   * @returns The path, created.
   */
  static getApplicationSupportDirectory(): Promise<string> {
    return getApplicationSupportDirectory();
  }

  /**
   * See {@linkcode getApplicationDocumentsDirectory}.
   *
   * @returns The absolute path.
   */
  static getApplicationDocumentsDirectory(): Promise<string> {
    return getApplicationDocumentsDirectory();
  }

  /**
   * See {@linkcode getApplicationCacheDirectory}.
   *
   * @returns The absolute path, created.
   */
  static getApplicationCacheDirectory(): Promise<string> {
    return getApplicationCacheDirectory();
  }

  /**
   * See {@linkcode getDownloadsDirectory}.
   *
   * @returns The absolute path, or `null`.
   */
  static getDownloadsDirectory(): Promise<string | null> {
    return getDownloadsDirectory();
  }
}
