import { IsolatesError } from "../errors/isolates_error.ts";

/**
 * Why the root refused a token.
 *
 * @example Each reason is the code of a {@linkcode RootIsolateTokenError}
 * ```ts
 * import { RootIsolateTokenError, type TokenRejection } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const reasons: TokenRejection[] = ["token_forged", "token_revoked", "token_foreign"];
 * for (const reason of reasons) {
 *   const error = new RootIsolateTokenError(reason, "0.1");
 *   assert.equal(error.code, reason);
 *   assert.match(error.message, /^Cannot reach platform handlers from isolate 0\.1: /);
 * }
 * ```
 */
export type TokenRejection = "token_forged" | "token_revoked" | "token_foreign";

/**
 * The root refused the token an isolate registered with, so none of its
 * platform-channel calls reach a handler. `code` says why: `token_forged` (the
 * root never issued it, or it was altered), `token_revoked` (the root revoked
 * it), `token_foreign` (another process issued it).
 *
 * @example
 * ```ts
 * import { RootIsolateTokenError } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const error = new RootIsolateTokenError("token_revoked", "0.3");
 * assert.equal(error.code, "token_revoked");
 * assert.match(error.message, /revoked/);
 * ```
 */
export class RootIsolateTokenError extends IsolatesError {
  /** The isolate whose token was refused. */
  readonly isolate: string;

  /**
   * Creates the error for a token the root isolate refused.
   *
   * @param code Why the token was refused.
   * @param isolate The id of the isolate that presented it.
   */
  constructor(code: TokenRejection, isolate: string) {
    super(
      code,
      `Cannot reach platform handlers from isolate ${isolate}: ${
        REASONS[code]
      }`,
    );
    this.isolate = isolate;
  }
}

const REASONS: Record<TokenRejection, string> = {
  token_forged:
    "its RootIsolateToken was not issued by this root isolate (forged or altered); pass RootIsolateToken.instance from the main thread",
  token_revoked:
    "its RootIsolateToken was revoked by the root isolate; pass the current RootIsolateToken.instance to a new isolate",
  token_foreign:
    "its RootIsolateToken was issued by another process; tokens are valid only in the process that created them",
};
