import { IsolatesError } from "../errors/isolates_error.ts";

/**
 * Thrown by the SharedPreferences store when its SQLite file cannot be
 * opened or created (the message names the path and quotes SQLite's or the
 * file system's own message), when a stored row cannot be read back (an
 * unknown type or a corrupt value; the message names the key), or when the
 * store is used after it was closed. Its code is `"preferences_store"`, and
 * `cause` holds the underlying error when there is one.
 *
 * @example Telling a store failure apart by its code
 * ```ts
 * import { PreferencesStoreError } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const error = new PreferencesStoreError(
 *   'Cannot read preference "theme": stored type "color" is unknown; remove the key',
 * );
 * assert.equal(error.code, "preferences_store");
 * assert.equal(error.name, "PreferencesStoreError");
 * ```
 */
export class PreferencesStoreError extends IsolatesError {
  /**
   * Creates the error from a finished message.
   *
   * @param message What failed, for which path or key, and how to fix it.
   * @param options The underlying error, when there is one.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super("preferences_store", message, options);
  }
}
