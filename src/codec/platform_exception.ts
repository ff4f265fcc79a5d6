import { renderValue } from "./_render.ts";

/**
 * The fields of a {@linkcode PlatformException}, as Flutter names them.
 *
 * @example A handler reporting an error to the caller
 * ```ts
 * import {
 *   MethodChannel,
 *   PlatformException,
 *   type PlatformExceptionInit,
 * } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const unavailable: PlatformExceptionInit = {
 *   code: "UNAVAILABLE",
 *   message: "Battery level not available.",
 *   details: -1,
 * };
 * const channel = new MethodChannel("example/battery");
 * channel.setMethodCallHandler(() => {
 *   throw new PlatformException(unavailable);
 * });
 * await assert.rejects(
 *   channel.invokeMethod("getBatteryLevel"),
 *   (error: unknown) =>
 *     error instanceof PlatformException && error.code === "UNAVAILABLE" &&
 *     error.message === "Battery level not available." && error.details === -1,
 * );
 * channel.setMethodCallHandler(null);
 * ```
 */
export interface PlatformExceptionInit {
  /** An error code, e.g. `"UNAVAILABLE"`. */
  code: string;
  /** A human-readable message, or `null`. */
  message?: string | null;
  /** Any codec-encodable value with more details, or `null`. */
  details?: unknown;
  /** The stack trace of the platform side, or `null`. */
  stacktrace?: string | null;
}

/**
 * The error a platform-side handler reports through a method channel, with
 * Flutter's fields. A handler throws it to reply with an error envelope; the
 * caller's `invokeMethod` rejects with it. `message` may be `null`, as in
 * Dart; `toString()` renders `PlatformException(code, message, details,
 * stacktrace)`. It is an `Error` (it has a `stack`), and `name` is
 * `"PlatformException"`.
 *
 * @example Decoding an error envelope
 * ```ts
 * import { PlatformException, StandardMethodCodec } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const codec = new StandardMethodCodec();
 * const envelope = codec.encodeErrorEnvelope({ code: "404", message: null, details: [1] });
 * try {
 *   codec.decodeEnvelope(envelope);
 *   assert.fail("an error envelope must throw");
 * } catch (error) {
 *   assert.ok(error instanceof PlatformException);
 *   assert.equal(error.code, "404");
 *   assert.equal(error.message, null);
 *   assert.deepEqual(error.details, [1]);
 *   assert.equal(String(error), "PlatformException(404, null, [1], null)");
 * }
 * ```
 */
export class PlatformException {
  /** The class name, `"PlatformException"`. */
  name: string;
  /** Where the exception was created, as `Error`'s `stack` is. */
  declare stack?: string;
  /** The error that led to this one; the constructor sets none. */
  declare cause?: unknown;
  /** The error code. */
  readonly code: string;
  /** The human-readable message, or `null`. */
  readonly message: string | null;
  /** More details (any codec-encodable value), or `null`. */
  readonly details: unknown;
  /** The platform side's stack trace, or `null`. */
  readonly stacktrace: string | null;

  /**
   * Creates the exception from Flutter's fields.
   *
   * @param init The code, and optionally message, details and stacktrace.
   */
  constructor(init: PlatformExceptionInit) {
    this.name = "PlatformException";
    this.code = init.code;
    this.message = init.message ?? null;
    this.details = init.details ?? null;
    this.stacktrace = init.stacktrace ?? null;
    Error.captureStackTrace(this, new.target);
  }

  /**
   * Renders Flutter's form of the exception.
   *
   * @returns `PlatformException(code, message, details, stacktrace)`.
   */
  toString(): string {
    return `PlatformException(${this.code}, ${this.message}, ${
      renderValue(this.details)
    }, ${this.stacktrace})`;
  }
}

// Not `extends Error`: TypeScript would then type `message` as `string`, and
// Flutter's is nullable. Error.prototype in the chain keeps `instanceof
// Error`, and captureStackTrace (V8) gives the `stack` a thrown Error has.
// It is not a native error, though: `Error.isError` is false for it, and
// structured clone copies it as a plain object.
Object.setPrototypeOf(PlatformException.prototype, Error.prototype);
