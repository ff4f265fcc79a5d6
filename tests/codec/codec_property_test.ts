import fc from "fast-check";
import assert from "node:assert/strict";
import {
  FormatException,
  JSONMessageCodec,
  PlatformException,
  StandardMessageCodec,
  StandardMethodCodec,
  StringCodec,
} from "@isolates/isolates";

const codec = new StandardMessageCodec();
const methodCodec = new StandardMethodCodec();

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Strings that survive a UTF-8 round trip: no lone surrogate, no leading BOM. */
const text = fc.string({ unit: "grapheme", maxLength: 40 })
  .filter((s) => !s.startsWith("\uFEFF"));

const scalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double(),
  fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
  text,
);

const typedList: fc.Arbitrary<unknown> = fc.oneof(
  fc.uint8Array({ maxLength: 20 }),
  fc.int32Array({ maxLength: 20 }),
  fc.bigInt64Array({ maxLength: 20 }),
  fc.float32Array({ maxLength: 20 }),
  fc.float64Array({ maxLength: 20 }),
  fc.int16Array({ maxLength: 8 }),
);

const { value: encodable } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar,
    typedList,
    fc.array(tie("value"), { maxLength: 6 }),
    fc.dictionary(text, tie("value"), { maxKeys: 6 }),
    fc.array(fc.tuple(scalar, tie("value")), { maxLength: 6 }).map((entries) =>
      new Map(entries)
    ),
  ),
}));

/** What a value decodes to: the codec's documented JS mapping. */
function expected(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === "bigint") {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) &&
        value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value;
  }
  if (value instanceof Int16Array) return Array.from(value);
  if (Array.isArray(value)) return value.map(expected);
  if (value instanceof Map) {
    return new Map([...value].map(([k, v]) => [expected(k), expected(v)]));
  }
  if (
    typeof value === "object" && value !== null && !ArrayBuffer.isView(value)
  ) {
    return new Map(Object.entries(value).map(([k, v]) => [k, expected(v)]));
  }
  return value;
}

/** Maps with duplicate keys after normalisation (e.g. 1n and 1) lose entries. */
function hasCollidingKeys(value: unknown): boolean {
  if (value instanceof Map) {
    const keys = [...value.keys()].map(expected);
    return new Set(keys).size !== keys.length ||
      [...value.values()].some(hasCollidingKeys);
  }
  if (Array.isArray(value)) return value.some(hasCollidingKeys);
  if (
    typeof value === "object" && value !== null && !ArrayBuffer.isView(value)
  ) {
    return Object.values(value).some(hasCollidingKeys);
  }
  return false;
}

function onlyFormatErrors(
  decode: () => unknown,
  alsoAllowed?: new (...args: never[]) => unknown,
): void {
  try {
    decode();
  } catch (error) {
    if (error instanceof FormatException) return;
    if (alsoAllowed !== undefined && error instanceof alsoAllowed) return;
    throw new Error(
      `decoding threw ${String(error)} instead of a FormatException`,
      { cause: error },
    );
  }
}

Deno.test("StandardMessageCodec round-trips any encodable value to its documented JS form", () => {
  fc.assert(
    fc.property(encodable.filter((v) => !hasCollidingKeys(v)), (value) => {
      const bytes = codec.encodeMessage(value);
      assert.deepStrictEqual(codec.decodeMessage(bytes), expected(value));
    }),
    { numRuns: 400 },
  );
});

Deno.test("StandardMessageCodec decodes values at any byte offset of their buffer", () => {
  fc.assert(
    fc.property(
      encodable.filter((v) => v !== null && !hasCollidingKeys(v)),
      fc.integer({ min: 1, max: 7 }),
      (value, shift) => {
        const bytes = codec.encodeMessage(value)!;
        const shifted = new Uint8Array(bytes.length + shift);
        shifted.set(bytes, shift);
        assert.deepStrictEqual(
          codec.decodeMessage(shifted.subarray(shift)),
          expected(value),
        );
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("StandardMessageCodec.decodeMessage() throws only FormatException on random bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      onlyFormatErrors(() => codec.decodeMessage(bytes));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("StandardMessageCodec.decodeMessage() throws only FormatException on mutated messages", () => {
  fc.assert(
    fc.property(
      encodable.filter((v) => v !== null),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      }),
      fc.nat(),
      (value, flips, cut) => {
        const bytes = codec.encodeMessage(value)!.slice();
        for (const [at, byte] of flips) bytes[at % bytes.length] = byte;
        onlyFormatErrors(() => codec.decodeMessage(bytes));
        onlyFormatErrors(() =>
          codec.decodeMessage(bytes.subarray(0, cut % bytes.length))
        );
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("StandardMethodCodec decoders throw only their documented errors on random bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 48 }), (bytes) => {
      onlyFormatErrors(() => methodCodec.decodeMethodCall(bytes));
      onlyFormatErrors(
        () => methodCodec.decodeEnvelope(bytes),
        PlatformException,
      );
    }),
    { numRuns: 2000 },
  );
});

Deno.test("JSONMessageCodec and StringCodec throw only FormatException on random bytes", () => {
  const json = new JSONMessageCodec();
  const string = new StringCodec();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 32 }), (bytes) => {
      onlyFormatErrors(() => json.decodeMessage(bytes));
      onlyFormatErrors(() => string.decodeMessage(bytes));
    }),
    { numRuns: 1000 },
  );
});

Deno.test("JSONMessageCodec round-trips any JSON value", () => {
  const json = new JSONMessageCodec();
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      // JSON has no -0: it is written as 0.
      const normal = JSON.parse(JSON.stringify(value));
      assert.deepStrictEqual(
        json.decodeMessage(json.encodeMessage(value)),
        normal,
      );
    }),
    { numRuns: 300 },
  );
});
