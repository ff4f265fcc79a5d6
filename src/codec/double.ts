/**
 * Marks a number as a Dart `double`, so that {@linkcode StandardMessageCodec}
 * writes it with the double tag (6) even when it is integral. A plain integral
 * `number` is written as an int (tag 3 or 4); `new Double(2)` is written as
 * Dart's `2.0`. Decoding a double gives back a plain `number`.
 *
 * @example
 * ```ts
 * import { Double, StandardMessageCodec } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const codec = new StandardMessageCodec();
 * assert.equal(codec.encodeMessage(2)![0], 3); // int32
 * assert.equal(codec.encodeMessage(new Double(2))![0], 6); // double
 * assert.equal(codec.decodeMessage(codec.encodeMessage(new Double(2))), 2);
 * ```
 */
export class Double {
  /** The number to write as a double. */
  readonly value: number;

  /**
   * Wraps a number so that the codecs write it as a double.
   *
   * @param value The number to write as a double.
   */
  constructor(value: number) {
    this.value = value;
  }
}
