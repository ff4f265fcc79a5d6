/**
 * The codes of the errors this module raises itself. Flutter's own exceptions
 * ({@linkcode PlatformException}, {@linkcode MissingPluginException}) keep
 * Flutter's fields instead and are not part of this union.
 *
 * @example Telling failures apart by code
 * ```ts
 * import {
 *   IsolatesError,
 *   type IsolatesErrorCode,
 *   StandardMessageCodec,
 * } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * function codeOf(action: () => unknown): IsolatesErrorCode | "none" {
 *   try {
 *     action();
 *   } catch (error) {
 *     if (error instanceof IsolatesError) return error.code;
 *     throw error;
 *   }
 *   return "none";
 * }
 *
 * const codec = new StandardMessageCodec();
 * assert.equal(codeOf(() => codec.decodeMessage(new Uint8Array([99]))), "format_exception");
 * assert.equal(codeOf(() => codec.encodeMessage(() => {})), "unsupported_value");
 * assert.equal(codeOf(() => codec.encodeMessage("ok")), "none");
 * ```
 */
export type IsolatesErrorCode =
  | "format_exception"
  | "unsupported_value"
  | "data_dir_unavailable"
  | "preferences_store"
  | "bad_state"
  | "protocol"
  | "token_forged"
  | "token_revoked"
  | "token_foreign"
  | "isolate_exited"
  | "isolate_spawn"
  | "remote_error"
  | "mailbox_full"
  | "actor_exited"
  | "timeout"
  | "supervisor"
  | "pool_closed"
  | "sandbox_unavailable"
  | "plugin"
  | "remote_auth"
  | "remote_node_lost"
  | "remote_unavailable";

/**
 * Options for {@linkcode IsolatesError}.
 *
 * @example Keeping the error that led to this one
 * ```ts
 * import { IsolatesError, type IsolatesErrorOptions } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const cause = new TypeError("The encoded data was not valid for encoding utf-8");
 * const options: IsolatesErrorOptions = { cause };
 * const error = new IsolatesError(
 *   "format_exception",
 *   "Cannot decode message: invalid UTF-8",
 *   options,
 * );
 * assert.equal(error.cause, cause);
 * ```
 */
export interface IsolatesErrorOptions {
  /** The error that led to this one. */
  cause?: unknown;
}

/**
 * The base class of every error this module raises itself. Switch on
 * {@linkcode IsolatesError.code} rather than on the message text.
 *
 * @example Narrowing a caught error by code
 * ```ts
 * import { IsolatesError, StandardMessageCodec } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * try {
 *   new StandardMessageCodec().decodeMessage(new Uint8Array([99]));
 *   assert.fail("decoding should have thrown");
 * } catch (error) {
 *   assert.ok(error instanceof IsolatesError);
 *   assert.equal(error.code, "format_exception");
 * }
 * ```
 */
export class IsolatesError extends Error {
  /** What went wrong, as a stable machine-readable code. */
  readonly code: IsolatesErrorCode;

  /**
   * Creates an error with a code and a message.
   *
   * @param code The stable code of the error.
   * @param message A sentence saying what failed, why, and how to fix it.
   * @param options The cause, when there is one.
   */
  constructor(
    code: IsolatesErrorCode,
    message: string,
    options?: IsolatesErrorOptions,
  ) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}
