// deno-lint-ignore-file explicit-function-return-type -- plain JS for Node: types are in JSDoc
/**
 * Prints the peers bench's Markdown table from the JSON that
 * `deno_side.ts` and `node_peers.mjs` printed: one row per measure, one
 * column per pool, each cell "median (lowest–highest)" over the rounds.
 *
 * Usage: `node table.mjs deno.json node.json`.
 */
import { readFile } from "node:fs/promises";
import { WORKERS } from "./method.mjs";

const [denoFile, nodeFile] = process.argv.slice(2);
const deno = JSON.parse(await readFile(denoFile, "utf8"));
const node = JSON.parse(await readFile(nodeFile, "utf8"));

/**
 * A side of a result, by name.
 *
 * @param {{ sides: { name: string }[] }} result
 * @param {string} name
 */
function side(result, name) {
  const found = result.sides.find((s) => s.name === name);
  if (found === undefined) throw new Error(`no side named "${name}"`);
  return found;
}

/**
 * One column: the pool's side and the run it belongs to.
 *
 * @type {[string, any, any][]}
 */
const columns = [
  ["IsolatePool (Deno)", deno, side(deno, "IsolatePool, module task")],
  ["piscina (Node)", node, side(node, "piscina")],
  ["tinypool (Node)", node, side(node, "tinypool")],
];

/**
 * @param {(value: number) => string} format
 * @returns {(stat: { median: number, min: number, max: number }) => string}
 */
function cell(format) {
  return ({ median, min, max }) =>
    `${format(median)} (${format(min)}–${format(max)})`;
}
const speedUp = cell((v) => `${v.toFixed(2)}×`);
const thousands = cell((v) => Math.round(v).toLocaleString("en-US"));
const micros = cell((v) => v.toFixed(1));
const ms = cell((v) => v.toFixed(0));

/** @type {[string, (run: any, s: any) => string][]} */
const rows = [
  ["16 × fib(30): speed-up vs one thread", (_, s) => speedUp(s.fibSpeedUp)],
  [
    "16 × fib(30): speed-up, fastest times",
    (_, s) => `${s.fibBestSpeedUp.toFixed(2)}×`,
  ],
  [
    "10,000 × `x => x + 1` at once: tasks/s",
    (_, s) => thousands(s.tinyTasksPerSecond),
  ],
  [
    "one in flight per worker, 2,000 × 2: µs/task",
    (_, s) => micros(s.pairMicrosPerTask),
  ],
  ["16 × fib(30) on one thread, ms", (run) => ms(run.singleFibMs)],
  [
    "threads waiting for a core, ms: fib · tiny · 1 in flight",
    (_, s) =>
      [s.waitMs.fib, s.waitMs.tiny, s.waitMs.pairs]
        .map(({ median }) => median.toFixed(0))
        .join(" · "),
  ],
  [
    "1-min load average, start → end",
    (run) => run.loadAverage.map((l) => l.toFixed(2)).join(" → "),
  ],
];

const header = ["measure", ...columns.map(([name]) => name)];
const body = rows.map(([measure, figure]) => [
  measure,
  ...columns.map(([, run, s]) => figure(run, s)),
]);
const widths = header.map((_, i) =>
  Math.max(3, ...[header, ...body].map((row) => row[i].length))
);
const line = (row) =>
  `| ${row.map((text, i) => text.padEnd(widths[i])).join(" | ")} |`;
const versions = Object.entries(node.versions)
  .map(([name, version]) => `${name} ${version}`)
  .join(", ");
console.log(
  `${deno.runtime}, ${node.runtime} (${versions}); ${WORKERS} workers per pool, ` +
    `${deno.rounds} rounds; median (lowest–highest) over the rounds`,
);
console.log();
console.log(line(header));
console.log(line(widths.map((w) => "-".repeat(w))));
for (const row of body) console.log(line(row));

const fn = side(deno, "IsolatePool, function task");
console.log();
console.log(
  "Waiting for a core: the time this process's threads were runnable but " +
    "not running while the pool ran that workload (median; Linux " +
    "schedstat). On 2 cores it comes from other processes, and from the " +
    "pool's own threads outnumbering the cores; a few ms of it under fib " +
    "means a clean speed-up.",
);
console.log();
console.log(
  `IsolatePool with the task as a function (its source sent to the ` +
    `workers) instead of the module: speed-up ${speedUp(fn.fibSpeedUp)}, ` +
    `${thousands(fn.tinyTasksPerSecond)} tasks/s, ` +
    `${micros(fn.pairMicrosPerTask)} µs/task one in flight.`,
);
