// Byte vectors in this file are written by hand from
// /work/shared/spec/flutter_wire_format.md (sections 1, 2, 5, 11 and 12),
// never produced by running the codec. Every multi-byte number is
// little-endian; alignment counts from the first byte of the call/envelope.
import {
  Double,
  FormatException,
  IsolatesError,
  MethodCall,
  MissingPluginException,
  PlatformException,
  type ReadBuffer,
  StandardMessageCodec,
  StandardMethodCodec,
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

/** A view of `message` at `byteOffset` inside a larger, garbage-filled buffer. */
function atOffset(message: Uint8Array, byteOffset: number): Uint8Array {
  const storage = new Uint8Array(byteOffset + message.length + 16).fill(0xee);
  storage.set(message, byteOffset);
  return new Uint8Array(storage.buffer, byteOffset, message.length);
}

function isFormatException(
  mention?: string,
): (error: unknown) => boolean {
  return (error: unknown): boolean => {
    assert.ok(
      error instanceof FormatException,
      `expected FormatException, got ${String(error)}`,
    );
    assert.ok(error instanceof IsolatesError);
    assert.equal(error.code, "format_exception");
    if (mention !== undefined) {
      assert.ok(
        error.message.includes(mention),
        `expected ${JSON.stringify(error.message)} to mention ${mention}`,
      );
    }
    return true;
  };
}

function isUnsupported(mention: string): (error: unknown) => boolean {
  return (error: unknown): boolean => {
    assert.ok(
      error instanceof UnsupportedValueError,
      `expected UnsupportedValueError, got ${String(error)}`,
    );
    assert.equal(error.code, "unsupported_value");
    assert.ok(error.message.includes(mention));
    return true;
  };
}

function isPlatformException(expected: {
  code: string;
  message: string | null;
  details: unknown;
  stacktrace: string | null;
}): (error: unknown) => boolean {
  return (error: unknown): boolean => {
    assert.ok(
      error instanceof PlatformException,
      `expected PlatformException, got ${String(error)}`,
    );
    assert.equal(error.code, expected.code);
    assert.equal(error.message, expected.message);
    assert.deepEqual(error.details, expected.details);
    assert.equal(error.stacktrace, expected.stacktrace);
    return true;
  };
}

const F64_ONE = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f]; // 0x3FF0...
const F64_HALF = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f]; // 0x3FE0...
const F64_ONE_AND_HALF = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f]; // 0x3FF8...

Deno.test("StandardMethodCodec.encodeMethodCall() writes the name then the arguments", async (t) => {
  const codec = new StandardMethodCodec();
  const both = (call: MethodCall, wire: Uint8Array, args: unknown): void => {
    assert.deepEqual(
      Array.from(codec.encodeMethodCall(call)),
      Array.from(wire),
    );
    const decoded = codec.decodeMethodCall(wire);
    assert.ok(decoded instanceof MethodCall);
    assert.equal(decoded.method, call.method);
    assert.deepEqual(decoded.arguments, args);
  };
  await t.step('"foo" with null arguments is [7, 3, f, o, o, 0]', () => {
    both(new MethodCall("foo", null), bytes(7, 3, 0x66, 0x6f, 0x6f, 0), null);
    both(new MethodCall("foo"), bytes(7, 3, 0x66, 0x6f, 0x6f, 0), null);
  });
  await t.step("an empty method name", () => {
    both(new MethodCall(""), bytes(7, 0, 0), null);
  });
  await t.step("a double argument after a 1-byte name: 4 pads", () => {
    both(
      new MethodCall("m", new Double(1)),
      bytes(7, 1, 0x6d, 6, 0, 0, 0, 0, ...F64_ONE),
      1,
    );
  });
  await t.step("a double argument after a 2-byte name: 3 pads", () => {
    both(
      new MethodCall("ab", 0.5),
      bytes(7, 2, 0x61, 0x62, 6, 0, 0, 0, ...F64_HALF),
      0.5,
    );
  });
  await t.step("a double argument after a 3-byte name: 2 pads", () => {
    both(
      new MethodCall("abc", 0.5),
      bytes(7, 3, 0x61, 0x62, 0x63, 6, 0, 0, ...F64_HALF),
      0.5,
    );
  });
  await t.step(
    "a Float64Array argument is aligned from the call's first byte",
    () => {
      both(
        new MethodCall("f", new Float64Array([1])),
        bytes(7, 1, 0x66, 11, 1, 0, 0, 0, ...F64_ONE),
        new Float64Array([1]),
      );
    },
  );
  await t.step('"setInt" with ["counter", 3]', () => {
    // deno-fmt-ignore
    const wire = bytes(
      7, 6, 0x73, 0x65, 0x74, 0x49, 0x6e, 0x74,
      12, 2, 7, 7, 0x63, 0x6f, 0x75, 0x6e, 0x74, 0x65, 0x72, 3, 3, 0, 0, 0,
    );
    both(new MethodCall("setInt", ["counter", 3]), wire, ["counter", 3]);
  });
  await t.step("map arguments decode to a Map", () => {
    both(
      new MethodCall("m", { a: 1 }),
      bytes(7, 1, 0x6d, 13, 1, 7, 1, 0x61, 3, 1, 0, 0, 0),
      new Map([["a", 1]]),
    );
  });
  await t.step("a call at an odd byteOffset decodes the same", () => {
    const wire = bytes(7, 2, 0x61, 0x62, 6, 0, 0, 0, ...F64_HALF);
    for (const offset of [1, 3, 5]) {
      const decoded = codec.decodeMethodCall(atOffset(wire, offset));
      assert.equal(decoded.method, "ab");
      assert.equal(decoded.arguments, 0.5);
    }
  });
  await t.step("unsupported arguments throw UnsupportedValueError", () => {
    assert.throws(
      () => codec.encodeMethodCall(new MethodCall("m", new Set())),
      isUnsupported("Set"),
    );
  });
});

Deno.test("StandardMethodCodec.decodeMethodCall() throws FormatException for malformed calls", async (t) => {
  const codec = new StandardMethodCodec();
  await t.step("the name is an int, not a string", () => {
    assert.throws(
      () => codec.decodeMethodCall(bytes(3, 1, 0, 0, 0, 0)),
      isFormatException("Invalid method call"),
    );
  });
  await t.step("the name is null", () => {
    assert.throws(
      () => codec.decodeMethodCall(bytes(0, 0)),
      isFormatException("Invalid method call"),
    );
  });
  await t.step("bytes remain after the arguments", () => {
    assert.throws(
      () => codec.decodeMethodCall(bytes(7, 1, 0x6d, 0, 0)),
      isFormatException("Invalid method call"),
    );
  });
  await t.step("the arguments are missing", () => {
    assert.throws(
      () => codec.decodeMethodCall(bytes(7, 1, 0x6d)),
      isFormatException("Message corrupted"),
    );
  });
  await t.step("an empty message", () => {
    assert.throws(
      () => codec.decodeMethodCall(new Uint8Array(0)),
      isFormatException(),
    );
  });
  await t.step("a null message", () => {
    assert.throws(() => codec.decodeMethodCall(null), isFormatException());
  });
  await t.step("a truncated name", () => {
    assert.throws(
      () => codec.decodeMethodCall(bytes(7, 3, 0x66)),
      isFormatException(),
    );
  });
});

Deno.test("StandardMethodCodec.encodeSuccessEnvelope() writes byte 0 then the result", async (t) => {
  const codec = new StandardMethodCodec();
  const both = (result: unknown, wire: Uint8Array, decoded = result): void => {
    assert.deepEqual(
      Array.from(codec.encodeSuccessEnvelope(result)),
      Array.from(wire),
    );
    assert.deepEqual(codec.decodeEnvelope(wire), decoded);
  };
  await t.step("null", () => both(null, bytes(0, 0)));
  await t.step("a string", () => both("x", bytes(0, 7, 1, 0x78)));
  await t.step("an int", () => both(42, bytes(0, 3, 42, 0, 0, 0)));
  await t.step("a map", () => {
    both(
      { a: 1 },
      bytes(0, 13, 1, 7, 1, 0x61, 3, 1, 0, 0, 0),
      new Map([["a", 1]]),
    );
  });
  await t.step("a double: the status byte leaves 6 pads, not 7", () => {
    both(new Double(1), bytes(0, 6, ...zeros(6), ...F64_ONE), 1);
    both(0.5, bytes(0, 6, ...zeros(6), ...F64_HALF));
  });
  await t.step("a Float64Array: 5 pads", () => {
    both(
      new Float64Array([1.5]),
      bytes(0, 11, 1, 0, 0, 0, 0, 0, ...F64_ONE_AND_HALF),
    );
  });
  await t.step("an Int32Array: 1 pad", () => {
    both(new Int32Array([1]), bytes(0, 9, 1, 0, 1, 0, 0, 0));
  });
  await t.step("an empty Float64Array: 5 pads", () => {
    both(new Float64Array(0), bytes(0, 11, 0, 0, 0, 0, 0, 0));
  });
  await t.step("an envelope at an odd byteOffset decodes the same", () => {
    const wire = bytes(0, 11, 1, 0, 0, 0, 0, 0, ...F64_ONE_AND_HALF);
    for (const offset of [1, 3, 7]) {
      assert.deepEqual(
        codec.decodeEnvelope(atOffset(wire, offset)),
        new Float64Array([1.5]),
      );
    }
  });
  await t.step("an unsupported result throws UnsupportedValueError", () => {
    assert.throws(
      () => codec.encodeSuccessEnvelope(() => 1),
      isUnsupported("function"),
    );
  });
});

Deno.test("StandardMethodCodec.decodeEnvelope() accepts a success envelope with trailing bytes", () => {
  const codec = new StandardMethodCodec();
  assert.equal(codec.decodeEnvelope(bytes(0, 1, 2, 3)), true);
  assert.equal(codec.decodeEnvelope(bytes(0, 0, 0xff)), null);
  assert.equal(codec.decodeEnvelope(bytes(0, 3, 7, 0, 0, 0, 99)), 7);
});

Deno.test("StandardMethodCodec.encodeErrorEnvelope() writes byte 1, code, message and details", async (t) => {
  const codec = new StandardMethodCodec();
  await t.step("code, message and null details", () => {
    const wire = bytes(1, 7, 1, 0x45, 7, 1, 0x6d, 0);
    assert.deepEqual(
      Array.from(
        codec.encodeErrorEnvelope({ code: "E", message: "m", details: null }),
      ),
      Array.from(wire),
    );
    assert.throws(
      () => codec.decodeEnvelope(wire),
      isPlatformException({
        code: "E",
        message: "m",
        details: null,
        stacktrace: null,
      }),
    );
  });
  await t.step("an omitted message and details are written as null (0)", () => {
    const wire = bytes(1, 7, 1, 0x45, 0, 0);
    assert.deepEqual(
      Array.from(codec.encodeErrorEnvelope({ code: "E" })),
      Array.from(wire),
    );
    assert.deepEqual(
      Array.from(codec.encodeErrorEnvelope({ code: "E", message: null })),
      Array.from(wire),
    );
    assert.throws(
      () => codec.decodeEnvelope(wire),
      isPlatformException({
        code: "E",
        message: null,
        details: null,
        stacktrace: null,
      }),
    );
  });
  await t.step('"404", "Not Found." and a list as details', () => {
    // deno-fmt-ignore
    const wire = bytes(
      1,
      7, 3, 0x34, 0x30, 0x34,
      7, 10, 0x4e, 0x6f, 0x74, 0x20, 0x46, 0x6f, 0x75, 0x6e, 0x64, 0x2e,
      12, 1, 3, 1, 0, 0, 0,
    );
    assert.deepEqual(
      Array.from(
        codec.encodeErrorEnvelope({
          code: "404",
          message: "Not Found.",
          details: [1],
        }),
      ),
      Array.from(wire),
    );
    assert.throws(
      () => codec.decodeEnvelope(wire),
      isPlatformException({
        code: "404",
        message: "Not Found.",
        details: [1],
        stacktrace: null,
      }),
    );
  });
  await t.step(
    "double details are aligned from the envelope's first byte",
    () => {
      // 0: status | 1..3: "E" | 4: null message | 5: tag 6 | 6..7: pads | 8..15
      const wire = bytes(1, 7, 1, 0x45, 0, 6, 0, 0, ...F64_HALF);
      assert.deepEqual(
        Array.from(codec.encodeErrorEnvelope({ code: "E", details: 0.5 })),
        Array.from(wire),
      );
      assert.throws(
        () => codec.decodeEnvelope(wire),
        isPlatformException({
          code: "E",
          message: null,
          details: 0.5,
          stacktrace: null,
        }),
      );
    },
  );
  await t.step("unsupported details throw UnsupportedValueError", () => {
    assert.throws(
      () => codec.encodeErrorEnvelope({ code: "E", details: new Date(0) }),
      isUnsupported("Date"),
    );
  });
});

Deno.test("StandardMethodCodec.decodeEnvelope() throws PlatformException for error envelopes", async (t) => {
  const codec = new StandardMethodCodec();
  await t.step("a hand-written 4th value is the native stacktrace", () => {
    const wire = bytes(1, 7, 1, 0x45, 7, 1, 0x6d, 0, 7, 2, 0x73, 0x74);
    assert.throws(
      () => codec.decodeEnvelope(wire),
      isPlatformException({
        code: "E",
        message: "m",
        details: null,
        stacktrace: "st",
      }),
    );
    assert.throws(
      () => codec.decodeEnvelope(wire),
      (error: unknown) =>
        error instanceof PlatformException &&
        String(error) === "PlatformException(E, m, null, st)",
    );
  });
  await t.step("a null 4th value is a null stacktrace", () => {
    assert.throws(
      () => codec.decodeEnvelope(bytes(1, 7, 1, 0x45, 0, 0, 0)),
      isPlatformException({
        code: "E",
        message: null,
        details: null,
        stacktrace: null,
      }),
    );
  });
  await t.step("any non-zero status byte means error", () => {
    for (const status of [2, 0x7f, 0xff]) {
      assert.throws(
        () => codec.decodeEnvelope(bytes(status, 7, 1, 0x45, 0, 0)),
        isPlatformException({
          code: "E",
          message: null,
          details: null,
          stacktrace: null,
        }),
      );
    }
  });
  await t.step("an error envelope at an odd byteOffset", () => {
    const wire = bytes(1, 7, 1, 0x45, 0, 6, 0, 0, ...F64_HALF);
    assert.throws(
      () => codec.decodeEnvelope(atOffset(wire, 3)),
      isPlatformException({
        code: "E",
        message: null,
        details: 0.5,
        stacktrace: null,
      }),
    );
  });
});

Deno.test("StandardMethodCodec.decodeEnvelope() throws FormatException for malformed envelopes", async (t) => {
  const codec = new StandardMethodCodec();
  await t.step("a zero-length envelope", () => {
    assert.throws(
      () => codec.decodeEnvelope(new Uint8Array(0)),
      isFormatException("Expected envelope, got nothing"),
    );
  });
  await t.step("a success envelope without its value", () => {
    assert.throws(() => codec.decodeEnvelope(bytes(0)), isFormatException());
  });
  await t.step("trailing bytes after the stacktrace", () => {
    assert.throws(
      () => codec.decodeEnvelope(bytes(1, 7, 1, 0x45, 0, 0, 7, 1, 0x73, 0)),
      isFormatException("Invalid envelope"),
    );
  });
  await t.step(
    "a stacktrace that is not a string (a cast error in Dart)",
    () => {
      assert.throws(
        () => codec.decodeEnvelope(bytes(1, 7, 1, 0x45, 0, 0, 3, 1, 0, 0, 0)),
        isFormatException(),
      );
    },
  );
  await t.step("a code that is not a string", () => {
    assert.throws(
      () => codec.decodeEnvelope(bytes(1, 3, 1, 0, 0, 0, 0, 0)),
      isFormatException("Invalid envelope"),
    );
    assert.throws(
      () => codec.decodeEnvelope(bytes(1, 0, 0, 0)),
      isFormatException("Invalid envelope"),
    );
  });
  await t.step("a message that is neither a string nor null", () => {
    assert.throws(
      () => codec.decodeEnvelope(bytes(1, 7, 1, 0x45, 3, 1, 0, 0, 0, 0)),
      isFormatException("Invalid envelope"),
    );
  });
  await t.step("an error envelope cut short before its details", () => {
    for (
      const wire of [
        bytes(1),
        bytes(1, 7, 1, 0x45),
        bytes(1, 7, 1, 0x45, 0),
      ]
    ) {
      assert.throws(
        () => codec.decodeEnvelope(wire),
        isFormatException("Message corrupted"),
      );
    }
  });
  await t.step("a truncated value inside an envelope", () => {
    assert.throws(
      () => codec.decodeEnvelope(bytes(0, 6, 0, 0, 0, 0, 0, 0, 0, 0)),
      isFormatException(),
    );
  });
});

/** A Date as tag 128 followed by its millisecond time (spec section 1.14). */
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

Deno.test("StandardMethodCodec constructor uses the message codec it is given", async (t) => {
  // 86400000 ms = 0x05265C00.
  const codec = new StandardMethodCodec(new DateCodec());
  await t.step("a plain StandardMessageCodec gives the default bytes", () => {
    const plain = new StandardMethodCodec(new StandardMessageCodec());
    assert.deepEqual(
      Array.from(plain.encodeMethodCall(new MethodCall("foo"))),
      [7, 3, 0x66, 0x6f, 0x6f, 0],
    );
  });
  await t.step("a Date argument is written with the subclass's tag 128", () => {
    const wire = bytes(7, 2, 0x61, 0x74, 128, 3, 0x00, 0x5c, 0x26, 0x05);
    assert.deepEqual(
      Array.from(
        codec.encodeMethodCall(new MethodCall("at", new Date(86400000))),
      ),
      Array.from(wire),
    );
    const decoded = codec.decodeMethodCall(wire);
    assert.equal(decoded.method, "at");
    assert.ok(decoded.arguments instanceof Date);
    assert.equal(decoded.arguments.getTime(), 86400000);
  });
  await t.step("a Date result in a success envelope", () => {
    const wire = bytes(0, 12, 1, 128, 3, 0x00, 0x5c, 0x26, 0x05);
    assert.deepEqual(
      Array.from(codec.encodeSuccessEnvelope([new Date(86400000)])),
      Array.from(wire),
    );
    const decoded = codec.decodeEnvelope(wire);
    assert.ok(Array.isArray(decoded));
    assert.ok(decoded[0] instanceof Date);
    assert.equal(decoded[0].getTime(), 86400000);
  });
  await t.step("the default codec rejects tag 128", () => {
    assert.throws(
      () =>
        new StandardMethodCodec().decodeEnvelope(bytes(0, 128, 3, 0, 0, 0, 0)),
      isFormatException(),
    );
  });
});

Deno.test("PlatformException.toString() renders Flutter's form with null as null", async (t) => {
  await t.step("code only", () => {
    const error = new PlatformException({ code: "E" });
    assert.equal(error.toString(), "PlatformException(E, null, null, null)");
    assert.equal(error.message, null);
    assert.equal(error.details, null);
    assert.equal(error.stacktrace, null);
    assert.ok(error instanceof Error);
    assert.equal(error.name, "PlatformException");
  });
  await t.step("every field", () => {
    const error = new PlatformException({
      code: "E",
      message: "m",
      details: "d",
      stacktrace: "st",
    });
    assert.equal(String(error), "PlatformException(E, m, d, st)");
  });
  await t.step("list and map details render like Dart collections", () => {
    assert.equal(
      String(new PlatformException({ code: "404", details: [1, "a"] })),
      "PlatformException(404, null, [1, a], null)",
    );
    assert.equal(
      String(
        new PlatformException({ code: "E", details: new Map([["a", 1]]) }),
      ),
      "PlatformException(E, null, {a: 1}, null)",
    );
  });
});

Deno.test("MissingPluginException.toString() renders Flutter's form", () => {
  const error = new MissingPluginException(
    "No implementation found for method m on channel c",
  );
  assert.equal(
    error.toString(),
    "MissingPluginException(No implementation found for method m on channel c)",
  );
  assert.equal(
    error.message,
    "No implementation found for method m on channel c",
  );
  assert.ok(error instanceof Error);
  assert.equal(error.name, "MissingPluginException");
  const bare = new MissingPluginException();
  assert.equal(bare.message, null);
  assert.equal(String(bare), "MissingPluginException(null)");
});
