import { IsolatesError } from "./isolates_error.ts";

/**
 * A message was refused because the actor's mailbox is full and its overflow
 * policy is `"reject"`, or it was dropped by `"drop_oldest"` or
 * `"drop_newest"` while an `ask` waited for its reply. Names the actor and
 * the capacity.
 *
 * @example
 * ```ts
 * import { MailboxFullError } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const error = new MailboxFullError("counter", 1000);
 * assert.equal(error.code, "mailbox_full");
 * assert.equal(error.actor, "counter");
 * assert.equal(error.capacity, 1000);
 * assert.match(error.message, /mailbox is full \(1000\)/);
 * ```
 */
export class MailboxFullError extends IsolatesError {
  /** The name of the actor whose mailbox is full. */
  readonly actor: string;
  /** How many messages the mailbox holds at most. */
  readonly capacity: number;

  /**
   * Creates the error for a message a full mailbox refused.
   *
   * @param actor The name of the actor whose mailbox is full.
   * @param capacity How many messages the mailbox holds at most.
   * @param message A message naming what was refused, when the default
   * (for an actor's mailbox) does not fit.
   */
  constructor(actor: string, capacity: number, message?: string) {
    super(
      "mailbox_full",
      message ??
        `Cannot deliver to actor "${actor}": mailbox is full (${capacity}); raise "capacity" or choose another overflow policy`,
    );
    this.actor = actor;
    this.capacity = capacity;
  }
}
