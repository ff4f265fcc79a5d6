// The hub ↔ node codec keeps what postMessage keeps for plain data, and
// refuses what it cannot send with a typed error.
import assert from "node:assert/strict";
import fc from "fast-check";
import { FormatException, UnsupportedValueError } from "../../mod.ts";
import { RemoteCodec } from "../../src/remote/_remote_codec.ts";
import { decodeRemote, encodeRemote } from "../../src/remote/_wire.ts";

const codec = new RemoteCodec();
const roundTrip = (value: unknown): unknown =>
  codec.decodeMessage(codec.encodeMessage(value));

Deno.test("remote codec: values come back as postMessage delivers them", () => {
  const when = new Date(Date.UTC(2026, 10, 27));
  const value = {
    plain: { a: 1, b: "two", nested: [{ deep: true }] },
    map: new Map<unknown, unknown>([[1, "one"], ["k", { v: null }]]),
    set: new Set([1, "x", 2.5]),
    when,
    missing: undefined,
    small: 12n,
    huge: 2n ** 100n,
    negative: -(2n ** 70n),
    bytes: new Uint8Array([1, 2, 3]),
    doubles: new Float64Array([0.5, -0]),
    minusZero: -0,
  };
  const back = roundTrip(value) as typeof value;
  assert.deepEqual(back, value);
  assert.equal(Object.getPrototypeOf(back.plain), Object.prototype);
  assert.equal(typeof back.small, "bigint");
  assert.ok(
    back.when instanceof Date && back.when.getTime() === when.getTime(),
  );
  assert.ok("missing" in back && back.missing === undefined);
  assert.ok(Object.is(back.minusZero, -0));

  const error = roundTrip(new RangeError("out of range")) as Error;
  assert.ok(error instanceof RangeError);
  assert.equal(error.name, "RangeError");
  const custom = Object.assign(new Error("odd"), { name: "constructor" });
  const back2 = roundTrip(custom) as Error;
  assert.ok(back2 instanceof Error && back2.name === "constructor");
  assert.equal(error.message, "out of range");
  assert.match(error.stack!, /out of range/);

  const proto = roundTrip(JSON.parse('{"__proto__": {"polluted": 1}}')) as
    & Record<string, unknown>
    & { polluted?: number };
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.equal(proto.polluted, undefined);
  assert.deepEqual(Object.keys(proto), ["__proto__"]);
});

Deno.test("remote codec: unsendable values and malformed bytes get typed errors", () => {
  assert.throws(
    () => codec.encodeMessage({ f: () => 1 }),
    UnsupportedValueError,
  );
  assert.throws(() => codec.encodeMessage(Symbol("s")), UnsupportedValueError);
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = { back: cyclic };
  assert.throws(() => codec.encodeMessage(cyclic), /cyclic/);
  const cyclicSet = new Set<unknown>();
  cyclicSet.add([cyclicSet]);
  assert.throws(() => codec.encodeMessage(cyclicSet), UnsupportedValueError);
  // The codec still works after refusing.
  assert.deepEqual(roundTrip({ ok: true }), { ok: true });

  // An object claiming more entries than bytes remain.
  assert.throws(
    () => codec.decodeMessage(new Uint8Array([129, 200, 1, 97])),
    FormatException,
  );
  // A bigint that is not digits.
  assert.throws(
    () => codec.decodeMessage(new Uint8Array([133, 2, 49, 120])),
    FormatException,
  );
  // decodeRemote drops what is not a hub message instead of throwing.
  assert.equal(decodeRemote(new Uint8Array([129, 200])), null);
  assert.equal(decodeRemote(codec.encodeMessage({ kind: "task" })!), null);
  assert.equal(
    decodeRemote(codec.encodeMessage({ kind: "nope", id: "1" })!),
    null,
  );
  const alive = decodeRemote(
    encodeRemote({ kind: "alive", beat: 1, capacity: 4, running: 1 }),
  );
  assert.deepEqual(alive, { kind: "alive", beat: 1, capacity: 4, running: 1 });
});

Deno.test("remote codec: any plain value round-trips; random bytes only raise FormatException", () => {
  const plain = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.constant(null),
      fc.constant(undefined),
      fc.boolean(),
      fc.double(),
      fc.bigInt(),
      fc.string(),
      fc.date({ noInvalidDate: true }),
      fc.array(tie("value"), { maxLength: 4 }),
      // Null-prototype objects arrive as plain ones, as with postMessage.
      fc.dictionary(fc.string(), tie("value"), {
        maxKeys: 4,
        noNullPrototype: true,
      }),
    ),
  })).value;
  fc.assert(
    fc.property(plain, (value) => {
      // Inside a message, as the hub sends inputs (a whole message is
      // never undefined).
      assert.deepEqual(roundTrip({ input: value }), { input: value });
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        codec.decodeMessage(bytes);
      } catch (error) {
        assert.ok(error instanceof FormatException, String(error));
      }
    }),
    { numRuns: 2000 },
  );
});
