import { hostIsLittleEndian } from "./_endian.ts";
import { utf8Encoder, utf8Length } from "./_utf8.ts";

/**
 * Options for {@linkcode WriteBuffer}.
 *
 * @example Starting small; the buffer grows as it is written
 * ```ts
 * import { WriteBuffer, type WriteBufferOptions } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const options: WriteBufferOptions = { startCapacity: 4 };
 * const buffer = new WriteBuffer(options);
 * buffer.putInt32(1);
 * buffer.putInt32(2); // past the 4 bytes allocated up front
 * assert.deepEqual(buffer.done(), new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0]));
 * assert.throws(() => new WriteBuffer({ startCapacity: 0 }), RangeError);
 * ```
 */
export interface WriteBufferOptions {
  /**
   * The number of bytes to allocate up front; the buffer doubles as needed.
   *
   * @default {64}
   */
  startCapacity?: number;
}

/**
 * A growable byte buffer that writes little-endian numbers and typed lists
 * with the alignment rules of Flutter's `WriteBuffer`: `putFloat64` pads to a
 * multiple of 8 first, `putInt32List`/`putFloat32List` to 4 and
 * `putInt64List`/`putFloat64List` to 8, always counted from the first byte of
 * the buffer. Padding bytes are zero. Call {@linkcode WriteBuffer.done} once
 * to take the bytes.
 *
 * @example Writing a tagged double the way StandardMessageCodec does
 * ```ts
 * import { WriteBuffer } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const buffer = new WriteBuffer();
 * buffer.putUint8(6);
 * buffer.putFloat64(1.0); // aligned to 8 after the tag byte
 * assert.deepEqual(
 *   buffer.done(),
 *   new Uint8Array([6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]),
 * );
 * ```
 */
export class WriteBuffer {
  #bytes: Uint8Array;
  #view: DataView;
  #position = 0;
  #done = false;
  #finalLength = 0;

  /**
   * Creates an empty buffer.
   *
   * @param options The initial capacity.
   * @throws {RangeError} When `startCapacity` is not a positive integer.
   */
  constructor(options: WriteBufferOptions = {}) {
    const capacity = options.startCapacity ?? 64;
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `Cannot create WriteBuffer: "startCapacity" must be a positive integer, got ${
          String(capacity)
        }`,
      );
    }
    const spare = spareStorage;
    if (spare !== null && spare.bytes.length >= capacity) {
      spareStorage = null;
      this.#bytes = spare.bytes;
      this.#view = spare.view;
    } else {
      this.#bytes = new Uint8Array(capacity);
      this.#view = new DataView(this.#bytes.buffer);
    }
  }

  /** The number of bytes written so far, padding included. */
  get length(): number {
    return this.#done ? this.#finalLength : this.#position;
  }

  /**
   * Appends one unsigned byte.
   *
   * @param value An integer in 0..255 (wraps modulo 256).
   */
  putUint8(value: number): void {
    this.#reserve(1);
    this.#bytes[this.#position++] = value;
  }

  /**
   * Appends an unsigned 16-bit integer, little-endian.
   *
   * @param value An integer in 0..65535.
   */
  putUint16(value: number): void {
    this.#reserve(2);
    this.#view.setUint16(this.#position, value, true);
    this.#position += 2;
  }

  /**
   * Appends an unsigned 32-bit integer, little-endian.
   *
   * @param value An integer in 0..4294967295.
   */
  putUint32(value: number): void {
    this.#reserve(4);
    this.#view.setUint32(this.#position, value, true);
    this.#position += 4;
  }

  /**
   * Appends a signed 32-bit integer, little-endian, unaligned.
   *
   * @param value An integer in -2147483648..2147483647.
   */
  putInt32(value: number): void {
    this.#reserve(4);
    this.#view.setInt32(this.#position, value, true);
    this.#position += 4;
  }

  /**
   * Appends a signed 64-bit integer, little-endian, unaligned (as Flutter
   * does for int64 scalars).
   *
   * @param value A safe integer or a `bigint` in the int64 range.
   */
  putInt64(value: number | bigint): void {
    this.#reserve(8);
    this.#view.setBigInt64(this.#position, BigInt(value), true);
    this.#position += 8;
  }

  /**
   * Pads to a multiple of 4, then appends a 32-bit float, little-endian.
   *
   * @param value The number to store (rounded to float32).
   */
  putFloat32(value: number): void {
    this.#align(4);
    this.#reserve(4);
    this.#view.setFloat32(this.#position, value, true);
    this.#position += 4;
  }

  /**
   * Pads to a multiple of 8, then appends a 64-bit float, little-endian.
   *
   * @param value The number to store.
   */
  putFloat64(value: number): void {
    this.#align(8);
    this.#reserve(8);
    this.#view.setFloat64(this.#position, value, true);
    this.#position += 8;
  }

  /**
   * Appends raw bytes, unaligned.
   *
   * @param list The bytes to copy.
   */
  putUint8List(list: Uint8Array): void {
    this.#reserve(list.length);
    this.#bytes.set(list, this.#position);
    this.#position += list.length;
  }

  /**
   * Pads to a multiple of 4, then appends each element as int32.
   *
   * @param list The elements to copy.
   */
  putInt32List(list: Int32Array): void {
    this.#align(4);
    this.#putElements(list, 4);
  }

  /**
   * Pads to a multiple of 8, then appends each element as int64.
   *
   * @param list The elements to copy.
   */
  putInt64List(list: BigInt64Array): void {
    this.#align(8);
    this.#putElements(list, 8);
  }

  /**
   * Pads to a multiple of 4, then appends each element as float32.
   *
   * @param list The elements to copy.
   */
  putFloat32List(list: Float32Array): void {
    this.#align(4);
    this.#putElements(list, 4);
  }

  /**
   * Pads to a multiple of 8, then appends each element as float64.
   *
   * @param list The elements to copy.
   */
  putFloat64List(list: Float64Array): void {
    this.#align(8);
    this.#putElements(list, 8);
  }

  /**
   * Appends a size in the standard codec's format: one byte below 254, `254`
   * then a uint16 up to 65535, `255` then a uint32 above.
   *
   * @param value An integer in 0..4294967295.
   */
  putSize(value: number): void {
    this.#reserve(5);
    this.#position = writeSizeAt(this.#bytes, this.#position, value);
  }

  /**
   * Appends a string the way the standard codec writes one: its UTF-8 byte
   * count (see {@linkcode WriteBuffer.putSize}), then its UTF-8 bytes. Lone
   * surrogates become U+FFFD, as in Dart's encoder.
   *
   * @param value The string.
   */
  putSizedUtf8(value: string): void {
    const length = value.length;
    // One pass for ASCII: the byte count equals the length, so the size's
    // width is known and the characters go straight after it.
    const sizeWidth = length < 254 ? 1 : length <= 0xffff ? 3 : 5;
    this.#reserve(sizeWidth + length);
    const bytes = this.#bytes;
    const start = this.#position;
    let p = start + sizeWidth;
    for (let i = 0; i < length; i++) {
      const unit = value.charCodeAt(i);
      if (unit >= 0x80) {
        this.#putSizedNonAscii(value, i);
        return;
      }
      bytes[p++] = unit;
    }
    writeSizeAt(bytes, start, length);
    this.#position = p;
  }

  /**
   * Appends the UTF-8 bytes of a string, with no size before them.
   *
   * @param value The string; lone surrogates become U+FFFD.
   * @returns The number of bytes written.
   */
  putUtf8(value: string): number {
    const byteLength = utf8Length(value);
    this.#reserve(byteLength);
    const position = this.#position;
    utf8Encoder.encodeInto(
      value,
      this.#bytes.subarray(position, position + byteLength),
    );
    this.#position = position + byteLength;
    return byteLength;
  }

  #putSizedNonAscii(value: string, firstNonAscii: number): void {
    this.putSize(utf8Length(value, firstNonAscii));
    this.putUtf8(value);
  }

  /**
   * Finishes the buffer and returns the bytes written. The buffer cannot be
   * used afterwards.
   *
   * From 64 KiB, the result is a view of the buffer's own storage (no
   * copy), whose `buffer` may be longer than the message: read it through
   * the view, not through `bytes.buffer`.
   *
   * @returns The written bytes, exactly {@linkcode WriteBuffer.length} long.
   * @throws {Error} When called twice.
   */
  done(): Uint8Array {
    if (this.#done) {
      throw new Error(
        "Cannot finish WriteBuffer: done() was already called; create a new WriteBuffer",
      );
    }
    this.#done = true;
    const storage = this.#bytes;
    let bytes: Uint8Array;
    if (this.#position >= HAND_OVER_BYTES) {
      // A large message takes the storage itself (no second copy); a channel
      // can then transfer it whole to another isolate.
      bytes = storage.subarray(0, this.#position);
    } else {
      bytes = storage.slice(0, this.#position);
      // Keep the storage for the next buffer: its pages are already mapped,
      // so the next message is copied at memory speed instead of paying for
      // a fresh zeroed allocation (measured: about 20 times slower for 1 MiB).
      if (storage.length <= MAX_SPARE_BYTES) {
        spareStorage = { bytes: storage, view: this.#view };
      }
    }
    this.#bytes = FINISHED;
    // Past any capacity: every later write, even of nothing, reaches the
    // check in #reserve.
    this.#finalLength = this.#position;
    this.#position = 1;
    return bytes;
  }

  #putElements(
    list: Int32Array | BigInt64Array | Float32Array | Float64Array,
    width: number,
  ): void {
    const byteLength = list.length * width;
    this.#reserve(byteLength);
    if (hostIsLittleEndian) {
      this.#bytes.set(
        new Uint8Array(list.buffer, list.byteOffset, byteLength),
        this.#position,
      );
      this.#position += byteLength;
      return;
    }
    const view = this.#view;
    let p = this.#position;
    for (let i = 0; i < list.length; i++, p += width) {
      if (list instanceof Int32Array) view.setInt32(p, list[i], true);
      else if (list instanceof BigInt64Array) {
        view.setBigInt64(p, list[i], true);
      } else if (list instanceof Float32Array) {
        view.setFloat32(p, list[i], true);
      } else view.setFloat64(p, list[i], true);
    }
    this.#position = p;
  }

  #align(alignment: number): void {
    const mod = this.#position % alignment;
    if (mod === 0) return;
    const padding = alignment - mod;
    this.#reserve(padding);
    // Storage is reused, so padding must be zeroed explicitly.
    const bytes = this.#bytes;
    for (let i = 0; i < padding; i++) bytes[this.#position++] = 0;
  }

  #reserve(count: number): void {
    const needed = this.#position + count;
    if (needed <= this.#bytes.length) return;
    // done() swaps in empty storage, so a finished buffer always lands here.
    if (this.#done) {
      throw new Error(
        "Cannot write to WriteBuffer: done() was already called; create a new WriteBuffer",
      );
    }
    const grown = new Uint8Array(Math.max(needed, this.#bytes.length * 2));
    grown.set(this.#bytes.subarray(0, this.#position));
    this.#bytes = grown;
    this.#view = new DataView(grown.buffer);
  }
}

function writeSizeAt(bytes: Uint8Array, at: number, value: number): number {
  if (value < 254) {
    bytes[at] = value;
    return at + 1;
  }
  if (value <= 0xffff) {
    bytes[at] = 254;
    bytes[at + 1] = value & 0xff;
    bytes[at + 2] = value >>> 8;
    return at + 3;
  }
  bytes[at] = 255;
  bytes[at + 1] = value & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = (value >>> 16) & 0xff;
  bytes[at + 4] = value >>> 24;
  return at + 5;
}

/**
 * The storage of the last finished buffer, reused by the next one. JavaScript
 * runs one task at a time, so a buffer takes it whole and gives it back in
 * `done()`; a buffer abandoned midway simply never returns it.
 */
const FINISHED = new Uint8Array(0);

let spareStorage: { bytes: Uint8Array; view: DataView } | null = null;
const MAX_SPARE_BYTES = 16 * 1024 * 1024;
/** From this size, `done()` hands over the storage instead of copying it. */
const HAND_OVER_BYTES = 64 * 1024;
