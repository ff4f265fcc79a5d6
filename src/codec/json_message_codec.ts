import { Double } from "./double.ts";
import { FormatException } from "./format_exception.ts";
import type { MessageCodec } from "./message_codec.ts";
import { UnsupportedValueError } from "./unsupported_value_error.ts";
import { decodeUtf8, utf8Encoder } from "./_utf8.ts";

/**
 * Flutter's `JSONMessageCodec`: a message is the UTF-8 text of its JSON;
 * `null` stays `null` (no payload, never the text `null`). Top-level
 * scalars are allowed.
 *
 * Encodes `null`, booleans, finite numbers, strings, arrays, typed arrays
 * (as arrays), plain objects, `Map`s with string keys, and objects with a
 * `toJSON()` method (the counterpart of Dart's `toJson()`); a
 * {@linkcode Double} is written as its number (JSON cannot mark `2` as
 * `2.0`). Everything else
 * throws {@linkcode UnsupportedValueError}, as Dart's encoder refuses it:
 * `NaN` and `Infinity`, `bigint`, functions, symbols, cycles, class instances
 * without `toJSON()`, maps with non-string keys. `undefined` is written as
 * `null`. Decoded objects are plain objects.
 *
 * @example
 * ```ts
 * import { JSONMessageCodec } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const codec = new JSONMessageCodec();
 * const bytes = codec.encodeMessage(new Map([["a", [1, true]]]));
 * assert.equal(new TextDecoder().decode(bytes!), '{"a":[1,true]}');
 * assert.deepEqual(codec.decodeMessage(bytes), { a: [1, true] });
 * ```
 */
export class JSONMessageCodec implements MessageCodec<unknown> {
  /**
   * Encodes a value as JSON text in UTF-8.
   *
   * @param message The value; `null` and `undefined` give `null`.
   * @returns The bytes, or `null`.
   * @throws {UnsupportedValueError} When the value has no JSON form.
   */
  encodeMessage(message: unknown): Uint8Array | null {
    if (message === null || message === undefined) return null;
    return utf8Encoder.encode(toJsonText(message));
  }

  /**
   * Decodes JSON text in UTF-8.
   *
   * @param message The bytes, or `null`.
   * @returns The value.
   * @throws {FormatException} When the bytes are not UTF-8 JSON.
   */
  decodeMessage(message: Uint8Array | null): unknown {
    if (message === null) return null;
    const text = decodeUtf8(message, "JSON message");
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new FormatException(
        `Cannot decode JSON message: ${(error as Error).message}`,
        null,
        { cause: error },
      );
    }
  }
}

/** Serializes like `JSON.stringify`, refusing what Dart's encoder refuses. */
export function toJsonText(value: unknown): string {
  try {
    return JSON.stringify(value, replacer);
  } catch (error) {
    if (error instanceof UnsupportedValueError) throw error;
    throw new UnsupportedValueError(
      `Cannot encode value as JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function replacer(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key];
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "undefined":
      return null;
    case "number":
      return finite(value);
    case "object": {
      if (value === null || Array.isArray(value)) return value;
      // JSON cannot mark a number as a double; Double writes its value.
      if (value instanceof Double) return finite(value.value);
      if (value instanceof Map) {
        const record: Record<string, unknown> = {};
        for (const [k, v] of value) {
          if (typeof k !== "string") {
            throw new UnsupportedValueError(
              `Cannot encode a Map with a ${typeof k} key as JSON: JSON object keys are strings; use the standard codec`,
            );
          }
          record[k] = v;
        }
        return record;
      }
      if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
        if (value instanceof BigInt64Array || value instanceof BigUint64Array) {
          throw new UnsupportedValueError(
            `Cannot encode a ${value.constructor.name} as JSON: JSON has no 64-bit integers; use the standard codec`,
          );
        }
        return Array.from(value as unknown as ArrayLike<number>);
      }
      const proto = Object.getPrototypeOf(value);
      if (proto === Object.prototype || proto === null || hasToJson(original)) {
        return value;
      }
      throw unsupported(value);
    }
    default:
      throw unsupported(value);
  }
}

function finite(value: number): number {
  if (Number.isFinite(value)) return value;
  throw new UnsupportedValueError(
    `Cannot encode ${value} as JSON: JSON has no non-finite numbers; use the standard codec or send it as a string`,
  );
}

function hasToJson(value: unknown): boolean {
  return typeof value === "object" && value !== null &&
    typeof (value as { toJSON?: unknown }).toJSON === "function";
}

function unsupported(value: unknown): UnsupportedValueError {
  const type = typeof value === "object" && value !== null
    ? (value.constructor?.name ?? "object")
    : typeof value;
  return new UnsupportedValueError(
    `Cannot encode a value of type "${type}" as JSON; use null, boolean, finite number, string, Array, Map with string keys or a plain object, or give it a toJSON() method`,
  );
}
