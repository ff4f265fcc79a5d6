import { FlutterErrorBase } from "./_flutter_error_base.ts";
import { renderValue } from "./_render.ts";

/** The fields of a {@linkcode PlatformException}, as Flutter names them. */
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
export class PlatformException extends FlutterErrorBase {
  /** The error code. */
  readonly code: string;
  /** The human-readable message, or `null`. */
  readonly message: string | null;
  /** More details (any codec-encodable value), or `null`. */
  readonly details: unknown;
  /** The platform side's stack trace, or `null`. */
  readonly stacktrace: string | null;

  /** @param init The code, and optionally message, details and stacktrace. */
  constructor(init: PlatformExceptionInit) {
    super(init.message ?? init.code);
    this.name = "PlatformException";
    this.code = init.code;
    this.message = init.message ?? null;
    this.details = init.details ?? null;
    this.stacktrace = init.stacktrace ?? null;
  }

  /**
   * Renders Flutter's form of the exception.
   *
   * @returns `PlatformException(code, message, details, stacktrace)`.
   */
  override toString(): string {
    return `PlatformException(${this.code}, ${this.message}, ${
      renderValue(this.details)
    }, ${this.stacktrace})`;
  }
}
