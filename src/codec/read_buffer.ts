import { hostIsLittleEndian } from "./_endian.ts";
import { FormatException } from "./format_exception.ts";

/**
 * A cursor over received bytes that reads little-endian numbers and typed
 * lists with the alignment rules of Flutter's `ReadBuffer` (`getFloat64` and
 * the 64-bit lists skip to a multiple of 8, the 32-bit lists to 4, counted
 * from the first byte of the message). Every read is bounds-checked against
 * the message: reading past its end throws {@linkcode FormatException} with
 * the offset, before anything is allocated.
 *
 * Typed lists are views into the message bytes when their position is
 * aligned in memory (no copy, as in Flutter), and copies otherwise.
 *
 * @example Reading what a WriteBuffer wrote
 * ```ts
 * import { ReadBuffer, WriteBuffer } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const writer = new WriteBuffer();
 * writer.putUint8(7);
 * writer.putFloat64(0.5);
 * const reader = new ReadBuffer(writer.done());
 * assert.equal(reader.getUint8(), 7);
 * assert.equal(reader.getFloat64(), 0.5);
 * assert.equal(reader.hasRemaining, false);
 * ```
 */
export class ReadBuffer {
  /** The bytes being read. */
  readonly data: Uint8Array;
  #view: DataView;
  #position = 0;

  /**
   * Creates a reader positioned at the first byte of `data`.
   *
   * @param data The message to read, from its first byte.
   */
  constructor(data: Uint8Array) {
    this.data = data;
    this.#view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  /** The offset of the next byte to read. */
  get position(): number {
    return this.#position;
  }

  /** Whether any byte is left to read. */
  get hasRemaining(): boolean {
    return this.#position < this.data.length;
  }

  /** The number of bytes left to read. */
  get remaining(): number {
    return this.data.length - this.#position;
  }

  /**
   * Reads one unsigned byte.
   *
   * @returns The byte.
   * @throws {FormatException} When no byte is left.
   */
  getUint8(): number {
    this.#need(1, "a byte");
    return this.data[this.#position++];
  }

  /**
   * Reads an unsigned 16-bit little-endian integer.
   *
   * @returns The integer.
   * @throws {FormatException} When fewer than 2 bytes are left.
   */
  getUint16(): number {
    this.#need(2, "a uint16");
    const value = this.#view.getUint16(this.#position, true);
    this.#position += 2;
    return value;
  }

  /**
   * Reads an unsigned 32-bit little-endian integer.
   *
   * @returns The integer.
   * @throws {FormatException} When fewer than 4 bytes are left.
   */
  getUint32(): number {
    this.#need(4, "a uint32");
    const value = this.#view.getUint32(this.#position, true);
    this.#position += 4;
    return value;
  }

  /**
   * Reads a signed 32-bit little-endian integer.
   *
   * @returns The integer.
   * @throws {FormatException} When fewer than 4 bytes are left.
   */
  getInt32(): number {
    this.#need(4, "an int32");
    const value = this.#view.getInt32(this.#position, true);
    this.#position += 4;
    return value;
  }

  /**
   * Reads a signed 64-bit little-endian integer, unaligned. It is returned
   * as a `number` when it is a safe integer and as a `bigint` otherwise, so
   * no value loses precision.
   *
   * @returns The integer.
   * @throws {FormatException} When fewer than 8 bytes are left.
   */
  getInt64(): number | bigint {
    this.#need(8, "an int64");
    const view = this.#view;
    const p = this.#position;
    this.#position += 8;
    const high = view.getInt32(p + 4, true);
    // Safe integers have a high word in -2^21..2^21-1: compose them without
    // allocating a bigint.
    if (high >= -0x200000 && high < 0x200000) {
      const value = high * 0x100000000 + view.getUint32(p, true);
      if (Number.isSafeInteger(value)) return value;
    }
    return view.getBigInt64(p, true);
  }

  /**
   * Reads a 32-bit little-endian float, after skipping to a multiple of 4.
   *
   * @returns The number.
   * @throws {FormatException} When fewer than 4 bytes are left.
   */
  getFloat32(): number {
    this.#align(4);
    this.#need(4, "a float32");
    const value = this.#view.getFloat32(this.#position, true);
    this.#position += 4;
    return value;
  }

  /**
   * Reads a 64-bit little-endian float, after skipping to a multiple of 8.
   *
   * @returns The number.
   * @throws {FormatException} When fewer than 8 bytes are left.
   */
  getFloat64(): number {
    this.#align(8);
    this.#need(8, "a float64");
    const value = this.#view.getFloat64(this.#position, true);
    this.#position += 8;
    return value;
  }

  /**
   * Reads `length` raw bytes as a view into the message.
   *
   * @param length The number of bytes.
   * @returns A view of the bytes (it shares memory with the message).
   * @throws {FormatException} When fewer than `length` bytes are left.
   */
  getUint8List(length: number): Uint8Array {
    this.#need(length, "bytes", length);
    const list = this.data.subarray(this.#position, this.#position + length);
    this.#position += length;
    return list;
  }

  /**
   * Reads `length` int32 elements after skipping to a multiple of 4.
   *
   * @param length The number of elements.
   * @returns The elements.
   * @throws {FormatException} When the message is too short.
   */
  getInt32List(length: number): Int32Array {
    return this.#getElements(Int32Array, length, 4, "int32");
  }

  /**
   * Reads `length` int64 elements after skipping to a multiple of 8.
   *
   * @param length The number of elements.
   * @returns The elements.
   * @throws {FormatException} When the message is too short.
   */
  getInt64List(length: number): BigInt64Array {
    return this.#getElements(BigInt64Array, length, 8, "int64");
  }

  /**
   * Reads `length` float32 elements after skipping to a multiple of 4.
   *
   * @param length The number of elements.
   * @returns The elements.
   * @throws {FormatException} When the message is too short.
   */
  getFloat32List(length: number): Float32Array {
    return this.#getElements(Float32Array, length, 4, "float32");
  }

  /**
   * Reads `length` float64 elements after skipping to a multiple of 8.
   *
   * @param length The number of elements.
   * @returns The elements.
   * @throws {FormatException} When the message is too short.
   */
  getFloat64List(length: number): Float64Array {
    return this.#getElements(Float64Array, length, 8, "float64");
  }

  /**
   * Reads `length` bytes of strict UTF-8 (a leading byte order mark is
   * dropped, as Dart's decoder does).
   *
   * @param length The number of bytes.
   * @returns The decoded string.
   * @throws {FormatException} When the message is too short or the bytes are
   * not valid UTF-8.
   */
  getUtf8(length: number): string {
    this.#need(length, "bytes of UTF-8", length);
    const start = this.#position;
    const end = start + length;
    const data = this.data;
    if (length <= SHORT_STRING_BYTES) {
      const cached = shortAscii(data, start, end);
      if (cached !== null) {
        this.#position = end;
        return cached;
      }
    }
    let text: string;
    try {
      text = utf8Decoder.decode(data.subarray(start, end));
    } catch (error) {
      throw new FormatException(
        `Cannot decode string: the ${length} bytes at offset ${start} are not valid UTF-8`,
        start,
        { cause: error },
      );
    }
    this.#position = end;
    return text;
  }

  /**
   * Reads a string the way the standard codec writes one: a size (one byte
   * below 254, `254` then a uint16, `255` then a uint32), then that many
   * bytes of strict UTF-8. It mirrors {@linkcode WriteBuffer.putSizedUtf8}.
   *
   * @example Reading what putSizedUtf8 wrote
   * ```ts
   * import { FormatException, ReadBuffer, WriteBuffer } from "@isolates/isolates";
   * import assert from "node:assert/strict";
   *
   * const writer = new WriteBuffer();
   * writer.putSizedUtf8("key");
   * writer.putSizedUtf8("é".repeat(300)); // a 600-byte size: 254 + uint16
   * const reader = new ReadBuffer(writer.done());
   * assert.equal(reader.getSizedUtf8(), "key");
   * assert.equal(reader.getSizedUtf8(), "é".repeat(300));
   * assert.equal(reader.hasRemaining, false);
   * assert.throws(
   *   () => new ReadBuffer(new Uint8Array([5, 97])).getSizedUtf8(),
   *   FormatException,
   * );
   * ```
   *
   * @returns The decoded string.
   * @throws {FormatException} When the message is too short or the bytes are
   * not valid UTF-8.
   */
  getSizedUtf8(): string {
    const data = this.data;
    const at = this.#position;
    if (at < data.length) {
      const size = data[at];
      // The common case, a short string whose size fits in one byte, with
      // the same checks getUint8 and getUtf8 make.
      if (size < 254 && size <= SHORT_STRING_BYTES && size < data.length - at) {
        const start = at + 1;
        const cached = shortAscii(data, start, start + size);
        if (cached !== null) {
          this.#position = start + size;
          return cached;
        }
      }
    }
    const first = this.getUint8();
    const size = first < 254
      ? first
      : first === 254
      ? this.getUint16()
      : this.getUint32();
    return this.getUtf8(size);
  }

  #getElements<
    T extends Int32Array | BigInt64Array | Float32Array | Float64Array,
  >(
    ListType: {
      new (buffer: ArrayBuffer, byteOffset: number, length: number): T;
      new (length: number): T;
    },
    length: number,
    width: number,
    name: string,
  ): T {
    this.#align(width);
    const byteLength = length * width;
    this.#need(byteLength, name, length);
    const start = this.data.byteOffset + this.#position;
    let list: T;
    if (hostIsLittleEndian && start % width === 0) {
      list = new ListType(this.data.buffer as ArrayBuffer, start, length);
    } else {
      list = new ListType(length);
      const bytes = new Uint8Array(list.buffer);
      bytes.set(
        this.data.subarray(this.#position, this.#position + byteLength),
      );
      if (!hostIsLittleEndian) swapEndianness(bytes, width);
    }
    this.#position += byteLength;
    return list;
  }

  #align(alignment: number): void {
    const mod = this.#position % alignment;
    if (mod !== 0) {
      const padding = alignment - mod;
      this.#need(padding, "alignment padding");
      this.#position += padding;
    }
  }

  /**
   * Checks that `count` bytes remain. `what` names the value for the error;
   * with `items` it is a unit counted in the message ("3 int32 elements"),
   * built only when the check fails: this runs for every value read.
   */
  #need(count: number, what: string, items?: number): void {
    if (!(count >= 0 && count <= this.data.length - this.#position)) {
      const subject = items === undefined
        ? what
        : what === "bytes" || what === "bytes of UTF-8"
        ? `${items} ${what}`
        : `${items} ${what} elements`;
      throw new FormatException(
        `Cannot read ${subject} at offset ${this.#position}: only ${
          this.data.length - this.#position
        } bytes remain in the ${this.data.length}-byte message; it is truncated or corrupted`,
        this.#position,
      );
    }
  }
}

/**
 * Short ASCII strings (map keys, method names, enum-like values) repeat from
 * message to message. Decoding them through a small cache keyed by a hash of
 * their bytes returns the same string without building it again; an entry is
 * checked against the bytes before use, so a collision only costs a rebuild.
 */
const SHORT_STRING_BYTES = 32;
const CACHE_SIZE = 4096;
const shortStrings: (string | undefined)[] = new Array(CACHE_SIZE);

function shortAscii(
  data: Uint8Array,
  start: number,
  end: number,
): string | null {
  const length = end - start;
  if (length === 0) return "";
  // The slot comes from a few bytes, not all: the comparison below reads
  // every byte anyway, and a collision only costs a rebuild.
  let hash = Math.imul(length, 0x9e3779b1) ^ data[start] ^
    (data[end - 1] << 8) ^ (data[start + (length >> 1)] << 16) ^
    (data[start + (length >> 2)] << 4) ^ (data[end - 1 - (length >> 2)] << 12);
  hash ^= hash >>> 13;
  const slot = hash & (CACHE_SIZE - 1);
  const cached = shortStrings[slot];
  if (cached !== undefined && cached.length === length) {
    let same = true;
    for (let i = start, j = 0; i < end; i++, j++) {
      if (cached.charCodeAt(j) !== data[i]) {
        same = false;
        break;
      }
    }
    // Equal to a cached ASCII string: these bytes are that ASCII string.
    if (same) return cached;
  }
  for (let i = start; i < end; i++) {
    if (data[i] > 0x7f) return null;
  }
  const text = String.fromCharCode.apply(
    null,
    data.subarray(start, end) as unknown as number[],
  );
  shortStrings[slot] = text;
  return text;
}

function swapEndianness(bytes: Uint8Array, width: number): void {
  for (let i = 0; i < bytes.length; i += width) {
    bytes.subarray(i, i + width).reverse();
  }
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
