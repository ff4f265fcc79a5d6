import { IsolatesError } from "../errors/isolates_error.ts";

/**
 * A task was refused or dropped because its {@linkcode IsolatePool} is
 * closed or closing (`close()` without draining, `kill()`, or a pool whose
 * workers crashed past its restart intensity).
 *
 * @example
 * ```ts
 * import { IsolatePool, PoolClosedError } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const pool = new IsolatePool({ size: 1 });
 * await pool.close();
 * const error = await pool.run(() => 1).catch((e) => e);
 * assert.ok(error instanceof PoolClosedError);
 * assert.equal(error.code, "pool_closed");
 * ```
 */
export class PoolClosedError extends IsolatesError {
  /** The pool's name. */
  readonly pool: string;

  /**
   * Creates the error for a task a closed pool cannot run.
   *
   * @param pool The pool's name.
   * @param state What happened to the pool.
   * @param cause What made the pool stop, if it failed.
   */
  constructor(pool: string, state: string, cause?: unknown) {
    super(
      "pool_closed",
      `Cannot run the task in pool "${pool}": the pool ${state}; create a new pool, or await tasks before closing it`,
      cause === undefined ? undefined : { cause },
    );
    this.pool = pool;
  }
}
