import { IsolatesError } from "../errors/isolates_error.ts";

/**
 * `Isolate.spawn` (or `Isolate.run`) could not start the isolate: the entry
 * module failed to load, lacks the export, or the entry threw when called.
 * The message says which; `cause` holds the remote error.
 *
 * @example
 * ```ts
 * import { Isolate, IsolateSpawnError } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(
 *   Isolate.spawn(new URL("./no_such_module.ts", import.meta.url), null),
 *   (error: unknown) => error instanceof IsolateSpawnError && error.code === "isolate_spawn",
 * );
 * ```
 */
export class IsolateSpawnError extends IsolatesError {
  /**
   * Creates the error for an isolate that could not start.
   *
   * @param message What failed and how to fix it.
   * @param cause The remote error.
   */
  constructor(message: string, cause?: unknown) {
    super("isolate_spawn", message, { cause });
  }
}
