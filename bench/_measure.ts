/**
 * Shared bench plumbing. On a shared 2-core machine background GC and JIT
 * work skew short timings, so each measured sample runs a batch of
 * operations after a short pause that lets that work settle.
 */
import {
  Isolate,
  ReceivePort,
  RootIsolateToken,
  type SendPort,
} from "../mod.ts";

/** Waits `ms` milliseconds. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Wraps a synchronous operation as a bench function that pauses, then times
 * `batch` runs of it.
 */
export function batched(
  operation: () => void,
  batch: number,
  pauseMs = 5,
): (b: Deno.BenchContext) => Promise<void> {
  return async (b) => {
    await pause(pauseMs);
    b.start();
    for (let i = 0; i < batch; i++) operation();
    b.end();
  };
}

/** The median of numbers sorted in ascending order. */
export function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[mid]
    : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `--rounds=N` from the command line (a `--summary` run), else `fallback`. */
export function roundsOption(fallback: number): number {
  const arg = Deno.args.find((a) => a.startsWith("--rounds="));
  const rounds = arg === undefined ? fallback : Number(arg.slice(9));
  if (!Number.isSafeInteger(rounds) || rounds < 1) {
    throw new RangeError(
      `"--rounds" must be a positive integer, got ${rounds}`,
    );
  }
  return rounds;
}

/**
 * One line of a `--summary` table: what it measures, the group of sides it
 * reads, its figure computed from one round's samples, and how to print it.
 */
export type SummaryRow<T> = readonly [
  measure: string,
  group: number,
  figure: (round: T) => number,
  format: (value: number) => string,
];

/** Prints a number with `digits` decimals. */
export function fixed(digits: number): (value: number) => string {
  return (value) => value.toFixed(digits);
}

/**
 * Prints the `--summary` table: for each row, the median and range of its
 * figure over the rounds of its group, and the figure computed from `best`
 * (each side's fastest over all rounds: load from other processes only ever
 * adds time, so it disturbs that figure least).
 */
export function printSummary<T>(
  rows: readonly SummaryRow<T>[],
  rounds: readonly T[][],
  best: readonly T[],
): void {
  const width = Math.max(...rows.map(([measure]) => measure.length));
  console.log(
    `| ${"measure".padEnd(width)} | median | range         | best   |`,
  );
  console.log(`| ${"-".repeat(width)} | ------ | ------------- | ------ |`);
  for (const [measure, group, figure, format] of rows) {
    const sorted = rounds[group].map(figure).toSorted((a, b) => a - b);
    const range = `${format(sorted[0])}–${format(sorted[sorted.length - 1])}`;
    console.log(
      `| ${measure.padEnd(width)} | ${format(median(sorted)).padEnd(6)} | ${
        range.padEnd(13)
      } | ${format(figure(best[group])).padEnd(6)} |`,
    );
  }
}

/**
 * A measured isolate driven by commands: it is spawned with `{ token,
 * reply }` (plus `init`), first sends its command port on `reply`, then
 * answers each `{ cmd, n }` with one message when the batch is done.
 */
export interface CommandIsolate {
  /** Sends a command and resolves with the isolate's answer. */
  batch(cmd: string, n: number): Promise<unknown>;
  /** Closes its command port and kills it. */
  close(): void;
}

/** Spawns a {@linkcode CommandIsolate} from a fixture module. */
export async function commandIsolate(
  entry: URL,
  init: Record<string, unknown> = {},
): Promise<CommandIsolate> {
  const replies = new ReceivePort();
  const inbox: ((message: unknown) => void)[] = [];
  replies.listen((message) => inbox.shift()?.(message));
  const next = (): Promise<unknown> =>
    new Promise((resolve) => inbox.push(resolve));
  const arrived = next();
  const isolate = await Isolate.spawn(entry, {
    ...init,
    token: RootIsolateToken.instance,
    reply: replies.sendPort,
  });
  const commands = await arrived as SendPort;
  return {
    batch(cmd: string, n: number): Promise<unknown> {
      const done = next();
      commands.send({ cmd, n });
      return done;
    },
    close(): void {
      commands.send({ cmd: "close", n: 0 });
      replies.close();
      isolate.kill();
    },
  };
}
