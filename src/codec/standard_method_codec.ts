import { FormatException } from "./format_exception.ts";
import { MethodCall } from "./method_call.ts";
import type { ErrorEnvelope, MethodCodec } from "./method_codec.ts";
import { PlatformException } from "./platform_exception.ts";
import { ReadBuffer } from "./read_buffer.ts";
import { StandardMessageCodec } from "./standard_message_codec.ts";
import { WriteBuffer } from "./write_buffer.ts";

/**
 * Flutter's binary method codec, byte for byte. A call is the method name
 * (a tagged string) followed by the arguments (one tagged value). A success
 * envelope is byte `0` then the result; an error envelope is byte `1` then
 * code, message and details (and optionally a stacktrace string). Every part
 * shares one buffer, so alignment counts from the envelope's first byte.
 *
 * Values go through a {@linkcode StandardMessageCodec}, or a subclass passed
 * to the constructor for custom types.
 *
 * @example A call and its answers
 * ```ts
 * import { MethodCall, PlatformException, StandardMethodCodec } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const codec = new StandardMethodCodec();
 * assert.deepEqual(
 *   codec.encodeMethodCall(new MethodCall("foo")),
 *   new Uint8Array([7, 3, 0x66, 0x6f, 0x6f, 0]),
 * );
 * assert.equal(codec.decodeEnvelope(codec.encodeSuccessEnvelope(42)), 42);
 * assert.throws(
 *   () => codec.decodeEnvelope(codec.encodeErrorEnvelope({ code: "E", message: "bad" })),
 *   PlatformException,
 * );
 * ```
 */
export class StandardMethodCodec implements MethodCodec {
  /** The codec that writes and reads the values. */
  readonly messageCodec: StandardMessageCodec;

  /**
   * Creates a method codec that writes values with `messageCodec`.
   *
   * @param messageCodec The value codec; a subclass adds custom types.
   * @default {new StandardMessageCodec()}
   */
  constructor(messageCodec: StandardMessageCodec = new StandardMessageCodec()) {
    this.messageCodec = messageCodec;
  }

  /**
   * Encodes a method call: the name, then the arguments.
   *
   * @param methodCall The call.
   * @returns The bytes.
   * @throws {UnsupportedValueError} When the arguments cannot be encoded.
   */
  encodeMethodCall(methodCall: MethodCall): Uint8Array {
    const buffer = new WriteBuffer();
    this.messageCodec.writeValue(buffer, methodCall.method);
    this.messageCodec.writeValue(buffer, methodCall.arguments);
    return buffer.done();
  }

  /**
   * Decodes a method call.
   *
   * @param methodCall The bytes.
   * @returns The call.
   * @throws {FormatException} When the bytes are not a string name followed
   * by exactly one value.
   */
  decodeMethodCall(methodCall: Uint8Array | null): MethodCall {
    if (methodCall === null) {
      throw new FormatException(
        "Invalid method call: the message is null; a method call needs a name",
        null,
      );
    }
    const buffer = new ReadBuffer(methodCall);
    const method = this.messageCodec.readValue(buffer);
    const args = this.messageCodec.readValue(buffer);
    if (typeof method !== "string" || buffer.hasRemaining) {
      throw new FormatException(
        typeof method !== "string"
          ? `Invalid method call: the method name is a ${
            method === null ? "null" : typeof method
          }, not a string`
          : `Invalid method call: ${buffer.remaining} unexpected bytes after the arguments at offset ${buffer.position}`,
        typeof method !== "string" ? 0 : buffer.position,
      );
    }
    return new MethodCall(method, args);
  }

  /**
   * Encodes a success envelope: byte `0`, then the result.
   *
   * @param result The result.
   * @returns The bytes.
   * @throws {UnsupportedValueError} When the result cannot be encoded.
   */
  encodeSuccessEnvelope(result: unknown): Uint8Array {
    const buffer = new WriteBuffer();
    buffer.putUint8(0);
    this.messageCodec.writeValue(buffer, result);
    return buffer.done();
  }

  /**
   * Encodes an error envelope: byte `1`, then code, message and details.
   * Like Flutter's, it writes no stacktrace.
   *
   * @param error The code, message and details.
   * @returns The bytes.
   * @throws {UnsupportedValueError} When the details cannot be encoded.
   */
  encodeErrorEnvelope(error: ErrorEnvelope): Uint8Array {
    const buffer = new WriteBuffer();
    buffer.putUint8(1);
    this.messageCodec.writeValue(buffer, error.code);
    this.messageCodec.writeValue(buffer, error.message ?? null);
    this.messageCodec.writeValue(buffer, error.details ?? null);
    return buffer.done();
  }

  /**
   * Decodes an envelope. A success (status `0`) returns its result; bytes
   * after it are ignored, as in Flutter. Any other status is an error: code,
   * message, details and an optional stacktrace are read and thrown as a
   * {@linkcode PlatformException}.
   *
   * @param envelope The bytes.
   * @returns The result of a success envelope.
   * @throws {PlatformException} For an error envelope.
   * @throws {FormatException} When the envelope is empty or malformed.
   */
  decodeEnvelope(envelope: Uint8Array): unknown {
    if (envelope.length === 0) {
      throw new FormatException("Expected envelope, got nothing", 0);
    }
    const buffer = new ReadBuffer(envelope);
    if (buffer.getUint8() === 0) return this.messageCodec.readValue(buffer);
    const code = this.messageCodec.readValue(buffer);
    const message = this.messageCodec.readValue(buffer);
    const details = this.messageCodec.readValue(buffer);
    let stacktrace: unknown = null;
    if (buffer.hasRemaining) {
      const at = buffer.position;
      stacktrace = this.messageCodec.readValue(buffer);
      if (stacktrace !== null && typeof stacktrace !== "string") {
        throw new FormatException(
          `Invalid envelope: the stacktrace at offset ${at} is a ${typeof stacktrace}, not a string`,
          at,
        );
      }
    }
    if (
      typeof code === "string" &&
      (message === null || typeof message === "string") &&
      !buffer.hasRemaining
    ) {
      throw new PlatformException({
        code,
        message,
        details,
        stacktrace: stacktrace as string | null,
      });
    }
    throw new FormatException(
      typeof code !== "string"
        ? "Invalid envelope: the error code is not a string"
        : typeof message !== "string" && message !== null
        ? "Invalid envelope: the error message is neither a string nor null"
        : `Invalid envelope: ${buffer.remaining} unexpected bytes at offset ${buffer.position}`,
      buffer.position,
    );
  }
}
