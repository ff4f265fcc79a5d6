// Expected renderings in this file are written by hand from
// /work/shared/spec/flutter_wire_format.md (section 5; Dart's toString() of
// values) and /work/shared/STYLE.md (Errors), never produced by running the
// code.
import {
  Double,
  FormatException,
  IsolatesError,
  MethodCall,
  MissingPluginException,
  PlatformException,
  UnsupportedValueError,
} from "@isolates/isolates";
import assert from "node:assert/strict";

Deno.test("PlatformException keeps Flutter's fields", async (t) => {
  await t.step("every field given", () => {
    const error = new PlatformException({
      code: "UNAVAILABLE",
      message: "Battery level not available.",
      details: { level: -1 },
      stacktrace: "at Battery.get(Battery.java:42)",
    });
    assert.equal(error.code, "UNAVAILABLE");
    assert.equal(error.message, "Battery level not available.");
    assert.deepEqual(error.details, { level: -1 });
    assert.equal(error.stacktrace, "at Battery.get(Battery.java:42)");
  });
  await t.step("message, details and stacktrace default to null", () => {
    const error = new PlatformException({ code: "E" });
    assert.equal(error.code, "E");
    assert.equal(error.message, null);
    assert.equal(error.details, null);
    assert.equal(error.stacktrace, null);
  });
  await t.step("undefined fields become null", () => {
    const error = new PlatformException({
      code: "E",
      message: undefined,
      details: undefined,
      stacktrace: undefined,
    });
    assert.equal(error.message, null);
    assert.equal(error.details, null);
    assert.equal(error.stacktrace, null);
  });
  await t.step("details keep their identity", () => {
    const details = [1, 2];
    assert.equal(
      new PlatformException({ code: "E", details }).details,
      details,
    );
  });
});

Deno.test("PlatformException is an Error named PlatformException", () => {
  const error = new PlatformException({ code: "E", message: "m" });
  assert.ok(error instanceof Error);
  assert.ok(error instanceof PlatformException);
  assert.equal(error.name, "PlatformException");
  assert.equal(typeof error.stack, "string");
  // Flutter's own exceptions keep Flutter's fields instead of the module's
  // error codes (STYLE.md, Errors).
  assert.ok(!(error instanceof IsolatesError));
});

Deno.test("PlatformException.toString() renders PlatformException(code, message, details, stacktrace)", async (t) => {
  const cases: [string, PlatformException, string][] = [
    [
      "code only",
      new PlatformException({ code: "E" }),
      "PlatformException(E, null, null, null)",
    ],
    [
      "every field, strings unquoted",
      new PlatformException({
        code: "404",
        message: "Not Found.",
        details: "no such file",
        stacktrace: "at native.frame(1)",
      }),
      "PlatformException(404, Not Found., no such file, at native.frame(1))",
    ],
    [
      "null message with a stacktrace",
      new PlatformException({ code: "E", stacktrace: "st" }),
      "PlatformException(E, null, null, st)",
    ],
    [
      "a list of details",
      new PlatformException({ code: "E", details: [1, "a", true, null] }),
      "PlatformException(E, null, [1, a, true, null], null)",
    ],
    [
      "an empty list and an empty map",
      new PlatformException({ code: "E", details: [[], new Map()] }),
      "PlatformException(E, null, [[], {}], null)",
    ],
    [
      "a Map of details",
      new PlatformException({
        code: "E",
        details: new Map<unknown, unknown>([["a", 1], [2, "b"], [null, false]]),
      }),
      "PlatformException(E, null, {a: 1, 2: b, null: false}, null)",
    ],
    [
      "nested lists and maps",
      new PlatformException({
        code: "E",
        details: new Map<string, unknown>([["k", [1, new Map([["x", [2]]])]]]),
      }),
      "PlatformException(E, null, {k: [1, {x: [2]}]}, null)",
    ],
    [
      "a plain object renders like a map",
      new PlatformException({ code: "E", details: { a: 1, b: [2] } }),
      "PlatformException(E, null, {a: 1, b: [2]}, null)",
    ],
    [
      "a Double with .0",
      new PlatformException({ code: "E", details: new Double(2) }),
      "PlatformException(E, null, 2.0, null)",
    ],
    [
      "Doubles inside a list",
      new PlatformException({
        code: "E",
        details: [new Double(1), new Double(2.5), 3],
      }),
      "PlatformException(E, null, [1.0, 2.5, 3], null)",
    ],
    [
      "a Uint8Array renders as a list",
      new PlatformException({ code: "E", details: new Uint8Array([1, 2]) }),
      "PlatformException(E, null, [1, 2], null)",
    ],
  ];
  for (const [name, error, text] of cases) {
    await t.step(name, () => {
      assert.equal(error.toString(), text);
      assert.equal(String(error), text);
      assert.equal(`${error}`, text);
    });
  }
});

Deno.test("MethodCall.toString() renders MethodCall(method, arguments)", async (t) => {
  const cases: [string, MethodCall, string][] = [
    ["no arguments", new MethodCall("m"), "MethodCall(m, null)"],
    [
      "a string",
      new MethodCall("sayHello", "hello"),
      "MethodCall(sayHello, hello)",
    ],
    ["an int", new MethodCall("m", 2), "MethodCall(m, 2)"],
    [
      "a Double of 2 is 2.0",
      new MethodCall("m", new Double(2)),
      "MethodCall(m, 2.0)",
    ],
    [
      "a Double of 0 is 0.0",
      new MethodCall("m", new Double(0)),
      "MethodCall(m, 0.0)",
    ],
    [
      "a Double of 2.5",
      new MethodCall("m", new Double(2.5)),
      "MethodCall(m, 2.5)",
    ],
    [
      "a Double of -3",
      new MethodCall("m", new Double(-3)),
      "MethodCall(m, -3.0)",
    ],
    [
      "a Double of 1e20",
      new MethodCall("m", new Double(1e20)),
      "MethodCall(m, 100000000000000000000.0)",
    ],
    [
      "a Double of NaN",
      new MethodCall("m", new Double(NaN)),
      "MethodCall(m, NaN)",
    ],
    [
      "a Double of Infinity",
      new MethodCall("m", new Double(Infinity)),
      "MethodCall(m, Infinity)",
    ],
    [
      "a Double of -Infinity",
      new MethodCall("m", new Double(-Infinity)),
      "MethodCall(m, -Infinity)",
    ],
    [
      "a list",
      new MethodCall("setInt", ["counter", 3]),
      "MethodCall(setInt, [counter, 3])",
    ],
    [
      "a map with a Double",
      new MethodCall("m", new Map([["x", new Double(1)]])),
      "MethodCall(m, {x: 1.0})",
    ],
    ["a boolean", new MethodCall("m", false), "MethodCall(m, false)"],
  ];
  for (const [name, call, text] of cases) {
    await t.step(name, () => {
      assert.equal(call.toString(), text);
      assert.equal(String(call), text);
    });
  }
});

Deno.test("MethodCall.toString() renders doubles as Dart's double.toString() does", async (t) => {
  // Dart renders -0.0 as "-0.0", switches to exponent form from 1e21 on
  // ("1e+21", no ".0"), and prints the elements of a Float64List as doubles.
  await t.step("-0 is -0.0", () => {
    assert.equal(
      String(new MethodCall("m", new Double(-0))),
      "MethodCall(m, -0.0)",
    );
  });
  await t.step("1e21 is 1e+21", () => {
    assert.equal(
      String(new MethodCall("m", new Double(1e21))),
      "MethodCall(m, 1e+21)",
    );
  });
  await t.step("a Float64Array is a list of doubles", () => {
    assert.equal(
      String(new MethodCall("m", new Float64Array([1, 2.5]))),
      "MethodCall(m, [1.0, 2.5])",
    );
  });
});

Deno.test("MethodCall keeps its method and arguments", () => {
  const args = { a: 1 };
  const call = new MethodCall("m", args);
  assert.equal(call.method, "m");
  assert.equal(call.arguments, args);
  assert.equal(new MethodCall("n").arguments, null);
});

Deno.test("MissingPluginException keeps Flutter's message and toString()", async (t) => {
  await t.step("MissingPluginException(null)", () => {
    const error = new MissingPluginException(null);
    assert.equal(error.message, null);
    assert.equal(error.toString(), "MissingPluginException(null)");
    assert.equal(String(error), "MissingPluginException(null)");
  });
  await t.step("no argument is the same as null", () => {
    const error = new MissingPluginException();
    assert.equal(error.message, null);
    assert.equal(error.toString(), "MissingPluginException(null)");
  });
  await t.step("with a message", () => {
    const error = new MissingPluginException("No handler for c");
    assert.equal(error.message, "No handler for c");
    assert.equal(error.toString(), "MissingPluginException(No handler for c)");
  });
  await t.step("is an Error named MissingPluginException", () => {
    const error = new MissingPluginException("x");
    assert.ok(error instanceof Error);
    assert.equal(error.name, "MissingPluginException");
    assert.equal(typeof error.stack, "string");
    assert.ok(!(error instanceof IsolatesError));
  });
  await t.step("keeps a cause", () => {
    const cause = new Error("root");
    assert.equal(new MissingPluginException("x", { cause }).cause, cause);
  });
});

Deno.test("FormatException is an IsolatesError with code format_exception", async (t) => {
  await t.step("fields", () => {
    const error = new FormatException("Cannot decode message: truncated", 3);
    assert.ok(error instanceof FormatException);
    assert.ok(error instanceof IsolatesError);
    assert.ok(error instanceof Error);
    assert.equal(error.code, "format_exception");
    assert.equal(error.name, "FormatException");
    assert.equal(error.message, "Cannot decode message: truncated");
    assert.equal(error.offset, 3);
  });
  await t.step("offset defaults to null", () => {
    assert.equal(new FormatException("x").offset, null);
  });
  await t.step("offset 0 is kept", () => {
    assert.equal(new FormatException("x", 0).offset, 0);
  });
  await t.step("keeps a cause", () => {
    const cause = new TypeError("bad");
    assert.equal(new FormatException("x", null, { cause }).cause, cause);
  });
  await t.step("is not an UnsupportedValueError", () => {
    assert.ok(!(new FormatException("x") instanceof UnsupportedValueError));
  });
});

Deno.test("UnsupportedValueError is an IsolatesError with code unsupported_value", async (t) => {
  await t.step("fields", () => {
    const error = new UnsupportedValueError("Cannot encode a function");
    assert.ok(error instanceof UnsupportedValueError);
    assert.ok(error instanceof IsolatesError);
    assert.ok(error instanceof Error);
    assert.equal(error.code, "unsupported_value");
    assert.equal(error.name, "UnsupportedValueError");
    assert.equal(error.message, "Cannot encode a function");
  });
  await t.step("keeps a cause", () => {
    const cause = new RangeError("deep");
    assert.equal(new UnsupportedValueError("x", { cause }).cause, cause);
  });
  await t.step("is not a FormatException", () => {
    assert.ok(!(new UnsupportedValueError("x") instanceof FormatException));
  });
});

Deno.test("IsolatesError carries its code, message and name", () => {
  const error = new IsolatesError("format_exception", "Cannot read: gone");
  assert.ok(error instanceof Error);
  assert.equal(error.code, "format_exception");
  assert.equal(error.message, "Cannot read: gone");
  assert.equal(error.name, "IsolatesError");
});
