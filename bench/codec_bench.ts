/**
 * StandardMessageCodec encode + decode against the JSON path a worker
 * library would otherwise use (`JSON.stringify` + `TextEncoder`, then
 * `TextDecoder` + `JSON.parse`), on three payloads. Each sample is a batch
 * timed after a short pause; compare the ratios, not the absolute times.
 *
 * Run: `deno task bench` (or `deno bench bench/codec_bench.ts`).
 */
import {
  MethodCall,
  StandardMessageCodec,
  StandardMethodCodec,
} from "../mod.ts";
import { batched } from "./_measure.ts";

const codec = new StandardMessageCodec();
const methodCodec = new StandardMethodCodec(codec);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function jsonRoundTrip(value: unknown): unknown {
  return JSON.parse(decoder.decode(encoder.encode(JSON.stringify(value))));
}

// (a) A small method call, as a plugin call sends it.
const call = new MethodCall("setInt", {
  key: "last_computation",
  value: 9227465,
});
const callAsJson = { method: call.method, args: call.arguments };

// (b) A nested map of about 1 KiB (1,141 bytes in the standard format).
const nested: Record<string, unknown> = {};
for (let i = 0; i < 12; i++) {
  nested[`entry_${i}`] = {
    id: i * 7919,
    name: `item number ${i}`,
    score: i / 7,
    tags: ["alpha", "beta", "gamma"],
    active: i % 2 === 0,
  };
}

// (c) 1 MiB of float64: JSON can only carry it as an array of numbers.
const floats = new Float64Array(131072).map((_, i) => Math.sin(i) * 1e6);
const floatsAsArray = Array.from(floats);

const small = { n: 200, warmup: 50 };
Deno.bench({
  name: "JSON: small method call (x1000)",
  group: "(a) small method call",
  baseline: true,
  ...small,
  fn: batched(() => jsonRoundTrip(callAsJson), 1000),
});
Deno.bench({
  name: "StandardMethodCodec: small method call (x1000)",
  group: "(a) small method call",
  ...small,
  fn: batched(
    () => methodCodec.decodeMethodCall(methodCodec.encodeMethodCall(call)),
    1000,
  ),
});

Deno.bench({
  name: "JSON: 1 KiB nested map (x100)",
  group: "(b) 1 KiB nested map",
  baseline: true,
  ...small,
  fn: batched(() => jsonRoundTrip(nested), 100),
});
Deno.bench({
  name: "StandardMessageCodec: 1 KiB nested map (x100)",
  group: "(b) 1 KiB nested map",
  ...small,
  fn: batched(() => codec.decodeMessage(codec.encodeMessage(nested)), 100),
});

const large = { n: 40, warmup: 10 };
Deno.bench({
  name: "JSON: 1 MiB Float64Array as a number array",
  group: "(c) 1 MiB Float64Array",
  baseline: true,
  ...large,
  fn: batched(() => jsonRoundTrip(floatsAsArray), 1, 20),
});
Deno.bench({
  name: "StandardMessageCodec: 1 MiB Float64Array",
  group: "(c) 1 MiB Float64Array",
  ...large,
  fn: batched(() => codec.decodeMessage(codec.encodeMessage(floats)), 1, 20),
});
