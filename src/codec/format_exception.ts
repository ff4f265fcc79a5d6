import { IsolatesError } from "../errors/isolates_error.ts";

/**
 * Thrown when bytes cannot be decoded: a truncated payload, an unknown type
 * tag, a size that claims more bytes than the message holds, trailing bytes,
 * invalid UTF-8 or invalid JSON. Flutter reports these as `FormatException`
 * (and some as `RangeError`); this module reports all of them as this one
 * class, with the byte offset where decoding stopped.
 *
 * @example Catching a corrupted message
 * ```ts
 * import { FormatException, StandardMessageCodec } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const codec = new StandardMessageCodec();
 * assert.throws(
 *   () => codec.decodeMessage(new Uint8Array([3, 1, 2])), // int32 cut short
 *   (error: unknown) => error instanceof FormatException && error.offset === 1,
 * );
 * ```
 */
export class FormatException extends IsolatesError {
  /** The byte offset in the message where the problem was found, if known. */
  readonly offset: number | null;

  /**
   * Creates the exception for bytes that could not be decoded.
   *
   * @param message What was wrong with the bytes.
   * @param offset The byte offset of the problem, or `null` when not known.
   * @param options The underlying error, when there is one.
   */
  constructor(
    message: string,
    offset: number | null = null,
    options?: { cause?: unknown },
  ) {
    super("format_exception", message, options);
    this.offset = offset;
  }
}
