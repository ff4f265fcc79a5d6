// Expected JSON texts and error messages in this file are written by hand
// from /work/shared/spec/flutter_wire_format.md (sections 3, 5 and 12), never
// produced by running the codec.
import {
  FormatException,
  IsolatesError,
  JSONMethodCodec,
  MethodCall,
  PlatformException,
  UnsupportedValueError,
} from "@isolates/isolates";
import assert from "node:assert/strict";

/** UTF-8 bytes of `text`, as a sender would produce them. */
function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** The exact text of an encoded payload. */
function text(encoded: Uint8Array): string {
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
    encoded,
  );
}

/** A FormatException whose message starts with `prefix` (and equals `exact`). */
function isFormatException(
  prefix: string,
  exact?: string,
): (error: unknown) => boolean {
  return (error: unknown): boolean => {
    assert.ok(
      error instanceof FormatException,
      `expected FormatException, got ${String(error)}`,
    );
    assert.ok(error instanceof IsolatesError);
    assert.equal(error.code, "format_exception");
    assert.ok(
      error.message.startsWith(prefix),
      `expected ${JSON.stringify(error.message)} to start with ${
        JSON.stringify(prefix)
      }`,
    );
    if (exact !== undefined) assert.equal(error.message, exact);
    return true;
  };
}

/** A PlatformException with exactly these fields. */
function isPlatformException(
  code: string,
  message: string | null,
  details: unknown,
  stacktrace: string | null,
): (error: unknown) => boolean {
  return (error: unknown): boolean => {
    assert.ok(
      error instanceof PlatformException,
      `expected PlatformException, got ${String(error)}`,
    );
    assert.equal(error.code, code);
    assert.equal(error.message, message);
    assert.deepEqual(error.details, details);
    assert.equal(error.stacktrace, stacktrace);
    return true;
  };
}

function isUnsupported(error: unknown): boolean {
  assert.ok(
    error instanceof UnsupportedValueError,
    `expected UnsupportedValueError, got ${String(error)}`,
  );
  assert.equal(error.code, "unsupported_value");
  return true;
}

Deno.test("JSONMethodCodec.encodeMethodCall() writes {method, args} as UTF-8 JSON", async (t) => {
  const codec = new JSONMethodCodec();
  await t.step("Flutter's sayHello example", () => {
    assert.equal(
      text(codec.encodeMethodCall(new MethodCall("sayHello", "hello"))),
      '{"method":"sayHello","args":"hello"}',
    );
  });
  await t.step("args is null when absent", () => {
    assert.equal(
      text(codec.encodeMethodCall(new MethodCall("ping"))),
      '{"method":"ping","args":null}',
    );
  });
  await t.step("args is null when explicitly null or undefined", () => {
    assert.equal(
      text(codec.encodeMethodCall(new MethodCall("m", null))),
      '{"method":"m","args":null}',
    );
    assert.equal(
      text(codec.encodeMethodCall(new MethodCall("m", undefined))),
      '{"method":"m","args":null}',
    );
  });
  await t.step("structured args, with a Map as an object", () => {
    assert.equal(
      text(
        codec.encodeMethodCall(
          new MethodCall("set", new Map<string, unknown>([["k", [1, true]]])),
        ),
      ),
      '{"method":"set","args":{"k":[1,true]}}',
    );
  });
  await t.step("non-ASCII in the method name is UTF-8", () => {
    assert.deepEqual(
      Array.from(codec.encodeMethodCall(new MethodCall("é"))),
      Array.from(utf8('{"method":"é","args":null}')),
    );
  });
  await t.step("args JSON cannot hold throw UnsupportedValueError", () => {
    assert.throws(
      () => codec.encodeMethodCall(new MethodCall("m", NaN)),
      isUnsupported,
    );
    assert.throws(
      () => codec.encodeMethodCall(new MethodCall("m", new Map([[1, 2]]))),
      isUnsupported,
    );
    assert.throws(
      () => codec.encodeMethodCall(new MethodCall("m", 5n)),
      isUnsupported,
    );
  });
});

Deno.test("JSONMethodCodec.decodeMethodCall() reads {method, args}", async (t) => {
  const codec = new JSONMethodCodec();
  await t.step("method and args", () => {
    const call = codec.decodeMethodCall(
      utf8('{"method":"sayHello","args":"hello"}'),
    );
    assert.ok(call instanceof MethodCall);
    assert.equal(call.method, "sayHello");
    assert.equal(call.arguments, "hello");
  });
  await t.step("missing args decode as null", () => {
    const call = codec.decodeMethodCall(utf8('{"method":"m"}'));
    assert.equal(call.method, "m");
    assert.equal(call.arguments, null);
  });
  await t.step("key order and extra keys do not matter", () => {
    const call = codec.decodeMethodCall(
      utf8('{"args":[1,{"a":2}],"extra":true,"method":"m"}'),
    );
    assert.equal(call.method, "m");
    assert.deepEqual(call.arguments, [1, { a: 2 }]);
  });
  await t.step("round trip", () => {
    const call = codec.decodeMethodCall(
      codec.encodeMethodCall(new MethodCall("set", { a: [1, "b"] })),
    );
    assert.equal(call.method, "set");
    assert.deepEqual(call.arguments, { a: [1, "b"] });
  });
});

Deno.test("JSONMethodCodec.decodeMethodCall() throws Flutter's FormatException for a non-Map", async (t) => {
  const codec = new JSONMethodCodec();
  const prefix = "Expected method call Map, got ";
  for (const json of ["[1,2]", '"sayHello"', "42", "true", "null"]) {
    await t.step(json, () => {
      assert.throws(
        () => codec.decodeMethodCall(utf8(json)),
        isFormatException(prefix),
      );
    });
  }
  await t.step("a null message", () => {
    assert.throws(
      () => codec.decodeMethodCall(null),
      isFormatException(prefix, "Expected method call Map, got null"),
    );
  });
});

Deno.test("JSONMethodCodec.decodeMethodCall() throws Flutter's FormatException when method is not a String", async (t) => {
  const codec = new JSONMethodCodec();
  const prefix = "Invalid method call: ";
  const cases = [
    "{}",
    '{"method":42}',
    '{"method":null,"args":1}',
    '{"method":["m"]}',
    '{"args":"hello"}',
  ];
  for (const json of cases) {
    await t.step(json, () => {
      assert.throws(
        () => codec.decodeMethodCall(utf8(json)),
        isFormatException(prefix),
      );
    });
  }
});

Deno.test("JSONMethodCodec.decodeMethodCall() renders the decoded value with Dart's toString()", async (t) => {
  // Spec section 3: `<decoded>` is Dart's toString() of the decoded
  // structure: strings unquoted, `[a, b]`, `{key: value}`.
  const codec = new JSONMethodCodec();
  await t.step("a list", () => {
    assert.throws(
      () => codec.decodeMethodCall(utf8('[1,"a"]')),
      isFormatException("", "Expected method call Map, got [1, a]"),
    );
  });
  await t.step("a string", () => {
    assert.throws(
      () => codec.decodeMethodCall(utf8('"sayHello"')),
      isFormatException("", "Expected method call Map, got sayHello"),
    );
  });
  await t.step("a map", () => {
    assert.throws(
      () => codec.decodeMethodCall(utf8('{"method":42,"args":null}')),
      isFormatException("", "Invalid method call: {method: 42, args: null}"),
    );
  });
});

Deno.test("JSONMethodCodec.decodeMethodCall() throws FormatException for bytes that are not JSON", async (t) => {
  const codec = new JSONMethodCodec();
  await t.step("invalid JSON", () => {
    assert.throws(
      () => codec.decodeMethodCall(utf8('{"method":')),
      isFormatException(""),
    );
  });
  await t.step("invalid UTF-8", () => {
    assert.throws(
      () => codec.decodeMethodCall(new Uint8Array([0x7b, 0xff, 0x7d])),
      isFormatException(""),
    );
  });
});

Deno.test("JSONMethodCodec.encodeSuccessEnvelope() writes [result]", async (t) => {
  const codec = new JSONMethodCodec();
  const cases: [unknown, string][] = [
    ["ok", '["ok"]'],
    [42, "[42]"],
    [null, "[null]"],
    [undefined, "[null]"],
    [[1, 2], "[[1,2]]"],
    [new Map([["a", 1]]), '[{"a":1}]'],
  ];
  for (const [result, json] of cases) {
    await t.step(json, () => {
      assert.equal(text(codec.encodeSuccessEnvelope(result)), json);
    });
  }
  await t.step("a result JSON cannot hold throws UnsupportedValueError", () => {
    assert.throws(() => codec.encodeSuccessEnvelope(Infinity), isUnsupported);
  });
});

Deno.test("JSONMethodCodec.encodeErrorEnvelope() writes [code, message, details]", async (t) => {
  const codec = new JSONMethodCodec();
  await t.step("every field", () => {
    assert.equal(
      text(
        codec.encodeErrorEnvelope({
          code: "404",
          message: "Not Found.",
          details: { id: 7 },
        }),
      ),
      '["404","Not Found.",{"id":7}]',
    );
  });
  await t.step("message and details default to null", () => {
    assert.equal(
      text(codec.encodeErrorEnvelope({ code: "E" })),
      '["E",null,null]',
    );
  });
  await t.step("explicit nulls", () => {
    assert.equal(
      text(
        codec.encodeErrorEnvelope({ code: "E", message: null, details: null }),
      ),
      '["E",null,null]',
    );
  });
  await t.step("details JSON cannot hold throw UnsupportedValueError", () => {
    assert.throws(
      () => codec.encodeErrorEnvelope({ code: "E", details: () => 1 }),
      isUnsupported,
    );
  });
});

Deno.test("JSONMethodCodec.decodeEnvelope() returns the element of a 1-element envelope", async (t) => {
  const codec = new JSONMethodCodec();
  await t.step("a string", () => {
    assert.equal(codec.decodeEnvelope(utf8('["ok"]')), "ok");
  });
  await t.step("null", () => {
    assert.equal(codec.decodeEnvelope(utf8("[null]")), null);
  });
  await t.step("a list", () => {
    assert.deepEqual(codec.decodeEnvelope(utf8("[[1,2]]")), [1, 2]);
  });
  await t.step("an object", () => {
    assert.deepEqual(codec.decodeEnvelope(utf8('[{"a":1}]')), { a: 1 });
  });
  await t.step("a list whose one element looks like an error code", () => {
    assert.equal(codec.decodeEnvelope(utf8('["E"]')), "E");
  });
});

Deno.test("JSONMethodCodec.decodeEnvelope() throws PlatformException for a 3-element envelope", async (t) => {
  const codec = new JSONMethodCodec();
  await t.step("Flutter's 404 example", () => {
    assert.throws(
      () => codec.decodeEnvelope(utf8('["404","Not Found.",null]')),
      isPlatformException("404", "Not Found.", null, null),
    );
  });
  await t.step("null message, structured details", () => {
    assert.throws(
      () => codec.decodeEnvelope(utf8('["E",null,{"a":[1,2]}]')),
      isPlatformException("E", null, { a: [1, 2] }, null),
    );
  });
  await t.step("what encodeErrorEnvelope() wrote", () => {
    const envelope = codec.encodeErrorEnvelope({
      code: "UNAVAILABLE",
      message: "Battery level not available.",
      details: [1, "x"],
    });
    assert.throws(
      () => codec.decodeEnvelope(envelope),
      isPlatformException(
        "UNAVAILABLE",
        "Battery level not available.",
        [1, "x"],
        null,
      ),
    );
  });
});

Deno.test("JSONMethodCodec.decodeEnvelope() throws PlatformException with the stacktrace of a 4-element envelope", async (t) => {
  const codec = new JSONMethodCodec();
  await t.step("a string stacktrace", () => {
    assert.throws(
      () => codec.decodeEnvelope(utf8('["E","m","d","at native.frame(1)"]')),
      isPlatformException("E", "m", "d", "at native.frame(1)"),
    );
  });
  await t.step("a null stacktrace", () => {
    assert.throws(
      () => codec.decodeEnvelope(utf8('["E",null,null,null]')),
      isPlatformException("E", null, null, null),
    );
  });
});

Deno.test("JSONMethodCodec.decodeEnvelope() throws Flutter's FormatException for a non-List", async (t) => {
  const codec = new JSONMethodCodec();
  const prefix = "Expected envelope List, got ";
  for (const json of ['{"a":1}', '"ok"', "42", "false"]) {
    await t.step(json, () => {
      assert.throws(
        () => codec.decodeEnvelope(utf8(json)),
        isFormatException(prefix),
      );
    });
  }
  await t.step("the text null", () => {
    assert.throws(
      () => codec.decodeEnvelope(utf8("null")),
      isFormatException(prefix, "Expected envelope List, got null"),
    );
  });
});

Deno.test("JSONMethodCodec.decodeEnvelope() throws Flutter's FormatException for an invalid envelope", async (t) => {
  const codec = new JSONMethodCodec();
  const prefix = "Invalid envelope: ";
  const cases: [string, string][] = [
    ["an empty list", "[]"],
    ["2 elements", '["E","m"]'],
    ["5 elements", '["E","m",null,null,null]'],
    ["a non-string code", '[404,"m",null]'],
    ["a null code", "[null,null,null]"],
    ["a non-string message", '["E",1,null]'],
    ["a non-string stacktrace", '["E","m",null,5]'],
    ["a list stacktrace", '["E","m",null,["frame"]]'],
    ["a non-string code with 4 elements", '[1,"m",null,"st"]'],
  ];
  for (const [name, json] of cases) {
    await t.step(name, () => {
      assert.throws(
        () => codec.decodeEnvelope(utf8(json)),
        isFormatException(prefix),
      );
    });
  }
});

Deno.test("JSONMethodCodec.decodeEnvelope() renders the decoded value with Dart's toString()", async (t) => {
  // Spec section 3: `<decoded>` is Dart's toString() of the decoded
  // structure: strings unquoted, `[a, b]`, `{key: value}`.
  const codec = new JSONMethodCodec();
  await t.step("a map", () => {
    assert.throws(
      () => codec.decodeEnvelope(utf8('{"a":1}')),
      isFormatException("", "Expected envelope List, got {a: 1}"),
    );
  });
  await t.step("a string", () => {
    assert.throws(
      () => codec.decodeEnvelope(utf8('"ok"')),
      isFormatException("", "Expected envelope List, got ok"),
    );
  });
  await t.step("a list", () => {
    assert.throws(
      () => codec.decodeEnvelope(utf8('["E","m"]')),
      isFormatException("", "Invalid envelope: [E, m]"),
    );
  });
});

Deno.test("JSONMethodCodec.decodeEnvelope() throws FormatException for bytes that are not JSON", async (t) => {
  const codec = new JSONMethodCodec();
  await t.step("invalid JSON", () => {
    assert.throws(
      () => codec.decodeEnvelope(utf8("[1")),
      isFormatException(""),
    );
  });
  await t.step("an empty envelope", () => {
    assert.throws(
      () => codec.decodeEnvelope(new Uint8Array(0)),
      isFormatException(""),
    );
  });
  await t.step("invalid UTF-8", () => {
    assert.throws(
      () =>
        codec.decodeEnvelope(new Uint8Array([0x5b, 0x22, 0xfe, 0x22, 0x5d])),
      isFormatException(""),
    );
  });
});
