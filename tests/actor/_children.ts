// Test doubles for the supervisor tests: children that crash, end or hang on
// command, a factory that logs every start/stop/kill in one shared order, and
// a recorder that waits for supervisor events instead of sleeping.
import type {
  ChildDetails,
  ChildSpec,
  ExitReason,
  RestartType,
  Shutdown,
  Supervisable,
  SupervisorEvent,
} from "../../mod.ts";

/** What a {@linkcode FakeChild} does besides ending when told. */
export interface FakeChildOptions {
  /** `stop()` is logged but the child does not end (until `kill()`). */
  hangOnStop?: boolean;
  /** What `describe()` returns. */
  details?: ChildDetails;
}

/** A child that ends exactly when a test says so, logging stop/kill calls. */
export class FakeChild implements Supervisable {
  readonly id: string;
  readonly #log: string[];
  readonly #options: FakeChildOptions;
  readonly #exit = Promise.withResolvers<ExitReason>();
  readonly #stopCalled = Promise.withResolvers<void>();
  #ended = false;

  constructor(id: string, log: string[], options: FakeChildOptions = {}) {
    this.id = id;
    this.#log = log;
    this.#options = options;
  }

  get exited(): Promise<ExitReason> {
    return this.#exit.promise;
  }

  /** Resolves once `stop()` has been called. */
  get stopCalled(): Promise<void> {
    return this.#stopCalled.promise;
  }

  stop(): void {
    this.#log.push(`stop:${this.id}`);
    this.#stopCalled.resolve();
    if (this.#options.hangOnStop !== true) this.#end({ kind: "shutdown" });
  }

  kill(): void {
    this.#log.push(`kill:${this.id}`);
    this.#end({ kind: "killed" });
  }

  describe(): ChildDetails {
    return this.#options.details ?? {};
  }

  crash(error: unknown = new Error(`${this.id} crashed`)): void {
    this.#end({ kind: "crashed", error });
  }

  exitNormally(): void {
    this.#end({ kind: "normal" });
  }

  #end(reason: ExitReason): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#exit.resolve(reason);
  }
}

/** How {@linkcode Children.spec} builds a spec. */
export interface FakeSpecOptions extends FakeChildOptions {
  restart?: RestartType;
  shutdown?: Shutdown;
}

/**
 * Makes specs of {@linkcode FakeChild}ren and logs, in one order, every
 * `start:<id>` attempt and every `stop:<id>` / `kill:<id>` call.
 */
export class Children {
  readonly log: string[] = [];
  readonly #instances = new Map<string, FakeChild[]>();
  readonly #failures = new Map<string, number>();

  spec(id: string, options: FakeSpecOptions = {}): ChildSpec {
    const { restart, shutdown, ...childOptions } = options;
    const spec: ChildSpec = { id, start: () => this.#start(id, childOptions) };
    if (restart !== undefined) spec.restart = restart;
    if (shutdown !== undefined) spec.shutdown = shutdown;
    return spec;
  }

  /** Makes the next `count` starts of `id` throw. */
  failNextStarts(id: string, count: number): void {
    this.#failures.set(id, count);
  }

  /** How many incarnations of `id` started. */
  starts(id: string): number {
    return this.#instances.get(id)?.length ?? 0;
  }

  /** The latest incarnation of `id`. */
  latest(id: string): FakeChild {
    const instances = this.#instances.get(id) ?? [];
    const child = instances.at(-1);
    if (child === undefined) throw new Error(`child "${id}" never started`);
    return child;
  }

  /** The log since the last call, then clears it. */
  take(): string[] {
    return this.log.splice(0);
  }

  #start(id: string, options: FakeChildOptions): FakeChild {
    this.log.push(`start:${id}`);
    const failures = this.#failures.get(id) ?? 0;
    if (failures > 0) {
      this.#failures.set(id, failures - 1);
      throw new Error(`${id} failed to start`);
    }
    const child = new FakeChild(id, this.log, options);
    const instances = this.#instances.get(id) ?? [];
    instances.push(child);
    this.#instances.set(id, instances);
    return child;
  }
}

/** A short text for an event, for asserting order: `exited:a:crashed`. */
export function brief(event: SupervisorEvent): string {
  switch (event.type) {
    case "started":
    case "restarted":
      return `${event.type}:${event.id}`;
    case "exited":
      return `exited:${event.id}:${event.reason.kind}`;
    case "gave_up":
      return "gave_up";
  }
}

/** Records events through `onEvent`; `next()` waits for a future one. */
export class Recorder {
  readonly events: SupervisorEvent[] = [];
  #waiters: {
    test: (event: SupervisorEvent) => boolean;
    resolve: (event: SupervisorEvent) => void;
  }[] = [];

  readonly listener = (event: SupervisorEvent): void => {
    this.events.push(event);
    const ready = this.#waiters.filter((waiter) => waiter.test(event));
    this.#waiters = this.#waiters.filter((waiter) => !ready.includes(waiter));
    for (const waiter of ready) waiter.resolve(event);
  };

  /** The next event (from now on) whose brief form is `text`. */
  next(text: string): Promise<SupervisorEvent> {
    const { promise, resolve } = Promise.withResolvers<SupervisorEvent>();
    this.#waiters.push({ test: (event) => brief(event) === text, resolve });
    return promise;
  }

  /** The brief forms of the events since the last call, then clears them. */
  take(): string[] {
    return this.events.splice(0).map(brief);
  }
}

/** A clock tests move by hand. */
export class Clock {
  time = 0;
  readonly now = (): number => this.time;
}
