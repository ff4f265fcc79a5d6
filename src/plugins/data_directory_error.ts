import { IsolatesError } from "../errors/isolates_error.ts";

/**
 * Thrown when `isolates` cannot work out where to keep app data (for
 * example the SharedPreferences file): `ISOLATES_DATA_DIR` is not set and
 * none of the platform's own variables (`XDG_DATA_HOME` and `HOME` on Linux
 * and other Unix, `HOME` on macOS, `APPDATA` and `USERPROFILE` on Windows)
 * holds an absolute path. Its code is `"data_dir_unavailable"`.
 *
 * @example Catching the error when the environment is empty
 * ```ts
 * import { DataDirectoryError } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const error = new DataDirectoryError("linux", ["XDG_DATA_HOME", "HOME"]);
 * assert.equal(error.code, "data_dir_unavailable");
 * assert.match(error.message, /set ISOLATES_DATA_DIR/);
 * ```
 */
export class DataDirectoryError extends IsolatesError {
  /** The platform, as in `Deno.build.os`, whose variables were tried. */
  readonly platform: string;
  /** The environment variables that were tried, in the order tried. */
  readonly variables: readonly string[];

  /**
   * Creates the error for the variables tried on `platform`.
   *
   * @param platform The platform, as in `Deno.build.os`.
   * @param variables The environment variables that were tried, in order.
   * @param options The underlying error, when there is one.
   */
  constructor(
    platform: string,
    variables: readonly string[],
    options?: { cause?: unknown },
  ) {
    const names = variables.map((name) => `"${name}"`).join(", ");
    super(
      "data_dir_unavailable",
      `Cannot locate the data directory on "${platform}": none of ${names} is set to a usable path (ISOLATES_DATA_DIR must be non-empty, the others absolute); set ISOLATES_DATA_DIR to a writable directory`,
      options,
    );
    this.platform = platform;
    this.variables = Object.freeze([...variables]);
  }
}
