import {
  IsolatesError,
  type IsolatesErrorOptions,
} from "../errors/isolates_error.ts";

/**
 * A call could not complete because the isolate at the other end is gone
 * (it exited, crashed or was killed), or because this isolate is shutting
 * down. Names the isolate.
 *
 * @example
 * ```ts
 * import { IsolateExitedError } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const error = new IsolateExitedError("0.2", "worker (0.2) was killed", "plugins/x");
 * assert.equal(error.code, "isolate_exited");
 * assert.match(error.message, /plugins\/x/);
 * ```
 */
export class IsolateExitedError extends IsolatesError {
  /** The id of the isolate that is gone. */
  readonly isolate: string;

  /**
   * Creates the error for an isolate that is gone.
   *
   * @param isolate The id of the isolate that is gone.
   * @param reason What happened to it, naming it.
   * @param channel The channel of the call that failed, if any.
   * @param options The error that ended the isolate, if any.
   */
  constructor(
    isolate: string,
    reason: string,
    channel?: string,
    options?: IsolatesErrorOptions,
  ) {
    super(
      "isolate_exited",
      `Cannot complete ${
        channel === undefined ? "the call" : `the call on channel "${channel}"`
      }: isolate ${reason}; calls in flight to or from an isolate fail when it ends`,
      options,
    );
    this.isolate = isolate;
  }
}
