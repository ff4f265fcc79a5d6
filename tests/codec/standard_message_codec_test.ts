// Byte vectors in this file are written by hand from
// /work/shared/spec/flutter_wire_format.md (sections 1, 11 and 12), never
// produced by running the codec. Every multi-byte number is little-endian.
import {
  Double,
  FormatException,
  IsolatesError,
  type ReadBuffer,
  StandardMessageCodec,
  UnsupportedValueError,
  type WriteBuffer,
} from "@isolates/isolates";
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
 * garbage, and returns a view of exactly the message. Alignment must still
 * count from the view's first byte, and nothing outside it may be read.
 */
function atOffset(message: Uint8Array, byteOffset: number): Uint8Array {
  const storage = new Uint8Array(byteOffset + message.length + 16).fill(0xee);
  storage.set(message, byteOffset);
  return new Uint8Array(storage.buffer, byteOffset, message.length);
}

function encode(codec: StandardMessageCodec, value: unknown): number[] {
  const encoded = codec.encodeMessage(value);
  assert.ok(encoded instanceof Uint8Array, "expected bytes, got null");
  return Array.from(encoded);
}

/** Checks both directions: `value` encodes to `wire`, `wire` decodes to `decoded`. */
function assertBothWays(
  codec: StandardMessageCodec,
  value: unknown,
  wire: Uint8Array,
  decoded: unknown = value,
): void {
  assert.deepEqual(encode(codec, value), Array.from(wire));
  assert.deepEqual(codec.decodeMessage(wire), decoded);
}

function isFormatException(offset?: number): (error: unknown) => boolean {
  return (error: unknown): boolean => {
    assert.ok(
      error instanceof FormatException,
      `expected FormatException, got ${String(error)}`,
    );
    assert.ok(error instanceof IsolatesError);
    assert.equal(error.code, "format_exception");
    assert.equal(error.name, "FormatException");
    if (offset !== undefined) assert.equal(error.offset, offset);
    return true;
  };
}

function isUnsupported(
  ...mentions: string[]
): (error: unknown) => boolean {
  return (error: unknown): boolean => {
    assert.ok(
      error instanceof UnsupportedValueError,
      `expected UnsupportedValueError, got ${String(error)}`,
    );
    assert.ok(error instanceof IsolatesError);
    assert.equal(error.code, "unsupported_value");
    for (const mention of mentions) {
      assert.ok(
        error.message.includes(mention),
        `expected ${JSON.stringify(error.message)} to mention ${mention}`,
      );
    }
    return true;
  };
}

// IEEE-754 binary64 bit patterns, little-endian, from the spec's 1.0 vector
// (`00 00 00 00 00 00 f0 3f`) and the standard encoding of each value.
const F64_ONE = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f]; // 0x3FF0...
const F64_HALF = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f]; // 0x3FE0...
const F64_ONE_AND_HALF = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f]; // 0x3FF8...
const F64_TWO_AND_HALF = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x40]; // 0x4004...
const F64_TENTH = [0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f]; // 0x3FB999999999999A
const F64_NEG_ZERO = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80]; // 0x8000...
const F64_INF = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x7f]; // 0x7FF0...
const F64_NEG_INF = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0xff]; // 0xFFF0...
const F64_2_POW_53 = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x43]; // 0x4340...
// binary32: 1.0 = 0x3F800000, -2.0 = 0xC0000000, 1.5 = 0x3FC00000.
const F32_ONE = [0x00, 0x00, 0x80, 0x3f];
const F32_NEG_TWO = [0x00, 0x00, 0x00, 0xc0];
const F32_ONE_AND_HALF = [0x00, 0x00, 0xc0, 0x3f];

Deno.test("StandardMessageCodec.encodeMessage() gives null for a null message and decodeMessage() reads it back", async (t) => {
  const codec = new StandardMessageCodec();
  await t.step("null and undefined messages encode to no payload", () => {
    assert.equal(codec.encodeMessage(null), null);
    assert.equal(codec.encodeMessage(undefined), null);
  });
  await t.step("an absent payload decodes to null", () => {
    assert.equal(codec.decodeMessage(null), null);
  });
  await t.step("[0x00] decodes to null", () => {
    assert.equal(codec.decodeMessage(bytes(0x00)), null);
  });
  await t.step("null inside a list is tag 0", () => {
    assertBothWays(codec, [null], bytes(12, 1, 0));
  });
  await t.step("undefined inside a list is written as tag 0", () => {
    assertBothWays(codec, [undefined], bytes(12, 1, 0), [null]);
  });
  await t.step("an empty message throws FormatException at offset 0", () => {
    assert.throws(
      () => codec.decodeMessage(new Uint8Array(0)),
      isFormatException(0),
    );
  });
});

Deno.test("StandardMessageCodec.encodeMessage() writes booleans as tags 1 and 2", () => {
  const codec = new StandardMessageCodec();
  assertBothWays(codec, true, bytes(1));
  assertBothWays(codec, false, bytes(2));
  assertBothWays(codec, [true, false], bytes(12, 2, 1, 2));
});

Deno.test("StandardMessageCodec.encodeMessage() writes int32 boundaries as tag 3", async (t) => {
  const codec = new StandardMessageCodec();
  await t.step("0", () => assertBothWays(codec, 0, bytes(3, 0, 0, 0, 0)));
  await t.step("1", () => assertBothWays(codec, 1, bytes(3, 1, 0, 0, 0)));
  await t.step(
    "-1",
    () => assertBothWays(codec, -1, bytes(3, 0xff, 0xff, 0xff, 0xff)),
  );
  await t.step(
    "2147483647",
    () => assertBothWays(codec, 2147483647, bytes(3, 0xff, 0xff, 0xff, 0x7f)),
  );
  await t.step(
    "-2147483648",
    () => assertBothWays(codec, -2147483648, bytes(3, 0x00, 0x00, 0x00, 0x80)),
  );
  await t.step("0x12345678 is little-endian", () => {
    assertBothWays(codec, 0x12345678, bytes(3, 0x78, 0x56, 0x34, 0x12));
  });
  await t.step("int32 is not aligned inside a list", () => {
    assertBothWays(
      codec,
      [true, 256],
      bytes(12, 2, 1, 3, 0x00, 0x01, 0x00, 0x00),
    );
  });
});

Deno.test("StandardMessageCodec.encodeMessage() writes int64 boundaries as tag 4", async (t) => {
  const codec = new StandardMessageCodec();
  await t.step("2147483648", () => {
    assertBothWays(
      codec,
      2147483648,
      bytes(4, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00),
    );
  });
  await t.step("-2147483649", () => {
    assertBothWays(
      codec,
      -2147483649,
      bytes(4, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff),
    );
  });
  await t.step("Number.MAX_SAFE_INTEGER (2^53 - 1)", () => {
    assertBothWays(
      codec,
      Number.MAX_SAFE_INTEGER,
      bytes(4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00),
    );
  });
  await t.step("Number.MIN_SAFE_INTEGER (-(2^53 - 1))", () => {
    assertBothWays(
      codec,
      Number.MIN_SAFE_INTEGER,
      bytes(4, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0xff),
    );
  });
  await t.step("bigint int64 max decodes back as bigint", () => {
    assertBothWays(
      codec,
      9223372036854775807n,
      bytes(4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
    );
    assert.equal(
      typeof codec.decodeMessage(
        bytes(4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
      ),
      "bigint",
    );
  });
  await t.step("bigint int64 min decodes back as bigint", () => {
    assertBothWays(
      codec,
      -9223372036854775808n,
      bytes(4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80),
    );
  });
  await t.step("a tag-4 payload of 2^53 decodes to a bigint", () => {
    assert.equal(
      codec.decodeMessage(
        bytes(4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00),
      ),
      9007199254740992n,
    );
    assert.equal(
      codec.decodeMessage(
        bytes(4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0xff),
      ),
      -9007199254740992n,
    );
  });
  await t.step("a tag-4 payload holding 5 decodes to the number 5", () => {
    assert.equal(
      codec.decodeMessage(bytes(4, 5, 0, 0, 0, 0, 0, 0, 0)),
      5,
    );
    assert.equal(
      codec.decodeMessage(
        bytes(4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
      ),
      -1,
    );
  });
  await t.step(
    "a small bigint is written as tag 4 and decodes to a number",
    () => {
      assertBothWays(codec, 5n, bytes(4, 5, 0, 0, 0, 0, 0, 0, 0), 5);
    },
  );
  await t.step("int64 is not aligned inside a list", () => {
    assertBothWays(
      codec,
      [2147483648],
      bytes(12, 1, 4, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00),
    );
  });
  await t.step("a bigint outside int64 throws UnsupportedValueError", () => {
    assert.throws(
      () => codec.encodeMessage(9223372036854775808n),
      isUnsupported("9223372036854775808"),
    );
    assert.throws(
      () => codec.encodeMessage(-9223372036854775809n),
      isUnsupported("-9223372036854775809"),
    );
    assert.throws(
      () => codec.encodeMessage([1, { big: 2n ** 64n }]),
      isUnsupported(),
    );
  });
});

Deno.test("StandardMessageCodec.encodeMessage() writes doubles as tag 6 aligned to 8", async (t) => {
  const codec = new StandardMessageCodec();
  await t.step("new Double(1) is 06, seven zero pads, then 1.0", () => {
    assertBothWays(codec, new Double(1), bytes(6, ...zeros(7), ...F64_ONE), 1);
  });
  await t.step("plain 1 is an int, not a double", () => {
    assert.deepEqual(encode(codec, 1), [3, 1, 0, 0, 0]);
  });
  await t.step("0.5", () => {
    assertBothWays(codec, 0.5, bytes(6, ...zeros(7), ...F64_HALF));
  });
  await t.step("new Double(0.5) is the same as 0.5", () => {
    assertBothWays(
      codec,
      new Double(0.5),
      bytes(6, ...zeros(7), ...F64_HALF),
      0.5,
    );
  });
  await t.step("0.1 has a full mantissa, byte order visible", () => {
    assertBothWays(codec, 0.1, bytes(6, ...zeros(7), ...F64_TENTH));
  });
  await t.step("-0 is written as a double and decodes to -0", () => {
    assertBothWays(codec, -0, bytes(6, ...zeros(7), ...F64_NEG_ZERO));
    assert.ok(
      Object.is(
        codec.decodeMessage(bytes(6, ...zeros(7), ...F64_NEG_ZERO)),
        -0,
      ),
    );
  });
  await t.step("Infinity and -Infinity", () => {
    assertBothWays(codec, Infinity, bytes(6, ...zeros(7), ...F64_INF));
    assertBothWays(codec, -Infinity, bytes(6, ...zeros(7), ...F64_NEG_INF));
  });
  await t.step("NaN round-trips as tag 6", () => {
    const encoded = codec.encodeMessage(NaN);
    assert.ok(encoded !== null);
    assert.equal(encoded.length, 16);
    assert.deepEqual(Array.from(encoded.subarray(0, 8)), [6, ...zeros(7)]);
    assert.ok(Number.isNaN(codec.decodeMessage(encoded)));
    // Quiet NaN 0x7FF8000000000000, written by hand.
    assert.ok(
      Number.isNaN(
        codec.decodeMessage(
          bytes(6, ...zeros(7), 0, 0, 0, 0, 0, 0, 0xf8, 0x7f),
        ),
      ),
    );
  });
  await t.step("2^53 is not a safe integer, so it is a double", () => {
    assertBothWays(codec, 2 ** 53, bytes(6, ...zeros(7), ...F64_2_POW_53));
  });
  await t.step(
    "[1.5] pads from the message start: 3 header bytes, 5 pads",
    () => {
      assertBothWays(
        codec,
        [1.5],
        bytes(12, 1, 6, ...zeros(5), ...F64_ONE_AND_HALF),
      );
    },
  );
  await t.step('["ab", 2.5] has its tag at offset 6 and one pad', () => {
    assertBothWays(
      codec,
      ["ab", 2.5],
      bytes(12, 2, 7, 2, 0x61, 0x62, 6, 0, ...F64_TWO_AND_HALF),
    );
  });
  await t.step('["abc", 1.5] has its tag at offset 7 and no pad', () => {
    assertBothWays(
      codec,
      ["abc", 1.5],
      bytes(12, 2, 7, 3, 0x61, 0x62, 0x63, 6, ...F64_ONE_AND_HALF),
    );
  });
  await t.step("[0.5, 1.5]: the second double is already aligned", () => {
    assertBothWays(
      codec,
      [0.5, 1.5],
      bytes(
        12,
        2,
        6,
        ...zeros(5),
        ...F64_HALF,
        6,
        ...zeros(7),
        ...F64_ONE_AND_HALF,
      ),
    );
  });
  await t.step("[-0] inside a list", () => {
    assertBothWays(codec, [-0], bytes(12, 1, 6, ...zeros(5), ...F64_NEG_ZERO));
  });
  await t.step("the reader skips non-zero padding without checking it", () => {
    assert.equal(
      codec.decodeMessage(bytes(6, 1, 2, 3, 4, 5, 6, 7, ...F64_ONE)),
      1,
    );
  });
  await t.step("alignment counts from the view, not its ArrayBuffer", () => {
    const wire = bytes(12, 2, 7, 2, 0x61, 0x62, 6, 0, ...F64_TWO_AND_HALF);
    for (const offset of [1, 3, 5, 7]) {
      assert.deepEqual(codec.decodeMessage(atOffset(wire, offset)), [
        "ab",
        2.5,
      ]);
    }
  });
});

Deno.test("StandardMessageCodec.encodeMessage() writes strings as tag 7 with a UTF-8 byte count", async (t) => {
  const codec = new StandardMessageCodec();
  await t.step('""', () => assertBothWays(codec, "", bytes(7, 0)));
  await t.step("ASCII", () => {
    assertBothWays(codec, "hello", bytes(7, 5, 0x68, 0x65, 0x6c, 0x6c, 0x6f));
  });
  await t.step('"é" is 2 bytes', () => {
    assertBothWays(codec, "é", bytes(7, 2, 0xc3, 0xa9));
  });
  await t.step('"€" is 3 bytes', () => {
    assertBothWays(codec, "€", bytes(7, 3, 0xe2, 0x82, 0xac));
  });
  await t.step('"😀" is 4 bytes (2 UTF-16 units)', () => {
    assertBothWays(codec, "😀", bytes(7, 4, 0xf0, 0x9f, 0x98, 0x80));
  });
  await t.step("ASCII followed by non-ASCII", () => {
    assertBothWays(
      codec,
      "a€b",
      bytes(7, 5, 0x61, 0xe2, 0x82, 0xac, 0x62),
    );
  });
  await t.step("a 253-byte string uses the 1-byte size [253]", () => {
    const value = "a".repeat(253);
    const wire = bytes(7, 253, ...new Array(253).fill(0x61));
    assertBothWays(codec, value, wire);
  });
  await t.step("a 254-byte string uses [254, 254, 0]", () => {
    const value = "a".repeat(254);
    const wire = bytes(7, 254, 254, 0, ...new Array(254).fill(0x61));
    assertBothWays(codec, value, wire);
  });
  await t.step('127 x "é" is 254 bytes, so the size is [254, 254, 0]', () => {
    const value = "é".repeat(127);
    const wire = [7, 254, 254, 0];
    for (let i = 0; i < 127; i++) wire.push(0xc3, 0xa9);
    assertBothWays(codec, value, new Uint8Array(wire));
  });
  await t.step("a 65535-byte string uses [254, 255, 255]", () => {
    const value = "b".repeat(65535);
    const wire = new Uint8Array(4 + 65535).fill(0x62);
    wire.set([7, 254, 255, 255]);
    const encoded = codec.encodeMessage(value);
    assert.ok(encoded !== null);
    assert.equal(encoded.length, 4 + 65535);
    assert.deepEqual(Array.from(encoded.subarray(0, 4)), [7, 254, 255, 255]);
    assert.ok(encoded.subarray(4).every((b) => b === 0x62));
    assert.equal(codec.decodeMessage(wire), value);
  });
  await t.step("a 65536-byte string uses [255, 0, 0, 1, 0]", () => {
    const value = "c".repeat(65536);
    const wire = new Uint8Array(6 + 65536).fill(0x63);
    wire.set([7, 255, 0, 0, 1, 0]);
    const encoded = codec.encodeMessage(value);
    assert.ok(encoded !== null);
    assert.equal(encoded.length, 6 + 65536);
    assert.deepEqual(Array.from(encoded.subarray(0, 6)), [7, 255, 0, 0, 1, 0]);
    assert.ok(encoded.subarray(6).every((b) => b === 0x63));
    assert.equal(codec.decodeMessage(wire), value);
  });
  await t.step("the reader accepts non-shortest sizes", () => {
    assert.equal(codec.decodeMessage(bytes(7, 254, 1, 0, 0x61)), "a");
    assert.equal(codec.decodeMessage(bytes(7, 255, 1, 0, 0, 0, 0x61)), "a");
  });
  await t.step("a lone surrogate encodes to EF BF BD", () => {
    assertBothWays(codec, "\ud800", bytes(7, 3, 0xef, 0xbf, 0xbd), "\ufffd");
    assertBothWays(
      codec,
      "a\udc00b",
      bytes(7, 5, 0x61, 0xef, 0xbf, 0xbd, 0x62),
      "a\ufffdb",
    );
  });
  await t.step("a leading BOM is written but dropped on decode", () => {
    assertBothWays(
      codec,
      "\ufeffab",
      bytes(7, 5, 0xef, 0xbb, 0xbf, 0x61, 0x62),
      "ab",
    );
    assert.equal(codec.decodeMessage(bytes(7, 3, 0xef, 0xbb, 0xbf)), "");
  });
  await t.step("a BOM after the first character is kept", () => {
    assertBothWays(codec, "a\ufeff", bytes(7, 4, 0x61, 0xef, 0xbb, 0xbf));
  });
  await t.step("each string in a list drops its own leading BOM", () => {
    assert.deepEqual(
      codec.decodeMessage(
        bytes(
          12,
          2,
          7,
          4,
          0xef,
          0xbb,
          0xbf,
          0x61,
          7,
          4,
          0xef,
          0xbb,
          0xbf,
          0x62,
        ),
      ),
      ["a", "b"],
    );
  });
  await t.step("invalid UTF-8 throws FormatException", () => {
    for (
      const wire of [
        bytes(7, 1, 0xff), // never valid
        bytes(7, 1, 0x80), // lone continuation byte
        bytes(7, 2, 0xc3, 0x28), // bad continuation
        bytes(7, 2, 0xc0, 0x80), // overlong NUL
        bytes(7, 3, 0xed, 0xa0, 0x80), // UTF-8-encoded surrogate
        bytes(7, 1, 0xc3), // sequence cut short by the size
        bytes(7, 4, 0xf4, 0x90, 0x80, 0x80), // above U+10FFFF
      ]
    ) {
      assert.throws(() => codec.decodeMessage(wire), isFormatException());
    }
  });
  await t.step("invalid UTF-8 at the end of a 100-byte string", () => {
    // 7, size 100, 99 x "a", then 0xff.
    const wire = new Uint8Array(2 + 100).fill(0x61);
    wire.set([7, 100]);
    wire[2 + 99] = 0xff;
    assert.throws(() => codec.decodeMessage(wire), isFormatException());
  });
});

Deno.test("StandardMessageCodec.decodeMessage() reads legacy tag 5 as its hex string", () => {
  const codec = new StandardMessageCodec();
  assert.equal(codec.decodeMessage(bytes(5, 2, 0x31, 0x66)), "1f");
  assert.deepEqual(
    codec.decodeMessage(bytes(12, 2, 5, 1, 0x30, 3, 1, 0, 0, 0)),
    ["0", 1],
  );
  assert.throws(
    () => codec.decodeMessage(bytes(5, 1, 0xff)),
    isFormatException(),
  );
});

Deno.test("StandardMessageCodec.encodeMessage() writes typed arrays with their tags and padding", async (t) => {
  const codec = new StandardMessageCodec();
  await t.step("Uint8Array is tag 8 with no padding", () => {
    assertBothWays(
      codec,
      new Uint8Array([1, 2, 0xff]),
      bytes(8, 3, 1, 2, 0xff),
    );
    assertBothWays(codec, new Uint8Array(0), bytes(8, 0));
    assertBothWays(
      codec,
      [true, new Uint8Array([9])],
      bytes(12, 2, 1, 8, 1, 9),
    );
  });
  await t.step("Int32Array is tag 9, padded to 4", () => {
    assertBothWays(
      codec,
      new Int32Array([1, -1]),
      bytes(9, 2, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff),
    );
  });
  await t.step("an empty Int32Array is [9, 0, 0, 0]", () => {
    assertBothWays(codec, new Int32Array(0), bytes(9, 0, 0, 0));
  });
  await t.step("BigInt64Array is tag 10, padded to 8", () => {
    assertBothWays(
      codec,
      new BigInt64Array([1n, -1n]),
      bytes(
        10,
        2,
        ...zeros(6),
        1,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        ...new Array(8).fill(0xff),
      ),
    );
  });
  await t.step("an empty BigInt64Array is [10, 0] and six pads", () => {
    assertBothWays(codec, new BigInt64Array(0), bytes(10, 0, ...zeros(6)));
  });
  await t.step("Float64Array is tag 11, padded to 8", () => {
    assertBothWays(
      codec,
      new Float64Array([1, 0.5]),
      bytes(11, 2, ...zeros(6), ...F64_ONE, ...F64_HALF),
    );
  });
  await t.step("an empty Float64Array is [11, 0, 0, 0, 0, 0, 0, 0]", () => {
    assertBothWays(codec, new Float64Array(0), bytes(11, 0, 0, 0, 0, 0, 0, 0));
  });
  await t.step("Float64Array keeps -0, Infinity and NaN", () => {
    const decoded = codec.decodeMessage(
      bytes(
        11,
        3,
        ...zeros(6),
        ...F64_NEG_ZERO,
        ...F64_INF,
        0,
        0,
        0,
        0,
        0,
        0,
        0xf8,
        0x7f,
      ),
    );
    assert.ok(decoded instanceof Float64Array);
    assert.ok(Object.is(decoded[0], -0));
    assert.equal(decoded[1], Infinity);
    assert.ok(Number.isNaN(decoded[2]));
  });
  await t.step("Float32Array is tag 14, padded to 4", () => {
    assertBothWays(
      codec,
      new Float32Array([1, -2]),
      bytes(14, 2, 0, 0, ...F32_ONE, ...F32_NEG_TWO),
    );
  });
  await t.step("an empty Float32Array is [14, 0, 0, 0]", () => {
    assertBothWays(codec, new Float32Array(0), bytes(14, 0, 0, 0));
  });
  await t.step("sizes count elements, not bytes: 254 int32s", () => {
    const list = new Int32Array(254).fill(-1);
    // tag, size 254 as [254, 254, 0]: the elements start at 4, no padding.
    const wire = new Uint8Array(4 + 254 * 4).fill(0xff);
    wire.set([9, 254, 254, 0]);
    assertBothWays(codec, list, wire);
  });
  await t.step("Int32Array nested after an odd-length prefix", () => {
    assertBothWays(
      codec,
      ["a", new Int32Array([7])],
      bytes(12, 2, 7, 1, 0x61, 9, 1, 0, 7, 0, 0, 0),
    );
  });
  await t.step("Int32Array nested where no padding is needed", () => {
    assertBothWays(
      codec,
      [new Int32Array([7])],
      bytes(12, 1, 9, 1, 7, 0, 0, 0),
    );
  });
  await t.step("Float64Array nested at offset 3", () => {
    assertBothWays(
      codec,
      [true, new Float64Array([1.5])],
      bytes(12, 2, 1, 11, 1, 0, 0, 0, ...F64_ONE_AND_HALF),
    );
  });
  await t.step("BigInt64Array nested: 4 pads", () => {
    assertBothWays(
      codec,
      [new BigInt64Array([2n])],
      bytes(12, 1, 10, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0),
    );
  });
  await t.step("Float32Array nested: 3 pads", () => {
    assertBothWays(
      codec,
      [null, new Float32Array([1.5])],
      bytes(12, 2, 0, 14, 1, 0, 0, 0, ...F32_ONE_AND_HALF),
    );
  });
  await t.step("empty typed lists nested at odd offsets still pad", () => {
    assertBothWays(
      codec,
      [new Float64Array(0)],
      bytes(12, 1, 11, 0, 0, 0, 0, 0),
    );
    assertBothWays(
      codec,
      [true, new Int32Array(0)],
      bytes(12, 2, 1, 9, 0, 0, 0, 0),
    );
    assertBothWays(
      codec,
      [true, new Float32Array(0)],
      bytes(12, 2, 1, 14, 0, 0, 0, 0),
    );
    assertBothWays(
      codec,
      [true, new BigInt64Array(0), 1],
      bytes(12, 3, 1, 10, 0, 0, 0, 0, 3, 1, 0, 0, 0),
    );
  });
  await t.step("a sub-view encodes only its own elements", () => {
    const whole = new Int32Array([9, 8, 7, 6]);
    assertBothWays(
      codec,
      whole.subarray(1, 3),
      bytes(9, 2, 0, 0, 8, 0, 0, 0, 7, 0, 0, 0),
      new Int32Array([8, 7]),
    );
    const wholeBytes = new Uint8Array([1, 2, 3, 4]);
    assertBothWays(
      codec,
      wholeBytes.subarray(1, 3),
      bytes(8, 2, 2, 3),
      new Uint8Array([2, 3]),
    );
  });
});

Deno.test("StandardMessageCodec.decodeMessage() reads typed lists from a message at an odd byteOffset", async (t) => {
  const codec = new StandardMessageCodec();
  const cases: Array<[string, Uint8Array, unknown]> = [
    [
      "Int32Array",
      bytes(9, 2, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff),
      new Int32Array([1, -1]),
    ],
    [
      "BigInt64Array",
      bytes(
        10,
        2,
        ...zeros(6),
        1,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        ...new Array(8).fill(0xff),
      ),
      new BigInt64Array([1n, -1n]),
    ],
    [
      "Float64Array",
      bytes(11, 2, ...zeros(6), ...F64_ONE, ...F64_HALF),
      new Float64Array([1, 0.5]),
    ],
    [
      "Float32Array",
      bytes(14, 2, 0, 0, ...F32_ONE, ...F32_NEG_TWO),
      new Float32Array([1, -2]),
    ],
    ["Uint8Array", bytes(8, 3, 1, 2, 0xff), new Uint8Array([1, 2, 0xff])],
    [
      "nested typed lists",
      // 0: list of 4 | 2: true | 3: Float64List, size at 4, pads 5..7,
      // element 8..15 | 16: Int32List, size at 17, pads 18..19, element
      // 20..23 | 24: empty Float32List, size at 25, pads 26..27.
      // deno-fmt-ignore
      bytes(
        12, 4, 1,
        11, 1, 0, 0, 0, ...F64_ONE_AND_HALF,
        9, 1, 0, 0, 5, 0, 0, 0,
        14, 0, 0, 0,
      ),
      [true, new Float64Array([1.5]), new Int32Array([5]), new Float32Array(0)],
    ],
    ["empty Float64Array", bytes(11, 0, 0, 0, 0, 0, 0, 0), new Float64Array(0)],
  ];
  for (const [name, wire, expected] of cases) {
    await t.step(name, () => {
      assert.deepEqual(codec.decodeMessage(wire), expected);
      for (const offset of [1, 2, 3, 5, 7]) {
        assert.deepEqual(
          codec.decodeMessage(atOffset(wire, offset)),
          expected,
          `at byteOffset ${offset}`,
        );
      }
    });
  }
  await t.step("the reader never reads past the end of the view", () => {
    // The garbage after the view would complete the string; it must not be used.
    const storage = bytes(0xee, 7, 3, 0x61, 0x62, 0x63);
    const view = new Uint8Array(storage.buffer, 1, 3);
    assert.throws(() => codec.decodeMessage(view), isFormatException());
  });
});

Deno.test("StandardMessageCodec.encodeMessage() writes other typed arrays as generic lists", async (t) => {
  const codec = new StandardMessageCodec();
  await t.step("Int16Array", () => {
    assertBothWays(
      codec,
      new Int16Array([1, -2]),
      bytes(12, 2, 3, 1, 0, 0, 0, 3, 0xfe, 0xff, 0xff, 0xff),
      [1, -2],
    );
  });
  await t.step("Uint16Array", () => {
    assertBothWays(
      codec,
      new Uint16Array([65535]),
      bytes(12, 1, 3, 0xff, 0xff, 0, 0),
      [65535],
    );
  });
  await t.step("Int8Array", () => {
    assertBothWays(
      codec,
      new Int8Array([-1, 127]),
      bytes(12, 2, 3, 0xff, 0xff, 0xff, 0xff, 3, 0x7f, 0, 0, 0),
      [-1, 127],
    );
  });
  await t.step("Uint32Array: 4294967295 needs tag 4", () => {
    assertBothWays(
      codec,
      new Uint32Array([4294967295, 1]),
      bytes(12, 2, 4, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 3, 1, 0, 0, 0),
      [4294967295, 1],
    );
  });
  await t.step("Uint8ClampedArray", () => {
    assertBothWays(
      codec,
      new Uint8ClampedArray([255]),
      bytes(12, 1, 3, 0xff, 0, 0, 0),
      [255],
    );
  });
  await t.step("an empty Int16Array is an empty list", () => {
    assertBothWays(codec, new Int16Array(0), bytes(12, 0), []);
  });
});

Deno.test("StandardMessageCodec.encodeMessage() writes lists as tag 12 and maps as tag 13", async (t) => {
  const codec = new StandardMessageCodec();
  await t.step("empty list and empty map", () => {
    assertBothWays(codec, [], bytes(12, 0));
    assertBothWays(codec, new Map(), bytes(13, 0));
    assertBothWays(codec, {}, bytes(13, 0), new Map());
  });
  await t.step("a heterogeneous list", () => {
    assertBothWays(
      codec,
      [1, "a", null, true],
      bytes(12, 4, 3, 1, 0, 0, 0, 7, 1, 0x61, 0, 1),
    );
  });
  await t.step("nested lists", () => {
    assertBothWays(codec, [[], [[]]], bytes(12, 2, 12, 0, 12, 1, 12, 0));
  });
  await t.step("a shared (not cyclic) sublist is written twice", () => {
    const shared = [1];
    assertBothWays(
      codec,
      [shared, shared],
      bytes(12, 2, 12, 1, 3, 1, 0, 0, 0, 12, 1, 3, 1, 0, 0, 0),
      [[1], [1]],
    );
  });
  await t.step(
    "deep acyclic nesting with shared leaves is not taken for a cycle",
    () => {
      const leaf = ["x"];
      let value: unknown[] = [leaf];
      for (let i = 0; i < 40; i++) value = [value, leaf];
      const encoded = codec.encodeMessage(value);
      assert.ok(encoded !== null);
      assert.deepEqual(codec.decodeMessage(encoded), value);
    },
  );
  await t.step("a list of 253 nulls uses the size [253]", () => {
    const list = new Array(253).fill(null);
    assertBothWays(codec, list, bytes(12, 253, ...zeros(253)));
  });
  await t.step("a list of 254 nulls uses the size [254, 254, 0]", () => {
    const list = new Array(254).fill(null);
    assertBothWays(codec, list, bytes(12, 254, 254, 0, ...zeros(254)));
  });
  await t.step('new Map([["a", 1]])', () => {
    assertBothWays(
      codec,
      new Map([["a", 1]]),
      bytes(13, 1, 7, 1, 0x61, 3, 1, 0, 0, 0),
    );
  });
  await t.step('{a: 1} encodes exactly like new Map([["a", 1]])', () => {
    assertBothWays(
      codec,
      { a: 1 },
      bytes(13, 1, 7, 1, 0x61, 3, 1, 0, 0, 0),
      new Map([["a", 1]]),
    );
  });
  await t.step("an object without prototype is a map too", () => {
    const record = Object.create(null) as Record<string, unknown>;
    record.b = true;
    assertBothWays(
      codec,
      record,
      bytes(13, 1, 7, 1, 0x62, 1),
      new Map([["b", true]]),
    );
  });
  await t.step("decoded maps are JS Map instances, in wire order", () => {
    const decoded = codec.decodeMessage(
      bytes(13, 2, 7, 1, 0x7a, 3, 1, 0, 0, 0, 7, 1, 0x61, 3, 2, 0, 0, 0),
    );
    assert.ok(decoded instanceof Map);
    assert.deepEqual([...decoded.keys()], ["z", "a"]);
    assert.deepEqual(decoded, new Map([["z", 1], ["a", 2]]));
  });
  await t.step("a null key", () => {
    assertBothWays(codec, new Map([[null, "x"]]), bytes(13, 1, 0, 7, 1, 0x78));
  });
  await t.step("an int key", () => {
    assertBothWays(
      codec,
      new Map([[1, "one"]]),
      bytes(13, 1, 3, 1, 0, 0, 0, 7, 3, 0x6f, 0x6e, 0x65),
    );
  });
  await t.step("a list key", () => {
    assertBothWays(
      codec,
      new Map([[[1], 2]]),
      bytes(13, 1, 12, 1, 3, 1, 0, 0, 0, 3, 2, 0, 0, 0),
    );
  });
  await t.step(
    "a double value in a map is aligned from the message start",
    () => {
      // 0d 01 07 01 61 | 06 at 5 | pads 6, 7 | double at 8
      assertBothWays(
        codec,
        new Map([["a", 0.5]]),
        bytes(13, 1, 7, 1, 0x61, 6, 0, 0, ...F64_HALF),
      );
    },
  );
  await t.step("nested map and list", () => {
    assertBothWays(
      codec,
      { k: [1, { z: null }] },
      bytes(13, 1, 7, 1, 0x6b, 12, 2, 3, 1, 0, 0, 0, 13, 1, 7, 1, 0x7a, 0),
      new Map<string, unknown>([["k", [1, new Map([["z", null]])]]]),
    );
  });
  await t.step("a duplicate key: the later value wins", () => {
    assert.deepEqual(
      codec.decodeMessage(
        bytes(13, 2, 7, 1, 0x61, 3, 1, 0, 0, 0, 7, 1, 0x61, 3, 2, 0, 0, 0),
      ),
      new Map([["a", 2]]),
    );
  });
});

Deno.test("StandardMessageCodec.encodeMessage() throws UnsupportedValueError naming the type", async (t) => {
  const codec = new StandardMessageCodec();
  await t.step("a function", () => {
    assert.throws(
      () => codec.encodeMessage(() => 1),
      isUnsupported("function"),
    );
  });
  await t.step("a symbol", () => {
    assert.throws(
      () => codec.encodeMessage(Symbol("s")),
      isUnsupported("symbol"),
    );
  });
  await t.step("a Date", () => {
    assert.throws(
      () => codec.encodeMessage(new Date(0)),
      isUnsupported("Date"),
    );
  });
  await t.step("a Set", () => {
    assert.throws(
      () => codec.encodeMessage(new Set([1])),
      isUnsupported("Set"),
    );
  });
  await t.step("a class instance", () => {
    class Point {
      x = 1;
    }
    assert.throws(
      () => codec.encodeMessage(new Point()),
      isUnsupported("Point"),
    );
  });
  await t.step("a DataView", () => {
    assert.throws(
      () => codec.encodeMessage(new DataView(new ArrayBuffer(4))),
      isUnsupported("DataView"),
    );
  });
  await t.step("a cyclic array", () => {
    const cyclic: unknown[] = [1];
    cyclic.push(cyclic);
    assert.throws(
      () => codec.encodeMessage(cyclic),
      isUnsupported("cyclic", "Array"),
    );
  });
  await t.step("a cyclic object", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    assert.throws(
      () => codec.encodeMessage(cyclic),
      isUnsupported("cyclic", "Object"),
    );
  });
  await t.step("a cyclic Map", () => {
    const cyclic = new Map<string, unknown>();
    cyclic.set("self", cyclic);
    assert.throws(
      () => codec.encodeMessage(cyclic),
      isUnsupported("cyclic", "Map"),
    );
  });
  await t.step("an unsupported value deep inside containers", () => {
    assert.throws(
      () => codec.encodeMessage([1, new Map([["k", { s: new Set() }]])]),
      isUnsupported("Set"),
    );
    assert.throws(
      () => codec.encodeMessage(new Map([[new Date(0), 1]])),
      isUnsupported("Date"),
    );
  });
  await t.step("the codec still works after a failed encode", () => {
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    assert.throws(() => codec.encodeMessage(cyclic), isUnsupported());
    assert.deepEqual(encode(codec, [1]), [12, 1, 3, 1, 0, 0, 0]);
  });
});

Deno.test("StandardMessageCodec.decodeMessage() throws FormatException for malformed bytes", async (t) => {
  const codec = new StandardMessageCodec();
  await t.step("a truncated int32", () => {
    assert.throws(
      () => codec.decodeMessage(bytes(3, 1, 2)),
      isFormatException(1),
    );
    assert.throws(() => codec.decodeMessage(bytes(3)), isFormatException(1));
  });
  await t.step("a truncated int64", () => {
    assert.throws(
      () => codec.decodeMessage(bytes(4, 1, 2, 3, 4, 5, 6, 7)),
      isFormatException(1),
    );
  });
  await t.step("a truncated double", () => {
    // Padding present, only 2 of the 8 value bytes.
    assert.throws(
      () => codec.decodeMessage(bytes(6, ...zeros(7), 0, 0)),
      isFormatException(8),
    );
    // Padding itself cut short.
    assert.throws(
      () => codec.decodeMessage(bytes(6, 0, 0)),
      isFormatException(),
    );
    assert.throws(() => codec.decodeMessage(bytes(6)), isFormatException());
  });
  await t.step("an unknown tag: 15, 127, 200, 128", () => {
    for (const tag of [15, 127, 200, 128, 255]) {
      assert.throws(
        () => codec.decodeMessage(bytes(tag)),
        isFormatException(0),
      );
    }
    assert.throws(
      () => codec.decodeMessage(bytes(12, 2, 1, 15)),
      isFormatException(3),
    );
  });
  await t.step("a string size larger than the message fails fast", () => {
    assert.throws(
      () => codec.decodeMessage(bytes(7, 255, 255, 255, 255, 127)),
      isFormatException(),
    );
    assert.throws(
      () => codec.decodeMessage(bytes(7, 3, 0x61)),
      isFormatException(),
    );
  });
  await t.step("a list size larger than the message fails fast", () => {
    assert.throws(
      () => codec.decodeMessage(bytes(12, 255, 0xff, 0xff, 0xff, 0x7f)),
      isFormatException(),
    );
    assert.throws(
      () => codec.decodeMessage(bytes(12, 255, 0xff, 0xff, 0xff, 0xff)),
      isFormatException(),
    );
  });
  await t.step("a map size larger than the message fails fast", () => {
    assert.throws(
      () => codec.decodeMessage(bytes(13, 255, 0xff, 0xff, 0xff, 0x7f)),
      isFormatException(),
    );
  });
  await t.step("typed list sizes larger than the message fail fast", () => {
    for (const tag of [8, 9, 10, 11, 14]) {
      assert.throws(
        () =>
          codec.decodeMessage(bytes(tag, 255, 0xff, 0xff, 0xff, 0xff, 0, 0)),
        isFormatException(),
      );
    }
  });
  await t.step("a list or map shorter than its size", () => {
    assert.throws(
      () => codec.decodeMessage(bytes(12, 2, 0)),
      isFormatException(),
    );
    assert.throws(
      () => codec.decodeMessage(bytes(13, 1, 0)),
      isFormatException(),
    );
  });
  await t.step("a size cut short", () => {
    assert.throws(
      () => codec.decodeMessage(bytes(7, 254, 1)),
      isFormatException(),
    );
    assert.throws(
      () => codec.decodeMessage(bytes(12, 255, 1, 0)),
      isFormatException(),
    );
    assert.throws(() => codec.decodeMessage(bytes(7)), isFormatException(1));
  });
  await t.step("an empty typed list without its padding", () => {
    assert.throws(() => codec.decodeMessage(bytes(11, 0)), isFormatException());
    assert.throws(() => codec.decodeMessage(bytes(9, 0)), isFormatException());
  });
  await t.step("trailing bytes after the value", () => {
    assert.throws(() => codec.decodeMessage(bytes(1, 0)), isFormatException(1));
    assert.throws(() => codec.decodeMessage(bytes(0, 0)), isFormatException(1));
    assert.throws(
      () => codec.decodeMessage(bytes(3, 1, 0, 0, 0, 9, 9)),
      isFormatException(5),
    );
  });
});

/** The spec's example extension: a Date as tag 128 followed by its millisecond time. */
class DateCodec extends StandardMessageCodec {
  override writeValue(buffer: WriteBuffer, value: unknown): void {
    if (value instanceof Date) {
      buffer.putUint8(128);
      this.writeValue(buffer, value.getTime());
    } else {
      super.writeValue(buffer, value);
    }
  }

  override readValueOfType(type: number, buffer: ReadBuffer): unknown {
    if (type === 128) return new Date(this.readValue(buffer) as number);
    return super.readValueOfType(type, buffer);
  }
}

Deno.test("StandardMessageCodec subclass round-trips an extension tag inside containers", async (t) => {
  const codec = new DateCodec();
  // 86400000 ms = 0x05265C00.
  const wire = bytes(12, 1, 13, 1, 7, 1, 0x64, 128, 3, 0x00, 0x5c, 0x26, 0x05);
  await t.step("a Date in a Map in a List encodes as tag 128", () => {
    assert.deepEqual(
      encode(codec, [new Map([["d", new Date(86400000)]])]),
      Array.from(wire),
    );
  });
  await t.step("and decodes back to a Date", () => {
    const decoded = codec.decodeMessage(wire);
    assert.ok(Array.isArray(decoded));
    const map = decoded[0];
    assert.ok(map instanceof Map);
    const date = map.get("d");
    assert.ok(date instanceof Date);
    assert.equal(date.getTime(), 86400000);
  });
  await t.step("a Date in a plain object goes through the override too", () => {
    assert.deepEqual(
      encode(codec, { d: new Date(86400000) }),
      [13, 1, 7, 1, 0x64, 128, 3, 0x00, 0x5c, 0x26, 0x05],
    );
  });
  await t.step("the base codec rejects tag 128", () => {
    assert.throws(
      () => new StandardMessageCodec().decodeMessage(wire),
      isFormatException(7),
    );
  });
});

Deno.test("StandardMessageCodec.encodeMessage() returns independent bytes with zero padding after earlier messages", async (t) => {
  const codec = new StandardMessageCodec();
  await t.step("padding is zero even after a message full of 0xff", () => {
    const dirty = new Uint8Array(200).fill(0xff);
    codec.encodeMessage([dirty, new Int32Array(40).fill(-1)]);
    assert.deepEqual(
      encode(codec, [1.5]),
      [12, 1, 6, ...zeros(5), ...F64_ONE_AND_HALF],
    );
    codec.encodeMessage(dirty);
    assert.deepEqual(
      encode(codec, [true, new Float64Array(0)]),
      [12, 2, 1, 11, 0, 0, 0, 0],
    );
    codec.encodeMessage(dirty);
    assert.deepEqual(encode(codec, new Int32Array(0)), [9, 0, 0, 0]);
  });
  await t.step("an earlier result is not changed by later encodes", () => {
    const first = codec.encodeMessage("ab");
    const second = codec.encodeMessage([0xffffff, "zzzz"]);
    assert.ok(first !== null && second !== null);
    assert.deepEqual(Array.from(first), [7, 2, 0x61, 0x62]);
    second.fill(0xee);
    assert.deepEqual(encode(codec, "ab"), [7, 2, 0x61, 0x62]);
    assert.deepEqual(Array.from(first), [7, 2, 0x61, 0x62]);
  });
  await t.step(
    "decoded values do not change when a later message is encoded",
    () => {
      const decoded = codec.decodeMessage(
        codec.encodeMessage(new Float64Array([1.5])),
      );
      codec.encodeMessage(new Float64Array([-1, -1, -1, -1]));
      assert.deepEqual(decoded, new Float64Array([1.5]));
    },
  );
});

Deno.test("StandardMessageCodec reads every size through an overridden readSize", () => {
  // Map keys and list elements have a fast path for strings; a subclass
  // that reads sizes its own way must still be asked for each of them.
  class CountingCodec extends StandardMessageCodec {
    sizes = 0;
    override readSize(buffer: ReadBuffer): number {
      this.sizes++;
      return super.readSize(buffer);
    }
  }
  const codec = new CountingCodec();
  // {"k": ["a", "b"]}: the map, the key, the list and its two strings.
  const message = new Uint8Array([
    13,
    1,
    7,
    1,
    0x6b,
    12,
    2,
    7,
    1,
    0x61,
    7,
    1,
    0x62,
  ]);
  assert.deepEqual(codec.decodeMessage(message), new Map([["k", ["a", "b"]]]));
  assert.equal(codec.sizes, 5);
});
