/**
 * A task as an {@linkcode IsolatePool} hands it to a {@linkcode PoolTransport}:
 * what to run, named rather than captured, so it can cross a network.
 *
 * @example The two forms a transport receives
 * ```ts
 * import type { TransportTask } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const fromFunction: TransportTask = {
 *   id: 1,
 *   entry: null,
 *   exportName: "",
 *   source: "(n) => n + 1",
 *   input: 41,
 * };
 * const fromModule: TransportTask = {
 *   id: 2,
 *   entry: "file:///srv/tasks.ts",
 *   exportName: "fib",
 *   source: null,
 *   input: 30,
 * };
 * assert.equal(fromFunction.source !== null, fromModule.entry === "file:///srv/tasks.ts");
 * ```
 */
export interface TransportTask {
  /** The pool's id of the task, unique within the pool. */
  readonly id: number;
  /** The task module's URL (module tasks), or `null`. */
  readonly entry: string | null;
  /** The export a module task calls. */
  readonly exportName: string;
  /** A function task's source (it captures nothing), or `null`. */
  readonly source: string | null;
  /** The task's input. */
  readonly input: unknown;
}

/**
 * Where an {@linkcode IsolatePool} sends tasks beyond its own workers: other
 * processes or machines. The pool keeps its queue, priorities, timeouts
 * and cancellation, and hands a task to the transport while
 * `inFlight < capacity`; a task with ports or transfers inside its input
 * stays local. `@isolates/isolates/nats` implements it over NATS.
 *
 * A transport settles every `run`: with the result, the task's error, or a
 * typed error of its own (a node lost, no node reachable); when `signal`
 * aborts, it stops the task where it runs and settles.
 *
 * @example A transport that runs function tasks in this thread
 * ```ts
 * import { IsolatePool, type PoolTransport, type TransportTask } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * class InThread implements PoolTransport {
 *   readonly name = "in-thread";
 *   readonly capacity = 4;
 *   ran = 0;
 *   #wake = (): void => {};
 *   attach(wake: () => void): void {
 *     this.#wake = wake;
 *   }
 *   async run(task: TransportTask, signal: AbortSignal): Promise<unknown> {
 *     this.ran++;
 *     const fn = (0, eval)(`(${task.source})`) as (i: unknown, s: AbortSignal) => unknown;
 *     return await fn(task.input, signal);
 *   }
 * }
 *
 * const transport = new InThread();
 * await using pool = new IsolatePool({ size: 0, transport });
 * assert.equal(await pool.run((n: number) => n * 2, 21), 42);
 * assert.equal(transport.ran, 1);
 * ```
 */
export interface PoolTransport {
  /** Its name, in the pool's supervision tree. */
  readonly name: string;
  /** How many tasks it may hold now (0 while nothing can run them). */
  readonly capacity: number;
  /**
   * Called once by the pool that uses it: `wake` asks the pool to send
   * queued tasks, to be called when `capacity` grows.
   *
   * @param wake The pool's wake-up call.
   */
  attach(wake: () => void): void;
  /**
   * Runs a task and settles with its result or error.
   *
   * @param task What to run, with its input.
   * @param signal Aborts when the caller aborts or the task times out.
   * @returns The task's result.
   */
  run(task: TransportTask, signal: AbortSignal): Promise<unknown>;
}
