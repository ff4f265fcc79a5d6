import type { TokenData } from "./protocol.ts";
import type { TokenRejection } from "./root_isolate_token_error.ts";
import { StateError } from "./state_error.ts";
import { isMainThread } from "./_thread.ts";
import { bumpVersion } from "./_shared_versions.ts";

const secrets = new WeakMap<RootIsolateToken, TokenData>();
const CREATE = Symbol("create");

/** Random ids of this process and of the tokens it issued (root only). */
let processId: string | null = null;
const issued = new Map<string, { revoked: boolean }>();

/** Bumped by every revoke (see `_shared_versions.ts`). */
export const TOKEN_EPOCH = "isolates/root-isolate-token";
let current: RootIsolateToken | null = null;

function randomHex(bytes: number): string {
  const data = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The capability that connects a background isolate to the root isolate's
 * platform side, as Flutter's `RootIsolateToken`. Pass
 * {@linkcode RootIsolateToken.instance} from the main thread to a worker (in
 * the spawn message, through a `SendPort`, at any depth of a message), then
 * call `BackgroundIsolateBinaryMessenger.ensureInitialized(token)` there.
 *
 * A token is unguessable (256 random bits), checked by the root when an
 * isolate registers with it, and revocable by the root: a forged, altered,
 * revoked or other-process token never reaches a plugin handler; the calls
 * fail with a `RootIsolateTokenError` that says why.
 *
 * @example
 * ```ts
 * import { RootIsolateToken } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const token = RootIsolateToken.instance; // null in any worker
 * assert.ok(token !== null);
 * assert.equal(RootIsolateToken.instance, token);
 * ```
 */
export class RootIsolateToken {
  /**
   * Not for direct use: tokens come from {@linkcode RootIsolateToken.instance}
   * or arrive in messages.
   *
   * @param key An internal key.
   * @param data The token's data.
   * @throws {TypeError} When called from outside this module.
   */
  constructor(key: symbol, data: TokenData) {
    if (key !== CREATE) {
      throw new TypeError(
        "Cannot construct RootIsolateToken: use RootIsolateToken.instance on the main thread",
      );
    }
    secrets.set(this, data);
  }

  /**
   * The root isolate's token: non-null only on the main thread, `null` in
   * every worker. After {@linkcode RootIsolateToken.revoke}, a new token.
   */
  static get instance(): RootIsolateToken | null {
    if (!isMainThread) return null;
    if (current === null || issued.get(secrets.get(current)!.secret)!.revoked) {
      processId ??= randomHex(16);
      const secret = randomHex(32);
      issued.set(secret, { revoked: false });
      current = new RootIsolateToken(CREATE, { process: processId, secret });
    }
    return current;
  }

  /**
   * Revokes this token: isolates registered with it lose access to the
   * platform side (their next calls fail with `RootIsolateTokenError`, code
   * `token_revoked`), and {@linkcode RootIsolateToken.instance} issues a new
   * token.
   *
   * @throws {StateError} When called outside the main thread.
   */
  revoke(): void {
    if (!isMainThread) {
      throw new StateError(
        "Cannot revoke a RootIsolateToken outside the main thread; only the root isolate can revoke its tokens",
      );
    }
    const record = issued.get(secrets.get(this)!.secret);
    if (record !== undefined) record.revoked = true;
    // Workers that run plugin calls themselves ask for a fresh verdict.
    bumpVersion(TOKEN_EPOCH);
  }

  /**
   * Renders the token without its secret.
   *
   * @returns `"RootIsolateToken"`.
   */
  toString(): string {
    return "RootIsolateToken";
  }
}

/** The wire form of a token. */
export function tokenToData(token: RootIsolateToken): TokenData {
  return secrets.get(token)!;
}

/** A token from its wire form. */
export function tokenFromData(data: TokenData): RootIsolateToken {
  return new RootIsolateToken(CREATE, {
    process: data.process,
    secret: data.secret,
  });
}

/**
 * The root's verdict on a token: `null` when it is valid, otherwise why not.
 * Only meaningful on the main thread.
 */
export function verifyToken(data: TokenData): TokenRejection | null {
  if (processId === null || data.process !== processId) {
    return processId !== null && /^[0-9a-f]{32}$/.test(data.process)
      ? "token_foreign"
      : "token_forged";
  }
  const record = issued.get(data.secret);
  if (record === undefined) return "token_forged";
  return record.revoked ? "token_revoked" : null;
}
