/**
 * Encodes messages of type `T` to bytes and decodes them back: the contract
 * of Flutter's `MessageCodec<T>`. A `null` message is encoded as `null` (no
 * payload at all), and `null` bytes decode to `null`.
 *
 * @typeParam T The type of the messages.
 *
 * @example A codec of its own
 * ```ts
 * import type { MessageCodec } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const upper: MessageCodec<string | null> = {
 *   encodeMessage: (m) => m === null ? null : new TextEncoder().encode(m.toUpperCase()),
 *   decodeMessage: (b) => b === null ? null : new TextDecoder().decode(b),
 * };
 * assert.equal(upper.decodeMessage(upper.encodeMessage("hi")), "HI");
 * ```
 */
export interface MessageCodec<T> {
  /**
   * Encodes a message.
   *
   * @param message The message; `null` encodes to `null`.
   * @returns The bytes, or `null` for a `null` message.
   */
  encodeMessage(message: T): Uint8Array | null;

  /**
   * Decodes a message.
   *
   * @param message The bytes; `null` decodes to `null`.
   * @returns The message.
   */
  decodeMessage(message: Uint8Array | null): T;
}
