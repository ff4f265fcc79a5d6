import { IsolatesError } from "./isolates_error.ts";

/**
 * A wait ran past its deadline: an actor's `ask` with `timeout`, or a pool
 * task with `timeout`. Says what timed out and after how long.
 *
 * @example
 * ```ts
 * import { TimeoutError } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const error = new TimeoutError('ask actor "counter"', 250);
 * assert.equal(error.code, "timeout");
 * assert.equal(error.ms, 250);
 * assert.match(error.message, /250 ms/);
 * ```
 */
export class TimeoutError extends IsolatesError {
  /** The deadline that passed, in milliseconds. */
  readonly ms: number;

  /**
   * Creates the error for a wait that timed out.
   *
   * @param what What timed out, e.g. `ask actor "counter"`.
   * @param ms The deadline, in milliseconds.
   */
  constructor(what: string, ms: number) {
    super(
      "timeout",
      `Cannot ${what}: no answer within ${ms} ms; raise "timeout" or find what blocks it`,
    );
    this.ms = ms;
  }
}
