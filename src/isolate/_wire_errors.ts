import { MailboxFullError } from "../errors/mailbox_full_error.ts";
import { IsolateExitedError } from "./isolate_exited_error.ts";
import type { SerializedError } from "./protocol.ts";
import { RemoteError } from "./remote_error.ts";
import {
  RootIsolateTokenError,
  type TokenRejection,
} from "./root_isolate_token_error.ts";

const TOKEN_CODES = new Set(["token_forged", "token_revoked", "token_foreign"]);

/**
 * The typed error for a failure reported by another isolate: token
 * rejections and gone isolates keep their classes; anything else becomes a
 * {@linkcode RemoteError}.
 */
export function errorFromWire(
  error: SerializedError,
  channel: string,
  isolate: string,
): Error {
  if (error.code !== null && TOKEN_CODES.has(error.code)) {
    return new RootIsolateTokenError(error.code as TokenRejection, isolate);
  }
  if (error.code === "isolate_exited") {
    return new IsolateExitedError(
      isolate,
      error.message.replace(/^isolate /, ""),
      channel,
    );
  }
  if (error.code === "mailbox_full") {
    // The caller's own mailbox on the main thread refused the call.
    const capacity = /\((\d+) calls in flight\)/.exec(error.message);
    return new MailboxFullError(
      `isolate ${isolate}`,
      capacity === null ? 0 : Number(capacity[1]),
      error.message,
    );
  }
  return new RemoteError(error);
}
