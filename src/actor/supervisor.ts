import { type ExitReason, isAbnormal } from "../isolate/exit_reason.ts";
import type { ChildSpec, RestartType, Shutdown } from "./child_spec.ts";
import type {
  ChildDetails,
  Supervisable,
  SupervisorTreeNode,
} from "./supervisable.ts";
import { SupervisorError } from "./supervisor_error.ts";

/**
 * Which children a {@linkcode Supervisor} restarts when one of them ends and
 * must be restarted (OTP's restart strategies):
 *
 * - `one_for_one`: only that child.
 * - `one_for_all`: it stops all the other children (in reverse start order),
 *   then starts them all again in start order.
 * - `rest_for_one`: it stops the children started after that one (in
 *   reverse order), then starts that child and them again in start order.
 *
 * @example Children that depend on each other restart together
 * ```ts
 * import { type Strategy, Supervisor } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const strategy: Strategy = "rest_for_one";
 * await using supervisor = new Supervisor({ strategy });
 * assert.equal(supervisor.inspect().strategy, "rest_for_one");
 * ```
 */
export type Strategy = "one_for_one" | "one_for_all" | "rest_for_one";

/**
 * Options for {@linkcode Supervisor}.
 *
 * @example At most 3 restarts in 10 seconds, with a fake clock for tests
 * ```ts
 * import { Supervisor, type SupervisorOptions } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * let time = 0;
 * const options: SupervisorOptions = {
 *   name: "jobs",
 *   strategy: "one_for_one",
 *   intensity: 3,
 *   period: 10_000,
 *   now: () => time,
 * };
 * await using supervisor = new Supervisor(options);
 * time += 1;
 * const tree = supervisor.inspect();
 * assert.equal(tree.name, "jobs");
 * assert.equal(tree.intensity, 3);
 * assert.equal(tree.period, 10_000);
 * ```
 */
export interface SupervisorOptions {
  /**
   * A name for events, errors and {@linkcode Supervisor.inspect}.
   *
   * @default {"supervisor"}
   */
  name?: string;
  /**
   * Which children to restart when one must be restarted.
   *
   * @default {"one_for_one"}
   */
  strategy?: Strategy;
  /**
   * The most restarts allowed within `period`; one more and the supervisor
   * gives up. A non-negative integer.
   *
   * @default {1}
   */
  intensity?: number;
  /**
   * The window, in milliseconds, in which restarts are counted. A positive
   * number.
   *
   * @default {5000}
   */
  period?: number;
  /**
   * The clock restarts are timed with, in milliseconds. Inject one in tests.
   *
   * @default {() => performance.now()}
   */
  now?: () => number;
  /**
   * Called synchronously with every event, in order; cheaper than
   * {@linkcode Supervisor.events} and it sees the events of
   * {@linkcode Supervisor.start}. What it throws is passed to
   * `reportError`.
   */
  onEvent?: (event: SupervisorEvent) => void;
}

/**
 * What happens in a {@linkcode Supervisor}, tagged by `type`:
 *
 * - `started`: a child started (also after each restart); `restarts` is how
 *   many times the supervisor restarted it so far.
 * - `exited`: a child ended, with why, whether or not the supervisor asked
 *   it to.
 * - `restarted`: the supervisor restarted a child; sent after its new
 *   incarnation started.
 * - `gave_up`: more than `intensity` restarts happened within `period`; the
 *   supervisor stops its children and ends.
 *
 * @example Counting restarts
 * ```ts
 * import { Supervisor, type SupervisorEvent } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const seen: SupervisorEvent[] = [];
 * const supervisor = await Supervisor.start({
 *   name: "app",
 *   onEvent: (event) => seen.push(event),
 *   children: [{ id: "inner", start: () => new Supervisor({ name: "inner" }) }],
 * });
 * await supervisor.close();
 * assert.deepEqual(seen.map((event) => event.type), ["started", "exited"]);
 * const exited = seen[1];
 * assert.ok(exited.type === "exited");
 * assert.equal(exited.reason.kind, "shutdown");
 * ```
 */
export type SupervisorEvent =
  | { type: "started"; supervisor: string; id: string; restarts: number }
  | { type: "exited"; supervisor: string; id: string; reason: ExitReason }
  | { type: "restarted"; supervisor: string; id: string; restarts: number }
  | {
    type: "gave_up";
    supervisor: string;
    restarts: number;
    intensity: number;
    period: number;
  };

/**
 * A snapshot of a {@linkcode Supervisor} and its children, from
 * {@linkcode Supervisor.inspect}. A child that supervises others lists its
 * own children in `details.children`.
 *
 * @example A nested tree
 * ```ts
 * import { Supervisor, type SupervisorTree } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * await using supervisor = await Supervisor.start({
 *   name: "app",
 *   children: [{
 *     id: "db",
 *     start: () =>
 *       Supervisor.start({
 *         name: "db",
 *         children: [{ id: "pool", start: () => new Supervisor() }],
 *       }),
 *   }],
 * });
 * const tree: SupervisorTree = supervisor.inspect();
 * assert.equal(tree.state, "running");
 * assert.equal(tree.children[0].id, "db");
 * assert.equal(tree.children[0].details.children?.[0].id, "pool");
 * ```
 */
export interface SupervisorTree {
  /** The supervisor's name. */
  name: string;
  /** Its restart strategy. */
  strategy: Strategy;
  /** Whether it runs, is stopping its children, or has ended. */
  state: "running" | "stopping" | "stopped";
  /** The restarts within the last `period`, the figure held to `intensity`. */
  restarts: number;
  /** The most restarts allowed within `period`. */
  intensity: number;
  /** The window restarts are counted in, in milliseconds. */
  period: number;
  /** Its children, in start order. */
  children: SupervisorTreeNode[];
}

const DEFAULT_SHUTDOWN = 5000;
const RESTART_TYPES: readonly RestartType[] = [
  "permanent",
  "transient",
  "temporary",
];
const STRATEGIES: readonly Strategy[] = [
  "one_for_one",
  "one_for_all",
  "rest_for_one",
];

/** One started child: it ends once, and the supervisor learns why. */
interface Incarnation {
  readonly child: Supervisable;
  readonly shutdown: Shutdown;
  /** Resolves after the supervisor has handled the child's exit. */
  readonly exit: Promise<ExitReason>;
  /** Whether the supervisor asked for the exit (so it never restarts). */
  expected: boolean;
}

/** A child spec and what the supervisor knows of the child. */
interface Entry {
  readonly spec: ChildSpec;
  readonly restart: RestartType;
  state: SupervisorTreeNode["state"];
  current: Incarnation | undefined;
  restarts: number;
}

/** A `start()` the supervisor is waiting for. */
interface PendingStart {
  readonly entry: Entry;
  readonly controller: AbortController;
  /** Resolves once the supervisor stopped waiting, however it ended. */
  readonly done: Promise<void>;
}

type Launch =
  | { ok: true; child: Supervisable }
  | { ok: false; error: unknown };

/**
 * Starts, monitors and restarts children, as an OTP supervisor: child specs
 * are data, children start in order (each start awaited before the next)
 * and stop in reverse order, a child that ends by itself is restarted
 * according to its {@linkcode RestartType} and the {@linkcode Strategy},
 * and more than `intensity` restarts within `period` ms make the supervisor
 * give up: it stops all its children and ends with
 * `{ kind: "crashed", error: SupervisorError }`, so that its own supervisor
 * (it is {@linkcode Supervisable} too) applies its rules in turn.
 *
 * Operations (`startChild`, `terminateChild`, `restartChild` and restarts)
 * run one at a time, in the order they were asked for, as in OTP's
 * single-process supervisor. A restart whose `start()` fails counts as a
 * restart and is tried again, until the intensity is exceeded.
 *
 * Where it departs from OTP:
 *
 * - Giving up ends the supervisor with `crashed` rather than OTP's
 *   `shutdown`, so that a `transient` parent spec restarts it.
 * - A child stopped with {@linkcode Supervisor.terminateChild} (or a
 *   `transient` child that ended normally) stays stopped when a sibling's
 *   crash makes `one_for_all` or `rest_for_one` restart the others; OTP
 *   would start it again.
 * - {@linkcode Supervisor.root} has no parent: when it gives up it stops its
 *   children, then runs again with none.
 * - `stop()` gives a `start()` still in progress the child's `shutdown`
 *   budget; after it (or at once on `kill()`) the supervisor stops waiting,
 *   and kills the child should it arrive later.
 *
 * @example A crashed child is restarted
 * ```ts
 * import { type ExitReason, type Supervisable, Supervisor } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * class Job implements Supervisable {
 *   readonly #exit = Promise.withResolvers<ExitReason>();
 *   readonly exited: Promise<ExitReason> = this.#exit.promise;
 *   crash(error: Error): void {
 *     this.#exit.resolve({ kind: "crashed", error });
 *   }
 *   stop(): void {
 *     this.#exit.resolve({ kind: "shutdown" });
 *   }
 *   kill(): void {
 *     this.#exit.resolve({ kind: "killed" });
 *   }
 * }
 *
 * const restarted = Promise.withResolvers<void>();
 * await using supervisor = await Supervisor.start({
 *   name: "app",
 *   onEvent: (event) => {
 *     if (event.type === "restarted") restarted.resolve();
 *   },
 *   children: [{ id: "job", start: () => new Job() }],
 * });
 * const first = supervisor.child("job") as Job;
 * first.crash(new Error("boom"));
 * await restarted.promise;
 * assert.notEqual(supervisor.child("job"), first);
 * assert.equal(supervisor.inspect().children[0].restarts, 1);
 * ```
 */
export class Supervisor implements Supervisable, AsyncDisposable {
  static #root: Supervisor | undefined;

  readonly #name: string;
  readonly #strategy: Strategy;
  readonly #intensity: number;
  readonly #period: number;
  readonly #now: () => number;
  readonly #onEvent: ((event: SupervisorEvent) => void) | undefined;
  readonly #exited = Promise.withResolvers<ExitReason>();
  readonly #feeds = new Set<EventFeed>();
  #isRoot = false;
  #entries: Entry[] = [];
  #restartTimes: number[] = [];
  #state: SupervisorTree["state"] = "running";
  /** Set once stop, kill or giving up began; operations then refuse. */
  #ending = false;
  #killed = false;
  /** The end of the operation queue. */
  #tail: Promise<void> = Promise.resolve();
  #pending: PendingStart | undefined;

  /**
   * Creates a running supervisor with no children.
   *
   * @param options Its name, strategy, restart intensity and clock.
   * @throws {RangeError} When an option is out of range.
   */
  constructor(options: SupervisorOptions = {}) {
    const {
      name = "supervisor",
      strategy = "one_for_one",
      intensity = 1,
      period = 5000,
      now = () => performance.now(),
      onEvent,
    } = options;
    if (!STRATEGIES.includes(strategy)) {
      throw new RangeError(
        `Cannot create supervisor "${name}": "strategy" must be one of ${
          STRATEGIES.join(", ")
        }, got "${strategy}"; pick one of them`,
      );
    }
    if (!Number.isSafeInteger(intensity) || intensity < 0) {
      throw new RangeError(
        `Cannot create supervisor "${name}": "intensity" must be a non-negative integer, got ${intensity}; pass 0 or more`,
      );
    }
    if (!Number.isFinite(period) || period <= 0) {
      throw new RangeError(
        `Cannot create supervisor "${name}": "period" must be a positive number of milliseconds, got ${period}; pass more than 0`,
      );
    }
    if (typeof now !== "function") {
      throw new RangeError(
        `Cannot create supervisor "${name}": "now" must be a function, got ${typeof now}; pass a clock such as () => performance.now()`,
      );
    }
    this.#name = name;
    this.#strategy = strategy;
    this.#intensity = intensity;
    this.#period = period;
    this.#now = now;
    this.#onEvent = onEvent;
  }

  /**
   * Creates a supervisor and starts its children in order, each start
   * awaited before the next. When one fails, those already started are
   * stopped in reverse order.
   *
   * @example
   * ```ts
   * import { Supervisor, SupervisorError } from "@isolates/isolates";
   * import assert from "node:assert/strict";
   *
   * const failure = new Error("no database");
   * await assert.rejects(
   *   Supervisor.start({
   *     name: "app",
   *     children: [
   *       { id: "cache", start: () => new Supervisor() },
   *       { id: "db", start: () => { throw failure; } },
   *     ],
   *   }),
   *   (error: unknown) => error instanceof SupervisorError && error.cause === failure,
   * );
   * ```
   *
   * @param options The supervisor's options and its `children`.
   * @returns The running supervisor.
   * @throws {RangeError} When an option or a child spec is out of range.
   * @throws {SupervisorError} When two children share an id, or a child
   * fails to start (`cause` is the failure; the message names the child).
   */
  static async start(
    options: SupervisorOptions & { children?: ChildSpec[] } = {},
  ): Promise<Supervisor> {
    const { children = [], ...rest } = options;
    const supervisor = new Supervisor(rest);
    const name = supervisor.#name;
    const specs = children.map((spec) => checkSpec(spec, name));
    const ids = new Set<string>();
    for (const spec of specs) {
      if (ids.has(spec.id)) {
        throw new SupervisorError(
          name,
          `Cannot start supervisor "${name}": child id "${spec.id}" appears twice; give each child its own id`,
        );
      }
      ids.add(spec.id);
    }
    for (const spec of specs) {
      let launch: Launch;
      try {
        launch = await supervisor.#startNew(spec);
      } catch (error) {
        await supervisor.close();
        throw error;
      }
      if (!launch.ok) {
        await supervisor.close();
        throw new SupervisorError(
          name,
          `Cannot start supervisor "${name}": child "${spec.id}" failed to start; see the cause`,
          { cause: launch.error },
        );
      }
    }
    return supervisor;
  }

  /**
   * The realm's root supervisor: `one_for_one`, intensity 3 in 5000 ms,
   * created on first use. Having no parent, when it gives up it stops its
   * children, sends `gave_up` and runs again with no children. Once it is
   * stopped or killed, the next access creates a new root.
   *
   * @example
   * ```ts
   * import { Supervisor } from "@isolates/isolates";
   * import assert from "node:assert/strict";
   *
   * assert.equal(Supervisor.root, Supervisor.root);
   * assert.equal(Supervisor.root.inspect().name, "root");
   * assert.equal(Supervisor.root.inspect().intensity, 3);
   * ```
   */
  static get root(): Supervisor {
    let root = Supervisor.#root;
    if (root === undefined) {
      root = new Supervisor({
        name: "root",
        strategy: "one_for_one",
        intensity: 3,
        period: 5000,
      });
      root.#isRoot = true;
      Supervisor.#root = root;
    }
    return root;
  }

  /** The supervisor's name. */
  get name(): string {
    return this.#name;
  }

  /** Resolves once, when the supervisor has ended, with why. Never rejects. */
  get exited(): Promise<ExitReason> {
    return this.#exited.promise;
  }

  /** The ids of its children, stopped ones included, in start order. */
  get children(): readonly string[] {
    return this.#entries.map((entry) => entry.spec.id);
  }

  /**
   * The current incarnation of a child.
   *
   * @param id The child's id.
   * @returns The child, or `undefined` when there is no such child or it is
   * not running (stopped, or between a crash and its restart).
   */
  child(id: string): Supervisable | undefined {
    return this.#find(id)?.current?.child;
  }

  /**
   * Starts a child and adds its spec at the end of the start order.
   *
   * @example
   * ```ts
   * import { Supervisor, SupervisorError } from "@isolates/isolates";
   * import assert from "node:assert/strict";
   *
   * await using supervisor = new Supervisor();
   * const child = await supervisor.startChild({ id: "a", start: () => new Supervisor() });
   * assert.equal(supervisor.child("a"), child);
   * await assert.rejects(
   *   supervisor.startChild({ id: "a", start: () => new Supervisor() }),
   *   SupervisorError,
   * );
   * ```
   *
   * @param spec The child spec.
   * @returns The started child.
   * @throws {RangeError} When the spec is out of range.
   * @throws {SupervisorError} When the id is taken, the supervisor is
   * stopping, or the child fails to start (`cause` is the failure, and the
   * spec is not kept).
   */
  async startChild(spec: ChildSpec): Promise<Supervisable> {
    const checked = checkSpec(spec, this.#name);
    const launch = await this.#startNew(checked);
    if (launch.ok) return launch.child;
    throw new SupervisorError(
      this.#name,
      `Cannot start child "${checked.id}": its start() failed in supervisor "${this.#name}"; see the cause`,
      { cause: launch.error },
    );
  }

  /**
   * Stops a child according to its `shutdown` and keeps its spec, stopped
   * (a `temporary` child's spec is removed, as in OTP). Its exit is not
   * restarted. Resolves at once for a child already stopped.
   *
   * @param id The child's id.
   * @returns Once the child has ended.
   * @throws {SupervisorError} When there is no such child, or the
   * supervisor is stopping.
   */
  terminateChild(id: string): Promise<void> {
    return this.#enqueue(async () => {
      this.#assertRunning(`terminate child "${id}"`);
      const entry = this.#get(id, "terminate");
      if (entry.current !== undefined) await this.#terminate(entry);
      entry.state = "stopped";
      if (entry.restart === "temporary") this.#remove(entry);
    });
  }

  /**
   * Starts a stopped child again from its spec. This is not a restart: it
   * counts neither against the intensity nor in the child's `restarts`.
   *
   * @param id The child's id.
   * @returns The new incarnation.
   * @throws {SupervisorError} When there is no such child, it is not
   * stopped, the supervisor is stopping, or the start fails (`cause`).
   */
  restartChild(id: string): Promise<Supervisable> {
    return this.#enqueue(async () => {
      this.#assertRunning(`restart child "${id}"`);
      const entry = this.#get(id, "restart");
      if (entry.state !== "stopped") {
        throw new SupervisorError(
          this.#name,
          `Cannot restart child "${id}": it is ${entry.state}; call terminateChild() first`,
        );
      }
      const launch = await this.#launch(entry);
      if (!launch.ok) {
        entry.state = "stopped";
        throw new SupervisorError(
          this.#name,
          `Cannot restart child "${id}": its start() failed in supervisor "${this.#name}"; see the cause`,
          { cause: launch.error },
        );
      }
      this.#started(entry);
      return launch.child;
    });
  }

  /**
   * Removes the spec of a stopped child.
   *
   * @param id The child's id.
   * @throws {SupervisorError} When there is no such child or it is not
   * stopped.
   */
  deleteChild(id: string): void {
    const entry = this.#get(id, "delete");
    if (entry.state !== "stopped") {
      throw new SupervisorError(
        this.#name,
        `Cannot delete child "${id}": it is ${entry.state}; call terminateChild() first`,
      );
    }
    this.#remove(entry);
  }

  /**
   * A snapshot of the supervisor and its children, nested supervisors
   * included.
   *
   * @returns The tree.
   */
  inspect(): SupervisorTree {
    const threshold = this.#now() - this.#period;
    return {
      name: this.#name,
      strategy: this.#strategy,
      state: this.#state,
      restarts: this.#restartTimes.filter((time) => time >= threshold).length,
      intensity: this.#intensity,
      period: this.#period,
      children: this.#nodes(),
    };
  }

  /**
   * What the supervisor reports as a child of another: its children.
   *
   * @returns `{ children }`, as in {@linkcode Supervisor.inspect}.
   */
  describe(): ChildDetails {
    return { children: this.#nodes() };
  }

  /**
   * The supervisor's events from now on, buffered for this iterator until it
   * takes them. Iteration ends once the supervisor has ended (after the
   * remaining events) or on `return()` (leaving a `for await` loop); when
   * `signal` aborts, the next `next()` rejects with its reason and the
   * iteration is over. Either way the iterator unsubscribes.
   *
   * @example
   * ```ts
   * import { Supervisor } from "@isolates/isolates";
   * import assert from "node:assert/strict";
   *
   * const supervisor = new Supervisor();
   * const events = supervisor.events();
   * await supervisor.startChild({ id: "a", start: () => new Supervisor() });
   * supervisor.stop();
   * const types: string[] = [];
   * for await (const event of events) types.push(event.type);
   * assert.deepEqual(types, ["started", "exited"]);
   * ```
   *
   * @param options `signal` ends the iteration.
   * @returns An iterator of the events.
   */
  events(
    options: { signal?: AbortSignal } = {},
  ): AsyncIterableIterator<SupervisorEvent> {
    const feed = new EventFeed(
      options.signal,
      () => this.#feeds.delete(feed),
    );
    if (this.#state === "stopped") feed.end();
    else if (feed.listening) this.#feeds.add(feed);
    return feed;
  }

  /**
   * Stops the children in reverse start order, each according to its
   * `shutdown`, then ends with `{ kind: "shutdown" }`. Idempotent.
   */
  stop(): void {
    if (this.#ending) return;
    this.#ending = true;
    this.#state = "stopping";
    if (Supervisor.#root === this) Supervisor.#root = undefined;
    void this.#shutdown();
  }

  /**
   * Kills every child at once and ends with `{ kind: "killed" }` once they
   * have ended; a `start()` in progress is abandoned (its child is killed
   * should it arrive). Idempotent.
   */
  kill(): void {
    if (this.#killed || this.#state === "stopped") return;
    this.#killed = true;
    this.#ending = true;
    this.#state = "stopping";
    if (Supervisor.#root === this) Supervisor.#root = undefined;
    const pending = this.#pending;
    pending?.controller.abort(
      new SupervisorError(
        this.#name,
        `Cannot start child "${pending.entry.spec.id}": supervisor "${this.#name}" was killed meanwhile; start it in a running supervisor`,
      ),
    );
    const exits: Promise<ExitReason>[] = [];
    for (const entry of this.#entries.toReversed()) {
      const incarnation = entry.current;
      if (incarnation === undefined) continue;
      incarnation.expected = true;
      entry.state = "stopping";
      killChild(incarnation.child);
      exits.push(incarnation.exit);
    }
    void Promise.all(exits).then(() => this.#finish({ kind: "killed" }));
  }

  /**
   * Stops the supervisor (see {@linkcode Supervisor.stop}) and waits until
   * it has ended. Idempotent.
   *
   * @returns Once the supervisor has ended.
   */
  async close(): Promise<void> {
    this.stop();
    await this.#exited.promise;
  }

  /**
   * Calls {@linkcode Supervisor.close}, for `await using`.
   *
   * @returns Once the supervisor has ended.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #enqueue<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(operation);
    this.#tail = result.then(ignore, ignore);
    return result;
  }

  async #drain(): Promise<void> {
    let tail: Promise<void>;
    do {
      tail = this.#tail;
      await tail;
    } while (tail !== this.#tail);
  }

  #assertRunning(action: string): void {
    if (!this.#ending) return;
    const state = this.#state === "stopped" ? "has stopped" : "is stopping";
    throw new SupervisorError(
      this.#name,
      `Cannot ${action}: supervisor "${this.#name}" ${state}; use a running supervisor`,
    );
  }

  #find(id: string): Entry | undefined {
    return this.#entries.find((entry) => entry.spec.id === id);
  }

  #get(id: string, action: string): Entry {
    const entry = this.#find(id);
    if (entry !== undefined) return entry;
    throw new SupervisorError(
      this.#name,
      `Cannot ${action} child "${id}": supervisor "${this.#name}" has no such child; check its children`,
    );
  }

  #remove(entry: Entry): void {
    const index = this.#entries.indexOf(entry);
    if (index !== -1) this.#entries.splice(index, 1);
  }

  #nodes(): SupervisorTreeNode[] {
    return this.#entries.map((entry) => ({
      id: entry.spec.id,
      state: entry.state,
      restart: entry.restart,
      restarts: entry.restarts,
      details: describeChild(entry.current?.child),
    }));
  }

  #emit(event: SupervisorEvent): void {
    if (this.#onEvent !== undefined) {
      try {
        this.#onEvent(event);
      } catch (error) {
        reportError(error);
      }
    }
    for (const feed of this.#feeds) feed.push(event);
  }

  #started(entry: Entry): void {
    this.#emit({
      type: "started",
      supervisor: this.#name,
      id: entry.spec.id,
      restarts: entry.restarts,
    });
  }

  #startNew(spec: ChildSpec): Promise<Launch> {
    return this.#enqueue(async () => {
      this.#assertRunning(`start child "${spec.id}"`);
      if (this.#find(spec.id) !== undefined) {
        throw new SupervisorError(
          this.#name,
          `Cannot start child "${spec.id}": supervisor "${this.#name}" already has a child with this id; pick another id or delete that child first`,
        );
      }
      const entry: Entry = {
        spec,
        restart: spec.restart ?? "permanent",
        state: "starting",
        current: undefined,
        restarts: 0,
      };
      this.#entries.push(entry);
      let launch: Launch;
      try {
        launch = await this.#launch(entry);
      } catch (error) {
        this.#remove(entry);
        throw error;
      }
      if (launch.ok) this.#started(entry);
      else this.#remove(entry);
      return launch;
    });
  }

  /**
   * Calls the spec's `start()` and monitors the child it gives. A failed
   * start is a result; refusing (stopping, killed) throws.
   */
  async #launch(entry: Entry): Promise<Launch> {
    const id = entry.spec.id;
    this.#assertRunning(`start child "${id}"`);
    entry.state = "starting";
    let started: Promise<Supervisable>;
    try {
      started = Promise.resolve(entry.spec.start());
    } catch (error) {
      started = Promise.reject(error);
    }
    const outcome = started.then(
      (child): Launch =>
        isSupervisable(child) ? { ok: true, child } : {
          ok: false,
          error: new TypeError(
            `Cannot supervise child "${id}": its start() gave no Supervisable; return an object with exited, stop() and kill()`,
          ),
        },
      (error: unknown): Launch => ({ ok: false, error }),
    );
    const done = Promise.withResolvers<void>();
    const pending: PendingStart = {
      entry,
      controller: new AbortController(),
      done: done.promise,
    };
    this.#pending = pending;
    let launch: Launch;
    try {
      launch = await abortable(outcome, pending.controller.signal);
    } catch (reason) {
      // Abandoned: whatever arrives later must not outlive the supervisor.
      void outcome.then((late) => {
        if (late.ok) killChild(late.child);
      });
      throw reason;
    } finally {
      if (this.#pending === pending) this.#pending = undefined;
      done.resolve();
    }
    if (!launch.ok) return launch;
    if (this.#killed) {
      killChild(launch.child);
      this.#assertRunning(`start child "${id}"`);
    }
    this.#monitor(entry, launch.child);
    entry.state = "running";
    return launch;
  }

  #monitor(entry: Entry, child: Supervisable): void {
    const exit = Promise.withResolvers<ExitReason>();
    const incarnation: Incarnation = {
      child,
      shutdown: entry.spec.shutdown ??
        (child instanceof Supervisor ? "infinity" : DEFAULT_SHUTDOWN),
      exit: exit.promise,
      expected: false,
    };
    entry.current = incarnation;
    let exited: Promise<ExitReason>;
    try {
      exited = Promise.resolve(child.exited);
    } catch (error) {
      exited = Promise.resolve({ kind: "crashed", error });
    }
    void exited
      .then(
        (reason) => reason,
        (error: unknown): ExitReason => ({ kind: "crashed", error }),
      )
      .then((reason) => {
        this.#onExit(entry, incarnation, reason);
        exit.resolve(reason);
      });
  }

  #onExit(entry: Entry, incarnation: Incarnation, reason: ExitReason): void {
    if (entry.current === incarnation) entry.current = undefined;
    const event: SupervisorEvent = {
      type: "exited",
      supervisor: this.#name,
      id: entry.spec.id,
      reason,
    };
    if (incarnation.expected || this.#state !== "running") {
      if (entry.current === undefined) entry.state = "stopped";
      this.#emit(event);
      return;
    }
    if (entry.restart === "temporary") {
      entry.state = "stopped";
      this.#remove(entry);
    } else if (entry.restart === "transient" && !isAbnormal(reason)) {
      entry.state = "stopped";
    } else {
      entry.state = "restarting";
      void this.#enqueue(() => this.#recover(entry));
    }
    this.#emit(event);
  }

  /**
   * Restarts `failed` and the siblings its strategy names, counting one
   * restart; a start that fails is retried as a new restart of that child.
   */
  async #recover(failed: Entry): Promise<void> {
    if (
      this.#ending || failed.state !== "restarting" ||
      !this.#entries.includes(failed)
    ) return;
    if (!this.#countRestart()) return await this.#giveUp();
    const index = this.#entries.indexOf(failed);
    const group = this.#strategy === "one_for_one"
      ? [failed]
      : this.#strategy === "rest_for_one"
      ? this.#entries.slice(index)
      : [...this.#entries];
    for (const entry of group.toReversed()) {
      if (entry === failed || entry.current === undefined) continue;
      const reason = await this.#terminate(entry);
      if (this.#ending) return;
      if (entry.restart === "temporary") this.#remove(entry);
      else if (entry.restart === "transient" && reason?.kind === "normal") {
        // It had ended normally on its own, a moment before it was told to
        // stop (a supervisor's stop ends in shutdown or killed, never
        // normal): a transient child that finished stays stopped.
        entry.state = "stopped";
      } else entry.state = "restarting";
    }
    for (const entry of group) {
      if (entry.state !== "restarting" || !this.#entries.includes(entry)) {
        continue;
      }
      let launch: Launch;
      try {
        launch = await this.#launch(entry);
      } catch {
        return; // The supervisor is stopping; it stops what started.
      }
      if (!launch.ok) {
        entry.state = "restarting";
        void this.#enqueue(() => this.#recover(entry));
        return;
      }
      entry.restarts++;
      this.#started(entry);
      this.#emit({
        type: "restarted",
        supervisor: this.#name,
        id: entry.spec.id,
        restarts: entry.restarts,
      });
    }
  }

  /** Records a restart; whether it stays within the intensity. */
  #countRestart(): boolean {
    const now = this.#now();
    const threshold = now - this.#period;
    this.#restartTimes = this.#restartTimes.filter((time) => time >= threshold);
    this.#restartTimes.push(now);
    return this.#restartTimes.length <= this.#intensity;
  }

  async #giveUp(): Promise<void> {
    const restarts = this.#restartTimes.length;
    this.#emit({
      type: "gave_up",
      supervisor: this.#name,
      restarts,
      intensity: this.#intensity,
      period: this.#period,
    });
    if (this.#isRoot) {
      // The root has no parent to escalate to: it clears its children and
      // carries on, so the realm keeps a root supervisor.
      this.#state = "stopping";
      await this.#terminateAll();
      this.#entries = [];
      this.#restartTimes = [];
      if (!this.#ending) this.#state = "running";
      return;
    }
    this.#ending = true;
    this.#state = "stopping";
    const error = new SupervisorError(
      this.#name,
      `Cannot keep the children of supervisor "${this.#name}" running: ${restarts} restarts within ${this.#period} ms exceed its intensity of ${this.#intensity}; fix the failing child, or raise "intensity" or lower "period"`,
    );
    await this.#terminateAll();
    this.#finish({ kind: "crashed", error });
  }

  async #shutdown(): Promise<void> {
    const pending = this.#pending;
    if (pending !== undefined) {
      const budget = pending.entry.spec.shutdown ?? DEFAULT_SHUTDOWN;
      if (
        budget === "brutal_kill" ||
        (budget !== "infinity" && !await within(pending.done, budget))
      ) {
        pending.controller.abort(
          new SupervisorError(
            this.#name,
            `Cannot start child "${pending.entry.spec.id}": supervisor "${this.#name}" stopped while it was starting; start it in a running supervisor`,
          ),
        );
      }
    }
    await this.#drain();
    await this.#terminateAll();
    this.#finish({ kind: "shutdown" });
  }

  async #terminateAll(): Promise<void> {
    for (const entry of this.#entries.toReversed()) {
      if (entry.current !== undefined) await this.#terminate(entry);
      entry.state = "stopped";
    }
  }

  /**
   * Ends a child according to its shutdown; its exit is not restarted.
   * Resolves with how it ended.
   */
  async #terminate(entry: Entry): Promise<ExitReason | undefined> {
    const incarnation = entry.current;
    if (incarnation === undefined) return undefined;
    incarnation.expected = true;
    entry.state = "stopping";
    const { child, shutdown } = incarnation;
    if (shutdown === "brutal_kill") {
      killChild(child);
    } else {
      try {
        child.stop();
      } catch {
        killChild(child);
      }
      if (
        shutdown !== "infinity" && !await within(incarnation.exit, shutdown)
      ) {
        killChild(child);
      }
    }
    return await incarnation.exit;
  }

  #finish(reason: ExitReason): void {
    if (this.#state === "stopped") return;
    this.#ending = true;
    this.#state = "stopped";
    if (Supervisor.#root === this) Supervisor.#root = undefined;
    this.#exited.resolve(this.#killed ? { kind: "killed" } : reason);
    for (const feed of this.#feeds) feed.end();
    this.#feeds.clear();
  }
}

/**
 * One subscriber's view of the events: a buffer, the `next()` calls waiting
 * on it, and the way out (supervisor ended, `return()`, abort).
 */
class EventFeed implements AsyncIterableIterator<SupervisorEvent> {
  readonly #signal: AbortSignal | undefined;
  readonly #detach: () => void;
  #buffer: SupervisorEvent[] = [];
  #waiters: PromiseWithResolvers<IteratorResult<SupervisorEvent>>[] = [];
  #ended = false;
  #failure: { reason: unknown } | undefined;

  constructor(signal: AbortSignal | undefined, detach: () => void) {
    this.#signal = signal;
    this.#detach = detach;
    if (signal?.aborted) {
      this.#ended = true;
      this.#failure = { reason: signal.reason };
      return;
    }
    signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Whether it should be attached to the supervisor. */
  get listening(): boolean {
    return !this.#ended;
  }

  push(event: SupervisorEvent): void {
    if (this.#ended) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve({ value: event, done: false });
    else this.#buffer.push(event);
  }

  /** The supervisor ended: deliver what is buffered, then finish. */
  end(): void {
    if (this.#ended) return;
    this.#close();
    for (const waiter of this.#waiters.splice(0)) {
      waiter.resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<SupervisorEvent>> {
    const event = this.#buffer.shift();
    if (event !== undefined) {
      return Promise.resolve({ value: event, done: false });
    }
    const failure = this.#failure;
    if (failure !== undefined) {
      this.#failure = undefined;
      return Promise.reject(failure.reason);
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    const waiter = Promise.withResolvers<IteratorResult<SupervisorEvent>>();
    this.#waiters.push(waiter);
    return waiter.promise;
  }

  return(): Promise<IteratorResult<SupervisorEvent>> {
    this.#close();
    this.#buffer = [];
    this.#failure = undefined;
    for (const waiter of this.#waiters.splice(0)) {
      waiter.resolve({ value: undefined, done: true });
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<SupervisorEvent> {
    return this;
  }

  #onAbort = (): void => {
    if (this.#ended) return;
    this.#close();
    this.#buffer = [];
    const reason = this.#signal?.reason;
    const waiters = this.#waiters.splice(0);
    if (waiters.length === 0) this.#failure = { reason };
    for (const waiter of waiters) waiter.reject(reason);
  };

  #close(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#detach();
  }
}

function checkSpec(spec: ChildSpec, supervisor: string): ChildSpec {
  const { id, start, restart, shutdown } = spec;
  if (typeof id !== "string" || id === "") {
    throw new RangeError(
      `Cannot start child of supervisor "${supervisor}": "id" must be a non-empty string, got ${
        JSON.stringify(id)
      }; name the child`,
    );
  }
  if (typeof start !== "function") {
    throw new RangeError(
      `Cannot start child "${id}": "start" must be a function, got ${typeof start}; pass a factory of the child`,
    );
  }
  if (restart !== undefined && !RESTART_TYPES.includes(restart)) {
    throw new RangeError(
      `Cannot start child "${id}": "restart" must be one of ${
        RESTART_TYPES.join(", ")
      }, got "${restart}"; pick one of them`,
    );
  }
  if (
    shutdown !== undefined && shutdown !== "brutal_kill" &&
    shutdown !== "infinity" &&
    (typeof shutdown !== "number" || !Number.isSafeInteger(shutdown) ||
      shutdown < 0)
  ) {
    throw new RangeError(
      `Cannot start child "${id}": "shutdown" must be a non-negative integer of milliseconds, "brutal_kill" or "infinity", got ${
        JSON.stringify(shutdown)
      }; pass one of them`,
    );
  }
  return { ...spec };
}

function isSupervisable(value: unknown): value is Supervisable {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<Supervisable>;
  return typeof candidate.stop === "function" &&
    typeof candidate.kill === "function" && "exited" in candidate;
}

function describeChild(child: Supervisable | undefined): ChildDetails {
  try {
    return child?.describe?.() ?? {};
  } catch {
    return {};
  }
}

function killChild(child: Supervisable): void {
  try {
    child.kill();
  } catch {
    // A kill() that throws broke its contract; there is nothing stronger.
  }
}

function ignore(): void {}

/** Settles as `promise`, or rejects with the reason once `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** Whether `promise` settles within `ms`; the timer is always cleared. */
function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const settle = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    promise.then(settle, settle);
  });
}
