import { posix, win32 } from "node:path";
import { DataDirectoryError } from "./data_directory_error.ts";

/** The folder name `isolates` uses under the platform's data directory. */
const APP_FOLDER = "isolates";

/**
 * Returns the directory where `isolates` keeps app data, such as the
 * SharedPreferences file. The directory is not created here.
 *
 * `ISOLATES_DATA_DIR`, when non-empty, is returned as is. Otherwise:
 * - Linux and other Unix: `$XDG_DATA_HOME/isolates`, else
 *   `$HOME/.local/share/isolates`. Per the XDG Base Directory spec, a
 *   relative `XDG_DATA_HOME` is ignored.
 * - macOS: `$HOME/Library/Application Support/isolates`.
 * - Windows: `%APPDATA%\isolates`, else
 *   `%USERPROFILE%\AppData\Roaming\isolates`.
 *
 * Platform variables count only when they hold absolute paths: a relative
 * base would make the data move with the working directory.
 *
 * @param env Reads an environment variable; injectable for tests.
 * @param platform The operating system whose conventions to follow.
 * @returns The data directory path, in the platform's path syntax.
 * @throws {DataDirectoryError} When no variable tried holds a usable path.
 */
export function userDataDirectory(
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
  platform: typeof Deno.build.os = Deno.build.os,
): string {
  const override = env("ISOLATES_DATA_DIR");
  if (override !== undefined && override !== "") return override;

  switch (platform) {
    case "windows": {
      const appData = absolute(env("APPDATA"), win32);
      if (appData !== undefined) return win32.join(appData, APP_FOLDER);
      const profile = absolute(env("USERPROFILE"), win32);
      if (profile !== undefined) {
        return win32.join(profile, "AppData", "Roaming", APP_FOLDER);
      }
      throw new DataDirectoryError(platform, [
        "ISOLATES_DATA_DIR",
        "APPDATA",
        "USERPROFILE",
      ]);
    }
    case "darwin": {
      const home = absolute(env("HOME"), posix);
      if (home !== undefined) {
        return posix.join(home, "Library", "Application Support", APP_FOLDER);
      }
      throw new DataDirectoryError(platform, ["ISOLATES_DATA_DIR", "HOME"]);
    }
    default: {
      const dataHome = absolute(env("XDG_DATA_HOME"), posix);
      if (dataHome !== undefined) return posix.join(dataHome, APP_FOLDER);
      const home = absolute(env("HOME"), posix);
      if (home !== undefined) {
        return posix.join(home, ".local", "share", APP_FOLDER);
      }
      throw new DataDirectoryError(platform, [
        "ISOLATES_DATA_DIR",
        "XDG_DATA_HOME",
        "HOME",
      ]);
    }
  }
}

/** `value` when it is an absolute path in `syntax`, else `undefined`. */
function absolute(
  value: string | undefined,
  syntax: typeof posix | typeof win32,
): string | undefined {
  return value !== undefined && syntax.isAbsolute(value) ? value : undefined;
}
