/**
 * StandardMessageCodec encode + decode against the JSON path a worker
 * library would otherwise use (`JSON.stringify` + `TextEncoder`, then
 * `TextDecoder` + `JSON.parse`), on three payloads.
 *
 * Run: `deno task bench` (or `deno bench bench/codec_bench.ts`).
 */
import {
  MethodCall,
  StandardMessageCodec,
  StandardMethodCodec,
} from "../mod.ts";

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

// (b) A nested map of about 1 KiB.
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

// (c) 1 MiB of float64.
const floats = new Float64Array(131072).map((_, i) => Math.sin(i) * 1e6);
const floatsAsArray = Array.from(floats);

Deno.bench({
  name: "JSON: small method call",
  group: "small method call",
  baseline: true,
  fn: () => {
    jsonRoundTrip(callAsJson);
  },
});
Deno.bench({
  name: "StandardMethodCodec: small method call",
  group: "small method call",
  fn: () => {
    methodCodec.decodeMethodCall(methodCodec.encodeMethodCall(call));
  },
});

Deno.bench({
  name: "JSON: 1 KiB nested map",
  group: "1 KiB nested map",
  baseline: true,
  fn: () => {
    jsonRoundTrip(nested);
  },
});
Deno.bench({
  name: "StandardMessageCodec: 1 KiB nested map",
  group: "1 KiB nested map",
  fn: () => {
    codec.decodeMessage(codec.encodeMessage(nested));
  },
});

Deno.bench({
  name: "JSON: 1 MiB Float64Array (as a number array)",
  group: "1 MiB Float64Array",
  baseline: true,
  n: 20,
  warmup: 5,
  fn: () => {
    jsonRoundTrip(floatsAsArray);
  },
});
Deno.bench({
  name: "StandardMessageCodec: 1 MiB Float64Array",
  group: "1 MiB Float64Array",
  n: 20,
  warmup: 5,
  fn: () => {
    codec.decodeMessage(codec.encodeMessage(floats));
  },
});
