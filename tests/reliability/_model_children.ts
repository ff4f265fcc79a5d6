// Test doubles for the supervisor model test: children backed by a real
// Actor (so "calling" a child goes through Actor.ask), that end on command
// in any of the four ways an ExitReason allows, and a factory that logs
// every start attempt and every stop()/kill() the supervisor makes, in one
// order, so the test can compare it with what the model predicts.
import {
  Actor,
  type ChildDetails,
  type ChildSpec,
  type ExitReason,
  type RestartType,
  type Shutdown,
  type Supervisable,
} from "@isolates/isolates";

/** Which incarnation of which child answered a call. */
export interface Identity {
  id: string;
  incarnation: number;
}

type ChildMessage = { kind: "whoami" } | { kind: "fail"; error: Error };
type ChildReplies = { whoami: Identity };

/**
 * One incarnation of a child. The supervisor-facing `stop()`/`kill()` are
 * logged; the ways it ends by itself (`crash`, `killItself`, `stopItself`,
 * `exitNormally`) are not, since the supervisor did not ask for them.
 */
export class ModelChild implements Supervisable {
  readonly id: string;
  readonly incarnation: number;
  readonly exited: Promise<ExitReason>;
  readonly #log: string[];
  readonly #actor: Actor<ChildMessage, ChildReplies>;
  /** Set by exitNormally(): the actor's shutdown is reported as normal. */
  #normal = false;
  /** Something ended the actor or asked it to end (known synchronously). */
  #over = false;
  #ended = false;

  constructor(id: string, incarnation: number, log: string[]) {
    this.id = id;
    this.incarnation = incarnation;
    this.#log = log;
    this.#actor = new Actor<ChildMessage, ChildReplies>({
      whoami: () => ({ id, incarnation }),
      fail: (message) => {
        throw message.error;
      },
    }, { name: `${id}#${incarnation}` });
    // An Actor has no normal exit of its own: exitNormally() stops it and
    // this maps that shutdown to `normal`.
    this.exited = this.#actor.exited.then((reason): ExitReason => {
      this.#ended = true;
      return this.#normal && reason.kind === "shutdown"
        ? { kind: "normal" }
        : reason;
    });
  }

  /** Whether this incarnation has not ended yet (set once `exited` settled). */
  get alive(): boolean {
    return !this.#ended;
  }

  stop(): void {
    this.#log.push(`stop:${this.id}`);
    this.#over = true;
    this.#actor.stop();
  }

  kill(): void {
    this.#log.push(`kill:${this.id}`);
    this.#over = true;
    this.#actor.kill();
  }

  describe(): ChildDetails {
    return this.#actor.describe();
  }

  /** Asks the actor who it is; rejects with ActorExitedError once ended. */
  call(): Promise<Identity> {
    return this.#actor.ask({ kind: "whoami" });
  }

  /** Makes the actor's handler throw `error`: the ask rejects with it and the child ends `crashed`. */
  crash(error: Error): Promise<void> {
    this.#over = true;
    return this.#actor.ask({ kind: "fail", error });
  }

  /** Ends the child with `killed`, without the supervisor asking. */
  killItself(): void {
    this.#over = true;
    this.#actor.kill();
  }

  /** Ends the child with `shutdown`, without the supervisor asking. */
  stopItself(): void {
    this.#over = true;
    this.#actor.stop();
  }

  /**
   * Ends the child with `normal`, unless it already ended or was asked to
   * (say, by its supervisor a moment before).
   *
   * @returns Whether this call is what ended it.
   */
  exitNormally(): boolean {
    if (this.#over) return false;
    this.#over = true;
    this.#normal = true;
    this.#actor.stop();
    return true;
  }
}

/** How {@linkcode ModelChildren.spec} builds a spec. */
export interface ModelSpecOptions {
  restart: RestartType;
  shutdown: Shutdown;
  /** `start()` returns a promise instead of the child. */
  asyncStart: boolean;
}

/**
 * Makes specs of {@linkcode ModelChild}ren; logs `start:<id>` for every
 * start attempt (failed ones included) and `stop:<id>` / `kill:<id>` for
 * every call the supervisor makes, in one order.
 */
export class ModelChildren {
  readonly log: string[] = [];
  readonly #incarnations = new Map<string, ModelChild[]>();
  readonly #failures = new Map<string, number>();

  spec(id: string, options: ModelSpecOptions): ChildSpec {
    const start = (): Supervisable | Promise<Supervisable> => {
      this.log.push(`start:${id}`);
      const failures = this.#failures.get(id) ?? 0;
      if (failures > 0) {
        this.#failures.set(id, failures - 1);
        const error = new Error(`${id} failed to start`);
        if (options.asyncStart) return Promise.reject(error);
        throw error;
      }
      const instances = this.#incarnations.get(id) ?? [];
      const child = new ModelChild(id, instances.length + 1, this.log);
      instances.push(child);
      this.#incarnations.set(id, instances);
      return options.asyncStart ? Promise.resolve(child) : child;
    };
    return {
      id,
      start,
      restart: options.restart,
      shutdown: options.shutdown,
    };
  }

  /** Makes the next `count` start attempts of `id` fail. */
  failNextStarts(id: string, count: number): void {
    this.#failures.set(id, (this.#failures.get(id) ?? 0) + count);
  }

  /** Every incarnation of `id` that started, oldest first. */
  incarnations(id: string): readonly ModelChild[] {
    return this.#incarnations.get(id) ?? [];
  }

  /** Every incarnation of every child that started. */
  all(): ModelChild[] {
    return [...this.#incarnations.values()].flat();
  }
}
