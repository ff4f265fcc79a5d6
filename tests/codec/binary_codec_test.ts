// Behaviour from /work/shared/spec/flutter_wire_format.md (section 4):
// BinaryCodec is the identity on bytes; null stays null, empty stays empty.
import { BinaryCodec } from "@isolates/isolates";
import assert from "node:assert/strict";

Deno.test("BinaryCodec.encodeMessage() returns the same bytes object", () => {
  const codec = new BinaryCodec();
  const message = new Uint8Array([1, 2, 3]);
  const encoded = codec.encodeMessage(message);
  assert.equal(encoded, message);
  assert.deepEqual(Array.from(encoded!), [1, 2, 3]);
});

Deno.test("BinaryCodec.decodeMessage() returns the same bytes object", () => {
  const codec = new BinaryCodec();
  const message = new Uint8Array([0xff, 0x00, 0x80]);
  assert.equal(codec.decodeMessage(message), message);
});

Deno.test("BinaryCodec keeps a sub-view as it is, offset included", () => {
  const codec = new BinaryCodec();
  const view = new Uint8Array([9, 1, 2, 9]).subarray(1, 3);
  const decoded = codec.decodeMessage(codec.encodeMessage(view));
  assert.equal(decoded, view);
  assert.equal(decoded!.byteOffset, 1);
  assert.equal(decoded!.length, 2);
});

Deno.test("BinaryCodec maps null to null", async (t) => {
  const codec = new BinaryCodec();
  await t.step("encode", () => assert.equal(codec.encodeMessage(null), null));
  await t.step("decode", () => assert.equal(codec.decodeMessage(null), null));
});

Deno.test("BinaryCodec keeps an empty message empty, not null", async (t) => {
  const codec = new BinaryCodec();
  const empty = new Uint8Array(0);
  await t.step("encode", () => {
    const encoded = codec.encodeMessage(empty);
    assert.equal(encoded, empty);
    assert.equal(encoded!.length, 0);
  });
  await t.step("decode", () => {
    const decoded = codec.decodeMessage(empty);
    assert.equal(decoded, empty);
    assert.equal(decoded!.length, 0);
  });
});
