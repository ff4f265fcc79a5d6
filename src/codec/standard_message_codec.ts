import { Double } from "./double.ts";
import { FormatException } from "./format_exception.ts";
import type { MessageCodec } from "./message_codec.ts";
import { ReadBuffer } from "./read_buffer.ts";
import { UnsupportedValueError } from "./unsupported_value_error.ts";
import { WriteBuffer } from "./write_buffer.ts";
import { utf8Length } from "./_utf8.ts";

// The type tags of the standard format (Flutter's message_codecs.dart).
const NULL = 0;
const TRUE = 1;
const FALSE = 2;
const INT32 = 3;
const INT64 = 4;
const LARGE_INT = 5;
const FLOAT64 = 6;
const STRING = 7;
const UINT8_LIST = 8;
const INT32_LIST = 9;
const INT64_LIST = 10;
const FLOAT64_LIST = 11;
const LIST = 12;
const MAP = 13;
const FLOAT32_LIST = 14;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * How deeply lists and maps may nest, on encode and on decode. Deeper input
 * is refused with a typed error instead of overflowing the stack; a cyclic
 * structure is detected once it passes {@linkcode CYCLE_CHECK_DEPTH}.
 */
const MAX_DEPTH = 1000;
const CYCLE_CHECK_DEPTH = 32;

/**
 * Flutter's binary message format, byte for byte. Supported values and how
 * JavaScript maps onto Dart:
 *
 * | JavaScript value | Dart type | tag |
 * |---|---|---|
 * | `null`, `undefined` | `null` | 0 |
 * | `true` / `false` | `bool` | 1 / 2 |
 * | safe integer in int32 range | `int` | 3 |
 * | other safe integer, `bigint` in int64 range | `int` | 4 |
 * | any other `number` (fraction, NaN, ±Infinity, -0), {@linkcode Double} | `double` | 6 |
 * | `string` | `String` | 7 |
 * | `Uint8Array` | `Uint8List` | 8 |
 * | `Int32Array` | `Int32List` | 9 |
 * | `BigInt64Array` | `Int64List` | 10 |
 * | `Float64Array` | `Float64List` | 11 |
 * | `Array`, other typed arrays | `List` | 12 |
 * | `Map`, plain object (string keys) | `Map` | 13 |
 * | `Float32Array` | `Float32List` | 14 |
 *
 * Decoding gives: ints as `number` when they are safe integers and as `bigint`
 * otherwise (nothing loses precision); doubles as `number`; maps as `Map`
 * (keys of any type, in wire order); lists as `Array`; typed lists as views
 * into the received bytes where memory alignment allows, copies otherwise;
 * the legacy tag 5 ("large int", written by Android for `BigInteger`) as its
 * hexadecimal `string`, as Dart does (`BigInt("0x" + hex)` converts a
 * non-negative one).
 *
 * Anything else (functions, symbols, `Date`, `Set`, class instances, cyclic
 * structures) throws {@linkcode UnsupportedValueError}. Malformed bytes throw
 * {@linkcode FormatException} with the offset; nothing else is thrown.
 *
 * Add types the Flutter way: subclass, override
 * {@linkcode StandardMessageCodec.writeValue} and
 * {@linkcode StandardMessageCodec.readValueOfType}, and use tags 128..255.
 *
 * @example Round trip and exact bytes
 * ```ts
 * import { StandardMessageCodec } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const codec = new StandardMessageCodec();
 * const bytes = codec.encodeMessage(["a", 1])!;
 * assert.deepEqual(bytes, new Uint8Array([12, 2, 7, 1, 97, 3, 1, 0, 0, 0]));
 * assert.deepEqual(codec.decodeMessage(bytes), ["a", 1]);
 * ```
 *
 * @example A custom type: Date as tag 128
 * ```ts
 * import { ReadBuffer, StandardMessageCodec, WriteBuffer } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * class DateCodec extends StandardMessageCodec {
 *   override writeValue(buffer: WriteBuffer, value: unknown): void {
 *     if (value instanceof Date) {
 *       buffer.putUint8(128);
 *       this.writeValue(buffer, value.getTime());
 *     } else {
 *       super.writeValue(buffer, value);
 *     }
 *   }
 *   override readValueOfType(type: number, buffer: ReadBuffer): unknown {
 *     if (type === 128) return new Date(this.readValue(buffer) as number);
 *     return super.readValueOfType(type, buffer);
 *   }
 * }
 * const codec = new DateCodec();
 * const when = new Date(0);
 * const decoded = codec.decodeMessage(codec.encodeMessage({ when })) as Map<string, Date>;
 * assert.equal(decoded.get("when")?.getTime(), 0);
 * ```
 */
export class StandardMessageCodec implements MessageCodec<unknown> {
  #ancestors: unknown[] = [];
  #writeDepth = 0;
  #readDepth = 0;
  // Whether writeSize is the standard one, so strings can be written with
  // their size in one pass (decided once: overriding is a class-level act).
  #standardSizes: boolean = this.writeSize === standardWriteSize;
  // Whether reading is the standard one, so strings in maps and lists can
  // skip the generic dispatch (a subclass may read tag 7 or sizes its own
  // way).
  #standardReads: boolean = this.readValue === standardReadValue &&
    this.readValueOfType === standardReadValueOfType &&
    this.readSize === standardReadSize;

  /**
   * Encodes a message.
   *
   * @param message Any supported value; `null` and `undefined` give `null`.
   * @returns The bytes, or `null` for a `null` message.
   * @throws {UnsupportedValueError} When the value (or anything inside it)
   * cannot be encoded.
   */
  encodeMessage(message: unknown): Uint8Array | null {
    if (message === null || message === undefined) return null;
    const buffer = new WriteBuffer();
    this.#ancestors.length = 0;
    this.#writeDepth = 0;
    this.writeValue(buffer, message);
    return buffer.done();
  }

  /**
   * Decodes a message: exactly one value, with no bytes left over.
   *
   * @param message The bytes; `null` decodes to `null`.
   * @returns The value.
   * @throws {FormatException} When the bytes are not one well-formed value.
   */
  decodeMessage(message: Uint8Array | null): unknown {
    if (message === null) return null;
    const buffer = new ReadBuffer(message);
    this.#readDepth = 0;
    const value = this.readValue(buffer);
    if (buffer.hasRemaining) {
      throw new FormatException(
        `Message corrupted: ${buffer.remaining} unexpected bytes after the value at offset ${buffer.position}`,
        buffer.position,
      );
    }
    return value;
  }

  /**
   * Writes one value, tag first. Override to add types (call `super` for the
   * rest); containers call it for each element, so added types nest.
   *
   * @param buffer Where to write.
   * @param value The value.
   * @throws {UnsupportedValueError} When the value cannot be encoded.
   */
  writeValue(buffer: WriteBuffer, value: unknown): void {
    switch (typeof value) {
      case "number":
        if (Number.isSafeInteger(value) && !Object.is(value, -0)) {
          if ((value | 0) === value) {
            buffer.putUint8(INT32);
            buffer.putInt32(value);
          } else {
            buffer.putUint8(INT64);
            buffer.putInt64(value);
          }
        } else {
          buffer.putUint8(FLOAT64);
          buffer.putFloat64(value);
        }
        return;
      case "string":
        buffer.putUint8(STRING);
        this.#writeString(buffer, value);
        return;
      case "boolean":
        buffer.putUint8(value ? TRUE : FALSE);
        return;
      case "undefined":
        buffer.putUint8(NULL);
        return;
      case "bigint":
        if (value < INT64_MIN || value > INT64_MAX) {
          throw new UnsupportedValueError(
            `Cannot encode bigint ${value}: it is outside the int64 range of the standard format; send it as a string`,
          );
        }
        buffer.putUint8(INT64);
        buffer.putInt64(value);
        return;
      case "object":
        if (value === null) {
          buffer.putUint8(NULL);
          return;
        }
        this.#writeObject(buffer, value);
        return;
      default:
        throw unsupported(value);
    }
  }

  /**
   * Reads one value, tag first, and returns it.
   *
   * @param buffer Where to read.
   * @returns The value.
   * @throws {FormatException} When no byte is left or the value is malformed.
   */
  readValue(buffer: ReadBuffer): unknown {
    if (!buffer.hasRemaining) {
      throw new FormatException(
        `Message corrupted: expected a value at offset ${buffer.position} but the message ends`,
        buffer.position,
      );
    }
    return this.readValueOfType(buffer.getUint8(), buffer);
  }

  /**
   * Reads the payload of a value whose tag was just read. Override to add
   * types (call `super` for the rest).
   *
   * @param type The tag.
   * @param buffer Where to read.
   * @returns The value.
   * @throws {FormatException} When the tag is unknown or the payload malformed.
   */
  readValueOfType(type: number, buffer: ReadBuffer): unknown {
    switch (type) {
      case NULL:
        return null;
      case TRUE:
        return true;
      case FALSE:
        return false;
      case INT32:
        return buffer.getInt32();
      case INT64:
        return buffer.getInt64();
      case FLOAT64:
        return buffer.getFloat64();
      case LARGE_INT:
      case STRING:
        return buffer.getUtf8(this.readSize(buffer));
      case UINT8_LIST:
        return buffer.getUint8List(this.readSize(buffer));
      case INT32_LIST:
        return buffer.getInt32List(this.readSize(buffer));
      case INT64_LIST:
        return buffer.getInt64List(this.readSize(buffer));
      case FLOAT32_LIST:
        return buffer.getFloat32List(this.readSize(buffer));
      case FLOAT64_LIST:
        return buffer.getFloat64List(this.readSize(buffer));
      case LIST: {
        const length = this.#readCount(buffer, 1, "list");
        this.#enterRead(buffer);
        const list = new Array(length);
        for (let i = 0; i < length; i++) list[i] = this.#readElement(buffer);
        this.#readDepth--;
        return list;
      }
      case MAP: {
        const length = this.#readCount(buffer, 2, "map");
        this.#enterRead(buffer);
        const map = new Map<unknown, unknown>();
        const data = buffer.data;
        for (let i = 0; i < length; i++) {
          // Keys are nearly always short strings: read them without the
          // generic dispatch (the same bytes, the same checks).
          const key = data[buffer.position] === STRING && this.#standardReads
            ? (buffer.getUint8(), buffer.getSizedUtf8())
            : this.readValue(buffer);
          map.set(key, this.#readElement(buffer));
        }
        this.#readDepth--;
        return map;
      }
      default:
        throw new FormatException(
          `Message corrupted: unknown type tag ${type} at offset ${
            buffer.position - 1
          }`,
          buffer.position - 1,
        );
    }
  }

  /**
   * Writes a size (a string's UTF-8 byte count, a list's element count, a
   * map's entry count): one byte below 254, `254` + uint16 up to 65535,
   * `255` + uint32 above.
   *
   * @param buffer Where to write.
   * @param value The size, 0..4294967295.
   */
  writeSize(buffer: WriteBuffer, value: number): void {
    buffer.putSize(value);
  }

  /**
   * Reads a size written by {@linkcode StandardMessageCodec.writeSize}.
   *
   * @param buffer Where to read.
   * @returns The size.
   * @throws {FormatException} When the message ends inside the size.
   */
  readSize(buffer: ReadBuffer): number {
    const value = buffer.getUint8();
    if (value < 254) return value;
    return value === 254 ? buffer.getUint16() : buffer.getUint32();
  }

  #writeObject(buffer: WriteBuffer, value: object): void {
    // Most frequent shapes first: arrays and plain objects.
    if (Array.isArray(value)) {
      this.#writeList(buffer, value);
      return;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      this.#enterWrite(value);
      try {
        const record = value as Record<string, unknown>;
        // for-in lets V8 read `record[key]` through the object's enum cache
        // instead of a megamorphic lookup. Counting with for-in too keeps the
        // size right even if something made an inherited key enumerable.
        let count = 0;
        for (const _ in record) count++;
        buffer.putUint8(MAP);
        this.writeSize(buffer, count);
        for (const key in record) {
          buffer.putUint8(STRING);
          this.#writeString(buffer, key);
          this.writeValue(buffer, record[key]);
        }
      } finally {
        this.#exitWrite();
      }
      return;
    }
    if (value instanceof Map) {
      this.#enterWrite(value);
      try {
        buffer.putUint8(MAP);
        this.writeSize(buffer, value.size);
        for (const [k, v] of value) {
          this.writeValue(buffer, k);
          this.writeValue(buffer, v);
        }
      } finally {
        this.#exitWrite();
      }
      return;
    }
    if (ArrayBuffer.isView(value)) {
      this.#writeTypedList(buffer, value);
      return;
    }
    if (value instanceof Double) {
      buffer.putUint8(FLOAT64);
      buffer.putFloat64(value.value);
      return;
    }
    throw unsupported(value);
  }

  #writeTypedList(buffer: WriteBuffer, value: ArrayBufferView): void {
    if (value instanceof Uint8Array) {
      buffer.putUint8(UINT8_LIST);
      this.writeSize(buffer, value.length);
      buffer.putUint8List(value);
      return;
    }
    if (value instanceof Float64Array) {
      buffer.putUint8(FLOAT64_LIST);
      this.writeSize(buffer, value.length);
      buffer.putFloat64List(value);
      return;
    }
    if (value instanceof Int32Array) {
      buffer.putUint8(INT32_LIST);
      this.writeSize(buffer, value.length);
      buffer.putInt32List(value);
      return;
    }
    if (value instanceof BigInt64Array) {
      buffer.putUint8(INT64_LIST);
      this.writeSize(buffer, value.length);
      buffer.putInt64List(value);
      return;
    }
    if (value instanceof Float32Array) {
      buffer.putUint8(FLOAT32_LIST);
      this.writeSize(buffer, value.length);
      buffer.putFloat32List(value);
      return;
    }
    if (value instanceof DataView) throw unsupported(value);
    // Int8, Uint16, Int16, Uint32, BigUint64, Uint8Clamped, Float16: Dart
    // has no typed tag for them either and writes them as plain lists.
    this.#writeList(buffer, value as unknown as ArrayLike<unknown>);
    return;
  }

  #writeString(buffer: WriteBuffer, value: string): void {
    if (this.#standardSizes) {
      buffer.putSizedUtf8(value);
      return;
    }
    // A subclass changed the size format: measure first, then write.
    this.writeSize(buffer, utf8Length(value));
    buffer.putUtf8(value);
  }

  #writeList(buffer: WriteBuffer, list: ArrayLike<unknown>): void {
    this.#enterWrite(list);
    try {
      buffer.putUint8(LIST);
      const length = list.length;
      this.writeSize(buffer, length);
      for (let i = 0; i < length; i++) this.writeValue(buffer, list[i]);
    } finally {
      this.#exitWrite();
    }
  }

  /**
   * Reads an element of a list or map: `readValue`, with the commonest
   * scalars read inline when reading is not overridden (the same bytes, the
   * same checks, one call less per element).
   */
  #readElement(buffer: ReadBuffer): unknown {
    if (!this.#standardReads || !buffer.hasRemaining) {
      return this.readValue(buffer);
    }
    const type = buffer.getUint8();
    switch (type) {
      case STRING:
        return buffer.getSizedUtf8();
      case INT32:
        return buffer.getInt32();
      case FLOAT64:
        return buffer.getFloat64();
      case TRUE:
        return true;
      case FALSE:
        return false;
      case NULL:
        return null;
      default:
        return this.readValueOfType(type, buffer);
    }
  }

  /** Counts nesting on read, refusing input nested deeper than MAX_DEPTH. */
  #enterRead(buffer: ReadBuffer): void {
    if (++this.#readDepth > MAX_DEPTH) {
      throw new FormatException(
        `Cannot decode message: lists and maps nest deeper than ${MAX_DEPTH} levels at offset ${buffer.position}`,
        buffer.position,
      );
    }
  }

  /** Records a container on the write path, refusing cycles and deep nesting. */
  #enterWrite(container: unknown): void {
    // Shallow containers are only counted: a cycle recurses forever, so it
    // shows up in the containers tracked past CYCLE_CHECK_DEPTH soon enough.
    if (++this.#writeDepth <= CYCLE_CHECK_DEPTH) return;
    const ancestors = this.#ancestors;
    if (ancestors.includes(container)) {
      throw new UnsupportedValueError(
        `Cannot encode a cyclic structure: a ${
          describe(container)
        } contains itself; the standard format only holds trees of values`,
      );
    }
    if (this.#writeDepth > MAX_DEPTH) {
      throw new UnsupportedValueError(
        `Cannot encode value: lists and maps nest deeper than ${MAX_DEPTH} levels; flatten the structure`,
      );
    }
    ancestors.push(container);
  }

  #exitWrite(): void {
    if (this.#writeDepth-- > CYCLE_CHECK_DEPTH) this.#ancestors.pop();
  }

  #readCount(buffer: ReadBuffer, minBytesEach: number, what: string): number {
    const at = buffer.position;
    const count = this.readSize(buffer);
    // Each element takes at least one byte: refuse sizes the message cannot
    // hold before allocating anything for them.
    if (count * minBytesEach > buffer.remaining) {
      throw new FormatException(
        `Message corrupted: a ${what} of ${count} ${
          what === "map" ? "entries" : "elements"
        } at offset ${at} cannot fit in the ${buffer.remaining} bytes that remain`,
        at,
      );
    }
    return count;
  }
}

const standardWriteSize = StandardMessageCodec.prototype.writeSize;
const standardReadValue = StandardMessageCodec.prototype.readValue;
const standardReadValueOfType = StandardMessageCodec.prototype.readValueOfType;
const standardReadSize = StandardMessageCodec.prototype.readSize;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  const name = (value as { constructor?: { name?: unknown } }).constructor
    ?.name;
  return typeof name === "string" && name !== "" ? name : "object";
}

function unsupported(value: unknown): UnsupportedValueError {
  return new UnsupportedValueError(
    `Cannot encode a value of type "${
      describe(value)
    }" with the standard message codec; use null, boolean, number, bigint, string, a typed array, Array, Map or a plain object, or subclass StandardMessageCodec and override writeValue`,
  );
}
