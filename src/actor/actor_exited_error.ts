import {
  IsolatesError,
  type IsolatesErrorOptions,
} from "../errors/isolates_error.ts";

/**
 * A message could not reach an actor, or its reply could not come back,
 * because the actor has ended (it stopped, was killed or crashed) or is
 * stopping. Names the actor and says what happened to it; after a crash,
 * `cause` is the error that crashed it.
 *
 * @example
 * ```ts
 * import { ActorExitedError } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const error = new ActorExitedError("counter", "was killed");
 * assert.equal(error.code, "actor_exited");
 * assert.equal(error.actor, "counter");
 * assert.equal(error.reason, "was killed");
 * assert.match(error.message, /actor "counter": it was killed/);
 * ```
 */
export class ActorExitedError extends IsolatesError {
  /** The name of the actor that ended. */
  readonly actor: string;
  /** What happened to it, e.g. `was killed` or `crashed: boom`. */
  readonly reason: string;

  /**
   * Creates the error for a message to or from an actor that has ended.
   *
   * @param actor The name of the actor.
   * @param reason What happened to it, as a phrase following "it", e.g.
   *   `was killed`, `has stopped`, `is stopping` or `crashed: boom`.
   * @param options The error that crashed the actor, as `cause`.
   */
  constructor(actor: string, reason: string, options?: IsolatesErrorOptions) {
    super(
      "actor_exited",
      `Cannot reach actor "${actor}": it ${reason}; send to a running actor, e.g. the one its supervisor restarted`,
      options,
    );
    this.actor = actor;
    this.reason = reason;
  }
}
