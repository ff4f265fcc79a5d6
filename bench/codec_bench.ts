/**
 * StandardMessageCodec encode + decode against the JSON path a worker
 * library would otherwise use (`JSON.stringify` + `TextEncoder`, then
 * `TextDecoder` + `JSON.parse`), on three payloads. Each sample is a batch
 * timed after a short pause; compare the ratios, not the absolute times.
 *
 * Run: `deno task bench` (or `deno bench bench/codec_bench.ts`); for the
 * README's figures, `deno run bench/codec_bench.ts --summary`.
 */
import {
  MethodCall,
  StandardMessageCodec,
  StandardMethodCodec,
} from "../mod.ts";
import {
  batched,
  fixed,
  pause,
  printSummary,
  roundsOption,
  type SummaryRow,
} from "./_measure.ts";

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

// (c) 1 MiB of float64. Both sides start from the Float64Array and end with
// one: JSON can only carry it as an array of numbers, so its path converts
// there and back.
const floats = new Float64Array(131072).map((_, i) => Math.sin(i) * 1e6);

/** One group: the JSON side (the baseline), then the codec's. */
interface Group {
  readonly title: string;
  readonly batch: number;
  readonly pauseMs: number;
  readonly n: number;
  readonly sides: readonly (readonly [name: string, op: () => unknown])[];
}

const groups: readonly Group[] = [
  {
    title: "(a) small method call",
    batch: 1000,
    pauseMs: 5,
    n: 200,
    sides: [
      ["JSON: small method call (x1000)", () => jsonRoundTrip(callAsJson)],
      [
        "StandardMethodCodec: small method call (x1000)",
        () => methodCodec.decodeMethodCall(methodCodec.encodeMethodCall(call)),
      ],
    ],
  },
  {
    title: "(b) 1 KiB nested map",
    batch: 100,
    pauseMs: 5,
    n: 200,
    sides: [
      ["JSON: 1 KiB nested map (x100)", () => jsonRoundTrip(nested)],
      [
        "StandardMessageCodec: 1 KiB nested map (x100)",
        () => codec.decodeMessage(codec.encodeMessage(nested)),
      ],
    ],
  },
  {
    title: "(c) 1 MiB Float64Array",
    batch: 1,
    pauseMs: 20,
    n: 40,
    sides: [
      [
        "JSON: 1 MiB Float64Array as a number array",
        () => new Float64Array(jsonRoundTrip(Array.from(floats)) as number[]),
      ],
      [
        "StandardMessageCodec: 1 MiB Float64Array",
        () => codec.decodeMessage(codec.encodeMessage(floats)),
      ],
    ],
  },
];

if (import.meta.main) {
  await summary();
} else {
  for (const group of groups) {
    group.sides.forEach(([name, op], i) =>
      Deno.bench({
        name,
        group: group.title,
        baseline: i === 0,
        n: group.n,
        warmup: Math.ceil(group.n / 4),
        fn: batched(op, group.batch, group.pauseMs),
      })
    );
  }
}

/**
 * `deno run bench/codec_bench.ts --summary [--rounds=N]`: per round and
 * group, the two sides alternate (which goes first rotates), each keeping its
 * fastest of five batches, each timed after a pause as in `deno bench`; prints the median, range and best of the ratios
 * JSON time ÷ codec time.
 */
async function summary(): Promise<void> {
  const rounds = roundsOption(30);
  const ratios: number[][][] = groups.map(() => []);
  const fastest = groups.map(() => [Infinity, Infinity]);
  for (let round = 0; round < rounds; round++) {
    for (const [g, group] of groups.entries()) {
      const times = [Infinity, Infinity];
      for (let rep = 0; rep < 5; rep++) {
        for (let i = 0; i < 2; i++) {
          const side = (round + i) % 2;
          const op = group.sides[side][1];
          await pause(group.pauseMs);
          const start = performance.now();
          for (let k = 0; k < group.batch; k++) op();
          times[side] = Math.min(times[side], performance.now() - start);
        }
      }
      fastest[g] = fastest[g].map((t, side) => Math.min(t, times[side]));
      ratios[g].push(times);
    }
  }
  const rows: SummaryRow<number[]>[] = groups.map((group, g) => [
    `${group.title}: JSON ÷ codec`,
    g,
    (times) => times[0] / times[1],
    fixed(2),
  ]);
  console.log(
    `Codec against JSON, ${rounds} rounds (1-minute load ${Deno.loadavg()[0]})`,
  );
  printSummary(rows, ratios, fastest);
}
