import { IsolatesError } from "../errors/isolates_error.ts";

/**
 * Thrown when a value cannot be encoded by a codec: a function, a symbol, a
 * `Date` or class instance the codec does not know, a cyclic structure, a
 * `bigint` outside the 64-bit range, or a non-finite number in JSON. Flutter's
 * codecs throw `ArgumentError` here.
 *
 * @example Encoding a function fails with the type named
 * ```ts
 * import { StandardMessageCodec, UnsupportedValueError } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => new StandardMessageCodec().encodeMessage({ f: () => 1 }),
 *   (error: unknown) =>
 *     error instanceof UnsupportedValueError && error.message.includes('"function"'),
 * );
 * ```
 */
export class UnsupportedValueError extends IsolatesError {
  /**
   * Creates the error for a value the codec cannot encode.
   *
   * @param message Which value could not be encoded and what to do instead.
   * @param options The underlying error, when there is one.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super("unsupported_value", message, options);
  }
}
