import {
  IsolatesError,
  type IsolatesErrorOptions,
} from "../errors/isolates_error.ts";

/**
 * A {@linkcode Supervisor} could not do what it was asked, or gave up: a
 * child failed to start (`cause` is the failure), a child id is taken or
 * unknown, the supervisor is stopping, or more restarts happened within
 * `period` than `intensity` allows. In the last case it is the `error` of
 * the supervisor's `{ kind: "crashed" }` exit reason, so that a parent
 * supervisor sees an abnormal exit.
 *
 * @example Telling a supervisor's refusal apart
 * ```ts
 * import { Supervisor, SupervisorError } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * await using supervisor = new Supervisor({ name: "app" });
 * await assert.rejects(supervisor.terminateChild("missing"), (error: unknown) => {
 *   assert.ok(error instanceof SupervisorError);
 *   assert.equal(error.code, "supervisor");
 *   assert.equal(error.supervisor, "app");
 *   assert.match(error.message, /"missing"/);
 *   return true;
 * });
 * ```
 */
export class SupervisorError extends IsolatesError {
  /** The name of the supervisor that raised it. */
  readonly supervisor: string;

  /**
   * Creates the error a supervisor raises.
   *
   * @param supervisor The name of the supervisor.
   * @param message What failed, why, and how to fix it.
   * @param options The failure that led to this one, as `cause`.
   */
  constructor(
    supervisor: string,
    message: string,
    options?: IsolatesErrorOptions,
  ) {
    super("supervisor", message, options);
    this.supervisor = supervisor;
  }
}
