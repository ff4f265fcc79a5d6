/**
 * How responsive the main thread stays while CPU-bound work runs with
 * progress reports: its event-loop lag, measured as the delay of a 1 ms
 * timer rescheduled back to back (actual − expected firing time), as p50,
 * p99 and max, with the total time of the work.
 *
 * The work is 16 × fib(32), each task split into 16 subtrees and reporting
 * progress after each through the Terminal plugin (`main` affinity, drawn on
 * the main thread into a no-op TTY output injected with
 * `Terminal.useOutput`):
 *
 * - `IsolatePool({ size: 2 })`, the tasks as a module task: every update is
 *   a MethodChannel call from a worker to the main thread;
 * - the main thread, one task after the other, awaiting each update (a
 *   plugin call on the main thread runs in place and settles in microtasks,
 *   so awaiting it does not yield to the event loop: timers wait for the
 *   whole run);
 * - for reference, 2 raw workers with the same split, posting each update
 *   by raw `postMessage` (the main thread draws it the same way);
 * - idle: the timer alone, for as long as the pool took.
 *
 * Run: `deno run -A bench/responsiveness_bench.ts [--repeat=N] [--n=32]
 * [--tasks=16] [--steps=16]` prints the table; each scenario runs N times
 * (default 5), interleaved, and the lag samples of its runs are pooled.
 * Under `deno bench` (`deno task bench`) it times the total work only: the
 * pool against the main thread, both reporting progress.
 */
import { IsolatePool, Terminal } from "../mod.ts";
import { pause } from "./_measure.ts";
import fibWithProgress from "./fixtures/responsiveness_task.ts";
import { fib, type FibTask } from "./fixtures/responsiveness_fib.ts";

const WORKERS = 2;
const TARGET_P99_MS = 8;
const TIMER_MS = 1;

interface Options {
  n: number;
  tasks: number;
  steps: number;
  repeat: number;
}

function options(): Options {
  const read = (name: string, fallback: number): number => {
    const arg = Deno.args.find((arg) => arg.startsWith(`--${name}=`));
    const value = arg === undefined ? fallback : Number(arg.split("=")[1]);
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(
        `"--${name}" must be a positive integer, got ${value}`,
      );
    }
    return value;
  };
  const steps = read("steps", 16);
  if ((steps & (steps - 1)) !== 0) {
    throw new RangeError(`"--steps" must be a power of 2, got ${steps}`);
  }
  return {
    n: read("n", 32),
    tasks: read("tasks", 16),
    steps,
    repeat: read("repeat", 5),
  };
}

/**
 * The event-loop lag meter: a 1 ms timer, rescheduled as soon as it fires;
 * each firing records how late it was.
 */
class LagMeter {
  readonly #samples: number[] = [];
  #stopping: (() => void) | null = null;

  start(): void {
    const arm = (): void => {
      const due = performance.now() + TIMER_MS;
      setTimeout(() => {
        this.#samples.push(performance.now() - due);
        if (this.#stopping === null) arm();
        else this.#stopping();
      }, TIMER_MS);
    };
    arm();
  }

  /**
   * Resolves with the lags recorded, in ms, once the pending timer has
   * fired: work that blocked the event loop to its end is counted too.
   */
  stop(): Promise<number[]> {
    const { promise, resolve } = Promise.withResolvers<number[]>();
    this.#stopping = () => resolve(this.#samples);
    return promise;
  }
}

/** Two raw workers running the split fib, one task at a time each. */
class RawWorkers implements Disposable {
  readonly #workers: Worker[];
  #onDone: ((worker: Worker) => void) | null = null;

  constructor() {
    const url = new URL(
      "./fixtures/responsiveness_raw_worker.ts",
      import.meta.url,
    );
    this.#workers = Array.from({ length: WORKERS }, () => {
      const worker = new Worker(url, { type: "module" });
      worker.onmessage = (event: MessageEvent) => {
        const data = event.data as {
          progress?: string;
          current: number;
          total: number;
          done?: string;
        };
        if (data.progress !== undefined) {
          // Drawn as the plugin draws a worker's update, not awaited.
          Terminal.progress(data.progress, data);
        } else if (data.done !== undefined) this.#onDone?.(worker);
      };
      return worker;
    });
  }

  /** Runs the tasks, each on the next free worker. */
  run(tasks: FibTask[]): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    let next = 0;
    let running = 0;
    const feed = (worker: Worker): void => {
      if (next < tasks.length) {
        running++;
        worker.postMessage(tasks[next++]);
      } else if (running === 0) resolve();
    };
    this.#onDone = (worker) => {
      running--;
      feed(worker);
    };
    for (const worker of this.#workers) feed(worker);
    return promise;
  }

  [Symbol.dispose](): void {
    for (const worker of this.#workers) worker.terminate();
  }
}

/** Every side, started and warmed up. */
class Fixtures implements AsyncDisposable {
  readonly #pool = new IsolatePool({ name: "responsiveness", size: WORKERS });
  readonly #raw = new RawWorkers();
  readonly #task = new URL(
    "./fixtures/responsiveness_task.ts",
    import.meta.url,
  );
  readonly #restore = Terminal.useOutput({
    write: () => {},
    isTerminal: true,
    columns: 80,
  });
  readonly #options: Options;
  #run = 0;

  private constructor(options: Options) {
    this.#options = options;
  }

  static async open(options: Options): Promise<Fixtures> {
    const fixtures = new Fixtures(options);
    check([fib(options.n)], options.n); // fills the cache, off the clock
    await fixtures.#pool.ready();
    // Warm every path up: module loads, JIT, the plugin's first calls.
    const warm = { ...options, n: Math.min(options.n, 27), tasks: 4 };
    await fixtures.pool(warm);
    await fixtures.main(warm);
    await fixtures.raw(warm);
    return fixtures;
  }

  #tasks(options: Options = this.#options): FibTask[] {
    const run = ++this.#run;
    return Array.from({ length: options.tasks }, (_, i) => ({
      id: `run ${run} task ${i + 1}`,
      n: options.n,
      steps: options.steps,
    }));
  }

  async pool(options: Options = this.#options): Promise<void> {
    const results = await Promise.all(
      this.#tasks(options).map((task) =>
        this.#pool.run<typeof fibWithProgress>(this.#task, task)
      ),
    );
    check(results, options.n);
  }

  async main(options: Options = this.#options): Promise<void> {
    const results: number[] = [];
    for (const task of this.#tasks(options)) {
      results.push(await fibWithProgress(task));
    }
    check(results, options.n);
  }

  raw(options: Options = this.#options): Promise<void> {
    return this.#raw.run(this.#tasks(options));
  }

  /** Ends every worker at once (for `unload`, which cannot wait). */
  kill(): void {
    this.#restore();
    this.#raw[Symbol.dispose]();
    this.#pool.kill();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#restore();
    this.#raw[Symbol.dispose]();
    await this.#pool.close();
  }
}

/** fib(n) by n, computed once: fib(32) takes the main thread ~20 ms. */
const expectedFib = new Map<number, number>();

function check(results: number[], n: number): void {
  let expected = expectedFib.get(n);
  if (expected === undefined) expectedFib.set(n, expected = fib(n));
  if (results.some((value) => value !== expected)) {
    throw new Error(`fib(${n}) gave ${results}, expected ${expected}`);
  }
}

if (import.meta.main) {
  await meter(options());
} else {
  const opts = options();
  const fixtures = await Fixtures.open(opts);
  // `deno bench` ends the process after its last bench; `unload` cannot
  // await `close()`, so the workers are ended at once.
  globalThis.addEventListener("unload", () => fixtures.kill());
  const group =
    `${opts.tasks} × fib(${opts.n}), progress every 1/${opts.steps}`;
  const sides: [string, () => Promise<void>][] = [
    ["main thread, awaiting Terminal.progress", () => fixtures.main()],
    [
      `IsolatePool({ size: ${WORKERS} }), Terminal.progress from workers`,
      () => fixtures.pool(),
    ],
  ];
  sides.forEach(([name, work], i) =>
    Deno.bench({
      name,
      group,
      baseline: i === 0,
      n: 5,
      warmup: 1,
      async fn(b): Promise<void> {
        await pause(50);
        b.start();
        await work();
        b.end();
      },
    })
  );
}

/** One scenario's pooled figures. */
interface Figures {
  lags: number[];
  totals: number[];
}

/**
 * Runs every scenario `repeat` times, interleaved, with the lag meter on,
 * and prints the lag percentiles and total times.
 */
async function meter(opts: Options): Promise<void> {
  const loadAtStart = Deno.loadavg()[0];
  await using fixtures = await Fixtures.open(opts);
  let idleMs = 300;
  const scenarios: [string, () => Promise<unknown>][] = [
    [`IsolatePool({ size: ${WORKERS} }), plugin progress`, async () => {
      const start = performance.now();
      await fixtures.pool();
      idleMs = performance.now() - start;
    }],
    ["main thread, plugin progress", () => fixtures.main()],
    [`${WORKERS} raw workers, postMessage progress`, () => fixtures.raw()],
    ["idle (the timer alone)", () => pause(idleMs)],
  ];
  const figures: Figures[] = scenarios.map(() => ({ lags: [], totals: [] }));
  for (let round = 0; round < opts.repeat; round++) {
    for (let i = 0; i < scenarios.length; i++) {
      // The pool runs first in each round: idle lasts as long as it did.
      const s = i === 0 || i === scenarios.length - 1
        ? i
        : 1 + (round + i - 1) % (scenarios.length - 2);
      await pause(100);
      const lag = new LagMeter();
      lag.start();
      const start = performance.now();
      await scenarios[s][1]();
      const total = performance.now() - start;
      figures[s].lags.push(...await lag.stop());
      figures[s].totals.push(total);
    }
  }

  console.log(
    `Main-thread event-loop lag (a ${TIMER_MS} ms timer's delay), ${opts.tasks}` +
      ` × fib(${opts.n}), progress every 1/${opts.steps} of a task, ${opts.repeat}` +
      ` runs each (1-minute load average: ${loadAtStart} at the start, ${
        Deno.loadavg()[0]
      } at the end)`,
  );
  const width = Math.max(...scenarios.map(([name]) => name.length));
  console.log(
    `| ${
      "scenario".padEnd(width)
    } | total ms (median, range) | lag p50 ms | lag p99 ms | lag max ms | samples |`,
  );
  console.log(
    `| ${
      "-".repeat(width)
    } | ------------------------ | ---------- | ---------- | ---------- | ------- |`,
  );
  for (const [s, [name]] of scenarios.entries()) {
    const lags = figures[s].lags.toSorted((a, b) => a - b);
    const totals = figures[s].totals.toSorted((a, b) => a - b);
    const total = `${totals[totals.length >> 1].toFixed(0)} (${
      totals[0].toFixed(0)
    }–${totals[totals.length - 1].toFixed(0)})`;
    console.log(
      `| ${name.padEnd(width)} | ${total.padEnd(24)} | ${
        quantile(lags, 0.5).toFixed(2).padEnd(10)
      } | ${quantile(lags, 0.99).toFixed(2).padEnd(10)} | ${
        lags[lags.length - 1].toFixed(2).padEnd(10)
      } | ${String(lags.length).padEnd(7)} |`,
    );
  }
  const poolP99 = quantile(figures[0].lags.toSorted((a, b) => a - b), 0.99);
  console.log(
    `Target: p99 < ${TARGET_P99_MS} ms with the pool: ${
      poolP99 < TARGET_P99_MS ? "met" : "missed"
    } (${poolP99.toFixed(2)} ms)`,
  );
}

/** The `q` quantile of sorted samples (nearest rank). */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length) - 1;
  return sorted[Math.min(Math.max(rank, 0), sorted.length - 1)];
}
