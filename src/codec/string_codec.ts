import type { MessageCodec } from "./message_codec.ts";
import { decodeUtf8, utf8Encoder } from "./_utf8.ts";

/**
 * Flutter's `StringCodec`: a message is the UTF-8 bytes of a string and
 * nothing else; `null` stays `null`. Decoding is strict (invalid UTF-8 throws
 * {@linkcode FormatException}).
 *
 * @example
 * ```ts
 * import { StringCodec } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const codec = new StringCodec();
 * assert.deepEqual(codec.encodeMessage("hé"), new Uint8Array([0x68, 0xc3, 0xa9]));
 * assert.equal(codec.decodeMessage(new TextEncoder().encode("hello world").subarray(5)), " world");
 * assert.equal(codec.encodeMessage(null), null);
 * ```
 */
export class StringCodec implements MessageCodec<string | null> {
  /**
   * Encodes a string as UTF-8.
   *
   * @param message The string, or `null`.
   * @returns The bytes, or `null`.
   */
  encodeMessage(message: string | null): Uint8Array | null {
    return message === null ? null : utf8Encoder.encode(message);
  }

  /**
   * Decodes UTF-8 bytes.
   *
   * @param message The bytes, or `null`.
   * @returns The string, or `null`.
   * @throws {FormatException} When the bytes are not valid UTF-8.
   */
  decodeMessage(message: Uint8Array | null): string | null {
    return message === null ? null : decodeUtf8(message, "string message");
  }
}
