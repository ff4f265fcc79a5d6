import { IsolatesError } from "../errors/isolates_error.ts";
import type { SerializedError } from "./protocol.ts";

/**
 * An error thrown in another isolate, as Dart's `RemoteError`: it keeps the
 * original error's class name, message and stack (`remoteStack`), and the
 * stack of this error shows both sides.
 *
 * @example
 * ```ts
 * import { RemoteError } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const error = new RemoteError({
 *   name: "TypeError",
 *   message: "boom",
 *   stack: "TypeError: boom\n    at task (file:///task.ts:1:7)",
 *   code: null,
 * });
 * assert.equal(error.remoteName, "TypeError");
 * assert.match(error.stack ?? "", /task\.ts/);
 * ```
 */
export class RemoteError extends IsolatesError {
  /** The class name of the remote error. */
  readonly remoteName: string;
  /** The remote error's stack, as the other isolate printed it. */
  readonly remoteStack: string | null;
  /** The remote error's code, when it was one of this module's errors. */
  readonly remoteCode: string | null;

  /**
   * Creates the local stand-in for an error thrown in another isolate.
   *
   * @param error The error as it crossed the boundary.
   * @param message A message to use instead of the remote one.
   */
  constructor(error: SerializedError, message?: string) {
    super("remote_error", message ?? `${error.name}: ${error.message}`);
    this.remoteName = error.name;
    this.remoteStack = error.stack;
    this.remoteCode = error.code;
    if (error.stack !== null) {
      this.stack = `${this.stack}\n  from the remote isolate:\n${error.stack}`;
    }
  }
}
