import { IsolatesError } from "../errors/isolates_error.ts";

/**
 * Dart's `StateError`: an operation was used in a state that does not allow
 * it, e.g. `BackgroundIsolateBinaryMessenger.instance` before
 * `ensureInitialized`. `toString()` prints `Bad state: <message>`, as Dart.
 *
 * @example
 * ```ts
 * import { StateError } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const error = new StateError("not ready");
 * assert.equal(error.code, "bad_state");
 * assert.equal(String(error), "Bad state: not ready");
 * ```
 */
export class StateError extends IsolatesError {
  /**
   * Creates the error for an operation the current state forbids.
   *
   * @param message What state forbids the operation.
   */
  constructor(message: string) {
    super("bad_state", message);
  }

  /**
   * Renders Dart's form.
   *
   * @returns `Bad state: <message>`.
   */
  override toString(): string {
    return `Bad state: ${this.message}`;
  }
}
