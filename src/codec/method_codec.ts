import type { MethodCall } from "./method_call.ts";

/**
 * The fields of an error envelope, as Flutter's `encodeErrorEnvelope` takes them.
 *
 * @example Encoding an error reply and decoding it on the caller's side
 * ```ts
 * import {
 *   type ErrorEnvelope,
 *   JSONMethodCodec,
 *   PlatformException,
 * } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const codec = new JSONMethodCodec();
 * const envelope: ErrorEnvelope = {
 *   code: "NOT_FOUND",
 *   message: "No such key",
 *   details: "counter",
 * };
 * const bytes = codec.encodeErrorEnvelope(envelope);
 * assert.equal(new TextDecoder().decode(bytes), '["NOT_FOUND","No such key","counter"]');
 * assert.throws(
 *   () => codec.decodeEnvelope(bytes),
 *   (error: unknown) =>
 *     error instanceof PlatformException && error.code === "NOT_FOUND" &&
 *     error.details === "counter",
 * );
 * ```
 */
export interface ErrorEnvelope {
  /** The error code. */
  code: string;
  /** A human-readable message, or `null`. */
  message?: string | null;
  /** Any encodable value with more details, or `null`. */
  details?: unknown;
}

/**
 * Encodes method calls and their result envelopes to bytes and back: the
 * contract of Flutter's `MethodCodec`. A result envelope is either a success
 * (the result) or an error (code, message, details), which
 * {@linkcode MethodCodec.decodeEnvelope} throws as a `PlatformException`.
 *
 * @example
 * ```ts
 * import { MethodCall, type MethodCodec, StandardMethodCodec } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const codec: MethodCodec = new StandardMethodCodec();
 * const call = codec.decodeMethodCall(codec.encodeMethodCall(new MethodCall("ping", 1)));
 * assert.equal(call.method, "ping");
 * assert.equal(codec.decodeEnvelope(codec.encodeSuccessEnvelope("pong")), "pong");
 * ```
 */
export interface MethodCodec {
  /**
   * Encodes a method call.
   *
   * @param methodCall The call.
   * @returns The bytes.
   */
  encodeMethodCall(methodCall: MethodCall): Uint8Array;

  /**
   * Decodes a method call.
   *
   * @param methodCall The bytes.
   * @returns The call.
   */
  decodeMethodCall(methodCall: Uint8Array | null): MethodCall;

  /**
   * Decodes a result envelope: returns a success's result, throws an
   * error's `PlatformException`.
   *
   * @param envelope The bytes.
   * @returns The result.
   */
  decodeEnvelope(envelope: Uint8Array): unknown;

  /**
   * Encodes a success envelope.
   *
   * @param result The result.
   * @returns The bytes.
   */
  encodeSuccessEnvelope(result: unknown): Uint8Array;

  /**
   * Encodes an error envelope.
   *
   * @param error The code, message and details.
   * @returns The bytes.
   */
  encodeErrorEnvelope(error: ErrorEnvelope): Uint8Array;
}
