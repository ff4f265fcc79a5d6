import { TimeoutError } from "../errors/timeout_error.ts";
import type { ExitReason } from "../isolate/exit_reason.ts";
import {
  type Isolate,
  type PoolWorkerLink,
  startPoolWorker,
} from "../isolate/isolate.ts";
import { IsolateExitedError } from "../isolate/isolate_exited_error.ts";
import { RemoteError } from "../isolate/remote_error.ts";
import { RootIsolateToken } from "../isolate/root_isolate_token.ts";
import { assertWorkerOptions } from "../isolate/_worker_options.ts";
import type { TaskAnswer } from "../isolate/_runtime.ts";
import { encodeRefs, reviveRefs } from "../isolate/_message_refs.ts";
import { MailboxFullError } from "../errors/mailbox_full_error.ts";
import { PoolClosedError } from "./pool_closed_error.ts";
import type { PoolTransport } from "./pool_transport.ts";
import { Supervisor } from "./supervisor.ts";
import type {
  ChildDetails,
  Supervisable,
  SupervisorTreeNode,
} from "./supervisable.ts";

/**
 * A task a pool runs, in the forms of `Isolate.run`:
 *
 * - a self-contained function `(input, signal) => result`: its source is
 *   sent once to each worker, so it cannot use variables or imports from
 *   the enclosing scope;
 * - a module, as a URL (its default export) or `{ module, exportName }`: its
 *   export is called as `(input, signal)`.
 *
 * `signal` is the task's own AbortSignal inside the worker: it aborts when
 * the caller aborts or the task times out.
 *
 * @example The two forms
 * ```ts
 * import { IsolatePool, type PoolTask } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const square: PoolTask<number, number> = (n) => n * n;
 * const tasks = "data:text/javascript,export const cube = (n) => n * n * n;";
 * const cube: PoolTask<number, number> = { module: tasks, exportName: "cube" };
 *
 * await using pool = new IsolatePool({ size: 1 });
 * assert.equal(await pool.run(square, 4), 16);
 * assert.equal(await pool.run(cube, 2), 8);
 * ```
 */
export type PoolTask<I = unknown, R = unknown> =
  | ((input: I, signal: AbortSignal) => R | Promise<R>)
  | URL
  | string
  | { module: URL | string; exportName?: string };

/**
 * Options of {@linkcode IsolatePool}.
 *
 * @example A pool that grows from 1 to 4 workers and recycles them
 * ```ts
 * import { IsolatePool, type IsolatePoolOptions } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const options: IsolatePoolOptions = {
 *   name: "images",
 *   min: 1,
 *   max: 4,
 *   idleTimeout: 5_000,
 *   maxTasksPerWorker: 1_000,
 * };
 * await using pool = new IsolatePool(options);
 * assert.equal(await pool.run((n: number) => n + 1, 1), 2);
 * ```
 */
export interface IsolatePoolOptions {
  /**
   * The pool's name, in errors, worker names and the supervision tree.
   *
   * @default {"pool"}
   */
  name?: string;
  /**
   * A fixed number of workers (sets both `min` and `max`).
   *
   * @default {navigator.hardwareConcurrency}
   */
  size?: number;
  /**
   * Workers kept even when idle, started at once.
   *
   * @default {size, or 1 when only max is given}
   */
  min?: number;
  /**
   * Most workers at once; workers past `min` start when tasks queue.
   *
   * @default {size, or navigator.hardwareConcurrency}
   */
  max?: number;
  /**
   * How long a worker past `min` may stay idle before it ends, in ms.
   *
   * @default {10000}
   */
  idleTimeout?: number;
  /**
   * Tasks a worker runs before it is replaced by a fresh one (recycling
   * bounds what a leaky task can accumulate).
   *
   * @default {Infinity}
   */
  maxTasksPerWorker?: number;
  /**
   * Most tasks waiting in the queue. Past it, `run` rejects at once with
   * `MailboxFullError`.
   *
   * @default {1000000}
   */
  maxQueue?: number;
  /**
   * How long a running task may ignore its abort (or timeout) before its
   * worker is terminated and replaced, in ms. Other tasks are not
   * disturbed: those sent to that worker but not started go back to the
   * queue.
   *
   * @default {1000}
   */
  abortGrace?: number;
  /**
   * Tasks sent ahead to a busy worker. More hides the round trip of tiny
   * tasks; fewer lets later high-priority tasks overtake.
   *
   * @default {32}
   */
  prefetch?: number;
  /**
   * Worker crashes tolerated within `period` before the pool gives up
   * (rejects what is queued and ends, crashed), as a supervisor's restart
   * intensity.
   *
   * @default {10}
   */
  intensity?: number;
  /**
   * The window of `intensity`, in ms.
   *
   * @default {5000}
   */
  period?: number;
  /**
   * A narrower Deno permission set for the workers (a sandbox); needs
   * `--unstable-worker-options`. Plugins proxied to the main thread still
   * work from a sandboxed worker.
   *
   * @default {"inherit"}
   */
  permissions?: Deno.PermissionOptions;
  /**
   * The root token the workers register with, so tasks can use plugins
   * without calling `ensureInitialized`; `null` for none.
   *
   * @default {RootIsolateToken.instance}
   */
  token?: RootIsolateToken | null;
  /**
   * Where tasks go beyond the pool's own workers (other processes or
   * machines, e.g. `NatsTransport` from `@isolates/isolates/nats`). Local
   * workers take tasks first; the transport takes what they cannot, up to
   * its `capacity`. With a transport, `size` may be 0: every task is
   * remote. A task with ports or transfers in its input stays local.
   */
  transport?: PoolTransport;
}

/**
 * Options of {@linkcode IsolatePool.run}.
 *
 * @example A cancellable, time-limited, urgent task
 * ```ts
 * import { IsolatePool, type PoolRunOptions } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * await using pool = new IsolatePool({ size: 1 });
 * const controller = new AbortController();
 * const options: PoolRunOptions = {
 *   signal: controller.signal,
 *   timeout: 10_000,
 *   priority: 10,
 * };
 * assert.equal(await pool.run((s: string) => s.toUpperCase(), "ok", options), "OK");
 * ```
 */
export interface PoolRunOptions {
  /** Aborts the task: it leaves the queue, or its worker signal aborts. */
  signal?: AbortSignal;
  /** Fails the task with `TimeoutError` after this many ms (then as abort). */
  timeout?: number;
  /**
   * Higher runs first; equal priorities run in submission order.
   *
   * @default {0}
   */
  priority?: number;
  /** Objects in `input` to transfer instead of copy (ArrayBuffers…). */
  transfer?: Transferable[];
}

interface Job {
  readonly id: number;
  readonly task: number;
  readonly payload: unknown;
  readonly refs: boolean;
  readonly transfer: Transferable[] | undefined;
  readonly priority: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** The worker it was sent to, while it is there. */
  slot: Slot | null;
  /** Aborts it on the transport, while the transport holds it. */
  remote: AbortController | null;
  /** Whether it waits in the queue. */
  queued: boolean;
  /** When it was sent to its worker. */
  sentAt: number;
  /** Whether it was not known to be short when sent. */
  long: boolean;
  settled: boolean;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | null;
  timer: ReturnType<typeof setTimeout> | null;
  graceTimer: ReturnType<typeof setTimeout> | null;
}

interface Definition {
  readonly entry: string | null;
  readonly exportName: string;
  readonly source: string | null;
  /** A running average of its time on a worker, in ms (Infinity: unknown). */
  cost: number;
}

/** Tasks measured shorter than this are sent ahead to busy workers. */
const SHORT_TASK_MS = 1;

/** One worker of the pool. */
interface Slot {
  readonly link: PoolWorkerLink;
  readonly isolate: Isolate;
  /** Jobs sent and not answered, oldest first: the oldest is running. */
  readonly outstanding: Job[];
  readonly defined: Set<number>;
  ready: boolean;
  retiring: boolean;
  tasksDone: number;
  busySince: number;
  busyTotal: number;
  /** When its last answer arrived. */
  answeredAt: number;
  /** Unanswered tasks not known to be short: nothing is sent behind them. */
  longs: number;
  /** The pump round that last sent to it. */
  filledIn: number;
  idleTimer: ReturnType<typeof setTimeout> | null;
}

const FIRST_PRIORITY = 0;
let poolCount = 0;

/**
 * A pool of supervised isolates running tasks, as `Isolate.run` does but
 * with warm workers: a priority queue with a bound, cancellation that asks
 * first and then forces, per-task timeouts, idle shutdown of extra workers,
 * recycling, and a graceful {@linkcode IsolatePool.close}.
 *
 * Every task settles: with its result, its error (a `RemoteError` with the
 * worker's stack), `TimeoutError`, the abort reason, `IsolateExitedError`
 * when its worker died under it, or `PoolClosedError`. Aborting one task
 * never disturbs another. A crashed worker is replaced (restart intensity
 * `intensity` per `period`). Workers get the root token, so tasks can use
 * plugins. The pool keeps the process alive until it is closed: use
 * `await using`, or call `close()`.
 *
 * @example Spread work over two workers
 * ```ts
 * import { IsolatePool } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * await using pool = new IsolatePool({ size: 2 });
 * const fib = (n: number): number => {
 *   const f = (k: number): number => (k < 2 ? k : f(k - 1) + f(k - 2));
 *   return f(n);
 * };
 * const results = await Promise.all([20, 21, 22].map((n) => pool.run(fib, n)));
 * assert.deepEqual(results, [6765, 10946, 17711]);
 * ```
 */
export class IsolatePool implements Supervisable {
  /** The pool's name. */
  readonly name: string;
  readonly #min: number;
  readonly #max: number;
  readonly #idleTimeout: number;
  readonly #maxTasksPerWorker: number;
  readonly #maxQueue: number;
  readonly #abortGrace: number;
  readonly #prefetch: number;
  readonly #intensity: number;
  readonly #period: number;
  readonly #permissions: Deno.PermissionOptions | undefined;
  readonly #token: RootIsolateToken | null;
  readonly #transport: PoolTransport | null;
  #remoteInFlight = 0;

  readonly #definitions: Definition[] = [];
  readonly #definitionIds = new Map<string, number>();
  readonly #functionIds = new WeakMap<object, number>();
  /** Queued jobs by priority; `#priorities` holds the keys, highest first. */
  readonly #queues = new Map<number, { jobs: Job[]; head: number }>();
  #priorities: number[] = [];
  #queued = 0;
  readonly #jobs = new Map<number, Job>();
  readonly #slots = new Set<Slot>();
  #starting = 0;
  #round = 0;
  #replaced = 0;
  #nextJob = 1;
  #workerCount = 0;
  #crashes: number[] = [];
  readonly #createdAt = performance.now();
  #retiredBusy = 0;
  #state: "running" | "draining" | "stopped" = "running";
  readonly #exited = Promise.withResolvers<ExitReason>();
  #drained: PromiseWithResolvers<void> | null = null;
  #exitReason: ExitReason | null = null;

  /**
   * Creates the pool and starts its `min` workers.
   *
   * @param options Size, queue bound, cancellation and recycling settings.
   * @throws {RangeError} When an option is out of range.
   */
  constructor(options: IsolatePoolOptions = {}) {
    this.name = options.name ?? "pool";
    const cores = navigator.hardwareConcurrency || 1;
    const max = options.size ?? options.max ?? cores;
    const min = options.size ?? options.min ?? Math.min(1, max);
    this.#transport = options.transport ?? null;
    // With a transport, the pool may have no workers of its own.
    this.#max = (this.#transport === null ? positive : count)(
      options.size !== undefined ? "size" : "max",
      max,
      this.name,
    );
    this.#min = count("min", min, this.name);
    if (this.#min > this.#max) {
      throw new RangeError(
        `Cannot create pool "${this.name}": "min" (${min}) must not exceed "max" (${max})`,
      );
    }
    this.#idleTimeout = count(
      "idleTimeout",
      options.idleTimeout ?? 10_000,
      this.name,
    );
    this.#maxTasksPerWorker = positive(
      "maxTasksPerWorker",
      options.maxTasksPerWorker ?? Infinity,
      this.name,
    );
    this.#maxQueue = positive(
      "maxQueue",
      options.maxQueue ?? 1_000_000,
      this.name,
    );
    this.#abortGrace = count(
      "abortGrace",
      options.abortGrace ?? 1000,
      this.name,
    );
    this.#prefetch = positive("prefetch", options.prefetch ?? 32, this.name);
    this.#intensity = count("intensity", options.intensity ?? 10, this.name);
    this.#period = positive("period", options.period ?? 5000, this.name);
    this.#permissions = options.permissions;
    if (
      options.permissions !== undefined && options.permissions !== "inherit"
    ) assertWorkerOptions(this.name);
    this.#token = options.token === undefined
      ? RootIsolateToken.instance
      : options.token;
    for (let i = 0; i < this.#min; i++) this.#spawn();
    this.#transport?.attach(() => {
      if (this.#state !== "stopped") this.#pump();
    });
    // The root supervisor holds the pool (and, through it, its workers):
    // `Supervisor.root.inspect()` shows them.
    Supervisor.root.startChild({
      id: `pool:${this.name}#${++poolCount}`,
      start: () => this,
      restart: "temporary",
    }).catch(() => {});
  }

  /** Resolves once the pool has ended, with why. Never rejects. */
  get exited(): Promise<ExitReason> {
    return this.#exited.promise;
  }

  /** Workers alive or starting. */
  get size(): number {
    return this.#slots.size;
  }

  /** Tasks waiting in the queue. */
  get queued(): number {
    return this.#queued;
  }

  /** Tasks sent to workers (or the transport) and not yet answered. */
  get running(): number {
    let n = this.#remoteInFlight;
    for (const slot of this.#slots) n += slot.outstanding.length;
    return n;
  }

  /**
   * Resolves when the pool's `min` workers are ready for tasks (useful to
   * keep worker start-up out of a measurement).
   *
   * @returns Once every worker started so far is ready.
   */
  async ready(): Promise<void> {
    await Promise.all(
      [...this.#slots].map((slot) => slot.link.started.catch(() => {})),
    );
  }

  /**
   * Runs a task on a worker and resolves with its result.
   *
   * @param task A self-contained function, or a module task.
   * @param input The task's input (structured-cloned, or transferred).
   * @param options Abort signal, timeout, priority and transfer list.
   * @returns The task's result.
   * @throws {RemoteError} What the task threw, with its remote stack.
   * @throws {TimeoutError} When `timeout` passed first.
   * @throws {IsolateExitedError} When the worker running it died.
   * @throws {MailboxFullError} When the queue is at `maxQueue`.
   * @throws {PoolClosedError} When the pool is closed or closing.
   */
  run<I, R>(
    task: (input: I, signal: AbortSignal) => R | Promise<R>,
    input?: I,
    options?: PoolRunOptions,
  ): Promise<Awaited<R>>;
  /**
   * Runs a module task, typed from the module's export:
   * `pool.run<typeof tasks.fib>(url, 30)`.
   *
   * @param task The module (its default export) or `{ module, exportName }`.
   * @param input The task's input.
   * @param options Abort signal, timeout, priority and transfer list.
   * @returns The task's result.
   */
  run<
    F extends (input: never, signal: AbortSignal) => unknown = (
      input: unknown,
      signal: AbortSignal,
    ) => unknown,
  >(
    task: URL | string | { module: URL | string; exportName?: string },
    input?: Parameters<F>[0],
    options?: PoolRunOptions,
  ): Promise<Awaited<ReturnType<F>>>;
  run(
    task: PoolTask,
    input?: unknown,
    options: PoolRunOptions = {},
  ): Promise<unknown> {
    if (this.#state !== "running") {
      return Promise.reject(
        new PoolClosedError(this.name, this.#stateText()),
      );
    }
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#queued >= this.#maxQueue) {
      return Promise.reject(
        new MailboxFullError(
          this.name,
          this.#maxQueue,
          `Cannot queue the task in pool "${this.name}": its queue is full (${this.#maxQueue} tasks waiting); raise "maxQueue" or await tasks before submitting more`,
        ),
      );
    }
    let definition: number;
    let encoded: { payload: unknown; refs: boolean; transfer: Transferable[] };
    try {
      definition = this.#define(task);
      encoded = encodeRefs(input);
    } catch (error) {
      return Promise.reject(error);
    }
    if (
      this.#max === 0 &&
      (encoded.refs || (options.transfer !== undefined &&
        options.transfer.length > 0))
    ) {
      return Promise.reject(
        new TypeError(
          `Cannot run the task in pool "${this.name}": its input holds ports or transfers, which cannot leave this process, and the pool has no workers of its own; give the pool local workers ("size" >= 1) or send plain data`,
        ),
      );
    }
    const priority = options.priority ?? FIRST_PRIORITY;
    if (typeof priority !== "number" || Number.isNaN(priority)) {
      return Promise.reject(
        new RangeError(
          `Cannot run the task: "priority" must be a number, got ${priority}`,
        ),
      );
    }
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    const job: Job = {
      id: this.#nextJob++,
      task: definition,
      payload: encoded.payload,
      refs: encoded.refs,
      // Ports inside the input travel as transferables, with the caller's.
      transfer: encoded.transfer.length === 0
        ? options.transfer
        : [...encoded.transfer, ...(options.transfer ?? [])],
      priority,
      resolve,
      reject,
      slot: null,
      remote: null,
      queued: false,
      sentAt: 0,
      long: false,
      settled: false,
      signal,
      onAbort: null,
      timer: null,
      graceTimer: null,
    };
    this.#jobs.set(job.id, job);
    if (signal !== undefined) {
      job.onAbort = () => this.#abort(job, signal.reason);
      signal.addEventListener("abort", job.onAbort, { once: true });
    }
    if (options.timeout !== undefined) {
      const ms = options.timeout;
      if (!(ms >= 0) || !Number.isFinite(ms)) {
        this.#settle(job);
        return Promise.reject(
          new RangeError(
            `Cannot run the task: "timeout" must be a finite number of ms >= 0, got ${ms}`,
          ),
        );
      }
      job.timer = setTimeout(() => {
        job.timer = null;
        this.#abort(
          job,
          new TimeoutError(`run a task in pool "${this.name}"`, ms),
        );
      }, ms);
    }
    this.#enqueue(job, false);
    this.#pump();
    return promise;
  }

  /**
   * Closes the pool: no new task is accepted. By default the queue drains
   * first (every accepted task runs); with `{ drain: false }` queued tasks
   * reject with `PoolClosedError` and running ones are aborted and their
   * workers terminated. Then the workers end. Idempotent.
   *
   * @param options Whether to drain.
   * @returns Once every worker has ended.
   */
  async close(options: { drain?: boolean } = {}): Promise<void> {
    const drain = options.drain ?? true;
    if (this.#state === "stopped") return await this.exited.then(() => {});
    if (this.#state === "running") this.#state = "draining";
    if (!drain) {
      this.#failAll(new PoolClosedError(this.name, "was closed"));
    } else if (this.#jobs.size > 0) {
      this.#drained ??= Promise.withResolvers<void>();
      await this.#drained.promise;
    }
    this.#finish({ kind: "shutdown" });
    await this.exited;
  }

  /** Closes the pool, draining it (for `await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Stops the pool as a supervisor does: drain, then end (`shutdown`). */
  stop(): void {
    this.close().catch(() => {});
  }

  /**
   * Ends the pool now: queued and running tasks reject with
   * `PoolClosedError`, workers are terminated, the exit reason is `killed`.
   */
  kill(): void {
    if (this.#state === "stopped") return;
    this.#state = "draining";
    this.#failAll(new PoolClosedError(this.name, "was killed"));
    this.#finish({ kind: "killed" });
  }

  /**
   * Figures for `Supervisor.inspect()`: running and queued tasks,
   * utilization (share of worker time busy since the pool started), and a
   * node per worker.
   *
   * @returns The pool's figures.
   */
  describe(): ChildDetails {
    const now = performance.now();
    let busy = this.#retiredBusy;
    const children: SupervisorTreeNode[] = [];
    for (const slot of this.#slots) {
      busy += slot.busyTotal +
        (slot.outstanding.length > 0 ? now - slot.busySince : 0);
      children.push({
        id: slot.isolate.id,
        state: slot.ready
          ? (slot.retiring ? "stopping" : "running")
          : "starting",
        restart: "permanent",
        restarts: 0,
        details: {
          isolate: slot.isolate.id,
          running: slot.outstanding.length > 0 ? 1 : 0,
          queued: Math.max(0, slot.outstanding.length - 1),
          mailboxDepth: slot.isolate.describe().mailboxDepth,
        },
      });
    }
    if (this.#transport !== null) {
      children.push({
        id: `transport:${this.#transport.name}`,
        state: "running",
        restart: "permanent",
        restarts: 0,
        details: {
          running: this.#remoteInFlight,
          capacity: this.#transport.capacity,
        },
      });
    }
    const lifetime = (now - this.#createdAt) * Math.max(1, this.#max);
    return {
      running: this.running,
      queued: this.#queued,
      replaced: this.#replaced,
      utilization: lifetime > 0 ? Math.min(1, busy / lifetime) : 0,
      children,
    };
  }

  #stateText(): string {
    return this.#state === "draining" ? "is closing" : "is closed";
  }

  #define(task: PoolTask): number {
    // The same function object is usually run many times: its source is
    // read and checked once.
    const known = typeof task === "function"
      ? this.#functionIds.get(task)
      : undefined;
    if (known !== undefined) return known;
    let definition: Definition;
    if (typeof task === "function") {
      const source = task.toString();
      if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
        throw new TypeError(
          "Cannot run a native or bound function in a pool: its source cannot be sent; pass an arrow function or a module task",
        );
      }
      definition = { entry: null, exportName: "", source, cost: Infinity };
    } else {
      const module = task instanceof URL || typeof task === "string"
        ? task
        : task.module;
      const exportName = task instanceof URL || typeof task === "string"
        ? "default"
        : task.exportName ?? "default";
      definition = {
        entry: resolveModule(module),
        exportName,
        source: null,
        cost: Infinity,
      };
    }
    const key = definition.source ??
      `${definition.entry}#${definition.exportName}`;
    let id = this.#definitionIds.get(key);
    if (id === undefined) {
      id = this.#definitions.length;
      this.#definitions.push(definition);
      this.#definitionIds.set(key, id);
    }
    if (typeof task === "function") this.#functionIds.set(task, id);
    return id;
  }

  #enqueue(job: Job, front: boolean): void {
    let queue = this.#queues.get(job.priority);
    if (queue === undefined) {
      queue = { jobs: [], head: 0 };
      this.#queues.set(job.priority, queue);
      this.#priorities.push(job.priority);
      this.#priorities.sort((a, b) => b - a);
    }
    if (front) {
      if (queue.head > 0) queue.jobs[--queue.head] = job;
      else queue.jobs.unshift(job);
    } else queue.jobs.push(job);
    job.queued = true;
    this.#queued++;
  }

  /** The next live queued job, highest priority first, left queued. */
  #peek(): Job | null {
    for (const priority of this.#priorities) {
      const queue = this.#queues.get(priority)!;
      while (queue.head < queue.jobs.length) {
        const job = queue.jobs[queue.head];
        if (!job.settled) return job;
        // Aborted while queued (already uncounted): drop it now.
        queue.jobs[queue.head++] = undefined as unknown as Job;
        if (queue.head === queue.jobs.length) {
          queue.jobs.length = 0;
          queue.head = 0;
        }
      }
    }
    return null;
  }

  /** Removes the job {@linkcode IsolatePool.#peek} returned. */
  #dequeue(): void {
    for (const priority of this.#priorities) {
      const queue = this.#queues.get(priority)!;
      if (queue.head === queue.jobs.length) continue;
      const job = queue.jobs[queue.head];
      queue.jobs[queue.head++] = undefined as unknown as Job;
      if (queue.head === queue.jobs.length) {
        queue.jobs.length = 0;
        queue.head = 0;
      }
      job.queued = false;
      this.#queued--;
      return;
    }
  }

  /** Sends queued jobs to workers with room, and grows the pool if needed. */
  #pump(): void {
    this.#round++;
    while (this.#queued > 0) {
      const job = this.#peek();
      if (job === null) break;
      const slot = this.#slotFor(job);
      if (slot !== null) {
        this.#dequeue();
        this.#send(slot, job);
      } else if (this.#remoteTakes(job)) {
        this.#dequeue();
        this.#sendRemote(job);
      } else break;
    }
    if (
      this.#queued > this.#starting &&
      this.#slots.size < this.#max &&
      this.#state !== "stopped"
    ) {
      const want = Math.min(
        this.#max - this.#slots.size,
        this.#queued - this.#starting,
      );
      for (let i = 0; i < want; i++) this.#spawn();
    }
  }

  /**
   * The least loaded worker that can take `job`: an idle one, or, for a task
   * known to be short, one with fewer than `prefetch` tasks. Long tasks are
   * never queued behind others on a worker: a free worker could take them.
   */
  #slotFor(job: Job): Slot | null {
    const short = this.#definitions[job.task].cost < SHORT_TASK_MS &&
      (job.transfer === undefined || job.transfer.length === 0);
    let best: Slot | null = null;
    for (const slot of this.#slots) {
      if (!slot.ready || slot.retiring) continue;
      const load = slot.outstanding.length;
      if (slot.tasksDone + load >= this.#maxTasksPerWorker) continue;
      if (load === 0) return slot;
      if (!short || load >= this.#prefetch || slot.longs > 0) continue;
      // A worker more than half full is topped up only in the round that
      // started filling it: refills then leave in batches (one post for
      // many tasks) rather than one post per answer.
      if (load > this.#prefetch >> 1 && slot.filledIn !== this.#round) {
        continue;
      }
      if (best === null || load < best.outstanding.length) best = slot;
    }
    return best;
  }

  #send(slot: Slot, job: Job): void {
    job.slot = slot;
    job.sentAt = performance.now();
    job.long = this.#definitions[job.task].cost >= SHORT_TASK_MS;
    if (job.long) slot.longs++;
    slot.filledIn = this.#round;
    if (slot.outstanding.length === 0) {
      slot.busySince = job.sentAt;
      if (slot.idleTimer !== null) {
        clearTimeout(slot.idleTimer);
        slot.idleTimer = null;
      }
    }
    slot.outstanding.push(job);
    if (!slot.defined.has(job.task)) {
      slot.defined.add(job.task);
      const definition = this.#definitions[job.task];
      slot.link.post({
        kind: "define",
        task: job.task,
        entry: definition.entry,
        exportName: definition.exportName,
        source: definition.source,
      });
    }
    const order = {
      kind: "task",
      id: job.id,
      task: job.task,
      payload: job.payload,
      refs: job.refs,
    } as const;
    const onFail = (error: unknown): void => {
      // The input could not be copied: the worker never got the task.
      this.#unsend(slot, job);
      this.#fail(
        job,
        new TypeError(
          `Cannot run the task in pool "${this.name}": its input cannot be copied to a worker (${
            error instanceof Error ? error.message : String(error)
          }); send only structured-cloneable values`,
          { cause: error },
        ),
      );
      this.#pump();
    };
    if (job.transfer !== undefined && job.transfer.length > 0) {
      try {
        slot.link.post(order, job.transfer);
      } catch (error) {
        onFail(error);
      }
    } else slot.link.post(order, undefined, onFail);
  }

  /** Whether the transport has room for `job`, which may leave. */
  #remoteTakes(job: Job): boolean {
    return this.#transport !== null &&
      this.#remoteInFlight < this.#transport.capacity &&
      !job.refs &&
      (job.transfer === undefined || job.transfer.length === 0);
  }

  #sendRemote(job: Job): void {
    const definition = this.#definitions[job.task];
    const controller = new AbortController();
    job.remote = controller;
    this.#remoteInFlight++;
    let running: Promise<unknown>;
    try {
      running = this.#transport!.run({
        id: job.id,
        entry: definition.entry,
        exportName: definition.exportName,
        source: definition.source,
        input: job.payload,
      }, controller.signal);
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      (value) => this.#remoteSettled(job, true, value),
      (error) => this.#remoteSettled(job, false, error),
    );
  }

  #remoteSettled(job: Job, ok: boolean, value: unknown): void {
    job.remote = null;
    this.#remoteInFlight--;
    if (ok && !job.settled) {
      this.#settle(job);
      job.resolve(value);
    } else if (ok) this.#settle(job);
    else this.#fail(job, value);
    if (this.#state === "stopped") {
      this.#checkExited();
      return;
    }
    this.#pump();
    this.#checkDrained();
  }

  #unsend(slot: Slot, job: Job): void {
    const i = slot.outstanding.indexOf(job);
    if (i !== -1) {
      slot.outstanding.splice(i, 1);
      if (job.long) slot.longs--;
    }
    job.slot = null;
    if (slot.outstanding.length === 0) this.#idle(slot);
  }

  #spawn(): void {
    const index = ++this.#workerCount;
    let slot: Slot;
    this.#starting++;
    try {
      const link = startPoolWorker({
        debugName: `${this.name}#${index}`,
        token: this.#token,
        permissions: this.#permissions,
        onAnswer: (message) => this.#answer(slot, message),
      });
      slot = {
        link,
        isolate: link.isolate,
        outstanding: [],
        defined: new Set(),
        ready: false,
        retiring: false,
        tasksDone: 0,
        busySince: 0,
        busyTotal: 0,
        answeredAt: 0,
        longs: 0,
        filledIn: 0,
        idleTimer: null,
      };
    } catch (error) {
      this.#starting--;
      this.#giveUp(error);
      return;
    }
    this.#slots.add(slot);
    slot.link.started.then(
      () => {
        this.#starting--;
        slot.ready = true;
        if (this.#state === "stopped") return;
        this.#idle(slot);
        this.#pump();
      },
      () => {
        this.#starting--;
      },
    );
    slot.isolate.exited.then((reason) => this.#workerExited(slot, reason));
  }

  #answer(slot: Slot, message: TaskAnswer): void {
    const job = this.#jobs.get(message.id);
    if (job === undefined || job.slot !== slot) return;
    const i = slot.outstanding.indexOf(job);
    if (i !== -1) {
      slot.outstanding.splice(i, 1);
      if (job.long) slot.longs--;
    }
    job.slot = null;
    slot.tasksDone++;
    // Its time on the worker: since it was sent, or since the answer before
    // it when it waited behind another task there.
    const now = performance.now();
    const cost = now - Math.max(job.sentAt, slot.answeredAt);
    slot.answeredAt = now;
    const definition = this.#definitions[job.task];
    definition.cost = definition.cost === Infinity
      ? cost
      : definition.cost * 0.8 + cost * 0.2;
    if (message.kind === "done") {
      const value = message.refs
        ? reviveRefs(message.payload)
        : message.payload;
      if (!job.settled) {
        this.#settle(job);
        job.resolve(value);
      } else this.#settle(job);
    } else {
      this.#fail(job, new RemoteError(message.error));
    }
    if (slot.tasksDone >= this.#maxTasksPerWorker && !slot.retiring) {
      slot.retiring = true;
    }
    if (slot.outstanding.length === 0) {
      slot.busyTotal += performance.now() - slot.busySince;
      if (slot.retiring) slot.isolate.stop();
      else this.#idle(slot);
    }
    this.#pump();
    this.#checkDrained();
  }

  /** A worker with nothing to do: past `min`, it ends after idleTimeout. */
  #idle(slot: Slot): void {
    if (slot.idleTimer !== null || this.#slots.size <= this.#min) return;
    if (this.#queued > 0) return;
    const timer = setTimeout(() => {
      slot.idleTimer = null;
      if (slot.outstanding.length === 0 && this.#slots.size > this.#min) {
        slot.retiring = true;
        slot.isolate.stop();
      }
    }, this.#idleTimeout);
    // An idle worker past `min` is not a reason to keep the process alive.
    Deno.unrefTimer(timer as unknown as number);
    slot.idleTimer = timer;
  }

  #workerExited(slot: Slot, reason: ExitReason): void {
    if (!this.#slots.delete(slot)) return;
    if (slot.idleTimer !== null) clearTimeout(slot.idleTimer);
    this.#retiredBusy += slot.busyTotal;
    const orphans = slot.outstanding.splice(0);
    slot.longs = 0;
    if (this.#state === "stopped") {
      for (const job of orphans) {
        this.#fail(job, new PoolClosedError(this.name, "was closed"));
      }
      this.#checkExited();
      return;
    }
    const expected = slot.retiring && reason.kind === "shutdown";
    // The oldest unanswered task was running: it dies with its worker,
    // unless it had been aborted (its caller already has its answer). The
    // rest never started: they go back to the queue, in order.
    const running = orphans.shift();
    if (running !== undefined) {
      running.slot = null;
      const cause = reason.kind === "crashed" ? reason.error : undefined;
      this.#fail(
        running,
        new IsolateExitedError(
          slot.isolate.id,
          `"${slot.isolate.debugName}" (${slot.isolate.id}) ${
            describe(reason)
          } while running the task`,
          undefined,
          cause === undefined ? undefined : { cause },
        ),
      );
    }
    for (let i = orphans.length - 1; i >= 0; i--) {
      const job = orphans[i];
      job.slot = null;
      if (!job.settled) this.#enqueue(job, true);
      else this.#settle(job);
    }
    if (!expected && !slot.retiring) {
      const now = performance.now();
      this.#crashes = this.#crashes.filter((t) => now - t < this.#period);
      this.#crashes.push(now);
      if (this.#crashes.length > this.#intensity) {
        this.#giveUp(
          reason.kind === "crashed"
            ? reason.error
            : new Error(describe(reason)),
        );
        return;
      }
    }
    if (!expected) this.#replaced++;
    if (this.#slots.size < this.#min) this.#spawn();
    this.#pump();
    this.#checkDrained();
  }

  #abort(job: Job, reason: unknown): void {
    if (job.settled) return;
    this.#fail(job, reason);
    if (job.remote !== null) return; // #fail aborted it on the transport
    const slot = job.slot;
    if (slot === null) {
      this.#checkDrained();
      return; // it was queued: #dequeue skips it
    }
    slot.link.post({ kind: "abort", id: job.id });
    this.#armGrace(job, slot);
  }

  /**
   * After `abortGrace`, a task still running on its worker has ignored its
   * signal: the worker is terminated (and replaced). A task still queued on
   * the worker behind another is given more time: the worker drops it when
   * it gets there.
   */
  #armGrace(job: Job, slot: Slot): void {
    job.graceTimer = setTimeout(() => {
      job.graceTimer = null;
      if (job.slot !== slot || !this.#slots.has(slot)) return;
      if (slot.outstanding[0] === job) {
        // The pool's own doing, not a crash: it must not count toward
        // the restart intensity.
        slot.retiring = true;
        slot.isolate.kill();
      } else this.#armGrace(job, slot);
    }, this.#abortGrace);
  }

  #fail(job: Job, error: unknown): void {
    // The transport stops it where it runs, and settles it then.
    if (job.remote !== null && !job.remote.signal.aborted) {
      job.remote.abort(error);
    }
    if (job.settled) {
      this.#settle(job);
      return;
    }
    this.#settle(job);
    job.reject(error);
  }

  /** Marks a job settled and lets go of its listener and timer. */
  #settle(job: Job): void {
    if (!job.settled) {
      job.settled = true;
      if (job.queued) {
        job.queued = false;
        this.#queued--;
      }
      if (job.onAbort !== null) {
        job.signal!.removeEventListener("abort", job.onAbort);
        job.onAbort = null;
      }
      if (job.timer !== null) {
        clearTimeout(job.timer);
        job.timer = null;
      }
    }
    if (job.slot === null && job.remote === null) {
      if (job.graceTimer !== null) {
        clearTimeout(job.graceTimer);
        job.graceTimer = null;
      }
      this.#jobs.delete(job.id);
    }
  }

  #failAll(error: Error): void {
    for (const job of [...this.#jobs.values()]) {
      if (!job.settled) this.#fail(job, error);
    }
  }

  #giveUp(error: unknown): void {
    if (this.#state === "stopped") return;
    const failure = new PoolClosedError(
      this.name,
      `gave up after more than ${this.#intensity} worker crashes in ${this.#period} ms`,
      error,
    );
    this.#failAll(failure);
    this.#finish({ kind: "crashed", error: failure });
  }

  #checkDrained(): void {
    if (this.#drained !== null && this.#jobs.size === 0) {
      this.#drained.resolve();
      this.#drained = null;
    }
  }

  /** Ends every worker; the pool has exited once they all have. */
  #finish(reason: ExitReason): void {
    if (this.#state === "stopped") return;
    this.#state = "stopped";
    this.#exitReason = reason;
    this.#drained?.resolve();
    this.#drained = null;
    for (const slot of this.#slots) {
      if (slot.idleTimer !== null) clearTimeout(slot.idleTimer);
      slot.idleTimer = null;
      if (reason.kind === "shutdown") slot.isolate.stop();
      else slot.isolate.kill();
    }
    this.#checkExited();
  }

  #checkExited(): void {
    if (
      this.#slots.size > 0 || this.#remoteInFlight > 0 ||
      this.#exitReason === null
    ) return;
    for (const job of this.#jobs.values()) {
      if (job.graceTimer !== null) clearTimeout(job.graceTimer);
    }
    this.#jobs.clear();
    this.#exited.resolve(this.#exitReason);
  }
}

function describe(reason: ExitReason): string {
  switch (reason.kind) {
    case "normal":
      return "exited";
    case "shutdown":
      return "was stopped";
    case "killed":
      return "was terminated";
    case "crashed":
      return `crashed (${
        reason.error instanceof Error
          ? reason.error.message
          : String(reason.error)
      })`;
  }
}

function resolveModule(module: URL | string): string {
  if (module instanceof URL) return module.href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(module)) return module;
  if (module.startsWith("/")) return new URL(`file://${module}`).href;
  throw new TypeError(
    `Cannot resolve task module "${module}": a relative path has no base here; pass new URL("${module}", import.meta.url)`,
  );
}

function positive(name: string, value: number, pool: string): number {
  if (!(value >= 1) || (value !== Infinity && !Number.isSafeInteger(value))) {
    throw new RangeError(
      `Cannot create pool "${pool}": "${name}" must be a positive integer, got ${value}`,
    );
  }
  return value;
}

function count(name: string, value: number, pool: string): number {
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new RangeError(
      `Cannot create pool "${pool}": "${name}" must be a finite number >= 0, got ${value}`,
    );
  }
  return value;
}
