import { renderValue } from "./_render.ts";

/**
 * A named method call with its arguments, as sent over a method channel.
 *
 * @example
 * ```ts
 * import { MethodCall } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const call = new MethodCall("setInt", ["counter", 3]);
 * assert.equal(call.method, "setInt");
 * assert.deepEqual(call.arguments, ["counter", 3]);
 * assert.equal(String(call), "MethodCall(setInt, [counter, 3])");
 * ```
 */
export class MethodCall {
  /** The name of the method. */
  readonly method: string;
  /** The arguments: any value the channel's codec can encode, or `null`. */
  readonly arguments: unknown;

  /**
   * Creates a call of `method` with `args`.
   *
   * @param method The name of the method.
   * @param args The arguments, `null` when omitted.
   */
  constructor(method: string, args: unknown = null) {
    this.method = method;
    this.arguments = args;
  }

  /**
   * Renders Flutter's form of the call.
   *
   * @returns `MethodCall(method, arguments)`.
   */
  toString(): string {
    return `MethodCall(${this.method}, ${renderValue(this.arguments)})`;
  }
}
