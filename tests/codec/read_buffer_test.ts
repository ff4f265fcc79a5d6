// Byte vectors in this file are written by hand from
// /work/shared/spec/flutter_wire_format.md (sections 1.3 to 1.8, 1.10, 1.13
// and 12), never produced by running the buffer. Every multi-byte number is
// little-endian; alignment counts from the first byte of the view.
import { FormatException, IsolatesError, ReadBuffer } from "@isolates/isolates";
import assert from "node:assert/strict";

/** The bytes of a message, written out by hand. */
function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

/** `count` zero bytes: padding, spelled out by its length. */
function zeros(count: number): number[] {
  return new Array(count).fill(0);
}

/**
 * Copies `message` into a larger buffer at `byteOffset`, surrounded by 0xEE
 * garbage, and returns a view of exactly the message.
 */
function atOffset(message: Uint8Array, byteOffset: number): Uint8Array {
  const storage = new Uint8Array(byteOffset + message.length + 16).fill(0xee);
  storage.set(message, byteOffset);
  return new Uint8Array(storage.buffer, byteOffset, message.length);
}

/** A FormatException at `offset`, with the module's code. */
function isFormatException(offset?: number): (error: unknown) => boolean {
  return (error: unknown): boolean => {
    assert.ok(
      error instanceof FormatException,
      `expected FormatException, got ${String(error)}`,
    );
    assert.ok(error instanceof IsolatesError);
    assert.equal(error.code, "format_exception");
    if (offset !== undefined) assert.equal(error.offset, offset);
    return true;
  };
}

// IEEE-754 bit patterns, little-endian.
const F64_ONE = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f]; // 0x3FF0...
const F64_HALF = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f]; // 0x3FE0...
const F64_NEG_TWO = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0]; // 0xC000...
const F64_TENTH = [0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f]; // 0x3FB999999999999A
const F32_ONE = [0x00, 0x00, 0x80, 0x3f]; // 0x3F800000
const F32_NEG_TWO = [0x00, 0x00, 0x00, 0xc0]; // 0xC0000000

Deno.test("ReadBuffer.getUint8() reads one byte and advances", () => {
  const reader = new ReadBuffer(bytes(0, 127, 255));
  assert.equal(reader.position, 0);
  assert.equal(reader.remaining, 3);
  assert.equal(reader.getUint8(), 0);
  assert.equal(reader.getUint8(), 127);
  assert.equal(reader.getUint8(), 255);
  assert.equal(reader.position, 3);
  assert.equal(reader.remaining, 0);
  assert.equal(reader.hasRemaining, false);
});

Deno.test("ReadBuffer.getUint16() reads 2 bytes little-endian, unaligned", () => {
  const reader = new ReadBuffer(bytes(9, 0x34, 0x12, 0xff, 0xff));
  reader.getUint8();
  assert.equal(reader.getUint16(), 0x1234);
  assert.equal(reader.getUint16(), 0xffff);
  assert.equal(reader.position, 5);
});

Deno.test("ReadBuffer.getUint32() reads 4 bytes little-endian, unaligned", () => {
  const reader = new ReadBuffer(
    bytes(9, 0x78, 0x56, 0x34, 0x12, 0xff, 0xff, 0xff, 0xff),
  );
  reader.getUint8();
  assert.equal(reader.getUint32(), 0x12345678);
  assert.equal(reader.getUint32(), 4294967295);
});

Deno.test("ReadBuffer.getInt32() reads 4 bytes two's complement, unaligned", () => {
  const reader = new ReadBuffer(
    bytes(
      3,
      0xfe,
      0xff,
      0xff,
      0xff,
      0x00,
      0x00,
      0x00,
      0x80,
      0xff,
      0xff,
      0xff,
      0x7f,
    ),
  );
  reader.getUint8();
  assert.equal(reader.getInt32(), -2);
  assert.equal(reader.getInt32(), -2147483648);
  assert.equal(reader.getInt32(), 2147483647);
  assert.equal(reader.position, 13);
});

Deno.test("ReadBuffer.getInt64() returns a number when safe and a bigint otherwise", async (t) => {
  const cases: [string, number[], number | bigint][] = [
    ["0", zeros(8), 0],
    ["1", [1, ...zeros(7)], 1],
    ["-1", new Array(8).fill(0xff), -1],
    ["2^32", [0, 0, 0, 0, 1, 0, 0, 0], 4294967296],
    ["-2^32", [0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], -4294967296],
    [
      "2^53 - 1 is a number",
      [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00],
      9007199254740991,
    ],
    [
      "2^53 is a bigint",
      [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00],
      9007199254740992n,
    ],
    [
      "2^53 + 1 is a bigint",
      [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00],
      9007199254740993n,
    ],
    [
      "-(2^53 - 1) is a number",
      [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0xff],
      -9007199254740991,
    ],
    [
      "-2^53 is a bigint",
      [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0xff],
      -9007199254740992n,
    ],
    [
      "int64 max is a bigint",
      [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
      9223372036854775807n,
    ],
    ["int64 min is a bigint", [...zeros(7), 0x80], -9223372036854775808n],
    [
      "0x0102030405060708",
      [0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01],
      0x0102030405060708n,
    ],
  ];
  for (const [name, wire, expected] of cases) {
    await t.step(name, () => {
      const value = new ReadBuffer(new Uint8Array(wire)).getInt64();
      assert.equal(typeof value, typeof expected);
      assert.equal(value, expected);
    });
  }
  await t.step("is not aligned: read after one byte", () => {
    const reader = new ReadBuffer(bytes(4, 5, 0, 0, 0, 0, 0, 0, 0));
    reader.getUint8();
    assert.equal(reader.getInt64(), 5);
    assert.equal(reader.position, 9);
  });
});

Deno.test("ReadBuffer.getFloat64() skips to a multiple of 8 from the view start", async (t) => {
  await t.step("at offset 0", () => {
    assert.equal(new ReadBuffer(new Uint8Array(F64_ONE)).getFloat64(), 1);
  });
  await t.step("after one byte it skips 7, whatever they hold", () => {
    const reader = new ReadBuffer(
      bytes(6, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, ...F64_HALF),
    );
    reader.getUint8();
    assert.equal(reader.getFloat64(), 0.5);
    assert.equal(reader.position, 16);
  });
  await t.step("three in a row", () => {
    const reader = new ReadBuffer(
      new Uint8Array([...F64_ONE, ...F64_NEG_TWO, ...F64_TENTH]),
    );
    assert.equal(reader.getFloat64(), 1);
    assert.equal(reader.getFloat64(), -2);
    assert.equal(reader.getFloat64(), 0.1);
  });
  await t.step("alignment counts from the view, not its ArrayBuffer", () => {
    const view = atOffset(bytes(6, ...zeros(7), ...F64_ONE), 3);
    const reader = new ReadBuffer(view);
    reader.getUint8();
    assert.equal(reader.getFloat64(), 1);
    assert.equal(reader.position, 16);
  });
});

Deno.test("ReadBuffer.getFloat32() skips to a multiple of 4", () => {
  const reader = new ReadBuffer(
    bytes(14, 0xaa, 0xaa, 0xaa, ...F32_ONE, ...F32_NEG_TWO),
  );
  reader.getUint8();
  assert.equal(reader.getFloat32(), 1);
  assert.equal(reader.getFloat32(), -2);
  assert.equal(reader.position, 12);
});

Deno.test("ReadBuffer.getUint8List() returns a view of the next bytes", async (t) => {
  await t.step("values and position", () => {
    const data = bytes(8, 1, 2, 3, 4);
    const reader = new ReadBuffer(data);
    reader.getUint8();
    const list = reader.getUint8List(3);
    assert.deepEqual(Array.from(list), [1, 2, 3]);
    assert.equal(reader.position, 4);
  });
  await t.step("no alignment, from a view at an odd offset", () => {
    const reader = new ReadBuffer(atOffset(bytes(8, 7, 9), 5));
    reader.getUint8();
    assert.deepEqual(Array.from(reader.getUint8List(2)), [7, 9]);
  });
  await t.step("zero bytes", () => {
    const reader = new ReadBuffer(bytes(1));
    assert.equal(reader.getUint8List(0).length, 0);
    assert.equal(reader.position, 0);
  });
});

Deno.test("ReadBuffer typed-list gets align and read little-endian elements", async (t) => {
  await t.step("getInt32List() after 2 bytes skips 2", () => {
    const reader = new ReadBuffer(
      bytes(9, 2, 0xaa, 0xaa, 1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff),
    );
    reader.getUint8();
    reader.getUint8();
    assert.deepEqual(Array.from(reader.getInt32List(2)), [1, -2]);
    assert.equal(reader.position, 12);
  });
  await t.step("getFloat32List() after 1 byte skips 3", () => {
    const reader = new ReadBuffer(
      bytes(14, 0, 0, 0, ...F32_ONE, ...F32_NEG_TWO),
    );
    reader.getUint8();
    assert.deepEqual(Array.from(reader.getFloat32List(2)), [1, -2]);
  });
  await t.step("getInt64List() after 2 bytes skips 6", () => {
    const reader = new ReadBuffer(
      bytes(10, 1, ...zeros(6), 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
    );
    reader.getUint8();
    reader.getUint8();
    const list = reader.getInt64List(1);
    assert.ok(list instanceof BigInt64Array);
    assert.deepEqual(Array.from(list), [-2n]);
  });
  await t.step("getFloat64List() after 3 bytes skips 5", () => {
    const reader = new ReadBuffer(
      bytes(11, 2, 0, ...zeros(5), ...F64_HALF, ...F64_ONE),
    );
    reader.getUint8();
    reader.getUint8();
    reader.getUint8();
    const list = reader.getFloat64List(2);
    assert.ok(list instanceof Float64Array);
    assert.deepEqual(Array.from(list), [0.5, 1]);
    assert.equal(reader.position, 24);
  });
  await t.step("empty lists still skip their padding", () => {
    const reader = new ReadBuffer(bytes(11, 0, ...zeros(6), 7));
    reader.getUint8();
    reader.getUint8();
    assert.equal(reader.getFloat64List(0).length, 0);
    assert.equal(reader.position, 8);
    assert.equal(reader.getUint8(), 7);
  });
});

Deno.test("ReadBuffer typed-list gets return correct values from a view at an unaligned address", async (t) => {
  const message = bytes(
    ...F64_HALF,
    ...F64_NEG_TWO,
    ...F64_TENTH,
  );
  for (const byteOffset of [1, 3, 4, 5, 7]) {
    await t.step(`getFloat64List() at byteOffset ${byteOffset}`, () => {
      const list = new ReadBuffer(atOffset(message, byteOffset))
        .getFloat64List(3);
      assert.ok(list instanceof Float64Array);
      assert.deepEqual(Array.from(list), [0.5, -2, 0.1]);
    });
  }
  await t.step("getInt32List() at byteOffset 1", () => {
    const list = new ReadBuffer(
      atOffset(bytes(1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff), 1),
    ).getInt32List(2);
    assert.deepEqual(Array.from(list), [1, -2]);
  });
  await t.step("getFloat32List() at byteOffset 2", () => {
    const list = new ReadBuffer(atOffset(bytes(...F32_ONE, ...F32_NEG_TWO), 2))
      .getFloat32List(2);
    assert.deepEqual(Array.from(list), [1, -2]);
  });
  await t.step("getInt64List() at byteOffset 3", () => {
    const list = new ReadBuffer(
      atOffset(bytes(0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01), 3),
    ).getInt64List(1);
    assert.deepEqual(Array.from(list), [0x0102030405060708n]);
  });
  await t.step("the list holds only its own elements", () => {
    const view = atOffset(bytes(...F64_ONE), 1);
    const list = new ReadBuffer(view).getFloat64List(1);
    assert.equal(list.length, 1);
    assert.equal(list[0], 1);
  });
});

Deno.test("ReadBuffer.getFloat64List() on an aligned view shares the message's memory", () => {
  const source = new Float64Array([0.5, 1.5, 2.5]);
  const data = new Uint8Array(source.buffer);
  const list = new ReadBuffer(data).getFloat64List(3);
  assert.deepEqual(Array.from(list), [0.5, 1.5, 2.5]);
  source[1] = 42;
  assert.equal(list[1], 42);
});

Deno.test("ReadBuffer reads past the end throw FormatException at the read position", async (t) => {
  const reads: [string, (r: ReadBuffer) => unknown, number][] = [
    ["getUint8", (r) => r.getUint8(), 1],
    ["getUint16", (r) => r.getUint16(), 2],
    ["getUint32", (r) => r.getUint32(), 4],
    ["getInt32", (r) => r.getInt32(), 4],
    ["getInt64", (r) => r.getInt64(), 8],
    ["getUint8List(3)", (r) => r.getUint8List(3), 3],
    ["getUtf8(3)", (r) => r.getUtf8(3), 3],
  ];
  for (const [name, read, width] of reads) {
    await t.step(`${name} with ${width - 1} bytes left`, () => {
      // One byte consumed first, so the offset is not trivially 0.
      const reader = new ReadBuffer(new Uint8Array(width).fill(0x61));
      reader.getUint8();
      assert.throws(() => read(reader), isFormatException(1));
      assert.equal(reader.position, 1);
    });
  }
  await t.step("getUint8 on an empty buffer", () => {
    assert.throws(
      () => new ReadBuffer(new Uint8Array(0)).getUint8(),
      isFormatException(0),
    );
  });
  await t.step("getFloat64 at an aligned position with 7 bytes left", () => {
    const reader = new ReadBuffer(new Uint8Array(15));
    reader.getUint8List(8);
    assert.throws(() => reader.getFloat64(), isFormatException(8));
  });
  await t.step("getInt32List(2) with 4 bytes left", () => {
    const reader = new ReadBuffer(new Uint8Array(4));
    assert.throws(() => reader.getInt32List(2), isFormatException(0));
  });
  await t.step(
    "getFloat64List(1) at an aligned position with 4 bytes left",
    () => {
      const reader = new ReadBuffer(new Uint8Array(12));
      reader.getUint8List(8);
      assert.throws(() => reader.getFloat64List(1), isFormatException(8));
    },
  );
  await t.step("getFloat64 when even the padding is missing", () => {
    const reader = new ReadBuffer(new Uint8Array(4));
    reader.getUint8();
    assert.throws(() => reader.getFloat64(), isFormatException());
  });
  await t.step("the view's end counts, not its ArrayBuffer's", () => {
    // atOffset() leaves 16 garbage bytes after the view.
    const reader = new ReadBuffer(atOffset(bytes(1, 2), 4));
    reader.getUint8();
    assert.throws(() => reader.getUint32(), isFormatException(1));
    assert.throws(() => reader.getUint8List(2), isFormatException(1));
  });
});

Deno.test("ReadBuffer checks lengths before allocating", async (t) => {
  await t.step("getUint8List(2 ** 31) on a 4-byte buffer", () => {
    const reader = new ReadBuffer(new Uint8Array(4));
    assert.throws(() => reader.getUint8List(2 ** 31), isFormatException(0));
    assert.equal(reader.position, 0);
  });
  await t.step("getUtf8(2 ** 31) on a 4-byte buffer", () => {
    const reader = new ReadBuffer(new Uint8Array(4));
    assert.throws(() => reader.getUtf8(2 ** 31), isFormatException(0));
  });
  // Each of these would need gigabytes if it allocated first; the copy path
  // (an odd byteOffset) is the one that would allocate a fresh list.
  const lists: [string, (r: ReadBuffer) => unknown][] = [
    ["getInt32List(2 ** 30)", (r) => r.getInt32List(2 ** 30)],
    ["getFloat32List(2 ** 30)", (r) => r.getFloat32List(2 ** 30)],
    ["getInt64List(2 ** 31)", (r) => r.getInt64List(2 ** 31)],
    ["getFloat64List(2 ** 31)", (r) => r.getFloat64List(2 ** 31)],
  ];
  for (const [name, read] of lists) {
    await t.step(`${name} on a 4-byte view at an odd offset`, () => {
      const reader = new ReadBuffer(atOffset(new Uint8Array(4), 1));
      assert.throws(() => read(reader), isFormatException(0));
    });
  }
});

Deno.test("ReadBuffer.getUtf8() decodes strict UTF-8", async (t) => {
  await t.step("ASCII after a size byte", () => {
    const reader = new ReadBuffer(bytes(3, 0x61, 0x62, 0x63));
    reader.getUint8();
    assert.equal(reader.getUtf8(3), "abc");
    assert.equal(reader.position, 4);
  });
  await t.step("multi-byte", () => {
    const reader = new ReadBuffer(
      bytes(0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80),
    );
    assert.equal(reader.getUtf8(9), "é€😀");
  });
  await t.step("zero bytes", () => {
    const reader = new ReadBuffer(bytes(0x61));
    assert.equal(reader.getUtf8(0), "");
    assert.equal(reader.position, 0);
  });
  await t.step("reads only its length", () => {
    const reader = new ReadBuffer(bytes(0x61, 0x62, 0xff));
    assert.equal(reader.getUtf8(2), "ab");
    assert.equal(reader.getUint8(), 0xff);
  });
  const invalid: [string, number[]][] = [
    ["a lone 0xFF", [0xff]],
    ["a continuation byte", [0x61, 0x80]],
    ["a cut-short sequence", [0x61, 0xe2, 0x82]],
    ["an overlong NUL", [0xc0, 0x80]],
    ["an encoded surrogate", [0xed, 0xa0, 0x80]],
    ["invalid after 40 ASCII bytes", [...new Array(40).fill(0x61), 0xff]],
  ];
  for (const [name, wire] of invalid) {
    await t.step(
      `${name} throws FormatException at the string's offset`,
      () => {
        const reader = new ReadBuffer(new Uint8Array([7, ...wire]));
        reader.getUint8();
        assert.throws(
          () => reader.getUtf8(wire.length),
          isFormatException(1),
        );
      },
    );
  }
  await t.step("a multi-byte sequence cut by the length is invalid", () => {
    const reader = new ReadBuffer(bytes(0xc3, 0xa9));
    assert.throws(() => reader.getUtf8(1), isFormatException(0));
  });
});

Deno.test("ReadBuffer.getUtf8() drops a leading BOM but keeps one later", async (t) => {
  await t.step("leading BOM", () => {
    const reader = new ReadBuffer(bytes(0xef, 0xbb, 0xbf, 0x68, 0x69));
    assert.equal(reader.getUtf8(5), "hi");
    assert.equal(reader.position, 5);
  });
  await t.step("only a BOM", () => {
    assert.equal(new ReadBuffer(bytes(0xef, 0xbb, 0xbf)).getUtf8(3), "");
  });
  await t.step("a BOM after the first character", () => {
    assert.equal(
      new ReadBuffer(bytes(0x68, 0xef, 0xbb, 0xbf)).getUtf8(4),
      "h\ufeff",
    );
  });
  await t.step("each string drops its own leading BOM", () => {
    const reader = new ReadBuffer(
      bytes(0xef, 0xbb, 0xbf, 0x61, 0xef, 0xbb, 0xbf, 0x62),
    );
    assert.equal(reader.getUtf8(4), "a");
    assert.equal(reader.getUtf8(4), "b");
  });
});

Deno.test("ReadBuffer.getUtf8() returns the right string for many short ASCII strings read repeatedly", async (t) => {
  const encoder = new TextEncoder();
  /** Reads `text` from its own buffer, at a position after `skip` bytes. */
  function read(text: string, skip = 0): string {
    const encoded = encoder.encode(text);
    const data = new Uint8Array(skip + encoded.length).fill(0x7e);
    data.set(encoded, skip);
    const reader = new ReadBuffer(data);
    if (skip > 0) reader.getUint8List(skip);
    return reader.getUtf8(encoded.length);
  }

  // More distinct strings than any small cache has slots, many of equal
  // length and differing in a single byte, so slots must collide.
  const strings: string[] = [""];
  const alphabet =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.";
  for (const a of alphabet) {
    for (const b of alphabet) strings.push(a + b);
  }
  for (let i = 0; i < 3000; i++) strings.push(`key${i}`);
  for (let i = 0; i < 500; i++) strings.push(`k${String(i).padStart(4, "0")}`);
  for (const length of [1, 8, 16, 31, 32, 33, 40]) {
    strings.push("x".repeat(length), "x".repeat(length - 1) + "y");
    strings.push("\u0000".repeat(length), "\u007f".repeat(length));
  }

  await t.step("each string once, in order", () => {
    for (const text of strings) assert.equal(read(text), text);
  });
  await t.step("interleaved forwards and backwards, at varying offsets", () => {
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < strings.length; i++) {
        const j = strings.length - 1 - i;
        assert.equal(read(strings[i], round), strings[i]);
        assert.equal(read(strings[j], (i + round) % 5), strings[j]);
      }
    }
  });
  await t.step(
    "a stride through the list hits colliding entries out of order",
    () => {
      for (let n = 0, i = 0; n < strings.length * 2; n++) {
        i = (i + 7919) % strings.length;
        assert.equal(read(strings[i]), strings[i]);
      }
    },
  );
  await t.step(
    "the same bytes changed in place decode to the new string",
    () => {
      const data = encoder.encode("abc");
      assert.equal(new ReadBuffer(data).getUtf8(3), "abc");
      data[2] = 0x64;
      assert.equal(new ReadBuffer(data).getUtf8(3), "abd");
      data[0] = 0x7a;
      assert.equal(new ReadBuffer(data).getUtf8(3), "zbd");
    },
  );
  await t.step("several strings from one buffer", () => {
    const data = encoder.encode("abXabYab");
    const reader = new ReadBuffer(data);
    assert.equal(reader.getUtf8(2), "ab");
    assert.equal(reader.getUtf8(1), "X");
    assert.equal(reader.getUtf8(3), "abY");
    assert.equal(reader.getUtf8(2), "ab");
  });
  await t.step(
    "short non-ASCII strings with the same length as ASCII ones",
    () => {
      assert.equal(read("ab"), "ab");
      assert.equal(read("é"), "é");
      assert.equal(read("ab"), "ab");
      assert.equal(read("é"), "é");
    },
  );
});

Deno.test("ReadBuffer.getSizedUtf8() reads a size then that many UTF-8 bytes", async (t) => {
  await t.step("one-byte sizes, ASCII and not, back to back", () => {
    // "id" (2), "" (0), "é" (2 bytes: C3 A9), then a trailing byte.
    const reader = new ReadBuffer(
      bytes(2, 0x69, 0x64, 0, 2, 0xc3, 0xa9, 0x2a),
    );
    assert.equal(reader.getSizedUtf8(), "id");
    assert.equal(reader.position, 3);
    assert.equal(reader.getSizedUtf8(), "");
    assert.equal(reader.getSizedUtf8(), "é");
    assert.equal(reader.position, 7);
    assert.equal(reader.getUint8(), 0x2a);
  });
  await t.step("a 254 + uint16 size", () => {
    // 300 = 0x012C.
    const reader = new ReadBuffer(
      bytes(254, 0x2c, 0x01, ...zeros(300).fill(0x61)),
    );
    assert.equal(reader.getSizedUtf8(), "a".repeat(300));
    assert.equal(reader.hasRemaining, false);
  });
  await t.step("a 255 + uint32 size", () => {
    // 70000 = 0x00011170.
    const reader = new ReadBuffer(
      bytes(255, 0x70, 0x11, 0x01, 0x00, ...zeros(70000).fill(0x62)),
    );
    assert.equal(reader.getSizedUtf8(), "b".repeat(70000));
    assert.equal(reader.hasRemaining, false);
  });
  await t.step("a one-byte size past the end, after the size byte", () => {
    const reader = new ReadBuffer(bytes(3, 0x61, 0x62));
    assert.throws(() => reader.getSizedUtf8(), isFormatException(1));
  });
  await t.step("no byte for the size", () => {
    const reader = new ReadBuffer(bytes(1, 0x61));
    assert.equal(reader.getSizedUtf8(), "a");
    assert.throws(() => reader.getSizedUtf8(), isFormatException(2));
  });
  await t.step("a uint16 size cut short", () => {
    assert.throws(
      () => new ReadBuffer(bytes(254, 0x01)).getSizedUtf8(),
      isFormatException(1),
    );
  });
  await t.step("a size of 2 ** 31 is refused before allocating", () => {
    assert.throws(
      () => new ReadBuffer(bytes(255, 0, 0, 0, 0x80, 0x61)).getSizedUtf8(),
      isFormatException(5),
    );
  });
  await t.step("malformed UTF-8 in a short string", () => {
    // 0xFF never appears in UTF-8; 0xC3 alone is a truncated sequence.
    assert.throws(
      () => new ReadBuffer(bytes(2, 0x61, 0xff)).getSizedUtf8(),
      isFormatException(1),
    );
    assert.throws(
      () => new ReadBuffer(bytes(1, 0xc3)).getSizedUtf8(),
      isFormatException(1),
    );
  });
});

Deno.test("ReadBuffer keeps the message it was given", () => {
  const data = bytes(1, 2, 3);
  const reader = new ReadBuffer(data);
  assert.equal(reader.data, data);
  assert.equal(reader.hasRemaining, true);
});
