/**
 * MethodChannel against Comlink and raw Web Worker messaging, in the same
 * run: a call from a worker answered by an `echo` handler on the main
 * thread, with one call in flight (a sequential batch of 200) and with
 * 1,000 in flight.
 *
 * - raw (baseline): the worker posts `{ call }`, the main thread posts the
 *   value back (the fixture `channel_bench.ts` uses);
 * - `MethodChannel.invokeMethod("echo", 1)` from an `Isolate.spawn` worker
 *   to a handler on the main thread (the fixture `channel_bench.ts` uses);
 * - Comlink 4.4.2: the main thread exposes `{ echo }` over the worker's
 *   port (`Comlink.expose(obj, worker)`), the worker calls it through
 *   `Comlink.wrap(self)`.
 *
 * Every side times whole batches driven from inside its worker, so the
 * command that starts a batch costs the same on all three.
 *
 * Run: `deno task bench` (or `deno bench -A bench/comlink_bench.ts`). Single
 * samples vary on 2 noisy cores, so the README records the summary instead:
 * `deno run -A bench/comlink_bench.ts --summary [--rounds=N]` alternates the
 * sides over N rounds (default 30), rotating which goes first. In a round a
 * side's time is its fastest of 3 batches (other processes' load only ever
 * adds time). It prints the median and range of each per-round ratio to raw,
 * and the ratios of the fastest times overall. Comlink is a dev-only import
 * (deno.json): the module does not depend on it.
 */
import * as Comlink from "comlink";
import {
  Isolate,
  MethodChannel,
  ReceivePort,
  RootIsolateToken,
  type SendPort,
} from "../mod.ts";
import {
  fixed,
  median,
  pause,
  printSummary,
  roundsOption,
  type SummaryRow,
} from "./_measure.ts";

const SEQUENTIAL = 200;
const PARALLEL = 1000;
const SETTLE_MS = 10;
/** Summary: batches per side and round. */
const REPS = 3;

type Command = "sequential" | "parallel";
/** What a worker answers: each call's time in ms (one in flight), or null. */
type CallTimes = Float64Array | null;

/** A worker driven by `{ cmd, n }` that answers `{ done, times }`. */
class PlainWorker implements Disposable {
  readonly #worker: Worker;
  #done: PromiseWithResolvers<CallTimes> = Promise.withResolvers();
  readonly #ready = Promise.withResolvers<void>();

  /**
   * @param fixture The worker's module, beside this file.
   * @param serve Sets up the main side of the worker's calls.
   */
  constructor(fixture: string, serve: (worker: Worker) => void) {
    this.#worker = new Worker(new URL(fixture, import.meta.url), {
      type: "module",
    });
    serve(this.#worker);
    this.#worker.addEventListener("message", (event) => {
      const data = event.data as {
        done?: boolean;
        ready?: boolean;
        times?: CallTimes;
      };
      if (data?.done === true) this.#done.resolve(data.times ?? null);
      else if (data?.ready === true) this.#ready.resolve();
    });
  }

  get ready(): Promise<void> {
    return this.#ready.promise;
  }

  batch(cmd: Command, n: number): Promise<CallTimes> {
    this.#done = Promise.withResolvers();
    this.#worker.postMessage({ cmd, n });
    return this.#done.promise;
  }

  [Symbol.dispose](): void {
    this.#worker.terminate();
  }
}

/** The three workers, started and warmed up. */
class Fixtures implements Disposable {
  readonly #raw = new PlainWorker(
    "./fixtures/raw_worker.ts",
    (worker) =>
      worker.addEventListener("message", (event) => {
        const data = event.data as { call?: unknown };
        if (data?.call !== undefined) worker.postMessage({ echo: data.call });
      }),
  );
  readonly #comlink = new PlainWorker(
    "./fixtures/comlink_worker.ts",
    (worker) => Comlink.expose({ echo: (x: unknown) => x }, worker),
  );
  readonly #echo = new MethodChannel("bench/comlink/echo");
  readonly #replies = new ReceivePort();
  readonly #inbox: ((message: unknown) => void)[] = [];
  #isolate: Isolate | null = null;
  #commands: SendPort | null = null;

  private constructor() {
    this.#echo.setMethodCallHandler((call) => call.arguments);
    this.#replies.listen((message) => this.#inbox.shift()?.(message));
  }

  /** Starts the workers and runs every path a few times. */
  static async open(): Promise<Fixtures> {
    const fixtures = new Fixtures();
    const commands = fixtures.#next();
    fixtures.#isolate = await Isolate.spawn(
      new URL("./fixtures/channel_worker.ts", import.meta.url),
      {
        token: RootIsolateToken.instance,
        reply: fixtures.#replies.sendPort,
        channel: "bench/comlink/echo",
      },
    );
    fixtures.#commands = await commands as SendPort;
    await Promise.all([fixtures.#raw.ready, fixtures.#comlink.ready]);
    for (let i = 0; i < 5; i++) {
      for (const cmd of ["sequential", "parallel"] as const) {
        const n = cmd === "sequential" ? SEQUENTIAL : PARALLEL;
        await fixtures.raw(cmd, n);
        await fixtures.channel(cmd, n);
        await fixtures.comlink(cmd, n);
      }
    }
    return fixtures;
  }

  raw(cmd: Command, n: number): Promise<CallTimes> {
    return this.#raw.batch(cmd, n);
  }

  async channel(cmd: Command, n: number): Promise<CallTimes> {
    const done = this.#next();
    this.#commands!.send({ cmd, n });
    return ((await done) as { times: CallTimes }).times;
  }

  comlink(cmd: Command, n: number): Promise<CallTimes> {
    return this.#comlink.batch(cmd, n);
  }

  #next(): Promise<unknown> {
    return new Promise((resolve) => this.#inbox.push(resolve));
  }

  [Symbol.dispose](): void {
    this.#commands?.send({ cmd: "close", n: 0 });
    this.#replies.close();
    this.#echo.setMethodCallHandler(null);
    this.#raw[Symbol.dispose]();
    this.#comlink[Symbol.dispose]();
    this.#isolate?.kill();
  }
}

/** One group: its sides, the first being the baseline. */
interface Group {
  readonly calls: number;
  readonly title: string;
  readonly sides: readonly [name: string, work: () => Promise<CallTimes>][];
}

function groups(fixtures: Fixtures): Group[] {
  return (["sequential", "parallel"] as const).map((cmd) => {
    const n = cmd === "sequential" ? SEQUENTIAL : PARALLEL;
    const what = cmd === "sequential"
      ? `one in flight (x${n})`
      : `${n} in flight`;
    return {
      calls: n,
      title: `echo worker -> main, ${what}`,
      sides: [
        [`raw postMessage round trip, ${what}`, () => fixtures.raw(cmd, n)],
        [
          `MethodChannel.invokeMethod, ${what}`,
          () => fixtures.channel(cmd, n),
        ],
        [`Comlink.wrap(self).echo, ${what}`, () => fixtures.comlink(cmd, n)],
      ],
    };
  });
}

if (import.meta.main) {
  await summary();
} else {
  const fixtures = await Fixtures.open();
  // `deno bench` ends the process after its last bench: end the workers.
  globalThis.addEventListener("unload", () => fixtures[Symbol.dispose]());
  for (const group of groups(fixtures)) {
    group.sides.forEach(([name, work], i) =>
      Deno.bench({
        name,
        group: group.title,
        baseline: i === 0,
        n: 30,
        warmup: 3,
        async fn(b): Promise<void> {
          await pause(SETTLE_MS);
          b.start();
          await work();
          b.end();
        },
      })
    );
  }
}

/** One round's figures of one side. */
interface Sample {
  /** The fastest batch, in ms. */
  batch: number;
  /** The median call over the round's batches, in ms (one in flight). */
  call: number;
}

/**
 * Runs both groups `--rounds` times. Each round times the three sides one
 * after the other in a rotating order, {@linkcode REPS} times, and keeps
 * each side's fastest batch and, with one call in flight, its median call.
 * Prints the median and range of the per-round ratios to raw, and the
 * ratios of the fastest figures overall.
 */
async function summary(): Promise<void> {
  const rounds = roundsOption(30);
  const loadAtStart = Deno.loadavg()[0];
  using fixtures = await Fixtures.open();
  const all = groups(fixtures);
  /** Per group, per round, each side's sample. */
  const samples: Sample[][][] = all.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [g, group] of all.entries()) {
      const count = group.sides.length;
      const batches: number[] = new Array(count).fill(Infinity);
      const calls: number[][] = Array.from({ length: count }, () => []);
      for (let rep = 0; rep < REPS; rep++) {
        for (let i = 0; i < count; i++) {
          const side = (round + i) % count;
          await pause(SETTLE_MS);
          const start = performance.now();
          const times = await group.sides[side][1]();
          batches[side] = Math.min(batches[side], performance.now() - start);
          if (times !== null) calls[side].push(...times);
        }
      }
      samples[g].push(batches.map((batch, side) => ({
        batch,
        call: calls[side].length === 0
          ? NaN
          : median(calls[side].toSorted((a, b) => a - b)),
      })));
    }
  }

  const many = all[1].calls;
  const perCall = (group: number) => (t: Sample[]): number =>
    t[0].batch * 1000 / all[group].calls;
  const rows: SummaryRow<Sample[]>[] = [
    ["raw, 1 in flight: median call, µs", 0, (t) => t[0].call * 1000, fixed(1)],
    [
      "MethodChannel ÷ raw, 1 in flight, call",
      0,
      ratio(1, 0, "call"),
      fixed(2),
    ],
    ["Comlink ÷ raw, 1 in flight, call", 0, ratio(2, 0, "call"), fixed(2)],
    [
      "MethodChannel ÷ Comlink, 1 in flight, call",
      0,
      ratio(1, 2, "call"),
      fixed(2),
    ],
    ["raw, 1 in flight: batch ÷ calls, µs", 0, perCall(0), fixed(1)],
    [
      "MethodChannel ÷ raw, 1 in flight, batch",
      0,
      ratio(1, 0, "batch"),
      fixed(2),
    ],
    ["Comlink ÷ raw, 1 in flight, batch", 0, ratio(2, 0, "batch"), fixed(2)],
    [`raw, ${many} in flight: batch ÷ calls, µs`, 1, perCall(1), fixed(2)],
    [
      `MethodChannel ÷ raw, ${many} in flight`,
      1,
      ratio(1, 0, "batch"),
      fixed(2),
    ],
    [`Comlink ÷ raw, ${many} in flight`, 1, ratio(2, 0, "batch"), fixed(2)],
    [
      `MethodChannel ÷ Comlink, ${many} in flight`,
      1,
      ratio(1, 2, "batch"),
      fixed(2),
    ],
  ];
  // "best" computes each figure from each side's fastest over all rounds.
  const best = samples.map((rows) =>
    rows[0].map((_, side) => ({
      batch: Math.min(...rows.map((row) => row[side].batch)),
      call: Math.min(...rows.map((row) => row[side].call)),
    }))
  );
  console.log(
    `Echo worker -> main, ${rounds} rounds of ${REPS} batches per side` +
      ` (1-minute load average: ${loadAtStart} at the start, ${
        Deno.loadavg()[0]
      } at the end)`,
  );
  printSummary(rows, samples, best);
  // The targets, on the medians of the per-round ratios.
  const middle = (group: number, figure: (t: Sample[]) => number): number =>
    median(samples[group].map(figure).toSorted((a, b) => a - b));
  const oneCall = middle(0, ratio(1, 0, "call"));
  const oneBatch = middle(0, ratio(1, 0, "batch"));
  const manyBatch = middle(1, ratio(1, 0, "batch"));
  const verdict = (met: boolean): string => met ? "met" : "missed";
  console.log(
    `Targets: MethodChannel ≤ 1.15 × raw, one in flight: ${
      verdict(Math.max(oneCall, oneBatch) <= 1.15)
    } (${oneCall.toFixed(2)} per call, ${
      oneBatch.toFixed(2)
    } per batch); ≤ 1.5 × raw, ${many} in flight: ${
      verdict(manyBatch <= 1.5)
    } (${manyBatch.toFixed(2)}); faster than Comlink: ${
      verdict(
        middle(0, ratio(1, 2, "call")) < 1 &&
          middle(0, ratio(1, 2, "batch")) < 1 &&
          middle(1, ratio(1, 2, "batch")) < 1,
      )
    }`,
  );
}

/** The figure `key` of side `of` ÷ that of side `to`. */
function ratio(
  of: number,
  to: number,
  key: keyof Sample,
): (t: Sample[]) => number {
  return (t) => t[of][key] / t[to][key];
}
