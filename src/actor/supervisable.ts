import type { ExitReason } from "../isolate/exit_reason.ts";

/**
 * What a supervisor can hold as a child: anything that ends once, says why,
 * and can be asked to stop or be ended at once. {@linkcode Actor},
 * {@linkcode Supervisor}, {@linkcode Isolate} and {@linkcode IsolatePool}
 * all are; so is any object of a user's that has these members.
 *
 * @example A child of one's own: a timer-free counter service
 * ```ts
 * import { type ExitReason, type Supervisable, Supervisor } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * class Service implements Supervisable {
 *   readonly #exited = Promise.withResolvers<ExitReason>();
 *   get exited(): Promise<ExitReason> {
 *     return this.#exited.promise;
 *   }
 *   stop(): void {
 *     this.#exited.resolve({ kind: "shutdown" });
 *   }
 *   kill(): void {
 *     this.#exited.resolve({ kind: "killed" });
 *   }
 * }
 *
 * await using supervisor = new Supervisor({ name: "app" });
 * await supervisor.startChild({ id: "service", start: () => new Service() });
 * assert.equal(supervisor.inspect().children[0].id, "service");
 * ```
 */
export interface Supervisable {
  /** Resolves once, when the child has ended, with why. Never rejects. */
  readonly exited: Promise<ExitReason>;
  /**
   * Asks the child to stop: it finishes what it is doing and ends with
   * `{ kind: "shutdown" }`. Idempotent.
   */
  stop(): void;
  /** Ends the child at once, with `{ kind: "killed" }`. Idempotent. */
  kill(): void;
  /**
   * Optional figures for {@linkcode Supervisor.inspect}: mailbox depth,
   * tasks, utilization, and a nested tree for children that supervise.
   */
  describe?(): ChildDetails;
}

/**
 * What a child reports about itself in {@linkcode Supervisor.inspect}.
 *
 * @example
 * ```ts
 * import type { ChildDetails } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const details: ChildDetails = { mailboxDepth: 3, running: 1, queued: 2, utilization: 0.5 };
 * assert.equal(details.mailboxDepth, 3);
 * ```
 */
export interface ChildDetails {
  /** Messages waiting in the child's mailbox. */
  mailboxDepth?: number;
  /** Tasks or calls being processed now. */
  running?: number;
  /** Tasks waiting to run. */
  queued?: number;
  /** The share of time busy since the child started, from 0 to 1. */
  utilization?: number;
  /** The isolate id, for an isolate. */
  isolate?: string;
  /** Workers replaced after they crashed or were terminated (a pool). */
  replaced?: number;
  /** Tasks a pool's transport may hold now (its remote nodes' room). */
  capacity?: number;
  /** The children of a child that supervises others. */
  children?: SupervisorTreeNode[];
}

/**
 * One node of the tree {@linkcode Supervisor.inspect} returns.
 *
 * @example
 * ```ts
 * import type { SupervisorTreeNode } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const node: SupervisorTreeNode = {
 *   id: "worker",
 *   state: "running",
 *   restart: "permanent",
 *   restarts: 0,
 *   details: { mailboxDepth: 0 },
 * };
 * assert.equal(node.state, "running");
 * ```
 */
export interface SupervisorTreeNode {
  /** The child's id in its supervisor. */
  id: string;
  /** Its state. */
  state: "starting" | "running" | "restarting" | "stopping" | "stopped";
  /** Its restart type. */
  restart: "permanent" | "transient" | "temporary";
  /** How many times its supervisor restarted it. */
  restarts: number;
  /** What the child reports about itself. */
  details: ChildDetails;
}
