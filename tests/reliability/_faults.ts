// Shared by the reliability tests: the faulty worker, a recorder for what
// the module reports on stderr, heap sampling for the floods, and a log of
// supervisor events that can be waited on.
import assert from "node:assert/strict";
import {
  Isolate,
  type IsolateSpawnOptions,
  ReceivePort,
  type RootIsolateToken,
  type SupervisorEvent,
} from "../../mod.ts";
import type { Outcome } from "../isolate/fixtures/_report.ts";
import { ask, firstFrom, rootToken } from "../isolate/_helpers.ts";
import type {
  FaultyCommand,
  FaultyInit,
  FaultyReady,
} from "./fixtures/faulty.ts";

export { freshDataDir, SANDBOX, setEnv } from "../isolate/_helpers.ts";

/** The URL of a module in `fixtures/`. */
export function fixture(name: string): URL {
  return new URL(`./fixtures/${name}`, import.meta.url);
}

/** A command without its reply port (added by {@linkcode Faulty.ask}). */
export type Order = FaultyCommand extends infer C
  ? C extends FaultyCommand ? Omit<C, "reply"> : never
  : never;

/** A running `fixtures/faulty.ts` worker. */
export interface Faulty extends AsyncDisposable {
  isolate: Isolate;
  /** Its isolate id. */
  id: string;
  /** Runs a command and resolves with its outcome (fails if it dies first). */
  ask(command: Order): Promise<Outcome>;
  /** Sends a command whose answer nobody waits for. */
  tell(command: Order): void;
}

/**
 * Spawns `fixtures/faulty.ts`, connected with `token` (the root token by
 * default; anything else arrives as the spawn message carries it) unless
 * `connect` is false. Disposing it closes it (or waits for it, if it is
 * ending anyway).
 */
export async function spawnFaulty(
  options: IsolateSpawnOptions & { connect?: boolean; token?: unknown } = {},
): Promise<Faulty> {
  const { connect = true, token, ...spawnOptions } = options;
  const port = new ReceivePort("faulty ready");
  let isolate: Isolate;
  try {
    isolate = await Isolate.spawn(
      fixture("faulty.ts"),
      {
        ready: port.sendPort,
        ...(connect
          ? { token: (token ?? rootToken()) as RootIsolateToken }
          : {}),
      } satisfies FaultyInit,
      spawnOptions,
    );
  } catch (error) {
    port.close();
    throw error;
  }
  const ready = await firstFrom<FaultyReady>(port, isolate);
  let ended = false;
  isolate.exited.then(() => ended = true);
  return {
    isolate,
    id: ready.id,
    ask: (command) => ask(isolate, ready.commands, command),
    tell: (command) => {
      const unanswered = new ReceivePort("unanswered");
      unanswered.close();
      ready.commands.send({ ...command, reply: unanswered.sendPort });
    },
    async [Symbol.asyncDispose](): Promise<void> {
      if (!ended) ready.commands.send({ op: "close" });
      await isolate.exited;
    },
  };
}

/** The value of a successful outcome. */
export function okOf(outcome: Outcome): unknown {
  assert.ok(
    "ok" in outcome,
    `expected success, got ${JSON.stringify(outcome)}`,
  );
  return outcome.ok;
}

/**
 * What the module printed with `console.error` while installed: its reports
 * of dropped malformed messages and of failed handlers. `next(match)` waits
 * for the next matching report (already recorded ones count).
 */
export interface ErrorRecorder extends Disposable {
  /** Every `console.error` call's arguments, in order. */
  readonly calls: unknown[][];
  /** The first recorded call not yet returned by `next` that `match` accepts. */
  next(match: (args: unknown[]) => boolean): Promise<unknown[]>;
}

/** Replaces `console.error` with a recorder until disposed. */
export function recordErrors(): ErrorRecorder {
  const original = console.error;
  const calls: unknown[][] = [];
  const taken = new Set<number>();
  let waiters: {
    match: (args: unknown[]) => boolean;
    resolve: (args: unknown[]) => void;
  }[] = [];
  console.error = (...args: unknown[]) => {
    const index = calls.push(args) - 1;
    const waiter = waiters.find((w) => w.match(args));
    if (waiter !== undefined) {
      taken.add(index);
      waiters = waiters.filter((w) => w !== waiter);
      waiter.resolve(args);
    }
  };
  return {
    calls,
    next(match): Promise<unknown[]> {
      const index = calls.findIndex((args, i) => !taken.has(i) && match(args));
      if (index !== -1) {
        taken.add(index);
        return Promise.resolve(calls[index]);
      }
      const { promise, resolve } = Promise.withResolvers<unknown[]>();
      waiters.push({ match, resolve });
      return promise;
    },
    [Symbol.dispose]: () => {
      console.error = original;
    },
  };
}

const MiB = 1024 * 1024;

/**
 * Samples `Deno.memoryUsage().heapUsed` at points the test chooses (no
 * timers): before a flood, during it, and after. Sampling is cheap enough
 * to do every thousand messages.
 */
export class HeapSampler {
  readonly before: number;
  #peak: number;
  #samples = 0;

  constructor() {
    this.before = Deno.memoryUsage().heapUsed;
    this.#peak = this.before;
  }

  /** Takes a sample. */
  sample(): void {
    const used = Deno.memoryUsage().heapUsed;
    this.#samples++;
    if (used > this.#peak) this.#peak = used;
  }

  /** How many samples were taken. */
  get samples(): number {
    return this.#samples;
  }

  /** The peak growth over `before`, in MiB. */
  get peakGrowthMiB(): number {
    return (this.#peak - this.before) / MiB;
  }

  /**
   * A line for the test output, taking a last sample: before, peak and after
   * in MiB.
   */
  report(label: string): string {
    this.sample();
    const after = Deno.memoryUsage().heapUsed;
    return `${label}: heapUsed before ${
      (this.before / MiB).toFixed(1)
    } MiB, peak ${(this.#peak / MiB).toFixed(1)} MiB (+${
      this.peakGrowthMiB.toFixed(1)
    }), after ${(after / MiB).toFixed(1)} MiB, ${this.#samples} samples`;
  }
}

/** Supervisor events as they arrive, and a way to wait for one. */
export class EventLog {
  readonly events: SupervisorEvent[] = [];
  #waiters: {
    match: (event: SupervisorEvent) => boolean;
    resolve: (event: SupervisorEvent) => void;
  }[] = [];

  /** Records an event: pass as a supervisor's `onEvent`. */
  readonly push = (event: SupervisorEvent): void => {
    this.events.push(event);
    const waiter = this.#waiters.find((w) => w.match(event));
    if (waiter !== undefined) {
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
      waiter.resolve(event);
    }
  };

  /** The first event, recorded or to come, that `match` accepts. */
  when(match: (event: SupervisorEvent) => boolean): Promise<SupervisorEvent> {
    const seen = this.events.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    const { promise, resolve } = Promise.withResolvers<SupervisorEvent>();
    this.#waiters.push({ match, resolve });
    return promise;
  }

  /** The events in a compact form: `type id/supervisor [reason kind]`. */
  summary(supervisor?: string): string[] {
    return this.events
      .filter((event) =>
        supervisor === undefined || event.supervisor === supervisor
      )
      .map((event) => {
        switch (event.type) {
          case "started":
          case "restarted":
            return `${event.type} ${event.id} ${event.restarts}`;
          case "exited":
            return `exited ${event.id} ${event.reason.kind}`;
          case "gave_up":
            return `gave_up ${event.restarts}/${event.intensity}`;
        }
      });
  }
}

/**
 * Settles-or-not bookkeeping: wraps promises so a test can assert that every
 * one of them settled, and how.
 */
export class Tracked {
  readonly #all: Promise<PromiseSettledResult<unknown>>[] = [];

  /** Tracks `promise` (and marks its rejection as handled). */
  add<T>(promise: Promise<T>): Promise<T> {
    this.#all.push(
      promise.then(
        (value) => ({ status: "fulfilled", value }) as const,
        (reason: unknown) => ({ status: "rejected", reason }) as const,
      ),
    );
    return promise;
  }

  /** How many promises are tracked. */
  get size(): number {
    return this.#all.length;
  }

  /** Resolves once every tracked promise settled (a hang is a failure). */
  settled(): Promise<PromiseSettledResult<unknown>[]> {
    return Promise.all(this.#all);
  }
}

/**
 * A later turn of the main thread's event loop: after the messages already
 * received are handled. A MessageChannel round trip, not a timer.
 */
export function laterTurn(): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve) => {
    port1.onmessage = () => {
      port1.close();
      port2.close();
      resolve();
    };
    port2.postMessage(null);
  });
}
