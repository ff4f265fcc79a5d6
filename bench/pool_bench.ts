/**
 * IsolatePool against the single thread and a minimal hand-written pool, in
 * the same run:
 *
 * - "fib": 16 × fib(30) on the main thread (baseline), on a hand pool of 2
 *   raw workers (round robin, `{ id, n }` messages answered by id), and on
 *   `IsolatePool({ size: 2 })`, given fib as a function and as a module;
 * - "tiny tasks": 10,000 `x => x + 1` tasks submitted at once, hand pool
 *   (baseline) against IsolatePool;
 * - "one in flight per worker": 2,000 rounds of two tasks, one per worker,
 *   each round awaited before the next: per-task latency.
 *
 * Workers are spawned and warmed up once, before anything is measured; each
 * sample runs after a pause that lets background GC and JIT work settle.
 *
 * Run: `deno task bench` (or `deno bench -A bench/pool_bench.ts`). Single
 * samples vary on 2 noisy cores, so the README records the summary instead:
 * `deno run -A bench/pool_bench.ts --summary [--rounds=N]` alternates the
 * sides over N rounds (default 15), rotating which goes first, and prints
 * the median and range of each per-round ratio, and the ratio of the
 * fastest times.
 */
import { IsolatePool } from "../mod.ts";
import {
  fixed,
  pause,
  printSummary,
  roundsOption,
  type SummaryRow,
} from "./_measure.ts";

const WORKERS = 2;
const FIB_N = 30;
const FIB_RESULT = 832_040;
const FIB_TASKS = 16;
const TINY_TASKS = 10_000;
const PAIRS = 2_000;

/** Self-contained, so that the pool can send its source to its workers. */
const fib = (n: number): number => {
  const f = (k: number): number => (k < 2 ? k : f(k - 1) + f(k - 2));
  return f(n);
};
const fibModule = new URL("./fixtures/pool_tasks.ts", import.meta.url);
const inc = (x: number): number => x + 1;

/**
 * The baseline: round robin over raw workers, one `postMessage` per task and
 * per answer, answers matched by id. No queue, cancellation or supervision:
 * the least a pool can do.
 */
class HandPool implements Disposable {
  readonly #workers: Worker[];
  readonly #pending = new Map<number, (value: number) => void>();
  #next = 0;
  #lastId = 0;

  /** @param task The function its workers run (see the fixture). */
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

/** Both pools, started and warmed up, and the work each side does. */
class Fixtures implements AsyncDisposable {
  readonly #handFib = new HandPool("fib");
  readonly #handInc = new HandPool("inc");
  readonly #pool = new IsolatePool({ name: "bench", size: WORKERS });

  /** Starts the workers and runs every path a few times. */
  static async open(): Promise<Fixtures> {
    const fixtures = new Fixtures();
    await Promise.all([
      fixtures.#handFib.ready(),
      fixtures.#handInc.ready(),
      fixtures.#pool.ready(),
    ]);
    for (let i = 0; i < 3; i++) {
      check(fixtures.singleFib());
      check(await fixtures.handFib());
      check(await fixtures.poolFib());
      check(await fixtures.poolFibModule());
      await fixtures.handTiny();
      await fixtures.poolTiny();
      await fixtures.handPairs(PAIRS / 10);
      await fixtures.poolPairs(PAIRS / 10);
    }
    return fixtures;
  }

  singleFib(): number {
    let answer = 0;
    for (let i = 0; i < FIB_TASKS; i++) answer = fib(FIB_N);
    return answer;
  }

  async handFib(): Promise<number> {
    const answers = await Promise.all(
      Array.from({ length: FIB_TASKS }, () => this.#handFib.run(FIB_N)),
    );
    return answers[FIB_TASKS - 1];
  }

  async poolFib(): Promise<number> {
    const answers = await Promise.all(
      Array.from({ length: FIB_TASKS }, () => this.#pool.run(fib, FIB_N)),
    );
    return answers[FIB_TASKS - 1];
  }

  async poolFibModule(): Promise<number> {
    const answers = await Promise.all(
      Array.from(
        { length: FIB_TASKS },
        () => this.#pool.run<typeof fib>(fibModule, FIB_N),
      ),
    );
    return answers[FIB_TASKS - 1];
  }

  async handTiny(): Promise<void> {
    const answers: Promise<number>[] = new Array(TINY_TASKS);
    for (let i = 0; i < TINY_TASKS; i++) answers[i] = this.#handInc.run(i);
    await Promise.all(answers);
  }

  async poolTiny(): Promise<void> {
    const answers: Promise<number>[] = new Array(TINY_TASKS);
    for (let i = 0; i < TINY_TASKS; i++) answers[i] = this.#pool.run(inc, i);
    await Promise.all(answers);
  }

  async handPairs(pairs = PAIRS): Promise<void> {
    for (let i = 0; i < pairs; i++) {
      await Promise.all([this.#handInc.run(i), this.#handInc.run(i)]);
    }
  }

  async poolPairs(pairs = PAIRS): Promise<void> {
    for (let i = 0; i < pairs; i++) {
      await Promise.all([this.#pool.run(inc, i), this.#pool.run(inc, i)]);
    }
  }

  /** Ends every worker at once (for `unload`, which cannot wait). */
  kill(): void {
    this.#handFib[Symbol.dispose]();
    this.#handInc[Symbol.dispose]();
    this.#pool.kill();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#handFib[Symbol.dispose]();
    this.#handInc[Symbol.dispose]();
    await this.#pool.close();
  }
}

function check(answer: number): void {
  if (answer !== FIB_RESULT) {
    throw new Error(`fib(${FIB_N}) gave ${answer}, expected ${FIB_RESULT}`);
  }
}

/** Pauses (see _measure.ts), then times `work` in ms. */
async function time(work: () => unknown, settleMs: number): Promise<number> {
  await pause(settleMs);
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/** One group: its sides, the first being the baseline. */
interface Group {
  readonly title: string;
  readonly settleMs: number;
  readonly n: number;
  readonly warmup: number;
  readonly sides: readonly [name: string, work: () => unknown][];
}

function groups(fixtures: Fixtures): Group[] {
  const hand = `hand pool, ${WORKERS} raw workers`;
  const pool = `IsolatePool({ size: ${WORKERS} })`;
  return [
    {
      title: `fib: ${FIB_TASKS} × fib(${FIB_N})`,
      settleMs: 50,
      n: 8,
      warmup: 1,
      sides: [
        ["single thread", () => fixtures.singleFib()],
        [hand, () => fixtures.handFib()],
        [`${pool}, function task`, () => fixtures.poolFib()],
        [`${pool}, module task`, () => fixtures.poolFibModule()],
      ],
    },
    {
      title: `tiny tasks: ${TINY_TASKS} × (x => x + 1) at once`,
      settleMs: 20,
      n: 30,
      warmup: 3,
      sides: [
        [hand, () => fixtures.handTiny()],
        [pool, () => fixtures.poolTiny()],
      ],
    },
    {
      title: `one in flight per worker: ${PAIRS} × 2 tasks`,
      settleMs: 20,
      n: 10,
      warmup: 2,
      sides: [
        [hand, () => fixtures.handPairs()],
        [pool, () => fixtures.poolPairs()],
      ],
    },
  ];
}

if (import.meta.main) {
  await summary();
} else {
  const fixtures = await Fixtures.open();
  // `deno bench` ends the process after its last bench; `unload` cannot
  // await `close()`, so the workers are ended at once.
  globalThis.addEventListener("unload", () => fixtures.kill());
  for (const group of groups(fixtures)) {
    group.sides.forEach(([name, work], i) =>
      Deno.bench({
        name,
        group: group.title,
        baseline: i === 0,
        n: group.n,
        warmup: group.warmup,
        async fn(b): Promise<void> {
          await pause(group.settleMs);
          b.start();
          await work();
          b.end();
        },
      })
    );
  }
}

/**
 * Runs every group `--rounds` times, each round timing its sides one after
 * the other in a rotating order, and prints the median and range of the
 * per-round figures, and each figure computed from the fastest times.
 */
async function summary(): Promise<void> {
  const rounds = roundsOption(15);
  // Other processes' load shows in the times: it is printed with them.
  const loadAtStart = Deno.loadavg()[0];
  await using fixtures = await Fixtures.open();
  const all = groups(fixtures);
  /** Per round, the time of each side of each group, in ms. */
  const times: number[][][] = all.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [g, group] of all.entries()) {
      const row: number[] = [];
      const count = group.sides.length;
      for (let i = 0; i < count; i++) {
        const side = (round + i) % count;
        row[side] = await time(group.sides[side][1], group.settleMs);
      }
      times[g].push(row);
    }
  }

  const usPerPairTask = 1000 / (2 * PAIRS);
  // Each figure is computed from one round's times; "best" computes it from
  // each side's fastest time over all rounds, which load from other
  // processes (it only ever adds time) disturbs least.
  const rows: SummaryRow<number[]>[] = [
    ["fib: single thread, ms", 0, (t) => t[0], fixed(0)],
    ["fib: hand pool speed-up", 0, (t) => t[0] / t[1], speedUp],
    ["fib: IsolatePool speed-up", 0, (t) => t[0] / t[2], speedUp],
    ["  ÷ hand pool's", 0, (t) => t[1] / t[2], percent],
    ["fib: IsolatePool speed-up, module", 0, (t) => t[0] / t[3], speedUp],
    ["  ÷ hand pool's", 0, (t) => t[1] / t[3], percent],
    ["tiny: hand pool, tasks/ms", 1, (t) => TINY_TASKS / t[0], fixed(0)],
    ["tiny: IsolatePool, tasks/ms", 1, (t) => TINY_TASKS / t[1], fixed(0)],
    ["  ÷ hand pool's", 1, (t) => t[0] / t[1], percent],
    ["1 in flight/worker: hand, µs/task", 2, (t) => t[0] * usPerPairTask, us],
    ["1 in flight/worker: pool, µs/task", 2, (t) => t[1] * usPerPairTask, us],
    ["  ÷ hand pool's time", 2, (t) => t[1] / t[0], fixed(2)],
  ];
  const best = times.map((rows) =>
    rows[0].map((_, side) => Math.min(...rows.map((row) => row[side])))
  );
  console.log(
    `IsolatePool({ size: ${WORKERS} }) against its baselines, ${rounds} rounds` +
      ` (1-minute load average: ${loadAtStart} at the start, ${
        Deno.loadavg()[0]
      } at the end)`,
  );
  printSummary(rows, times, best);
}

function us(value: number): string {
  return value.toFixed(1);
}

function speedUp(value: number): string {
  return `${value.toFixed(2)}×`;
}

function percent(value: number): string {
  return `${(value * 100).toFixed(0)}%`;
}
