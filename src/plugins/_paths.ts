/**
 * Where PathProvider's directories are on each operating system: a pure
 * function of the environment, so every platform's table can be tested on
 * any machine (see `path_provider.ts` for the plugin around it).
 */
import { posix, win32 } from "node:path";
import { userDataDirectory } from "./_data_dir.ts";
import { DataDirectoryError } from "./data_directory_error.ts";

/** The folder `isolates` uses under the platform's per-app locations. */
const APP_ID = "isolates";

/** The directories PathProvider knows, as Flutter names them. */
export type PathKind =
  | "temporary"
  | "applicationSupport"
  | "applicationDocuments"
  | "applicationCache"
  | "downloads";

/** What the paths are computed from; the real one reads the process. */
export interface PathEnvironment {
  /** Reads an environment variable. */
  env(name: string): string | undefined;
  /** The operating system whose conventions to follow. */
  os: typeof Deno.build.os;
  /**
   * Reads a text file (XDG's `user-dirs.dirs`), or `undefined` when it
   * cannot be read.
   */
  readTextFile(path: string): string | undefined;
}

/** A directory, and whether PathProvider creates it when it is missing. */
export interface ResolvedDirectory {
  path: string;
  create: boolean;
}

/** Under `ISOLATES_DATA_DIR`, the subfolder of each relocated directory. */
const OVERRIDE_FOLDERS: Record<
  Exclude<PathKind, "temporary" | "applicationSupport">,
  string
> = {
  applicationDocuments: "documents",
  applicationCache: "cache",
  downloads: "downloads",
};

/**
 * Returns where a directory is, following path_provider's conventions per
 * operating system (see `PathProvider` for the table).
 *
 * `ISOLATES_DATA_DIR`, when non-empty, relocates every directory but the
 * temporary one: support is the directory itself (where SharedPreferences
 * keeps its file), documents, cache and downloads are its `documents`,
 * `cache` and `downloads` subfolders, all created on demand.
 *
 * @param kind The directory.
 * @param environment The environment, OS and file reader to use.
 * @returns The path and whether to create it; `null` for a downloads
 * directory the environment cannot locate (Flutter returns `null` too).
 * @throws {DataDirectoryError} When no variable tried holds a usable path
 * (never for `temporary`, which has a last resort).
 */
export function resolveDirectory(
  kind: PathKind,
  environment: PathEnvironment,
): ResolvedDirectory | null {
  const { env, os } = environment;
  const syntax = os === "windows" ? win32 : posix;
  if (kind === "temporary") {
    return { path: trimmed(temporary(env, os), syntax), create: false };
  }
  if (kind === "applicationSupport") {
    // One definition with SharedPreferences: its file lives here.
    return { path: userDataDirectory(env, os), create: true };
  }
  const override = env("ISOLATES_DATA_DIR");
  if (override !== undefined && override !== "") {
    return {
      path: syntax.join(override, OVERRIDE_FOLDERS[kind]),
      create: true,
    };
  }
  const found = platformDirectory(kind, environment);
  if (found.path !== undefined) {
    return {
      path: trimmed(found.path, syntax),
      create: kind === "applicationCache",
    };
  }
  if (kind === "downloads") return null;
  throw new DataDirectoryError(os, ["ISOLATES_DATA_DIR", ...found.tried]);
}

/** The temporary directory: it always has a last resort. */
function temporary(
  env: PathEnvironment["env"],
  os: typeof Deno.build.os,
): string {
  if (os === "windows") {
    // GetTempPath's order: TMP, TEMP, USERPROFILE, the Windows directory.
    for (const name of ["TMP", "TEMP", "USERPROFILE", "SystemRoot"]) {
      const value = env(name);
      if (value !== undefined && value !== "") return value;
    }
    return "C:\\Windows";
  }
  // path_provider_linux and NSTemporaryDirectory: TMPDIR, else /tmp.
  const tmpdir = env("TMPDIR");
  return tmpdir === undefined || tmpdir === "" ? "/tmp" : tmpdir;
}

/** The platform's own location of a non-temporary directory. */
function platformDirectory(
  kind: Exclude<PathKind, "temporary" | "applicationSupport">,
  environment: PathEnvironment,
): { path: string | undefined; tried: string[] } {
  const { env, os } = environment;
  switch (os) {
    case "windows": {
      const profile = absolute(env("USERPROFILE"), win32);
      if (kind === "applicationCache") {
        const local = absolute(env("LOCALAPPDATA"), win32);
        return {
          path: local !== undefined
            ? win32.join(local, APP_ID)
            : profile && win32.join(profile, "AppData", "Local", APP_ID),
          tried: ["LOCALAPPDATA", "USERPROFILE"],
        };
      }
      // FOLDERID_Documents and FOLDERID_Downloads default to these; a
      // redirected known folder is only visible through the Win32 shell API.
      const folder = kind === "downloads" ? "Downloads" : "Documents";
      return {
        path: profile && win32.join(profile, folder),
        tried: ["USERPROFILE"],
      };
    }
    case "darwin": {
      const home = absolute(env("HOME"), posix);
      const path = home === undefined ? undefined : {
        applicationCache: posix.join(home, "Library", "Caches", APP_ID),
        applicationDocuments: posix.join(home, "Documents"),
        downloads: posix.join(home, "Downloads"),
      }[kind];
      return { path, tried: ["HOME"] };
    }
    default: {
      const home = absolute(env("HOME"), posix);
      if (kind === "applicationCache") {
        const cacheHome = absolute(env("XDG_CACHE_HOME"), posix);
        return {
          path: cacheHome !== undefined
            ? posix.join(cacheHome, APP_ID)
            : home && posix.join(home, ".cache", APP_ID),
          tried: ["XDG_CACHE_HOME", "HOME"],
        };
      }
      const name = kind === "downloads" ? "DOWNLOAD" : "DOCUMENTS";
      return {
        path: xdgUserDirectory(name, environment, home) ??
          (home &&
            posix.join(home, kind === "downloads" ? "Downloads" : "Documents")),
        tried: [`XDG_${name}_DIR`, "HOME"],
      };
    }
  }
}

/**
 * An XDG user directory, as `xdg-user-dir NAME` finds it: the
 * `XDG_NAME_DIR` line of `$XDG_CONFIG_HOME/user-dirs.dirs` (a shell file of
 * `"$HOME/…"` or absolute paths), else the variable in the environment.
 * Unlike `xdg-user-dir`, a missing entry is not `$HOME` itself: the caller
 * falls back to `~/Documents` or `~/Downloads`.
 */
function xdgUserDirectory(
  name: string,
  environment: PathEnvironment,
  home: string | undefined,
): string | undefined {
  const variable = `XDG_${name}_DIR`;
  const configHome = absolute(environment.env("XDG_CONFIG_HOME"), posix) ??
    (home && posix.join(home, ".config"));
  if (configHome !== undefined) {
    const text = environment.readTextFile(
      posix.join(configHome, "user-dirs.dirs"),
    );
    if (text !== undefined) {
      const fromFile = userDirsEntry(text, variable, home);
      if (fromFile !== undefined) return fromFile;
    }
  }
  return absolute(environment.env(variable), posix);
}

/** The value of `variable` in a `user-dirs.dirs` file, expanded. */
function userDirsEntry(
  text: string,
  variable: string,
  home: string | undefined,
): string | undefined {
  let found: string | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#") || !line.startsWith(`${variable}=`)) continue;
    let value = line.slice(variable.length + 1);
    const quoted = /^"(.*)"$/.exec(value);
    if (quoted !== null) value = quoted[1];
    // The spec allows only "$HOME/…" and absolute paths; a later line wins,
    // as when the shell sources the file.
    if (value === "$HOME" || value.startsWith("$HOME/")) {
      if (home === undefined) continue;
      value = home + value.slice("$HOME".length);
    }
    if (posix.isAbsolute(value)) found = value;
  }
  return found;
}

/** `path` without trailing separators (a root keeps its own). */
function trimmed(path: string, syntax: typeof posix | typeof win32): string {
  const root = syntax.parse(path).root;
  let end = path.length;
  while (
    end > root.length && (path[end - 1] === syntax.sep || path[end - 1] === "/")
  ) {
    end--;
  }
  return path.slice(0, end);
}

/** `value` when it is an absolute path in `syntax`, else `undefined`. */
function absolute(
  value: string | undefined,
  syntax: typeof posix | typeof win32,
): string | undefined {
  return value !== undefined && syntax.isAbsolute(value) ? value : undefined;
}
