/**
 * The Deno side of the peers bench: `IsolatePool({ size: 2 })` on the tasks
 * of `task.mjs`, timed by `method.mjs`, as `node_peers.mjs` times piscina
 * and tinypool. Prints one JSON object; progress goes to stderr.
 *
 * Two ways to name the task, on the same pool: as a module task (the very
 * file the Node pools load: the side the table compares) and as a function
 * task (its source sent to each worker, as `pool_bench.ts` does).
 *
 * Run through `run.sh`, or `deno run -A bench/peers/deno_side.ts
 * [--rounds=N]`.
 */
import { IsolatePool } from "../../mod.ts";
import { measure, roundsArg, WORKERS } from "./method.mjs";

const rounds = roundsArg(Deno.args);
const module = new URL("./task.mjs", import.meta.url);
const fibTask = { module, exportName: "fib" };
const incTask = { module, exportName: "inc" };
/** Self-contained copies of task.mjs's functions, for the function form. */
const fib = (n: number): number => {
  const f = (k: number): number => (k < 2 ? k : f(k - 1) + f(k - 2));
  return f(n);
};
const inc = (x: number): number => x + 1;

const loadAtStart = Deno.loadavg()[0];
await using pool = new IsolatePool({ name: "peers", size: WORKERS });
await pool.ready();
const encoder = new TextEncoder();
const result = await measure(
  [
    {
      name: "IsolatePool, module task",
      fib: (n) => pool.run<(n: number) => number>(fibTask, n),
      inc: (x) => pool.run<(x: number) => number>(incTask, x),
    },
    {
      name: "IsolatePool, function task",
      fib: (n) => pool.run(fib, n),
      inc: (x) => pool.run(inc, x),
    },
  ],
  rounds,
  (line) => Deno.stderr.writeSync(encoder.encode(`deno: ${line}\n`)),
);
console.log(JSON.stringify({
  runtime: `deno ${Deno.version.deno}`,
  versions: {},
  loadAverage: [loadAtStart, Deno.loadavg()[0]],
  ...result,
}));
