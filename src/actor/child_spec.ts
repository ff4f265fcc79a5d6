import type { Supervisable } from "./supervisable.ts";

/**
 * When a {@linkcode Supervisor} restarts a child that ended by itself (OTP's
 * restart types):
 *
 * - `permanent`: always.
 * - `transient`: only when it ended abnormally (`killed` or `crashed`), not
 *   after `normal` or `shutdown`; it then stays in the supervisor, stopped.
 * - `temporary`: never. Its spec is removed once it ends, and it is not
 *   restarted either when a `one_for_all` or `rest_for_one` sibling's crash
 *   stops it.
 *
 * @example A job that may finish: transient
 * ```ts
 * import { type RestartType, Supervisor } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const restart: RestartType = "transient";
 * await using supervisor = new Supervisor();
 * await supervisor.startChild({ id: "job", restart, start: () => new Supervisor() });
 * assert.equal(supervisor.inspect().children[0].restart, "transient");
 * ```
 */
export type RestartType = "permanent" | "transient" | "temporary";

/**
 * How a {@linkcode Supervisor} ends a child it stops (OTP's shutdown):
 *
 * - a number of milliseconds: it calls `stop()`, waits that long for the
 *   child's `exited`, then calls `kill()`;
 * - `"brutal_kill"`: it calls `kill()` at once;
 * - `"infinity"`: it calls `stop()` and waits as long as the child takes
 *   (meant for children that supervise others, so their subtree can stop in
 *   order).
 *
 * @example Giving a worker 100 ms to finish
 * ```ts
 * import { type Shutdown, Supervisor } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const shutdown: Shutdown = 100;
 * await using supervisor = new Supervisor();
 * await supervisor.startChild({ id: "worker", shutdown, start: () => new Supervisor() });
 * await supervisor.terminateChild("worker");
 * assert.equal(supervisor.inspect().children[0].state, "stopped");
 * ```
 */
export type Shutdown = number | "brutal_kill" | "infinity";

/**
 * A child specification: the data a {@linkcode Supervisor} needs to start,
 * restart and stop one child (OTP's `child_spec()`).
 *
 * @example A permanent child, started by a factory
 * ```ts
 * import { type ChildSpec, Supervisor } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * let starts = 0;
 * const spec: ChildSpec = {
 *   id: "cache",
 *   start: () => {
 *     starts++;
 *     return new Supervisor({ name: "cache" });
 *   },
 *   shutdown: "infinity",
 * };
 * await using supervisor = await Supervisor.start({ children: [spec] });
 * assert.equal(starts, 1);
 * assert.deepEqual(supervisor.children, ["cache"]);
 * ```
 */
export interface ChildSpec {
  /** The child's id, unique within its supervisor. */
  id: string;
  /**
   * Starts a new incarnation of the child. Called on every (re)start, so it
   * must be callable again. A throw or a rejection is a start failure.
   */
  start: () => Supervisable | Promise<Supervisable>;
  /**
   * When to restart the child after it ended by itself.
   *
   * @default {"permanent"}
   */
  restart?: RestartType;
  /**
   * How to end the child when the supervisor stops it.
   *
   * @default {5000} for workers, `"infinity"` when `start` returned a
   * {@linkcode Supervisor}.
   */
  shutdown?: Shutdown;
}
