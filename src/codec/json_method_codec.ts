import { FormatException } from "./format_exception.ts";
import { JSONMessageCodec } from "./json_message_codec.ts";
import { MethodCall } from "./method_call.ts";
import type { ErrorEnvelope, MethodCodec } from "./method_codec.ts";
import { PlatformException } from "./platform_exception.ts";
import { renderValue } from "./_render.ts";

/**
 * Flutter's `JSONMethodCodec`. A call is `{"method": name, "args": value}`;
 * a success envelope is `[result]`; an error envelope is
 * `[code, message, details]` (a fourth element, a stacktrace string, is
 * accepted on decode).
 *
 * @example
 * ```ts
 * import { JSONMethodCodec, MethodCall, PlatformException } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const codec = new JSONMethodCodec();
 * const text = new TextDecoder().decode(codec.encodeMethodCall(new MethodCall("sayHello", "hello")));
 * assert.equal(text, '{"method":"sayHello","args":"hello"}');
 * assert.throws(
 *   () => codec.decodeEnvelope(new TextEncoder().encode('["404","Not Found.",null]')),
 *   PlatformException,
 * );
 * ```
 */
export class JSONMethodCodec implements MethodCodec {
  #json = new JSONMessageCodec();

  /**
   * Encodes a call as `{"method": …, "args": …}`.
   *
   * @param methodCall The call.
   * @returns The bytes.
   * @throws {UnsupportedValueError} When the arguments have no JSON form.
   */
  encodeMethodCall(methodCall: MethodCall): Uint8Array {
    return this.#json.encodeMessage({
      method: methodCall.method,
      args: methodCall.arguments ?? null,
    })!;
  }

  /**
   * Decodes a call.
   *
   * @param methodCall The bytes.
   * @returns The call.
   * @throws {FormatException} When the JSON is not an object with a string
   * `method`.
   */
  decodeMethodCall(methodCall: Uint8Array | null): MethodCall {
    const decoded = this.#json.decodeMessage(methodCall);
    if (
      typeof decoded !== "object" || decoded === null || Array.isArray(decoded)
    ) {
      throw new FormatException(
        `Expected method call Map, got ${renderValue(decoded)}`,
      );
    }
    const { method, args } = decoded as { method?: unknown; args?: unknown };
    if (typeof method !== "string") {
      throw new FormatException(
        `Invalid method call: ${renderValue(decoded)}`,
      );
    }
    return new MethodCall(method, args ?? null);
  }

  /**
   * Encodes `[result]`.
   *
   * @param result The result.
   * @returns The bytes.
   * @throws {UnsupportedValueError} When the result has no JSON form.
   */
  encodeSuccessEnvelope(result: unknown): Uint8Array {
    return this.#json.encodeMessage([result ?? null])!;
  }

  /**
   * Encodes `[code, message, details]`.
   *
   * @param error The code, message and details.
   * @returns The bytes.
   * @throws {UnsupportedValueError} When the details have no JSON form.
   */
  encodeErrorEnvelope(error: ErrorEnvelope): Uint8Array {
    return this.#json.encodeMessage([
      error.code,
      error.message ?? null,
      error.details ?? null,
    ])!;
  }

  /**
   * Decodes an envelope: `[result]` returns the result; `[code, message,
   * details]` or `[code, message, details, stacktrace]` throws.
   *
   * @param envelope The bytes.
   * @returns The result of a success envelope.
   * @throws {PlatformException} For an error envelope.
   * @throws {FormatException} When the JSON is not a valid envelope.
   */
  decodeEnvelope(envelope: Uint8Array): unknown {
    const decoded = this.#json.decodeMessage(envelope);
    if (!Array.isArray(decoded)) {
      throw new FormatException(
        `Expected envelope List, got ${renderValue(decoded)}`,
      );
    }
    if (decoded.length === 1) return decoded[0];
    const [code, message, details, stacktrace] = decoded;
    if (
      (decoded.length === 3 || decoded.length === 4) &&
      typeof code === "string" &&
      (message === null || typeof message === "string") &&
      (decoded.length === 3 || stacktrace === null ||
        typeof stacktrace === "string")
    ) {
      throw new PlatformException({ code, message, details, stacktrace });
    }
    throw new FormatException(`Invalid envelope: ${renderValue(decoded)}`);
  }
}
