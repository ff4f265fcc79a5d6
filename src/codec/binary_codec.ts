import type { MessageCodec } from "./message_codec.ts";

/**
 * Flutter's `BinaryCodec`: messages are bytes, passed through unchanged.
 *
 * @example
 * ```ts
 * import { BinaryCodec } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const codec = new BinaryCodec();
 * const bytes = new Uint8Array([1, 2, 3]);
 * assert.equal(codec.encodeMessage(bytes), bytes);
 * assert.equal(codec.decodeMessage(null), null);
 * ```
 */
export class BinaryCodec implements MessageCodec<Uint8Array | null> {
  /**
   * Returns the bytes unchanged.
   *
   * @param message The bytes, or `null`.
   * @returns The same bytes, or `null`.
   */
  encodeMessage(message: Uint8Array | null): Uint8Array | null {
    return message;
  }

  /**
   * Returns the bytes unchanged.
   *
   * @param message The bytes, or `null`.
   * @returns The same bytes, or `null`.
   */
  decodeMessage(message: Uint8Array | null): Uint8Array | null {
    return message;
  }
}
