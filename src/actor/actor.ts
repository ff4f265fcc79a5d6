import { TimeoutError } from "../errors/timeout_error.ts";
import type { ExitReason } from "../isolate/exit_reason.ts";
import { ActorExitedError } from "./actor_exited_error.ts";
import { Mailbox, type MailboxOptions } from "./mailbox.ts";
import { MailboxFullError } from "../errors/mailbox_full_error.ts";
import type { ChildDetails, Supervisable } from "./supervisable.ts";

/**
 * The shape every actor message has: a string `kind`. An actor's messages
 * are a discriminated union on `kind`, and it has one handler per kind.
 *
 * @example
 * ```ts
 * import type { ActorMessage } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * type CounterMessage =
 *   | { kind: "add"; amount: number }
 *   | { kind: "get" };
 * const message: CounterMessage = { kind: "add", amount: 2 };
 * const asActorMessage: ActorMessage = message;
 * assert.equal(asActorMessage.kind, "add");
 * ```
 */
export type ActorMessage = { kind: string };

/**
 * One handler per message kind; leaving a kind out does not compile. Each
 * gets the message, narrowed to its kind, and the actor (to tell itself
 * more, or stop itself), and returns the reply for that kind, `R[K]`, or a
 * promise of it; kinds without an entry in `R` reply nothing. Handlers are
 * called with the handlers object as `this`, so it can hold the actor's
 * state.
 *
 * A handler that throws or rejects crashes the actor (OTP's "let it
 * crash"); its supervisor starts a fresh one.
 *
 * @typeParam M The union of the actor's messages.
 * @typeParam R The reply of each kind that has one.
 *
 * @example A counter's handlers
 * ```ts
 * import { Actor, type ActorHandlers } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * type Message = { kind: "add"; amount: number } | { kind: "get" };
 * type Replies = { get: number };
 *
 * let total = 0;
 * const handlers: ActorHandlers<Message, Replies> = {
 *   add: (message) => {
 *     total += message.amount;
 *   },
 *   get: () => total,
 * };
 * await using counter = new Actor(handlers, { name: "counter" });
 * await counter.tell({ kind: "add", amount: 5 });
 * assert.equal(await counter.ask({ kind: "get" }), 5);
 * ```
 */
export type ActorHandlers<
  M extends ActorMessage,
  R extends { [K in M["kind"]]?: unknown } = { [K in M["kind"]]: unknown },
> = {
  [K in M["kind"]]: (
    message: Extract<M, { kind: K }>,
    actor: Actor<M, R>,
  ) =>
    | (K extends keyof R ? R[K] : void)
    | Promise<K extends keyof R ? R[K] : void>;
};

/**
 * Options for {@linkcode Actor}.
 *
 * @example
 * ```ts
 * import { Actor, type ActorOptions } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const options: ActorOptions = {
 *   name: "logger",
 *   mailbox: { capacity: 100, overflow: "drop_oldest" },
 * };
 * await using logger = new Actor<{ kind: "log"; line: string }>(
 *   { log: () => {} },
 *   options,
 * );
 * assert.equal(logger.name, "logger");
 * ```
 */
export interface ActorOptions {
  /**
   * The actor's name, used in error messages.
   *
   * @default {"actor"}
   */
  name?: string;
  /** The capacity and overflow policy of its mailbox. */
  mailbox?: MailboxOptions;
}

/**
 * Options for {@linkcode Actor.ask}.
 *
 * @example
 * ```ts
 * import { Actor, type AskOptions, TimeoutError } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const never = Promise.withResolvers<number>();
 * await using slow = new Actor<{ kind: "answer" }, { answer: number }>({
 *   answer: () => never.promise,
 * });
 * const options: AskOptions = { timeout: 10 };
 * await assert.rejects(slow.ask({ kind: "answer" }, options), TimeoutError);
 * slow.kill(); // the handler never settles: end it rather than wait
 * ```
 */
export interface AskOptions {
  /**
   * How long to wait for the reply, in milliseconds; then the ask rejects
   * with {@linkcode TimeoutError}. No timer is set when it is left out.
   */
  timeout?: number;
  /** A signal to stop waiting; the ask then rejects with its reason. */
  signal?: AbortSignal;
}

/** `setTimeout`'s largest delay; longer ones fire at once. */
const MAX_TIMEOUT = 2_147_483_647;

const RESOLVED: Promise<void> = Promise.resolve();

/** The caller's side of an `ask`. */
interface Reply {
  settled: boolean;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Cancels the `put` of an ask blocked on a full "wait" mailbox. */
  controller: AbortController | undefined;
}

/** A message in the mailbox, with the reply it owes when it is an ask. */
interface Envelope<M> {
  readonly message: M;
  readonly reply: Reply | undefined;
  /** Taken out of the mailbox by the actor. */
  started: boolean;
}

/** The handlers, looked up by a kind only known at run time. */
type HandlerTable<M, A> = Record<
  string,
  ((message: M, actor: A) => unknown) | undefined
>;

function settle(reply: Reply, ok: boolean, value: unknown): void {
  if (reply.settled) return;
  reply.settled = true;
  if (reply.timer !== undefined) clearTimeout(reply.timer);
  if (reply.onAbort !== undefined) {
    reply.signal?.removeEventListener("abort", reply.onAbort);
  }
  if (ok) reply.resolve(value);
  else reply.reject(value);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

/** What happened to an actor, as a phrase following "it". */
function phrase(reason: ExitReason): string {
  switch (reason.kind) {
    case "normal":
      return "has ended";
    case "shutdown":
      return "has stopped";
    case "killed":
      return "was killed";
    case "crashed": {
      const error = reason.error;
      return `crashed: ${
        error instanceof Error ? error.message : String(error)
      }`;
    }
  }
}

/**
 * An actor: state that only its own handlers touch, one message at a time,
 * fed by a bounded {@linkcode Mailbox}. `tell` sends a message and resolves
 * once the mailbox accepted it; `ask` resolves with the handler's reply,
 * typed per kind.
 *
 * Messages are handled in the order they were accepted, and the next one
 * starts only once the previous handler (and the promise it returned)
 * settled. Handling runs on microtasks: no timer or task per message.
 *
 * Following OTP, a handler that throws crashes the actor: the ask it was
 * handling rejects with that error, the actor exits with
 * `{ kind: "crashed", error }`, every other pending ask rejects with
 * {@linkcode ActorExitedError}, and queued tells are discarded (counted in
 * {@linkcode Actor.dropped}). A {@linkcode Supervisor} restarts it with fresh
 * state. `stop()` handles every message already accepted before exiting;
 * `kill()` exits at once.
 *
 * An actor that asks itself and awaits the reply waits forever: it handles
 * one message at a time. Tell instead, or give the ask a timeout.
 *
 * @typeParam M The union of the actor's messages, tagged by `kind`.
 * @typeParam R The reply of each kind that has one.
 *
 * @example Typed replies
 * ```ts
 * import { Actor } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * type Message =
 *   | { kind: "push"; item: string }
 *   | { kind: "pop" }
 *   | { kind: "size" };
 * type Replies = { pop: string | undefined; size: number };
 *
 * const items: string[] = [];
 * await using stack = new Actor<Message, Replies>({
 *   push: (message) => {
 *     items.push(message.item);
 *   },
 *   pop: () => items.pop(),
 *   size: async () => await Promise.resolve(items.length),
 * }, { name: "stack" });
 *
 * await stack.tell({ kind: "push", item: "a" });
 * await stack.tell({ kind: "push", item: "b" });
 * const popped: string | undefined = await stack.ask({ kind: "pop" });
 * assert.equal(popped, "b");
 * assert.equal(await stack.ask({ kind: "size" }), 1);
 * ```
 *
 * @example Let it crash
 * ```ts
 * import { Actor, ActorExitedError } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const boom = new Error("boom");
 * const actor = new Actor<{ kind: "fail" } | { kind: "ping" }, { ping: string }>({
 *   fail: () => {
 *     throw boom;
 *   },
 *   ping: () => "pong",
 * }, { name: "fragile" });
 *
 * await assert.rejects(actor.ask({ kind: "fail" }), (error) => error === boom);
 * assert.deepEqual(await actor.exited, { kind: "crashed", error: boom });
 * await assert.rejects(actor.ask({ kind: "ping" }), ActorExitedError);
 * ```
 */
export class Actor<
  M extends ActorMessage,
  R extends { [K in M["kind"]]?: unknown } = { [K in M["kind"]]: unknown },
> implements Supervisable {
  readonly #name: string;
  readonly #handlers: HandlerTable<M, this>;
  readonly #mailbox: Mailbox<Envelope<M>>;
  readonly #exited = Promise.withResolvers<ExitReason>();
  #exit: ExitReason | undefined;
  #stopping = false;
  /** What the mailbox held when `stop()` closed it, still to be handled. */
  #backlog: Envelope<M>[] | undefined;
  #backlogIndex = 0;
  /** A drain loop is scheduled or running. */
  #active = false;
  #current: Envelope<M> | undefined;
  /** Tells discarded when the actor ended. */
  #discarded = 0;
  readonly #startedAt: number = performance.now();
  #endedAt: number | undefined;
  #busySince = 0;
  #busy = 0;

  /**
   * Creates an actor; it is ready for messages at once.
   *
   * @param handlers One handler per message kind.
   * @param options Its name and mailbox.
   * @throws {RangeError} When the mailbox options are invalid.
   */
  constructor(handlers: ActorHandlers<M, R>, options?: ActorOptions) {
    this.#name = options?.name ?? "actor";
    this.#handlers = handlers as unknown as HandlerTable<M, this>;
    this.#mailbox = new Mailbox<Envelope<M>>(
      this.#name,
      options?.mailbox,
      (envelope) => {
        if (envelope.reply === undefined) return;
        settle(
          envelope.reply,
          false,
          new MailboxFullError(this.#name, this.#mailbox.capacity),
        );
      },
    );
  }

  /** The actor's name. */
  get name(): string {
    return this.#name;
  }

  /**
   * Resolves once, when the actor has ended, with why. Never rejects.
   *
   * @example
   * ```ts
   * import { Actor } from "@isolates/isolates";
   * import assert from "node:assert/strict";
   *
   * const actor = new Actor<{ kind: "noop" }>({ noop: () => {} });
   * actor.kill();
   * assert.deepEqual(await actor.exited, { kind: "killed" });
   * ```
   */
  get exited(): Promise<ExitReason> {
    return this.#exited.promise;
  }

  /** How many messages wait to be handled, not counting the one running. */
  get mailboxDepth(): number {
    const backlog = this.#backlog;
    return this.#mailbox.size +
      (backlog === undefined ? 0 : backlog.length - this.#backlogIndex);
  }

  /**
   * How many messages were dropped: by the mailbox's overflow policy, or
   * tells still queued when the actor crashed or was killed.
   */
  get dropped(): number {
    return this.#mailbox.dropped + this.#discarded;
  }

  /** Whether a handler is running now. */
  get running(): boolean {
    return this.#current !== undefined;
  }

  /**
   * Sends a message without waiting for it to be handled.
   *
   * @param message The message.
   * @returns A promise that resolves once the mailbox accepted the message:
   *   at once, or when there is room under the `"wait"` policy. Under
   *   `"drop_newest"` a message that finds the mailbox full is dropped, and
   *   the promise resolves.
   * @throws {MailboxFullError} When the mailbox is full and its policy is
   *   `"reject"`.
   * @throws {ActorExitedError} When the actor has ended or is stopping.
   * @throws {TypeError} When there is no handler for the message's kind.
   *
   * @example
   * ```ts
   * import { Actor } from "@isolates/isolates";
   * import assert from "node:assert/strict";
   *
   * const seen: string[] = [];
   * const logger = new Actor<{ kind: "log"; line: string }>({
   *   log: (message) => {
   *     seen.push(message.line);
   *   },
   * });
   * await logger.tell({ kind: "log", line: "one" });
   * await logger.tell({ kind: "log", line: "two" });
   * await logger.close(); // handles what was accepted, then exits
   * assert.deepEqual(seen, ["one", "two"]);
   * ```
   */
  tell(message: M): Promise<void> {
    const refusal = this.#refusal(message);
    if (refusal !== undefined) return Promise.reject(refusal);
    const envelope: Envelope<M> = { message, reply: undefined, started: false };
    try {
      if (this.#mailbox.post(envelope)) {
        this.#kick();
        return RESOLVED;
      }
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#mailbox.overflow !== "wait") return RESOLVED;
    return this.#mailbox.put(envelope);
  }

  /**
   * Sends a message and waits for the handler's reply.
   *
   * An ask that times out or is aborted while still in the mailbox is
   * taken out of it; one already being handled has its reply discarded.
   *
   * @param message The message.
   * @param options A timeout and a signal.
   * @returns The reply of the handler for the message's kind.
   * @throws {TimeoutError} When `timeout` passed first.
   * @throws {MailboxFullError} When the mailbox is full and its policy is
   *   `"reject"`, or the message was dropped by `"drop_oldest"` or
   *   `"drop_newest"`.
   * @throws {ActorExitedError} When the actor has ended or is stopping, or
   *   ends before handling the message.
   * @throws {RangeError} When `timeout` is not a number of milliseconds from
   *   0 to 2147483647.
   * @throws {TypeError} When there is no handler for the message's kind.
   * @throws {unknown} The error the handler threw for this message, or
   *   `signal.reason` when aborted.
   *
   * @example Giving up on a reply
   * ```ts
   * import { Actor } from "@isolates/isolates";
   * import assert from "node:assert/strict";
   *
   * const release = Promise.withResolvers<void>();
   * await using actor = new Actor<{ kind: "work" }, { work: string }>({
   *   work: async () => {
   *     await release.promise;
   *     return "done";
   *   },
   * });
   * const controller = new AbortController();
   * const first = actor.ask({ kind: "work" });
   * const second = actor.ask({ kind: "work" }, { signal: controller.signal });
   * controller.abort(new Error("no longer needed"));
   * await assert.rejects(second, /no longer needed/);
   * assert.equal(actor.mailboxDepth, 0); // taken out of the mailbox
   *
   * release.resolve();
   * assert.equal(await first, "done");
   * ```
   */
  ask<K extends M["kind"]>(
    message: Extract<M, { kind: K }>,
    options?: AskOptions,
  ): Promise<K extends keyof R ? R[K] : void> {
    type Result = Promise<K extends keyof R ? R[K] : void>;
    const timeout = options?.timeout;
    const signal = options?.signal;
    if (
      timeout !== undefined &&
      !(typeof timeout === "number" && timeout >= 0 && timeout <= MAX_TIMEOUT)
    ) {
      return Promise.reject(
        new RangeError(
          `Cannot ask actor "${this.#name}": option "timeout" is ${
            String(timeout)
          }; use a number of milliseconds from 0 to ${MAX_TIMEOUT}`,
        ),
      );
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    const refusal = this.#refusal(message);
    if (refusal !== undefined) return Promise.reject(refusal);

    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    const reply: Reply = {
      settled: false,
      resolve,
      reject,
      timer: undefined,
      signal: undefined,
      onAbort: undefined,
      controller: undefined,
    };
    const envelope: Envelope<M> = { message, reply, started: false };
    const cancel = (reason: unknown): void => {
      if (reply.settled) return;
      settle(reply, false, reason);
      reply.controller?.abort(reason);
      if (!envelope.started) this.#mailbox.remove(envelope);
    };
    if (timeout !== undefined) {
      reply.timer = setTimeout(() => {
        cancel(
          new TimeoutError(
            `ask actor "${this.#name}" for "${message.kind}"`,
            timeout,
          ),
        );
      }, timeout);
    }
    if (signal !== undefined) {
      reply.signal = signal;
      reply.onAbort = () => cancel(signal.reason);
      signal.addEventListener("abort", reply.onAbort, { once: true });
    }

    let accepted: boolean;
    try {
      accepted = this.#mailbox.post(envelope);
    } catch (error) {
      settle(reply, false, error);
      return promise as Result;
    }
    if (accepted) {
      this.#kick();
    } else if (this.#mailbox.overflow === "wait") {
      reply.controller = new AbortController();
      this.#mailbox.put(envelope, { signal: reply.controller.signal }).then(
        undefined,
        (error: unknown) => settle(reply, false, error),
      );
    }
    // Under "drop_newest", the mailbox's onDrop already rejected the ask.
    return promise as Result;
  }

  /**
   * Asks the actor to stop: it accepts no more messages, handles the one
   * it is handling and every one already accepted, then exits with
   * `{ kind: "shutdown" }`. Senders still waiting for room are rejected
   * with {@linkcode ActorExitedError}. Idempotent.
   *
   * @example
   * ```ts
   * import { Actor, ActorExitedError } from "@isolates/isolates";
   * import assert from "node:assert/strict";
   *
   * let handled = 0;
   * const actor = new Actor<{ kind: "job" }>({ job: () => void handled++ });
   * void actor.tell({ kind: "job" });
   * void actor.tell({ kind: "job" });
   * actor.stop();
   * await assert.rejects(actor.tell({ kind: "job" }), ActorExitedError);
   * assert.deepEqual(await actor.exited, { kind: "shutdown" });
   * assert.equal(handled, 2);
   * ```
   */
  stop(): void {
    if (this.#exit !== undefined || this.#stopping) return;
    this.#stopping = true;
    this.#backlog = this.#mailbox.close(
      new ActorExitedError(this.#name, "is stopping"),
    );
    this.#backlogIndex = 0;
    // An idle actor has an empty mailbox: a drain loop runs whenever it holds
    // anything.
    if (!this.#active) this.#end({ kind: "shutdown" });
  }

  /**
   * Ends the actor at once, with `{ kind: "killed" }`: the reply of the
   * message being handled is discarded, pending asks reject with
   * {@linkcode ActorExitedError}, and queued tells are discarded. Idempotent.
   *
   * @example
   * ```ts
   * import { Actor, ActorExitedError } from "@isolates/isolates";
   * import assert from "node:assert/strict";
   *
   * const never = Promise.withResolvers<void>();
   * const actor = new Actor<{ kind: "hang" }>({ hang: () => never.promise });
   * const pending = actor.ask({ kind: "hang" });
   * actor.kill();
   * await assert.rejects(pending, ActorExitedError);
   * assert.deepEqual(await actor.exited, { kind: "killed" });
   * ```
   */
  kill(): void {
    if (this.#exit !== undefined) return;
    this.#end({ kind: "killed" });
  }

  /**
   * Figures for {@linkcode Supervisor.inspect}.
   *
   * @returns The mailbox depth, whether a handler is running (0 or 1), and
   *   the share of its lifetime the actor spent handling messages.
   *
   * @example
   * ```ts
   * import { Actor } from "@isolates/isolates";
   * import assert from "node:assert/strict";
   *
   * await using actor = new Actor<{ kind: "noop" }>({ noop: () => {} });
   * const details = actor.describe();
   * assert.equal(details.mailboxDepth, 0);
   * assert.equal(details.running, 0);
   * assert.ok(details.utilization! >= 0 && details.utilization! <= 1);
   * ```
   */
  describe(): ChildDetails {
    const now = this.#endedAt ?? performance.now();
    const busy = this.#busy + (this.#active ? now - this.#busySince : 0);
    const lifetime = now - this.#startedAt;
    return {
      mailboxDepth: this.mailboxDepth,
      running: this.#current === undefined ? 0 : 1,
      utilization: lifetime > 0 ? Math.min(1, busy / lifetime) : 0,
    };
  }

  /**
   * Stops the actor (see {@linkcode Actor.stop}) and waits until it exited.
   *
   * @returns A promise that resolves once the actor has exited, however.
   *
   * @example
   * ```ts
   * import { Actor } from "@isolates/isolates";
   * import assert from "node:assert/strict";
   *
   * const actor = new Actor<{ kind: "noop" }>({ noop: () => {} });
   * await actor.close();
   * assert.deepEqual(await actor.exited, { kind: "shutdown" });
   * ```
   */
  async close(): Promise<void> {
    this.stop();
    await this.#exited.promise;
  }

  /**
   * Calls {@linkcode Actor.close}, for `await using`.
   *
   * @returns A promise that resolves once the actor has exited.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Why a message cannot be sent now, if it cannot. */
  #refusal(message: M): Error | undefined {
    if (this.#exit !== undefined) return this.#exitedError(this.#exit);
    if (this.#stopping) return new ActorExitedError(this.#name, "is stopping");
    if (typeof this.#handlers[message.kind] !== "function") {
      return new TypeError(
        `Cannot send to actor "${this.#name}": it has no handler for kind "${message.kind}"; add a handler for "${message.kind}"`,
      );
    }
    return undefined;
  }

  #exitedError(reason: ExitReason): ActorExitedError {
    return new ActorExitedError(
      this.#name,
      phrase(reason),
      reason.kind === "crashed" ? { cause: reason.error } : undefined,
    );
  }

  /** Starts a drain loop, unless one is scheduled or running. */
  #kick(): void {
    if (this.#active) return;
    this.#active = true;
    this.#busySince = performance.now();
    queueMicrotask(this.#drain);
  }

  /**
   * Handles messages until the mailbox is empty or a handler returns a
   * promise; that promise's settling resumes the loop. Synchronous replies
   * cost no await, so a run of them is one microtask.
   */
  readonly #drain = (): void => {
    while (this.#exit === undefined) {
      const envelope = this.#next();
      if (envelope === undefined) {
        this.#rest();
        return;
      }
      // An ask that gave up while in the backlog stays there: skip it.
      if (envelope.reply?.settled) continue;
      envelope.started = true;
      this.#current = envelope;
      try {
        // #refusal checked at send time that the handler exists.
        const handler = this.#handlers[envelope.message.kind]!;
        const result = handler.call(this.#handlers, envelope.message, this);
        if (isThenable(result)) {
          Promise.resolve(result).then(
            (value) => {
              if (this.#exit !== undefined) return;
              this.#handled(envelope, value);
              this.#drain();
            },
            (error: unknown) => this.#crash(envelope, error),
          );
          return;
        }
        this.#handled(envelope, result);
      } catch (error) {
        this.#crash(envelope, error);
        return;
      }
    }
  };

  #next(): Envelope<M> | undefined {
    const backlog = this.#backlog;
    if (backlog === undefined) return this.#mailbox.take();
    if (this.#backlogIndex === backlog.length) return undefined;
    return backlog[this.#backlogIndex++];
  }

  #handled(envelope: Envelope<M>, value: unknown): void {
    this.#current = undefined;
    if (envelope.reply !== undefined) settle(envelope.reply, true, value);
  }

  /** The mailbox is empty: the loop ends, and a stopping actor exits. */
  #rest(): void {
    this.#active = false;
    this.#busy += performance.now() - this.#busySince;
    if (this.#stopping) this.#end({ kind: "shutdown" });
  }

  #crash(envelope: Envelope<M>, error: unknown): void {
    if (this.#exit !== undefined) return;
    this.#current = undefined;
    if (envelope.reply !== undefined) settle(envelope.reply, false, error);
    this.#end({ kind: "crashed", error });
  }

  /** Ends the actor: settles everything pending, then resolves `exited`. */
  #end(reason: ExitReason): void {
    this.#exit = reason;
    this.#endedAt = performance.now();
    if (this.#active) {
      this.#active = false;
      this.#busy += this.#endedAt - this.#busySince;
    }
    const error = this.#exitedError(reason);
    const current = this.#current;
    this.#current = undefined;
    if (current?.reply !== undefined) settle(current.reply, false, error);
    // Closing rejects the senders blocked in `put`; an ask among them
    // settles through its put's rejection.
    const queued = this.#mailbox.close(error);
    const backlog = this.#backlog?.slice(this.#backlogIndex) ?? [];
    this.#backlog = [];
    this.#backlogIndex = 0;
    for (const envelope of [...backlog, ...queued]) {
      if (envelope.reply === undefined) this.#discarded++;
      else settle(envelope.reply, false, error);
    }
    this.#exited.resolve(reason);
  }
}
