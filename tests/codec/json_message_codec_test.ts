// Expected JSON texts and byte vectors in this file are written by hand from
// /work/shared/spec/flutter_wire_format.md (sections 3 and 12), never produced
// by running the codec.
import {
  FormatException,
  IsolatesError,
  JSONMessageCodec,
  UnsupportedValueError,
} from "@isolates/isolates";
import assert from "node:assert/strict";

/** The bytes of a message, written out by hand. */
function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

/** UTF-8 bytes of `text`, as a sender would produce them. */
function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Encodes `value` and returns the exact text of the payload. */
function encodeText(codec: JSONMessageCodec, value: unknown): string {
  const encoded = codec.encodeMessage(value);
  assert.ok(encoded instanceof Uint8Array, "expected bytes, got null");
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
    encoded,
  );
}

function isFormatException(error: unknown): boolean {
  assert.ok(
    error instanceof FormatException,
    `expected FormatException, got ${String(error)}`,
  );
  assert.ok(error instanceof IsolatesError);
  assert.equal(error.code, "format_exception");
  assert.equal(error.name, "FormatException");
  return true;
}

function isUnsupported(error: unknown): boolean {
  assert.ok(
    error instanceof UnsupportedValueError,
    `expected UnsupportedValueError, got ${String(error)}`,
  );
  assert.ok(error instanceof IsolatesError);
  assert.equal(error.code, "unsupported_value");
  assert.equal(error.name, "UnsupportedValueError");
  assert.ok(
    error.message.startsWith("Cannot "),
    `expected ${JSON.stringify(error.message)} to start with "Cannot "`,
  );
  return true;
}

Deno.test("JSONMessageCodec.encodeMessage() maps a null message to no payload", async (t) => {
  const codec = new JSONMessageCodec();
  await t.step("null encodes to null, never the text null", () => {
    assert.equal(codec.encodeMessage(null), null);
  });
  await t.step("undefined encodes to null", () => {
    assert.equal(codec.encodeMessage(undefined), null);
  });
  await t.step("an absent payload decodes to null", () => {
    assert.equal(codec.decodeMessage(null), null);
  });
  await t.step("the text null sent by another writer still decodes", () => {
    assert.equal(codec.decodeMessage(utf8("null")), null);
  });
});

Deno.test("JSONMessageCodec.encodeMessage() writes top-level scalars as JSON text", async (t) => {
  const codec = new JSONMessageCodec();
  const cases: [unknown, string][] = [
    [true, "true"],
    [false, "false"],
    [0, "0"],
    [42, "42"],
    [-7, "-7"],
    [-1.5, "-1.5"],
    [0.1, "0.1"],
    ["hello", '"hello"'],
    ["", '""'],
    ['quote " and backslash \\', '"quote \\" and backslash \\\\"'],
    ["line\nbreak", '"line\\nbreak"'],
  ];
  for (const [value, text] of cases) {
    await t.step(`${JSON.stringify(value)} -> ${text}`, () => {
      assert.equal(encodeText(codec, value), text);
      assert.deepEqual(codec.decodeMessage(utf8(text)), value);
    });
  }
});

Deno.test("JSONMessageCodec.encodeMessage() writes UTF-8 bytes, not escapes", async (t) => {
  const codec = new JSONMessageCodec();
  await t.step('"é" is 22 C3 A9 22', () => {
    assert.deepEqual(codec.encodeMessage("é"), bytes(0x22, 0xc3, 0xa9, 0x22));
  });
  await t.step('"😀" is 22 F0 9F 98 80 22', () => {
    assert.deepEqual(
      codec.encodeMessage("😀"),
      bytes(0x22, 0xf0, 0x9f, 0x98, 0x80, 0x22),
    );
  });
  await t.step("multi-byte text decodes back", () => {
    assert.equal(
      codec.decodeMessage(bytes(0x22, 0xe2, 0x82, 0xac, 0x22)),
      "€",
    );
  });
});

Deno.test("JSONMessageCodec.encodeMessage() writes lists and objects", async (t) => {
  const codec = new JSONMessageCodec();
  await t.step("an array", () => {
    assert.equal(encodeText(codec, [1, "a", true, null]), '[1,"a",true,null]');
  });
  await t.step("an empty array and an empty object", () => {
    assert.equal(encodeText(codec, []), "[]");
    assert.equal(encodeText(codec, {}), "{}");
  });
  await t.step("a plain object", () => {
    assert.equal(encodeText(codec, { a: 1, b: [2] }), '{"a":1,"b":[2]}');
  });
  await t.step("an object without a prototype", () => {
    const record = Object.create(null) as Record<string, unknown>;
    record.k = "v";
    assert.equal(encodeText(codec, record), '{"k":"v"}');
  });
  await t.step("decoding gives plain objects and arrays", () => {
    assert.deepEqual(
      codec.decodeMessage(utf8('{"a":[1,{"b":null}],"c":"d"}')),
      { a: [1, { b: null }], c: "d" },
    );
  });
  await t.step("undefined inside containers is written as null", () => {
    assert.equal(encodeText(codec, [undefined]), "[null]");
    assert.equal(encodeText(codec, { a: undefined }), '{"a":null}');
  });
});

Deno.test("JSONMessageCodec.encodeMessage() writes a Map with string keys as an object", async (t) => {
  const codec = new JSONMessageCodec();
  await t.step("top level, in insertion order", () => {
    const map = new Map<string, unknown>([["b", 1], ["a", [true, null]]]);
    assert.equal(encodeText(codec, map), '{"b":1,"a":[true,null]}');
  });
  await t.step("an empty Map is {}", () => {
    assert.equal(encodeText(codec, new Map()), "{}");
  });
  await t.step("a Map nested in a Map, an array and an object", () => {
    const inner = new Map([["x", 1]]);
    assert.equal(
      encodeText(codec, new Map([["m", inner]])),
      '{"m":{"x":1}}',
    );
    assert.equal(encodeText(codec, [inner]), '[{"x":1}]');
    assert.equal(encodeText(codec, { o: inner }), '{"o":{"x":1}}');
  });
  await t.step("it decodes as a plain object", () => {
    const encoded = codec.encodeMessage(new Map([["k", "v"]]));
    assert.deepEqual(codec.decodeMessage(encoded), { k: "v" });
  });
});

Deno.test("JSONMessageCodec.encodeMessage() writes typed arrays as arrays", async (t) => {
  const codec = new JSONMessageCodec();
  await t.step("Uint8Array", () => {
    assert.equal(encodeText(codec, new Uint8Array([0, 1, 255])), "[0,1,255]");
  });
  await t.step("Int32Array", () => {
    assert.equal(encodeText(codec, new Int32Array([-1, 7])), "[-1,7]");
  });
  await t.step("Float64Array", () => {
    assert.equal(encodeText(codec, new Float64Array([1.5, -2])), "[1.5,-2]");
  });
  await t.step("Float32Array", () => {
    assert.equal(encodeText(codec, new Float32Array([0.5])), "[0.5]");
  });
  await t.step("a typed sub-view writes only its own elements", () => {
    const view = new Uint8Array([9, 1, 2, 9]).subarray(1, 3);
    assert.equal(encodeText(codec, view), "[1,2]");
  });
  await t.step("an empty typed array", () => {
    assert.equal(encodeText(codec, new Int32Array(0)), "[]");
  });
  await t.step("nested in an object", () => {
    assert.equal(
      encodeText(codec, { data: new Uint8Array([3]) }),
      '{"data":[3]}',
    );
  });
});

Deno.test("JSONMessageCodec.encodeMessage() accepts an object with toJSON()", async (t) => {
  const codec = new JSONMessageCodec();
  class Point {
    constructor(readonly x: number, readonly y: number) {}
    toJSON(): unknown {
      return { x: this.x, y: this.y };
    }
  }
  await t.step("at top level", () => {
    assert.equal(encodeText(codec, new Point(1, 2)), '{"x":1,"y":2}');
  });
  await t.step("nested", () => {
    assert.equal(encodeText(codec, [new Point(3, 4)]), '[{"x":3,"y":4}]');
  });
  await t.step("a Date, through its own toJSON()", () => {
    assert.equal(encodeText(codec, new Date(0)), '"1970-01-01T00:00:00.000Z"');
  });
});

Deno.test("JSONMessageCodec.encodeMessage() throws UnsupportedValueError for values JSON cannot hold", async (t) => {
  const codec = new JSONMessageCodec();
  class Opaque {
    field = 1;
  }
  const cyclicObject: Record<string, unknown> = { a: 1 };
  cyclicObject.self = cyclicObject;
  const cyclicArray: unknown[] = [1];
  cyclicArray.push(cyclicArray);
  const cyclicMap = new Map<string, unknown>();
  cyclicMap.set("self", cyclicMap);
  const cases: [string, unknown][] = [
    ["a Map with a number key", new Map([[1, "a"]])],
    ["a Map with a null key", new Map([[null, "a"]])],
    ["a Map with a non-string key nested in a list", [new Map([[true, 1]])]],
    ["NaN", NaN],
    ["Infinity", Infinity],
    ["-Infinity", -Infinity],
    ["NaN nested in an object", { x: NaN }],
    ["NaN inside a Float64Array", new Float64Array([1, NaN])],
    ["Infinity inside a Map", new Map([["x", Infinity]])],
    ["a bigint", 1n],
    ["a bigint nested in a list", [1, 2n]],
    ["a BigInt64Array", new BigInt64Array([1n])],
    ["a function", () => 1],
    ["a function nested in an object", { f: () => 1 }],
    ["a symbol", Symbol("s")],
    ["a symbol nested in a list", [Symbol("s")]],
    ["a class instance without toJSON()", new Opaque()],
    ["a class instance nested in an object", { o: new Opaque() }],
    ["a Set", new Set([1])],
    ["a cyclic object", cyclicObject],
    ["a cyclic array", cyclicArray],
    ["a cyclic Map", cyclicMap],
  ];
  for (const [name, value] of cases) {
    await t.step(name, () => {
      assert.throws(() => codec.encodeMessage(value), isUnsupported);
    });
  }
});

Deno.test("JSONMessageCodec.decodeMessage() throws FormatException for invalid JSON", async (t) => {
  const codec = new JSONMessageCodec();
  const texts = ["", "{", "[1,]", "nul", "'a'", "1 2", "{a:1}", "NaN"];
  for (const text of texts) {
    await t.step(JSON.stringify(text), () => {
      assert.throws(() => codec.decodeMessage(utf8(text)), isFormatException);
    });
  }
});

Deno.test("JSONMessageCodec.decodeMessage() throws FormatException for invalid UTF-8", async (t) => {
  const codec = new JSONMessageCodec();
  const cases: [string, Uint8Array][] = [
    ["a lone 0xFF", bytes(0xff)],
    ["a string with a cut-short sequence", bytes(0x22, 0xc3, 0x22)],
    ["an overlong NUL", bytes(0x22, 0xc0, 0x80, 0x22)],
    ["an encoded surrogate", bytes(0x22, 0xed, 0xa0, 0x80, 0x22)],
  ];
  for (const [name, message] of cases) {
    await t.step(name, () => {
      assert.throws(() => codec.decodeMessage(message), isFormatException);
    });
  }
});

Deno.test("JSONMessageCodec.decodeMessage() drops a leading BOM, as Dart's utf8.decode does", () => {
  const codec = new JSONMessageCodec();
  assert.equal(codec.decodeMessage(bytes(0xef, 0xbb, 0xbf, 0x31)), 1);
});

Deno.test("JSONMessageCodec.decodeMessage() honours the view's offset and length", () => {
  const codec = new JSONMessageCodec();
  const storage = utf8("xx[1,2]yy");
  assert.deepEqual(codec.decodeMessage(storage.subarray(2, 7)), [1, 2]);
});
