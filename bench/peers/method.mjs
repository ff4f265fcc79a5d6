// deno-lint-ignore-file explicit-function-return-type explicit-module-boundary-types -- plain JS for Node: types are in JSDoc
/**
 * The measuring method of the peers bench, shared by both runtimes so that
 * every pool is timed the same way: `node_peers.mjs` (piscina, tinypool)
 * and `deno_side.ts` (IsolatePool) only build their pools and call
 * {@linkcode measure}. The workloads and the method are those of
 * `../pool_bench.ts`:
 *
 * - fib: 16 × fib(30) at once on the pool, against the same 16 on the main
 *   thread of the same runtime (speed-up);
 * - tiny: 10,000 `x => x + 1` tasks submitted at once (tasks/s);
 * - pairs: 2,000 rounds of two tasks, one per worker, each round awaited
 *   before the next (µs per task).
 *
 * Every path runs a few times before anything is measured; each sample runs
 * after a pause that lets background GC and JIT work settle; the sides take
 * turns within each round, rotating which goes first; the figures are the
 * medians over the rounds (ranges kept), each computed per round.
 */

import { readdirSync, readFileSync } from "node:fs";
import { fib } from "./task.mjs";

export const WORKERS = 2;
export const FIB_N = 30;
export const FIB_RESULT = 832_040;
export const FIB_TASKS = 16;
export const TINY_TASKS = 10_000;
export const PAIRS = 2_000;

/**
 * One pool under test, adapted to the two task kinds.
 *
 * @typedef {object} Side
 * @property {string} name
 * @property {(n: number) => Promise<number>} fib runs fib(n) on the pool
 * @property {(x: number) => Promise<number>} inc runs x + 1 on the pool
 */

/**
 * A figure over the rounds: median, lowest and highest.
 *
 * @typedef {object} Stat
 * @property {number} median
 * @property {number} min
 * @property {number} max
 */

/**
 * What {@linkcode measure} finds for one side.
 *
 * @typedef {object} SideResult
 * @property {string} name
 * @property {Stat} fibMs 16 × fib(30) on the pool, ms
 * @property {Stat} fibSpeedUp single-thread time ÷ pool time, per round
 * @property {number} fibBestSpeedUp the fastest single-thread time ÷ the
 *   pool's fastest (load from other processes only ever adds time, so the
 *   fastest times are the least disturbed)
 * @property {Stat} tinyTasksPerSecond
 * @property {Stat} pairMicrosPerTask
 * @property {{ fib: Stat, tiny: Stat, pairs: Stat }} waitMs how long the
 *   process's threads waited for a core (taken by other processes) while
 *   the pool ran each workload, in ms (NaN off Linux)
 */

/**
 * Everything {@linkcode measure} finds.
 *
 * @typedef {object} Result
 * @property {number} rounds
 * @property {Stat} singleFibMs 16 × fib(30) on the main thread, ms
 * @property {SideResult[]} sides
 */

/**
 * Waits `ms` milliseconds.
 *
 * @param {number} ms
 * @returns {Promise<void>}
 */
export function pause(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The single-thread baseline: 16 × fib(30) on this thread.
 *
 * @returns {number} the last answer
 */
function singleFib() {
  let answer = 0;
  for (let i = 0; i < FIB_TASKS; i++) answer = fib(FIB_N);
  return answer;
}

/**
 * 16 × fib(30), all submitted at once.
 *
 * @param {Side} side
 * @returns {Promise<number>} the last answer
 */
async function poolFib(side) {
  const answers = await Promise.all(
    Array.from({ length: FIB_TASKS }, () => side.fib(FIB_N)),
  );
  return answers[FIB_TASKS - 1];
}

/**
 * 10,000 tiny tasks, all submitted at once.
 *
 * @param {Side} side
 * @returns {Promise<number>} the last answer
 */
async function poolTiny(side) {
  const answers = new Array(TINY_TASKS);
  for (let i = 0; i < TINY_TASKS; i++) answers[i] = side.inc(i);
  return (await Promise.all(answers))[TINY_TASKS - 1];
}

/**
 * Rounds of two tiny tasks (one per worker), each awaited before the next.
 *
 * @param {Side} side
 * @param {number} pairs
 * @returns {Promise<number>} the last answer
 */
async function poolPairs(side, pairs) {
  let answer = 0;
  for (let i = 0; i < pairs; i++) {
    const [a, b] = await Promise.all([side.inc(i), side.inc(i)]);
    answer = a + b;
  }
  return answer;
}

/**
 * Throws unless `actual` is `expected`.
 *
 * @param {string} what
 * @param {number} actual
 * @param {number} expected
 * @returns {void}
 */
function check(what, actual, expected) {
  if (actual !== expected) {
    throw new Error(`${what} gave ${actual}, expected ${expected}`);
  }
}

/**
 * How long this process's threads have waited, runnable, for a core, in
 * ms (Linux: the run-queue wait of `/proc/self/task/<tid>/schedstat`,
 * summed over the threads alive now); NaN where that is not available.
 * Other processes' load shows here, not in any pool's own work.
 *
 * @returns {number}
 */
function runQueueWaitMs() {
  try {
    let ns = 0;
    for (const tid of readdirSync("/proc/self/task")) {
      try {
        const schedstat = readFileSync(`/proc/self/task/${tid}/schedstat`);
        ns += Number(String(schedstat).split(" ")[1]);
      } catch {
        // The thread ended in between.
      }
    }
    return ns / 1e6;
  } catch {
    return NaN;
  }
}

/**
 * Pauses, then times `work`.
 *
 * @param {() => unknown} work
 * @param {number} settleMs
 * @returns {Promise<{ ms: number, waitMs: number }>} its time, and how
 *   long this process's threads waited for a core meanwhile, in ms
 */
async function time(work, settleMs) {
  await pause(settleMs);
  const waitBefore = runQueueWaitMs();
  const start = performance.now();
  await work();
  const ms = performance.now() - start;
  return { ms, waitMs: runQueueWaitMs() - waitBefore };
}

/**
 * @param {number[]} values
 * @returns {Stat}
 */
function stat(values) {
  const sorted = values.toSorted((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1
    ? sorted[mid]
    : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

/**
 * Times each group in turn, `rounds` times, the sides of a group one after
 * the other in a rotating order, and returns the per-round figures'
 * medians and ranges.
 *
 * @param {Side[]} sides pools already started
 * @param {number} rounds
 * @param {(line: string) => void} [log] progress, one line a round
 * @returns {Promise<Result>}
 */
export async function measure(sides, rounds, log = () => {}) {
  // Warm-up: every path a few times, answers checked.
  for (let i = 0; i < 3; i++) {
    check("single-thread fib", singleFib(), FIB_RESULT);
    for (const side of sides) {
      check(`${side.name} fib`, await poolFib(side), FIB_RESULT);
      check(`${side.name} tiny`, await poolTiny(side), TINY_TASKS);
      check(`${side.name} pairs`, await poolPairs(side, PAIRS / 10), PAIRS / 5);
    }
  }

  /** @type {[settleMs: number, works: (() => unknown)[]][]} */
  const groups = [
    [50, [singleFib, ...sides.map((side) => () => poolFib(side))]],
    [20, sides.map((side) => () => poolTiny(side))],
    [20, sides.map((side) => () => poolPairs(side, PAIRS))],
  ];
  /** Per group, per round, each work's time in ms. */
  const times = groups.map(() => /** @type {number[][]} */ ([]));
  /** The same, the time the threads waited for a core meanwhile. */
  const waits = groups.map(() => /** @type {number[][]} */ ([]));
  for (let round = 0; round < rounds; round++) {
    for (const [g, [settleMs, works]] of groups.entries()) {
      /** @type {number[]} */
      const row = [];
      /** @type {number[]} */
      const waitRow = [];
      for (let i = 0; i < works.length; i++) {
        const w = (round + i) % works.length;
        ({ ms: row[w], waitMs: waitRow[w] } = await time(works[w], settleMs));
      }
      times[g].push(row);
      waits[g].push(waitRow);
    }
    log(`round ${round + 1}/${rounds}`);
  }

  const [fibTimes, tinyTimes, pairTimes] = times;
  const [fibWaits, tinyWaits, pairWaits] = waits;
  return {
    rounds,
    singleFibMs: stat(fibTimes.map((row) => row[0])),
    singleFibWaitMs: stat(fibWaits.map((row) => row[0])),
    sides: sides.map((side, s) => ({
      name: side.name,
      fibMs: stat(fibTimes.map((row) => row[s + 1])),
      fibSpeedUp: stat(fibTimes.map((row) => row[0] / row[s + 1])),
      fibBestSpeedUp: Math.min(...fibTimes.map((row) => row[0])) /
        Math.min(...fibTimes.map((row) => row[s + 1])),
      tinyTasksPerSecond: stat(
        tinyTimes.map((row) => (TINY_TASKS * 1000) / row[s]),
      ),
      pairMicrosPerTask: stat(
        pairTimes.map((row) => (row[s] * 1000) / (2 * PAIRS)),
      ),
      waitMs: {
        fib: stat(fibWaits.map((row) => row[s + 1])),
        tiny: stat(tinyWaits.map((row) => row[s])),
        pairs: stat(pairWaits.map((row) => row[s])),
      },
    })),
  };
}

/**
 * `--rounds=N` from the command line (default 15).
 *
 * @param {readonly string[]} args
 * @returns {number}
 */
export function roundsArg(args) {
  const arg = args.find((a) => a.startsWith("--rounds="));
  const rounds = arg === undefined ? 15 : Number(arg.slice("--rounds=".length));
  if (!Number.isSafeInteger(rounds) || rounds < 1) {
    throw new RangeError(`"--rounds" must be a positive integer, got ${arg}`);
  }
  return rounds;
}
