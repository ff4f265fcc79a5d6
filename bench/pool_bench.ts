/**
 * IsolatePool against the single thread and a minimal hand-written pool, in
 * the same run:
 *
 * - "fib": 16 × fib(30) on the main thread, on a hand pool of 2 raw workers
 *   (round robin, `{ id, n }` messages answered by id) and on
 *   `IsolatePool({ size: 2 })`;
 * - "tiny tasks": 10,000 `x => x + 1` tasks submitted at once;
 * - "one in flight per worker": 2,000 rounds of two tasks, one per worker,
 *   each round awaited before the next (per-task latency).
 *
 * Workers are spawned and warmed up once, before anything is measured; each
 * sample runs after a pause that lets background GC and JIT work settle.
 *
 * Run: `deno task bench` (or `deno bench -A bench/pool_bench.ts`). On 2
 * noisy cores single samples vary; `deno run -A bench/pool_bench.ts
 * --summary [--rounds=N]` alternates the sides over N rounds (default 15)
 * and prints median ratios, the figures the README records.
 */
import { IsolatePool } from "../mod.ts";
import { pause } from "./_measure.ts";

const WORKERS = 2;
const FIB_N = 30;
const FIB_RESULT = 832_040;
const FIB_TASKS = 16;
const TINY_TASKS = 10_000;
const PAIRS = 2_000;

/** Self-contained, so the pool can send its source to its workers. */
const fib = (n: number): number => {
  const f = (k: number): number => (k < 2 ? k : f(k - 1) + f(k - 2));
  return f(n);
};
const inc = (x: number): number => x + 1;

/**
 * The baseline: round robin over raw workers, one `postMessage` per task and
 * per answer, answers matched by id. No queue, no cancellation, no
 * supervision: the least a pool can do.
 */
class HandPool implements Disposable {
  readonly #workers: Worker[];
  readonly #pending = new Map<number, (value: number) => void>();
  #next = 0;
  #lastId = 0;

  /** @param task Which function the workers run (see the fixture). */
  constructor(task: "fib" | "inc") {
    const url = new URL("./fixtures/pool_raw_worker.ts", import.meta.url);
    this.#workers = Array.from({ length: WORKERS }, () => {
      const worker = new Worker(url, { type: "module", name: task });
      worker.onmessage = (event: MessageEvent) => {
        const { id, value } = event.data as { id: number; value: number };
        const resolve = this.#pending.get(id)!;
        this.#pending.delete(id);
        resolve(value);
      };
      return worker;
    });
  }

  run(n: number): Promise<number> {
    const id = ++this.#lastId;
    const { promise, resolve } = Promise.withResolvers<number>();
    this.#pending.set(id, resolve);
    this.#workers[this.#next].postMessage({ id, n });
    this.#next = (this.#next + 1) % this.#workers.length;
    return promise;
  }

  /** Resolves once every worker has answered (round robin: one task each). */
  async ready(): Promise<void> {
    await Promise.all(this.#workers.map(() => this.run(1)));
  }

  [Symbol.dispose](): void {
    for (const worker of this.#workers) worker.terminate();
  }
}

/** The workers of both pools, started and warmed up. */
class Fixtures implements AsyncDisposable {
  readonly handFib = new HandPool("fib");
  readonly handInc = new HandPool("inc");
  readonly pool = new IsolatePool({ name: "bench", size: WORKERS });

  static async open(): Promise<Fixtures> {
    const fixtures = new Fixtures();
    await Promise.all([
      fixtures.handFib.ready(),
      fixtures.handInc.ready(),
      fixtures.pool.ready(),
    ]);
    // Warm up every path, and check the answers once.
    for (let i = 0; i < 3; i++) {
      for (const answer of await fixtures.handFibBatch()) check(answer);
      for (const answer of await fixtures.poolFibBatch()) check(answer);
      await fixtures.handTiny();
      await fixtures.poolTiny();
      await fixtures.handPairs(200);
      await fixtures.poolPairs(200);
    }
    check(singleFib());
    return fixtures;
  }

  handFibBatch(): Promise<number[]> {
    return Promise.all(
      Array.from({ length: FIB_TASKS }, () => this.handFib.run(FIB_N)),
    );
  }

  poolFibBatch(): Promise<number[]> {
    return Promise.all(
      Array.from({ length: FIB_TASKS }, () => this.pool.run(fib, FIB_N)),
    );
  }

  async handTiny(): Promise<void> {
    const answers: Promise<number>[] = new Array(TINY_TASKS);
    for (let i = 0; i < TINY_TASKS; i++) answers[i] = this.handInc.run(i);
    await Promise.all(answers);
  }

  async poolTiny(): Promise<void> {
    const answers: Promise<number>[] = new Array(TINY_TASKS);
    for (let i = 0; i < TINY_TASKS; i++) answers[i] = this.pool.run(inc, i);
    await Promise.all(answers);
  }

  async handPairs(pairs = PAIRS): Promise<void> {
    for (let i = 0; i < pairs; i++) {
      await Promise.all([this.handInc.run(i), this.handInc.run(i)]);
    }
  }

  async poolPairs(pairs = PAIRS): Promise<void> {
    for (let i = 0; i < pairs; i++) {
      await Promise.all([this.pool.run(inc, i), this.pool.run(inc, i)]);
    }
  }

  /** Ends every worker now (for the `unload` event, which cannot wait). */
  kill(): void {
    this.handFib[Symbol.dispose]();
    this.handInc[Symbol.dispose]();
    this.pool.kill();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.handFib[Symbol.dispose]();
    this.handInc[Symbol.dispose]();
    await this.pool.close();
  }
}

function singleFib(): number {
  let last = 0;
  for (let i = 0; i < FIB_TASKS; i++) last = fib(FIB_N);
  return last;
}

function check(answer: number): void {
  if (answer !== FIB_RESULT) {
    throw new Error(`fib(${FIB_N}) gave ${answer}, expected ${FIB_RESULT}`);
  }
}

/** Settles background work, then times `work` (in ms). */
async function time(work: () => unknown, settleMs: number): Promise<number> {
  await pause(settleMs);
  const start = performance.now();
  await work();
  return performance.now() - start;
}

if (import.meta.main) {
  await summary();
} else {
  const fixtures = await Fixtures.open();
  // `deno bench` ends the process after its last bench; `unload` cannot
  // await, so the workers are ended at once.
  globalThis.addEventListener("unload", () => fixtures.kill());
  registerBenches(fixtures);
}

function registerBenches(fixtures: Fixtures): void {
  const timed = (
    work: () => unknown,
    settleMs: number,
  ): (b: Deno.BenchContext) => Promise<void> =>
  async (b) => {
    await pause(settleMs);
    b.start();
    await work();
    b.end();
  };

  const fibGroup = `fib: ${FIB_TASKS} × fib(${FIB_N})`;
  Deno.bench({
    name: "single thread",
    group: fibGroup,
    baseline: true,
    n: 8,
    warmup: 1,
    fn: timed(singleFib, 50),
  });
  Deno.bench({
    name: `hand pool, ${WORKERS} raw workers`,
    group: fibGroup,
    n: 8,
    warmup: 1,
    fn: timed(() => fixtures.handFibBatch(), 50),
  });
  Deno.bench({
    name: `IsolatePool({ size: ${WORKERS} })`,
    group: fibGroup,
    n: 8,
    warmup: 1,
    fn: timed(() => fixtures.poolFibBatch(), 50),
  });

  const tinyGroup = `tiny tasks: ${TINY_TASKS} × (x => x + 1) at once`;
  Deno.bench({
    name: `hand pool, ${WORKERS} raw workers`,
    group: tinyGroup,
    baseline: true,
    n: 30,
    warmup: 3,
    fn: timed(() => fixtures.handTiny(), 20),
  });
  Deno.bench({
    name: `IsolatePool({ size: ${WORKERS} })`,
    group: tinyGroup,
    n: 30,
    warmup: 3,
    fn: timed(() => fixtures.poolTiny(), 20),
  });

  const pairsGroup = `one in flight per worker: ${PAIRS} × 2 tasks`;
  Deno.bench({
    name: `hand pool, ${WORKERS} raw workers`,
    group: pairsGroup,
    baseline: true,
    n: 10,
    warmup: 2,
    fn: timed(() => fixtures.handPairs(), 20),
  });
  Deno.bench({
    name: `IsolatePool({ size: ${WORKERS} })`,
    group: pairsGroup,
    n: 10,
    warmup: 2,
    fn: timed(() => fixtures.poolPairs(), 20),
  });
}

/**
 * Alternates the sides of each group over several rounds (rotating which
 * goes first) and prints the medians of the per-round ratios, with their
 * range.
 */
async function summary(): Promise<void> {
  const roundsArg = Deno.args.find((arg) => arg.startsWith("--rounds="));
  const rounds = roundsArg === undefined ? 15 : Number(roundsArg.slice(9));
  await using fixtures = await Fixtures.open();
  const runs: Record<string, number[]> = {};
  const record = (key: string, value: number): void => {
    (runs[key] ??= []).push(value);
  };

  for (let round = 0; round < rounds; round++) {
    const fibSides: [string, () => unknown][] = [
      ["single", singleFib],
      ["hand", () => fixtures.handFibBatch()],
      ["pool", () => fixtures.poolFibBatch()],
    ];
    const fibTimes: Record<string, number> = {};
    for (let i = 0; i < fibSides.length; i++) {
      const [name, work] = fibSides[(round + i) % fibSides.length];
      fibTimes[name] = await time(work, 50);
    }
    record("fib single", fibTimes.single);
    record("fib hand", fibTimes.hand);
    record("fib pool", fibTimes.pool);
    record("fib hand speed-up", fibTimes.single / fibTimes.hand);
    record("fib pool speed-up", fibTimes.single / fibTimes.pool);
    record("fib pool/hand speed-up", fibTimes.hand / fibTimes.pool);

    const first = round % 2 === 0;
    const tinyHand = first ? await time(() => fixtures.handTiny(), 20) : 0;
    const tinyPool = await time(() => fixtures.poolTiny(), 20);
    const tinyHand2 = first
      ? tinyHand
      : await time(() => fixtures.handTiny(), 20);
    record("tiny hand", tinyHand2);
    record("tiny pool", tinyPool);
    record("tiny pool/hand throughput", tinyHand2 / tinyPool);

    const pairsHand = first ? await time(() => fixtures.handPairs(), 20) : 0;
    const pairsPool = await time(() => fixtures.poolPairs(), 20);
    const pairsHand2 = first
      ? pairsHand
      : await time(() => fixtures.handPairs(), 20);
    record("pairs hand", pairsHand2);
    record("pairs pool", pairsPool);
    record("pairs pool/hand time", pairsPool / pairsHand2);
  }

  const perTask = 1000 / (2 * PAIRS);
  const rows: [string, string, number[], (x: number) => string][] = [
    ["fib", "single thread, ms", runs["fib single"], ms],
    ["fib", "hand pool, ms", runs["fib hand"], ms],
    ["fib", "IsolatePool, ms", runs["fib pool"], ms],
    ["fib", "hand pool speed-up", runs["fib hand speed-up"], times],
    ["fib", "IsolatePool speed-up", runs["fib pool speed-up"], times],
    [
      "fib",
      "IsolatePool ÷ hand pool speed-up",
      runs["fib pool/hand speed-up"],
      percent,
    ],
    [
      "tiny",
      "hand pool, tasks/ms",
      runs["tiny hand"].map((t) => TINY_TASKS / t),
      fixed(0),
    ],
    [
      "tiny",
      "IsolatePool, tasks/ms",
      runs["tiny pool"].map((t) => TINY_TASKS / t),
      fixed(0),
    ],
    [
      "tiny",
      "IsolatePool ÷ hand pool throughput",
      runs["tiny pool/hand throughput"],
      percent,
    ],
    [
      "1/worker",
      "hand pool, µs per task",
      runs["pairs hand"].map((t) => t * perTask),
      fixed(1),
    ],
    [
      "1/worker",
      "IsolatePool, µs per task",
      runs["pairs pool"].map((t) => t * perTask),
      fixed(1),
    ],
    [
      "1/worker",
      "IsolatePool ÷ hand pool time",
      runs["pairs pool/hand time"],
      fixed(2),
    ],
  ];
  console.log(
    `IsolatePool({ size: ${WORKERS} }) vs baselines, ${rounds} alternating rounds`,
  );
  console.log(
    "| group    | measure                            | median  | range           |",
  );
  console.log(
    "| -------- | ---------------------------------- | ------- | --------------- |",
  );
  for (const [group, measure, values, format] of rows) {
    const sorted = values.toSorted((a, b) => a - b);
    console.log(
      `| ${group.padEnd(8)} | ${measure.padEnd(34)} | ${
        format(median(sorted)).padEnd(7)
      } | ${
        `${format(sorted[0])}–${format(sorted[sorted.length - 1])}`.padEnd(15)
      } |`,
    );
  }
}

function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[mid]
    : (sorted[mid - 1] + sorted[mid]) / 2;
}

function ms(value: number): string {
  return value.toFixed(1);
}

function times(value: number): string {
  return `${value.toFixed(2)}×`;
}

function percent(value: number): string {
  return `${(value * 100).toFixed(0)}%`;
}

function fixed(digits: number): (value: number) => string {
  return (value) => value.toFixed(digits);
}
