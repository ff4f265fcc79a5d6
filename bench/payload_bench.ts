/**
 * Large payloads against raw Web Worker messaging, in the same run:
 *
 * - "1 MiB Uint8Array to a worker and back": raw `postMessage` copying it
 *   both ways (baseline) and transferring it both ways; the module's
 *   `SendPort` (copied both ways: ports have no transfer list);
 *   `IsolatePool.run` copying it, and with `{ transfer }`, which moves the
 *   input to the worker (a task's result is always copied back);
 * - "1 MiB Float64Array worker -> main": a worker sends the same list to
 *   the main thread, one at a time, each awaited: raw `postMessage` of the
 *   Float64Array (baseline) against a `MethodChannel` call with it as the
 *   argument (StandardMethodCodec; the handler answers its length).
 *
 * Run: `deno task bench` (or `deno bench -A bench/payload_bench.ts`). Single
 * samples vary on 2 noisy cores, so the README records the summary instead:
 * `deno run -A bench/payload_bench.ts --summary [--rounds=N]` alternates
 * the sides over N rounds (default 25), rotating which goes first, keeps
 * each side's fastest of 3 batches per round, and prints the median and
 * range of each per-round ratio, and the ratios of the fastest times.
 */
import {
  Isolate,
  IsolatePool,
  MethodChannel,
  ReceivePort,
  RootIsolateToken,
  type SendPort,
  StandardMessageCodec,
} from "../mod.ts";
import {
  fixed,
  pause,
  printSummary,
  roundsOption,
  type SummaryRow,
} from "./_measure.ts";

const BYTES = 1 << 20;
/** Round trips of the 1 MiB Uint8Array per sample. */
const ROUND_TRIPS = 10;
/** Float64Arrays (1 MiB each) sent per sample. */
const LISTS = 10;
const SETTLE_MS = 20;
/** Summary: batches per side and round, of which the fastest counts. */
const REPS = 3;

/** Self-contained, so that the pool can send its source to its worker. */
const echo = (bytes: Bytes): Bytes => bytes;

type Bytes = Uint8Array<ArrayBuffer>;

/** The raw worker, the module's isolate and pool, started and warmed up. */
class Fixtures implements AsyncDisposable {
  readonly #raw = new Worker(
    new URL("./fixtures/payload_raw_worker.ts", import.meta.url),
    { type: "module" },
  );
  #rawEcho: ((bytes: Bytes) => void) | null = null;
  #rawDone: (() => void) | null = null;
  readonly #rawReady = Promise.withResolvers<void>();
  readonly #channel = new MethodChannel("bench/payload");
  readonly #replies = new ReceivePort();
  readonly #inbox: ((message: unknown) => void)[] = [];
  readonly #pool = new IsolatePool({ name: "payload", size: 1 });
  #isolate: Isolate | null = null;
  #commands: SendPort | null = null;
  /** What each side sends: a transferred buffer moves, so each has its own. */
  readonly #copied = filled(BYTES);
  #rawMoved = filled(BYTES);
  #poolMoved = filled(BYTES);
  /**
   * Whether the main thread decoded the list as a view of the message's
   * bytes (no copy), as seen on the last call.
   */
  listWasView: boolean | null = null;

  private constructor() {
    this.#raw.onmessage = (event) => {
      const data = event.data as {
        echo?: Uint8Array<ArrayBuffer>;
        list?: Float64Array;
        done?: boolean;
        ready?: boolean;
      };
      if (data.echo !== undefined) this.#rawEcho?.(data.echo);
      else if (data.list !== undefined) {
        this.#raw.postMessage({ ack: data.list.length });
      } else if (data.done) this.#rawDone?.();
      else if (data.ready) this.#rawReady.resolve();
    };
    this.#channel.setMethodCallHandler((call) => {
      const list = call.arguments as Float64Array;
      this.listWasView = list.buffer.byteLength > list.byteLength;
      return list.length;
    });
    this.#replies.listen((message) => this.#inbox.shift()?.(message));
  }

  /** Starts the workers and runs every path a few times. */
  static async open(): Promise<Fixtures> {
    const fixtures = new Fixtures();
    const commands = fixtures.#next();
    fixtures.#isolate = await Isolate.spawn(
      new URL("./fixtures/payload_channel_worker.ts", import.meta.url),
      { token: RootIsolateToken.instance, reply: fixtures.#replies.sendPort },
    );
    fixtures.#commands = await commands as SendPort;
    await Promise.all([fixtures.#rawReady.promise, fixtures.#pool.ready()]);
    for (let i = 0; i < 3; i++) {
      for (const [, work] of fixtures.sides()) await work();
    }
    check(await fixtures.#pool.run(echo, filled(BYTES)));
    check(fixtures.#poolMoved);
    check(fixtures.#rawMoved);
    return fixtures;
  }

  /** Each side of each group, by name, the baseline first. */
  sides(): [name: string, work: () => Promise<void>][] {
    return [
      ["raw postMessage, copied both ways", () => this.rawEcho(false)],
      ["raw postMessage, transferred both ways", () => this.rawEcho(true)],
      ["SendPort to an isolate and back (copied)", () => this.portEcho()],
      ["IsolatePool.run, copied both ways", () => this.poolEcho(false)],
      ["IsolatePool.run with transfer (input)", () => this.poolEcho(true)],
      ["raw postMessage of the Float64Array", () => this.rawLists()],
      ["MethodChannel call, StandardMethodCodec", () => this.channelLists()],
    ];
  }

  async rawEcho(transfer: boolean): Promise<void> {
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const { promise, resolve } = Promise.withResolvers<Bytes>();
      this.#rawEcho = resolve;
      if (transfer) {
        const bytes = this.#rawMoved;
        this.#raw.postMessage({ echo: bytes, transfer }, [bytes.buffer]);
        this.#rawMoved = await promise;
      } else {
        this.#raw.postMessage({ echo: this.#copied, transfer });
        await promise;
      }
    }
  }

  async portEcho(): Promise<void> {
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const answer = this.#next();
      this.#commands!.send({ cmd: "echo", bytes: this.#copied });
      await answer;
    }
  }

  async poolEcho(transfer: boolean): Promise<void> {
    for (let i = 0; i < ROUND_TRIPS; i++) {
      if (transfer) {
        const bytes = this.#poolMoved;
        this.#poolMoved = await this.#pool.run(echo, bytes, {
          transfer: [bytes.buffer],
        });
      } else await this.#pool.run(echo, this.#copied);
    }
  }

  rawLists(): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#rawDone = resolve;
    this.#raw.postMessage({ cmd: "list", n: LISTS });
    return promise;
  }

  async channelLists(): Promise<void> {
    const done = this.#next();
    this.#commands!.send({ cmd: "list", n: LISTS });
    await done;
  }

  #next(): Promise<unknown> {
    return new Promise((resolve) => this.#inbox.push(resolve));
  }

  /** Ends every worker at once (for `unload`, which cannot wait). */
  kill(): void {
    this.#dispose();
    this.#pool.kill();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#dispose();
    await this.#pool.close();
  }

  #dispose(): void {
    this.#commands?.send({ cmd: "close" });
    this.#replies.close();
    this.#channel.setMethodCallHandler(null);
    this.#raw.terminate();
    this.#isolate?.kill();
  }
}

function filled(length: number): Bytes {
  return new Uint8Array(length).map((_, i) => i & 0xff);
}

function check(bytes: Bytes): void {
  if (bytes.length !== BYTES || bytes[BYTES - 1] !== ((BYTES - 1) & 0xff)) {
    throw new Error(`the 1 MiB payload came back wrong (${bytes.length} B)`);
  }
}

const GROUPS = [
  { title: `1 MiB Uint8Array to a worker and back (x${ROUND_TRIPS})`, n: 5 },
  { title: `1 MiB Float64Array worker -> main (x${LISTS})`, n: 2 },
] as const;

if (import.meta.main) {
  await summary();
} else {
  const fixtures = await Fixtures.open();
  // `deno bench` ends the process after its last bench; `unload` cannot
  // await `close()`, so the workers are ended at once.
  globalThis.addEventListener("unload", () => fixtures.kill());
  let side = 0;
  for (const group of GROUPS) {
    for (let i = 0; i < group.n; i++) {
      const [name, work] = fixtures.sides()[side++];
      Deno.bench({
        name,
        group: group.title,
        baseline: i === 0,
        n: 20,
        warmup: 2,
        async fn(b): Promise<void> {
          await pause(SETTLE_MS);
          b.start();
          await work();
          b.end();
        },
      });
    }
  }
}

/**
 * Runs both groups `--rounds` times, each round timing the sides of a group
 * one after the other in a rotating order, {@linkcode REPS} times, keeping
 * each side's fastest batch; prints the median and range of the per-round
 * figures, and each figure computed from the fastest times overall.
 */
async function summary(): Promise<void> {
  const rounds = roundsOption(25);
  const loadAtStart = Deno.loadavg()[0];
  await using fixtures = await Fixtures.open();
  const sides = fixtures.sides();
  const groups = [sides.slice(0, GROUPS[0].n), sides.slice(GROUPS[0].n)];
  /** Per group, per round, each side's fastest batch in ms. */
  const times: number[][][] = groups.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [g, group] of groups.entries()) {
      const row: number[] = new Array(group.length).fill(Infinity);
      for (let rep = 0; rep < REPS; rep++) {
        for (let i = 0; i < group.length; i++) {
          const side = (round + i) % group.length;
          await pause(SETTLE_MS);
          const start = performance.now();
          await group[side][1]();
          row[side] = Math.min(row[side], performance.now() - start);
        }
      }
      times[g].push(row);
    }
  }

  const rows: SummaryRow<number[]>[] = [
    ["raw, copied: ms per round trip", 0, (t) => t[0] / ROUND_TRIPS, fixed(3)],
    ["raw, transferred ÷ raw, copied", 0, (t) => t[1] / t[0], fixed(2)],
    ["SendPort (copied) ÷ raw, copied", 0, (t) => t[2] / t[0], fixed(2)],
    ["IsolatePool.run, copied ÷ raw, copied", 0, (t) => t[3] / t[0], fixed(2)],
    [
      "IsolatePool.run, transfer ÷ raw, copied",
      0,
      (t) => t[4] / t[0],
      fixed(2),
    ],
    [
      "raw Float64Array worker -> main: ms each",
      1,
      (t) => t[0] / LISTS,
      fixed(3),
    ],
    ["MethodChannel ÷ raw, Float64Array", 1, (t) => t[1] / t[0], fixed(2)],
  ];
  const best = times.map((rows) =>
    rows[0].map((_, side) => Math.min(...rows.map((row) => row[side])))
  );
  console.log(
    `Payloads, ${rounds} rounds of ${REPS} batches per side (1-minute load` +
      ` average: ${loadAtStart} at the start, ${Deno.loadavg()[0]} at the end)`,
  );
  printSummary(rows, times, best);
  const codec = new StandardMessageCodec();
  const list = new Float64Array(BYTES / 8);
  const encodeMs = fastest(() => codec.encodeMessage(list));
  const encoded = codec.encodeMessage(list);
  const decodeMs = fastest(() => codec.decodeMessage(encoded));
  console.log(
    `StandardMessageCodec, 1 MiB Float64Array, in one thread: encode ${
      encodeMs.toFixed(3)
    } ms, decode ${decodeMs.toFixed(3)} ms; decoded on the main thread as ${
      fixtures.listWasView ? "a view of the message (no copy)" : "a copy"
    }`,
  );
}

/** The fastest of 20 runs of `work`, in ms. */
function fastest(work: () => unknown): number {
  let best = Infinity;
  for (let i = 0; i < 20; i++) {
    const start = performance.now();
    work();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}
