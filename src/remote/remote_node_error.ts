import { IsolatesError } from "../errors/isolates_error.ts";

/**
 * What went wrong between a hub (`NatsTransport`) and its remote nodes,
 * by `code`:
 *
 * - `remote_auth`: a token was refused (forged, expired, revoked, or for
 *   another hub); `reason` says which. The node gets nothing.
 * - `remote_node_lost`: the node running a task went silent (no heartbeat)
 *   and the task had no retry left.
 * - `remote_unavailable`: no hub or node answered, or the transport or
 *   node is closed.
 *
 * @example Telling the cases apart
 * ```ts
 * import { RemoteNodeError } from "@isolates/isolates/nats";
 * import assert from "node:assert/strict";
 *
 * const error = new RemoteNodeError(
 *   "remote_auth",
 *   'Cannot join hub "jobs": its token is forged; ask the hub for a token (issueToken)',
 *   "forged",
 * );
 * assert.equal(error.code, "remote_auth");
 * assert.equal(error.reason, "forged");
 * assert.equal(error.name, "RemoteNodeError");
 * ```
 */
export class RemoteNodeError extends IsolatesError {
  /** For `remote_auth`: why the token was refused; otherwise `null`. */
  readonly reason: "forged" | "foreign" | "expired" | "revoked" | null;

  /**
   * Creates the error.
   *
   * @param code What kind of failure.
   * @param message What happened and what to do.
   * @param reason Why a token was refused (`remote_auth` only).
   * @param cause The error behind it.
   */
  constructor(
    code: "remote_auth" | "remote_node_lost" | "remote_unavailable",
    message: string,
    reason: "forged" | "foreign" | "expired" | "revoked" | null = null,
    cause?: unknown,
  ) {
    super(code, message, cause === undefined ? undefined : { cause });
    this.reason = reason;
  }
}
