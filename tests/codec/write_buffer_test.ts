// Byte vectors in this file are written by hand from
// /work/shared/spec/flutter_wire_format.md (sections 1.3 to 1.8, 1.10 and 12),
// never produced by running the buffer. Every multi-byte number is
// little-endian; alignment counts from the first byte of the buffer.
import { WriteBuffer } from "@isolates/isolates";
import assert from "node:assert/strict";

/** `count` zero bytes: padding, spelled out by its length. */
function zeros(count: number): number[] {
  return new Array(count).fill(0);
}

/** Runs `write` on a fresh buffer and returns the finished bytes. */
function written(write: (buffer: WriteBuffer) => void): number[] {
  const buffer = new WriteBuffer();
  write(buffer);
  const bytes = buffer.done();
  assert.ok(bytes instanceof Uint8Array);
  return Array.from(bytes);
}

/**
 * Finishes a buffer full of 0xFF, so that storage a later buffer may reuse
 * holds garbage where padding will go.
 */
function dirtyStorage(size = 4096): void {
  const buffer = new WriteBuffer({ startCapacity: size });
  buffer.putUint8List(new Uint8Array(size).fill(0xff));
  buffer.done();
}

function isDoneError(error: unknown): boolean {
  assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
  assert.ok(
    error.message.includes("done()"),
    `expected ${JSON.stringify(error.message)} to mention done()`,
  );
  return true;
}

// IEEE-754 bit patterns, little-endian.
const F64_ONE = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f]; // 0x3FF0...
const F64_HALF = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f]; // 0x3FE0...
const F64_NEG_TWO = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0]; // 0xC000...
const F64_TENTH = [0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f]; // 0x3FB999999999999A
const F32_ONE = [0x00, 0x00, 0x80, 0x3f]; // 0x3F800000
const F32_NEG_TWO = [0x00, 0x00, 0x00, 0xc0]; // 0xC0000000

Deno.test("WriteBuffer.putUint8() appends one byte", async (t) => {
  await t.step("0, 1, 127, 255", () => {
    assert.deepEqual(
      written((b) => [0, 1, 127, 255].forEach((v) => b.putUint8(v))),
      [0, 1, 127, 255],
    );
  });
  await t.step("wraps modulo 256", () => {
    assert.deepEqual(written((b) => b.putUint8(256 + 7)), [7]);
  });
});

Deno.test("WriteBuffer.putUint16() appends 2 bytes little-endian, unaligned", () => {
  assert.deepEqual(
    written((b) => {
      b.putUint8(9);
      b.putUint16(0x1234);
      b.putUint16(0xffff);
    }),
    [9, 0x34, 0x12, 0xff, 0xff],
  );
});

Deno.test("WriteBuffer.putUint32() appends 4 bytes little-endian, unaligned", () => {
  assert.deepEqual(
    written((b) => {
      b.putUint8(9);
      b.putUint32(0x12345678);
      b.putUint32(0xffffffff);
    }),
    [9, 0x78, 0x56, 0x34, 0x12, 0xff, 0xff, 0xff, 0xff],
  );
});

Deno.test("WriteBuffer.putInt32() appends 4 bytes two's complement, unaligned", async (t) => {
  await t.step("after one byte there is no padding", () => {
    assert.deepEqual(
      written((b) => {
        b.putUint8(3);
        b.putInt32(0x12345678);
      }),
      [3, 0x78, 0x56, 0x34, 0x12],
    );
  });
  await t.step("-2", () => {
    assert.deepEqual(written((b) => b.putInt32(-2)), [0xfe, 0xff, 0xff, 0xff]);
  });
  await t.step("int32 min and max", () => {
    assert.deepEqual(
      written((b) => {
        b.putInt32(-2147483648);
        b.putInt32(2147483647);
      }),
      [0x00, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0x7f],
    );
  });
});

Deno.test("WriteBuffer.putInt64() appends 8 bytes two's complement and does not align", async (t) => {
  await t.step("after one byte there is no padding", () => {
    assert.deepEqual(
      written((b) => {
        b.putUint8(4);
        b.putInt64(0x0102030405060708n);
      }),
      [4, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01],
    );
  });
  await t.step("a number: 2^53", () => {
    assert.deepEqual(
      written((b) => b.putInt64(2 ** 53)),
      [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00],
    );
  });
  await t.step("a number: -1", () => {
    assert.deepEqual(written((b) => b.putInt64(-1)), new Array(8).fill(0xff));
  });
  await t.step("int64 min and max as bigint", () => {
    assert.deepEqual(
      written((b) => {
        b.putInt64(-(2n ** 63n));
        b.putInt64(2n ** 63n - 1n);
      }),
      [...zeros(7), 0x80, ...new Array(7).fill(0xff), 0x7f],
    );
  });
});

Deno.test("WriteBuffer.putFloat64() aligns to 8 from the buffer start", async (t) => {
  await t.step("at offset 0: no padding", () => {
    assert.deepEqual(written((b) => b.putFloat64(1)), F64_ONE);
  });
  for (let before = 1; before <= 9; before++) {
    const padding = (8 - (before % 8)) % 8;
    await t.step(
      `after ${before} bytes: ${padding} zero bytes of padding`,
      () => {
        assert.deepEqual(
          written((b) => {
            for (let i = 0; i < before; i++) b.putUint8(0xaa);
            b.putFloat64(1);
          }),
          [...new Array(before).fill(0xaa), ...zeros(padding), ...F64_ONE],
        );
      },
    );
  }
  await t.step("0.5, -2 and 0.1 back to back", () => {
    assert.deepEqual(
      written((b) => {
        b.putFloat64(0.5);
        b.putFloat64(-2);
        b.putFloat64(0.1);
      }),
      [...F64_HALF, ...F64_NEG_TWO, ...F64_TENTH],
    );
  });
  await t.step("length counts the padding", () => {
    const buffer = new WriteBuffer();
    buffer.putUint8(6);
    assert.equal(buffer.length, 1);
    buffer.putFloat64(1);
    assert.equal(buffer.length, 16);
    assert.equal(buffer.done().length, 16);
  });
});

Deno.test("WriteBuffer.putFloat32() aligns to 4 from the buffer start", async (t) => {
  await t.step("at offset 0", () => {
    assert.deepEqual(written((b) => b.putFloat32(1)), F32_ONE);
  });
  await t.step("after one byte: 3 zero bytes of padding", () => {
    assert.deepEqual(
      written((b) => {
        b.putUint8(0xaa);
        b.putFloat32(-2);
      }),
      [0xaa, 0, 0, 0, ...F32_NEG_TWO],
    );
  });
});

Deno.test("WriteBuffer.putUint8List() appends raw bytes without alignment", async (t) => {
  await t.step("after one byte", () => {
    assert.deepEqual(
      written((b) => {
        b.putUint8(8);
        b.putUint8List(new Uint8Array([1, 2, 3]));
      }),
      [8, 1, 2, 3],
    );
  });
  await t.step("a sub-view writes only its own bytes", () => {
    const view = new Uint8Array([9, 1, 2, 9]).subarray(1, 3);
    assert.deepEqual(written((b) => b.putUint8List(view)), [1, 2]);
  });
  await t.step("an empty list writes nothing", () => {
    assert.deepEqual(
      written((b) => {
        b.putUint8(1);
        b.putUint8List(new Uint8Array(0));
      }),
      [1],
    );
  });
});

Deno.test("WriteBuffer typed-list puts align and write little-endian elements", async (t) => {
  await t.step("putInt32List() after 2 bytes pads 2", () => {
    assert.deepEqual(
      written((b) => {
        b.putUint8(9);
        b.putUint8(2);
        b.putInt32List(new Int32Array([1, -2]));
      }),
      [9, 2, 0, 0, 1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff],
    );
  });
  await t.step("putFloat32List() after 1 byte pads 3", () => {
    assert.deepEqual(
      written((b) => {
        b.putUint8(14);
        b.putFloat32List(new Float32Array([1, -2]));
      }),
      [14, 0, 0, 0, ...F32_ONE, ...F32_NEG_TWO],
    );
  });
  await t.step("putInt64List() after 2 bytes pads 6", () => {
    assert.deepEqual(
      written((b) => {
        b.putUint8(10);
        b.putUint8(1);
        b.putInt64List(new BigInt64Array([-2n]));
      }),
      [10, 1, ...zeros(6), 0xfe, ...new Array(7).fill(0xff)],
    );
  });
  await t.step("putFloat64List() after 3 bytes pads 5", () => {
    assert.deepEqual(
      written((b) => {
        b.putUint8(11);
        b.putUint8(2);
        b.putUint8(0);
        b.putFloat64List(new Float64Array([0.5, 1]));
      }),
      [11, 2, 0, ...zeros(5), ...F64_HALF, ...F64_ONE],
    );
  });
  await t.step("already aligned: no padding", () => {
    assert.deepEqual(
      written((b) => {
        b.putInt32(7);
        b.putInt32List(new Int32Array([1]));
        b.putFloat64List(new Float64Array([1]));
      }),
      [7, 0, 0, 0, 1, 0, 0, 0, ...F64_ONE],
    );
  });
  await t.step("empty lists still pad", () => {
    assert.deepEqual(
      written((b) => {
        b.putUint8(9);
        b.putUint8(0);
        b.putInt32List(new Int32Array(0));
      }),
      [9, 0, 0, 0],
    );
    assert.deepEqual(
      written((b) => {
        b.putUint8(11);
        b.putUint8(0);
        b.putFloat64List(new Float64Array(0));
      }),
      [11, 0, ...zeros(6)],
    );
  });
  await t.step("a sub-view writes only its own elements", () => {
    const list = new Int32Array([99, 5, 99]).subarray(1, 2);
    assert.deepEqual(written((b) => b.putInt32List(list)), [5, 0, 0, 0]);
  });
});

Deno.test("WriteBuffer padding is zero even when reused storage held garbage", async (t) => {
  const cases: [string, number, (b: WriteBuffer) => void, number[]][] = [
    ["putFloat64()", 8, (b) => b.putFloat64(1), F64_ONE],
    ["putFloat32()", 4, (b) => b.putFloat32(1), F32_ONE],
    ["putInt32List()", 4, (b) => b.putInt32List(new Int32Array([1])), [
      1,
      0,
      0,
      0,
    ]],
    [
      "putFloat32List()",
      4,
      (b) => b.putFloat32List(new Float32Array([1])),
      F32_ONE,
    ],
    ["putInt64List()", 8, (b) => b.putInt64List(new BigInt64Array([1n])), [
      1,
      ...zeros(7),
    ]],
    [
      "putFloat64List()",
      8,
      (b) => b.putFloat64List(new Float64Array([1])),
      F64_ONE,
    ],
  ];
  for (const [name, alignment, put, payload] of cases) {
    for (let before = 1; before < alignment; before++) {
      await t.step(`${name} after ${before} bytes`, () => {
        dirtyStorage();
        const buffer = new WriteBuffer();
        for (let i = 0; i < before; i++) buffer.putUint8(0x11);
        put(buffer);
        assert.deepEqual(Array.from(buffer.done()), [
          ...new Array(before).fill(0x11),
          ...zeros(alignment - before),
          ...payload,
        ]);
      });
    }
  }
  await t.step("padding of empty lists, several in a row", () => {
    dirtyStorage();
    const buffer = new WriteBuffer();
    buffer.putUint8(1);
    buffer.putInt32List(new Int32Array(0));
    buffer.putUint8(2);
    buffer.putFloat64List(new Float64Array(0));
    assert.deepEqual(Array.from(buffer.done()), [1, 0, 0, 0, 2, ...zeros(3)]);
  });
  await t.step(
    "done() returns only the bytes written, none of the garbage",
    () => {
      dirtyStorage();
      const buffer = new WriteBuffer();
      buffer.putUint8(5);
      assert.deepEqual(Array.from(buffer.done()), [5]);
    },
  );
});

Deno.test("WriteBuffer.putSize() uses Flutter's expanding size", async (t) => {
  const cases: [number, number[]][] = [
    [0, [0]],
    [1, [1]],
    [253, [253]],
    [254, [254, 254, 0]],
    [255, [254, 255, 0]],
    [256, [254, 0, 1]],
    [0x1234, [254, 0x34, 0x12]],
    [65535, [254, 255, 255]],
    [65536, [255, 0, 0, 1, 0]],
    [0x12345678, [255, 0x78, 0x56, 0x34, 0x12]],
    [4294967295, [255, 255, 255, 255, 255]],
  ];
  for (const [value, wire] of cases) {
    await t.step(`${value} -> [${wire.join(", ")}]`, () => {
      assert.deepEqual(written((b) => b.putSize(value)), wire);
    });
  }
  await t.step("sizes are never aligned", () => {
    assert.deepEqual(
      written((b) => {
        b.putUint8(12);
        b.putSize(300);
      }),
      [12, 254, 0x2c, 0x01],
    );
  });
});

Deno.test("WriteBuffer.putSizedUtf8() writes the UTF-8 byte count, then the bytes", async (t) => {
  await t.step("an empty string", () => {
    assert.deepEqual(written((b) => b.putSizedUtf8("")), [0]);
  });
  await t.step("ASCII", () => {
    assert.deepEqual(written((b) => b.putSizedUtf8("abc")), [
      3,
      0x61,
      0x62,
      0x63,
    ]);
  });
  await t.step("multi-byte: é, €, 😀 is 9 bytes", () => {
    assert.deepEqual(written((b) => b.putSizedUtf8("é€😀")), [
      9,
      0xc3,
      0xa9,
      0xe2,
      0x82,
      0xac,
      0xf0,
      0x9f,
      0x98,
      0x80,
    ]);
  });
  await t.step("ASCII, then non-ASCII, after a byte already written", () => {
    assert.deepEqual(
      written((b) => {
        b.putUint8(7);
        b.putSizedUtf8("ab\u00e9");
      }),
      [7, 4, 0x61, 0x62, 0xc3, 0xa9],
    );
  });
  await t.step("a lone surrogate is EF BF BD and counts 3 bytes", () => {
    assert.deepEqual(
      written((b) => b.putSizedUtf8("a\ud800")),
      [4, 0x61, 0xef, 0xbf, 0xbd],
    );
  });
  await t.step("253 ASCII bytes use [253]", () => {
    const bytes = written((b) => b.putSizedUtf8("x".repeat(253)));
    assert.deepEqual(bytes, [253, ...new Array(253).fill(0x78)]);
  });
  await t.step("254 ASCII bytes use [254, 254, 0]", () => {
    const bytes = written((b) => b.putSizedUtf8("x".repeat(254)));
    assert.deepEqual(bytes, [254, 254, 0, ...new Array(254).fill(0x78)]);
  });
  await t.step("300 ASCII bytes use [254, 44, 1]", () => {
    const bytes = written((b) => b.putSizedUtf8("y".repeat(300)));
    assert.deepEqual(bytes, [254, 0x2c, 0x01, ...new Array(300).fill(0x79)]);
  });
  await t.step('127 x "é" is 254 bytes in 127 characters', () => {
    const bytes = written((b) => b.putSizedUtf8("é".repeat(127)));
    assert.deepEqual(bytes.slice(0, 3), [254, 254, 0]);
    assert.equal(bytes.length, 3 + 254);
    for (let i = 3; i < bytes.length; i += 2) {
      assert.deepEqual(bytes.slice(i, i + 2), [0xc3, 0xa9], `at ${i}`);
    }
  });
  await t.step('200 ASCII then 100 x "€": 500 bytes in 300 characters', () => {
    const bytes = written((b) =>
      b.putSizedUtf8("a".repeat(200) + "€".repeat(100))
    );
    assert.deepEqual(bytes.slice(0, 3), [254, 0xf4, 0x01]);
    assert.equal(bytes.length, 3 + 500);
    assert.deepEqual(bytes.slice(3, 203), new Array(200).fill(0x61));
    for (let i = 203; i < bytes.length; i += 3) {
      assert.deepEqual(bytes.slice(i, i + 3), [0xe2, 0x82, 0xac], `at ${i}`);
    }
  });
  await t.step("65535 ASCII bytes use [254, 255, 255]", () => {
    const bytes = written((b) => b.putSizedUtf8("z".repeat(65535)));
    assert.deepEqual(bytes.slice(0, 3), [254, 255, 255]);
    assert.equal(bytes.length, 3 + 65535);
    assert.equal(bytes[bytes.length - 1], 0x7a);
  });
  await t.step("65536 ASCII bytes use [255, 0, 0, 1, 0]", () => {
    const bytes = written((b) => b.putSizedUtf8("z".repeat(65536)));
    assert.deepEqual(bytes.slice(0, 5), [255, 0, 0, 1, 0]);
    assert.equal(bytes.length, 5 + 65536);
  });
});

Deno.test("WriteBuffer.putUtf8() writes the bytes with no size and returns their count", () => {
  const buffer = new WriteBuffer();
  buffer.putUint8(1);
  assert.equal(buffer.putUtf8("a€"), 4);
  assert.equal(buffer.putUtf8(""), 0);
  assert.deepEqual(Array.from(buffer.done()), [1, 0x61, 0xe2, 0x82, 0xac]);
});

Deno.test("WriteBuffer grows past its start capacity without losing bytes", async (t) => {
  await t.step("one byte at a time from capacity 1", () => {
    const buffer = new WriteBuffer({ startCapacity: 1 });
    for (let i = 0; i < 1000; i++) buffer.putUint8(i & 0xff);
    const bytes = buffer.done();
    assert.equal(bytes.length, 1000);
    for (let i = 0; i < 1000; i++) assert.equal(bytes[i], i & 0xff, `at ${i}`);
  });
  await t.step("a write much larger than the capacity", () => {
    const big = new Uint8Array(10_000).map((_, i) => (i * 7) & 0xff);
    const buffer = new WriteBuffer({ startCapacity: 2 });
    buffer.putUint8(0xaa);
    buffer.putUint8List(big);
    buffer.putUint8(0xbb);
    const bytes = buffer.done();
    assert.equal(bytes.length, 10_002);
    assert.equal(bytes[0], 0xaa);
    assert.deepEqual(bytes.subarray(1, 10_001), big);
    assert.equal(bytes[10_001], 0xbb);
  });
  await t.step("mixed writes crossing the capacity, padding included", () => {
    const buffer = new WriteBuffer({ startCapacity: 3 });
    buffer.putUint8(1);
    buffer.putInt32(-2);
    buffer.putFloat64(1);
    buffer.putInt64(0x0102030405060708n);
    buffer.putSizedUtf8("é");
    assert.deepEqual(Array.from(buffer.done()), [
      1,
      0xfe,
      0xff,
      0xff,
      0xff,
      ...zeros(3),
      ...F64_ONE,
      0x08,
      0x07,
      0x06,
      0x05,
      0x04,
      0x03,
      0x02,
      0x01,
      2,
      0xc3,
      0xa9,
    ]);
  });
});

Deno.test("WriteBuffer constructor throws RangeError naming startCapacity for a bad value", async (t) => {
  for (const value of [0, -1, 1.5, NaN, Infinity]) {
    await t.step(String(value), () => {
      assert.throws(
        () => new WriteBuffer({ startCapacity: value }),
        (error: unknown) => {
          assert.ok(error instanceof RangeError, `got ${String(error)}`);
          assert.ok(
            error.message.includes('"startCapacity"'),
            `expected ${JSON.stringify(error.message)} to name "startCapacity"`,
          );
          assert.ok(
            error.message.includes(String(value)),
            `expected ${JSON.stringify(error.message)} to show ${value}`,
          );
          return true;
        },
      );
    });
  }
  await t.step("1 is accepted", () => {
    const buffer = new WriteBuffer({ startCapacity: 1 });
    buffer.putUint8(1);
    assert.deepEqual(Array.from(buffer.done()), [1]);
  });
});

Deno.test("WriteBuffer.done() throws when called twice", () => {
  const buffer = new WriteBuffer();
  buffer.putUint8(1);
  assert.deepEqual(Array.from(buffer.done()), [1]);
  assert.throws(() => buffer.done(), isDoneError);
});

Deno.test("WriteBuffer throws on every write after done()", async (t) => {
  const writes: [string, (b: WriteBuffer) => unknown][] = [
    ["putUint8", (b) => b.putUint8(1)],
    ["putUint16", (b) => b.putUint16(1)],
    ["putUint32", (b) => b.putUint32(1)],
    ["putInt32", (b) => b.putInt32(1)],
    ["putInt64", (b) => b.putInt64(1)],
    ["putFloat32", (b) => b.putFloat32(1)],
    ["putFloat64", (b) => b.putFloat64(1)],
    ["putUint8List", (b) => b.putUint8List(new Uint8Array([1]))],
    ["putInt32List", (b) => b.putInt32List(new Int32Array([1]))],
    ["putInt64List", (b) => b.putInt64List(new BigInt64Array([1n]))],
    ["putFloat32List", (b) => b.putFloat32List(new Float32Array([1]))],
    ["putFloat64List", (b) => b.putFloat64List(new Float64Array([1]))],
    ["putSize", (b) => b.putSize(1)],
    ["putSizedUtf8", (b) => b.putSizedUtf8("a")],
    ["putUtf8", (b) => b.putUtf8("a")],
  ];
  for (const [name, write] of writes) {
    for (const before of [0, 1, 3]) {
      await t.step(`${name} after done() of a ${before}-byte buffer`, () => {
        const buffer = new WriteBuffer();
        for (let i = 0; i < before; i++) buffer.putUint8(i);
        const bytes = buffer.done();
        assert.throws(() => write(buffer), isDoneError);
        assert.equal(bytes.length, before);
      });
    }
  }
});

Deno.test("WriteBuffer throws on an empty write after done()", async (t) => {
  // Flutter's WriteBuffer asserts !_isDone in every put, whatever its size;
  // a zero-byte write after done() is still a use of a finished buffer.
  const writes: [string, (b: WriteBuffer) => unknown][] = [
    ["putUint8List", (b) => b.putUint8List(new Uint8Array(0))],
    ["putInt32List", (b) => b.putInt32List(new Int32Array(0))],
    ["putUtf8", (b) => b.putUtf8("")],
  ];
  for (const [name, write] of writes) {
    await t.step(name, () => {
      const buffer = new WriteBuffer();
      buffer.done();
      assert.throws(() => write(buffer), isDoneError);
    });
  }
});

Deno.test("WriteBuffer instances in flight at once do not corrupt each other", async (t) => {
  await t.step("create A, create B, write both, finish both", () => {
    dirtyStorage(64);
    const a = new WriteBuffer();
    const b = new WriteBuffer();
    a.putUint8(0xa1);
    b.putUint8(0xb1);
    a.putFloat64(1);
    b.putInt32List(new Int32Array([-2]));
    a.putSizedUtf8("aa");
    b.putSizedUtf8("bbb");
    const aBytes = a.done();
    const bBytes = b.done();
    assert.deepEqual(Array.from(aBytes), [
      0xa1,
      ...zeros(7),
      ...F64_ONE,
      2,
      0x61,
      0x61,
    ]);
    assert.deepEqual(Array.from(bBytes), [
      0xb1,
      0,
      0,
      0,
      0xfe,
      0xff,
      0xff,
      0xff,
      3,
      0x62,
      0x62,
      0x62,
    ]);
  });
  await t.step("finish B before A", () => {
    const a = new WriteBuffer();
    const b = new WriteBuffer();
    a.putUint8(1);
    b.putUint8(2);
    const bBytes = b.done();
    a.putUint8(3);
    const c = new WriteBuffer();
    c.putUint8(4);
    a.putUint8(5);
    assert.deepEqual(Array.from(a.done()), [1, 3, 5]);
    assert.deepEqual(Array.from(c.done()), [4]);
    assert.deepEqual(Array.from(bBytes), [2]);
  });
  await t.step("both grow past their capacity while interleaved", () => {
    const a = new WriteBuffer({ startCapacity: 4 });
    const b = new WriteBuffer({ startCapacity: 4 });
    for (let i = 0; i < 500; i++) {
      a.putUint8(i & 0xff);
      b.putUint16(i);
    }
    const aBytes = a.done();
    const bBytes = b.done();
    assert.equal(aBytes.length, 500);
    assert.equal(bBytes.length, 1000);
    for (let i = 0; i < 500; i++) {
      assert.equal(aBytes[i], i & 0xff, `A at ${i}`);
      assert.equal(bBytes[2 * i] | (bBytes[2 * i + 1] << 8), i, `B at ${i}`);
    }
  });
  await t.step(
    "bytes returned by done() are not overwritten by a later buffer",
    () => {
      const first = new WriteBuffer();
      first.putUint8List(new Uint8Array([1, 2, 3, 4]));
      const firstBytes = first.done();
      const second = new WriteBuffer();
      second.putUint8List(new Uint8Array([9, 9, 9, 9, 9, 9]));
      const secondBytes = second.done();
      assert.deepEqual(Array.from(firstBytes), [1, 2, 3, 4]);
      assert.deepEqual(Array.from(secondBytes), [9, 9, 9, 9, 9, 9]);
    },
  );
  await t.step(
    "a buffer abandoned before done() does not affect the next",
    () => {
      const abandoned = new WriteBuffer();
      abandoned.putUint8List(new Uint8Array(100).fill(0xee));
      const next = new WriteBuffer();
      next.putUint8(1);
      next.putFloat64(0.5);
      abandoned.putUint8(0xee);
      assert.deepEqual(Array.from(next.done()), [1, ...zeros(7), ...F64_HALF]);
    },
  );
});
