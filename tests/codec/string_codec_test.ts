// Byte vectors in this file are written by hand from
// /work/shared/spec/flutter_wire_format.md (sections 1.8, 4 and 12), never
// produced by running the codec.
import {
  FormatException,
  IsolatesError,
  StringCodec,
} from "@isolates/isolates";
import assert from "node:assert/strict";

/** The bytes of a message, written out by hand. */
function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

function isFormatException(error: unknown): boolean {
  assert.ok(
    error instanceof FormatException,
    `expected FormatException, got ${String(error)}`,
  );
  assert.ok(error instanceof IsolatesError);
  assert.equal(error.code, "format_exception");
  return true;
}

Deno.test("StringCodec.encodeMessage() writes the UTF-8 bytes and nothing else", async (t) => {
  const codec = new StringCodec();
  const cases: [string, Uint8Array][] = [
    ["hello", bytes(0x68, 0x65, 0x6c, 0x6c, 0x6f)],
    ["é", bytes(0xc3, 0xa9)],
    ["€", bytes(0xe2, 0x82, 0xac)],
    ["😀", bytes(0xf0, 0x9f, 0x98, 0x80)],
    ["a\u0000b", bytes(0x61, 0x00, 0x62)],
  ];
  for (const [value, wire] of cases) {
    await t.step(JSON.stringify(value), () => {
      assert.deepEqual(codec.encodeMessage(value), wire);
      assert.equal(codec.decodeMessage(wire), value);
    });
  }
  await t.step("an empty string is an empty payload, not null", () => {
    const encoded = codec.encodeMessage("");
    assert.ok(encoded instanceof Uint8Array);
    assert.equal(encoded.length, 0);
    assert.equal(codec.decodeMessage(new Uint8Array(0)), "");
  });
});

Deno.test("StringCodec maps a null message to no payload", async (t) => {
  const codec = new StringCodec();
  await t.step("null encodes to null", () => {
    assert.equal(codec.encodeMessage(null), null);
  });
  await t.step("null decodes to null", () => {
    assert.equal(codec.decodeMessage(null), null);
  });
});

Deno.test("StringCodec.encodeMessage() writes a lone surrogate as EF BF BD", async (t) => {
  const codec = new StringCodec();
  await t.step("a lone high surrogate", () => {
    assert.deepEqual(codec.encodeMessage("\ud800"), bytes(0xef, 0xbf, 0xbd));
  });
  await t.step("a lone low surrogate between ASCII", () => {
    assert.deepEqual(
      codec.encodeMessage("a\udc00b"),
      bytes(0x61, 0xef, 0xbf, 0xbd, 0x62),
    );
  });
  await t.step("it decodes as U+FFFD, so it does not round-trip", () => {
    assert.equal(
      codec.decodeMessage(codec.encodeMessage("\ud800")),
      "\ufffd",
    );
  });
});

Deno.test("StringCodec.decodeMessage() honours the view's offset and length", async (t) => {
  const codec = new StringCodec();
  const helloWorld = bytes(
    0x68,
    0x65,
    0x6c,
    0x6c,
    0x6f,
    0x20,
    0x77,
    0x6f,
    0x72,
    0x6c,
    0x64,
  );
  await t.step('"hello world" from offset 5 is " world"', () => {
    assert.equal(codec.decodeMessage(helloWorld.subarray(5)), " world");
  });
  await t.step("a view in the middle reads only its own bytes", () => {
    assert.equal(codec.decodeMessage(helloWorld.subarray(2, 4)), "ll");
  });
  await t.step("a view of an ArrayBuffer at an offset", () => {
    const view = new Uint8Array(helloWorld.buffer, 6, 5);
    assert.equal(codec.decodeMessage(view), "world");
  });
});

Deno.test("StringCodec.decodeMessage() throws FormatException for invalid UTF-8", async (t) => {
  const codec = new StringCodec();
  const cases: [string, Uint8Array][] = [
    ["a lone 0xFF", bytes(0xff)],
    ["a continuation byte first", bytes(0x80, 0x61)],
    ["a cut-short 2-byte sequence", bytes(0x61, 0xc3)],
    ["an overlong NUL", bytes(0xc0, 0x80)],
    ["an encoded surrogate", bytes(0xed, 0xa0, 0x80)],
    ["above U+10FFFF", bytes(0xf4, 0x90, 0x80, 0x80)],
  ];
  for (const [name, message] of cases) {
    await t.step(name, () => {
      assert.throws(() => codec.decodeMessage(message), isFormatException);
    });
  }
  await t.step("a valid sub-view of an invalid buffer decodes", () => {
    assert.equal(
      codec.decodeMessage(bytes(0xff, 0x61, 0xff).subarray(1, 2)),
      "a",
    );
  });
});

Deno.test("StringCodec.decodeMessage() drops a leading BOM, as Dart's utf8.decode does", async (t) => {
  const codec = new StringCodec();
  await t.step("leading BOM", () => {
    assert.equal(
      codec.decodeMessage(bytes(0xef, 0xbb, 0xbf, 0x68, 0x69)),
      "hi",
    );
  });
  await t.step("a BOM after the first character is kept", () => {
    assert.equal(
      codec.decodeMessage(bytes(0x68, 0xef, 0xbb, 0xbf, 0x69)),
      "h\ufeffi",
    );
  });
  await t.step("encoding keeps a leading U+FEFF", () => {
    assert.deepEqual(
      codec.encodeMessage("\ufeffhi"),
      bytes(0xef, 0xbb, 0xbf, 0x68, 0x69),
    );
  });
});
