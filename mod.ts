/**
 * `isolates`: Flutter's background-isolate model for Deno.
 *
 * This module provides Flutter's platform-channel message codecs, byte for
 * byte: {@linkcode StandardMessageCodec}, {@linkcode StandardMethodCodec},
 * the JSON, string and binary codecs, and Flutter's exceptions.
 *
 * @example
 * ```ts
 * import { MethodCall, StandardMethodCodec } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const codec = new StandardMethodCodec();
 * const bytes = codec.encodeMethodCall(new MethodCall("getInt", "counter"));
 * assert.equal(codec.decodeMethodCall(bytes).arguments, "counter");
 * ```
 *
 * @module
 */
export {
  IsolatesError,
  type IsolatesErrorCode,
  type IsolatesErrorOptions,
} from "./src/errors/isolates_error.ts";
export { FormatException } from "./src/codec/format_exception.ts";
export { UnsupportedValueError } from "./src/codec/unsupported_value_error.ts";
export {
  PlatformException,
  type PlatformExceptionInit,
} from "./src/codec/platform_exception.ts";
export { MissingPluginException } from "./src/codec/missing_plugin_exception.ts";
export {
  WriteBuffer,
  type WriteBufferOptions,
} from "./src/codec/write_buffer.ts";
export { ReadBuffer } from "./src/codec/read_buffer.ts";
export type { MessageCodec } from "./src/codec/message_codec.ts";
export type { ErrorEnvelope, MethodCodec } from "./src/codec/method_codec.ts";
export { MethodCall } from "./src/codec/method_call.ts";
export { Double } from "./src/codec/double.ts";
export { StandardMessageCodec } from "./src/codec/standard_message_codec.ts";
export { StandardMethodCodec } from "./src/codec/standard_method_codec.ts";
export { JSONMessageCodec } from "./src/codec/json_message_codec.ts";
export { JSONMethodCodec } from "./src/codec/json_method_codec.ts";
export { StringCodec } from "./src/codec/string_codec.ts";
export { BinaryCodec } from "./src/codec/binary_codec.ts";
