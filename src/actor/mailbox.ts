import { MailboxFullError } from "../errors/mailbox_full_error.ts";

/**
 * What a full {@linkcode Mailbox} does with one more message:
 *
 * - `reject`: refuses it; `post` throws and `put` rejects with
 *   {@linkcode MailboxFullError}.
 * - `drop_oldest`: evicts the oldest message to make room for it.
 * - `drop_newest`: drops it and keeps the messages already inside.
 * - `wait`: applies backpressure; `put` resolves once there is room, serving
 *   waiting senders in the order they came.
 *
 * Dropped messages are counted in {@linkcode Mailbox.dropped} and passed to
 * the mailbox's `onDrop` callback.
 *
 * @example Keeping only the latest readings
 * ```ts
 * import { Mailbox, type OverflowPolicy } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const overflow: OverflowPolicy = "drop_oldest";
 * const readings = new Mailbox<number>("sensor", { capacity: 2, overflow });
 * for (const reading of [1, 2, 3]) readings.post(reading);
 * assert.deepEqual([readings.take(), readings.take()], [2, 3]);
 * assert.equal(readings.dropped, 1);
 * ```
 */
export type OverflowPolicy = "reject" | "drop_oldest" | "drop_newest" | "wait";

/**
 * Options for {@linkcode Mailbox}, and for an actor's mailbox.
 *
 * @example
 * ```ts
 * import { Mailbox, type MailboxOptions } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const options: MailboxOptions = { capacity: 10, overflow: "wait" };
 * const mailbox = new Mailbox<string>("logger", options);
 * assert.equal(mailbox.capacity, 10);
 * assert.equal(mailbox.overflow, "wait");
 * ```
 */
export interface MailboxOptions {
  /**
   * How many messages the mailbox holds at most: a positive safe integer.
   *
   * @default {1000}
   */
  capacity?: number;
  /**
   * What to do with a message when the mailbox is full.
   *
   * @default {"reject"}
   */
  overflow?: OverflowPolicy;
}

const POLICIES: readonly OverflowPolicy[] = [
  "reject",
  "drop_oldest",
  "drop_newest",
  "wait",
];

/** A sender blocked in `put`, waiting for room. */
interface Waiter<T> {
  readonly item: T;
  readonly resolve: () => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Admitted, aborted or rejected: a tombstone left in the queue. */
  done: boolean;
}

/**
 * A FIFO queue on a growable ring buffer: O(1) `push` and `shift`, with no
 * array shifting and no head index that grows forever.
 */
class Ring<T> {
  #slots: (T | undefined)[] = [];
  #head = 0;
  #length = 0;
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    if (this.#length === this.#slots.length) this.#grow();
    let index = this.#head + this.#length;
    if (index >= this.#slots.length) index -= this.#slots.length;
    this.#slots[index] = item;
    this.#length++;
  }

  /** Takes the first item; the caller checks `length` first. */
  shift(): T {
    const item = this.#slots[this.#head] as T;
    this.#slots[this.#head] = undefined;
    this.#head = this.#head + 1 === this.#slots.length ? 0 : this.#head + 1;
    this.#length--;
    return item;
  }

  /** Removes the first occurrence of `item`, keeping the others in order. */
  remove(item: T): boolean {
    const size = this.#slots.length;
    for (let i = 0; i < this.#length; i++) {
      let index = this.#head + i;
      if (index >= size) index -= size;
      if (this.#slots[index] !== item) continue;
      for (let j = i + 1; j < this.#length; j++) {
        const next = index + 1 === size ? 0 : index + 1;
        this.#slots[index] = this.#slots[next];
        index = next;
      }
      this.#slots[index] = undefined;
      this.#length--;
      return true;
    }
    return false;
  }

  /** Empties the queue, returning its items in order. */
  drain(): T[] {
    const items: T[] = [];
    while (this.#length > 0) items.push(this.shift());
    this.#slots = [];
    this.#head = 0;
    return items;
  }

  #grow(): void {
    const size = Math.min(this.#limit, Math.max(16, this.#slots.length * 2));
    const slots = new Array<T | undefined>(size);
    const length = this.#length;
    for (let i = 0; i < length; i++) slots[i] = this.shift();
    this.#slots = slots;
    this.#head = 0;
    this.#length = length;
  }
}

/**
 * A bounded first-in-first-out queue of messages, the mailbox of an
 * {@linkcode Actor}. When it is full, its {@linkcode OverflowPolicy} decides
 * what happens to one more message. `post` offers a message synchronously;
 * `put` waits for room under the `"wait"` policy (backpressure). `close`
 * ends it: blocked senders are rejected and the messages still inside are
 * handed back, so their owner can settle them.
 *
 * @typeParam T The type of the messages.
 *
 * @example Backpressure with the "wait" policy
 * ```ts
 * import { Mailbox } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const mailbox = new Mailbox<string>("printer", { capacity: 1, overflow: "wait" });
 * await mailbox.put("first");
 * const second = mailbox.put("second"); // blocks: the mailbox is full
 * assert.equal(mailbox.waiting, 1);
 *
 * assert.equal(mailbox.take(), "first"); // makes room: "second" moves in
 * await second;
 * assert.equal(mailbox.take(), "second");
 * assert.equal(mailbox.size, 0);
 * ```
 *
 * @example Refusing messages when full
 * ```ts
 * import { Mailbox, MailboxFullError } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const mailbox = new Mailbox<number>("counter", { capacity: 1 });
 * assert.equal(mailbox.post(1), true);
 * assert.throws(() => mailbox.post(2), MailboxFullError);
 * assert.deepEqual(mailbox.close(new Error("done")), [1]);
 * ```
 */
export class Mailbox<T> {
  readonly #name: string;
  readonly #capacity: number;
  readonly #overflow: OverflowPolicy;
  readonly #onDrop: ((item: T) => void) | undefined;
  readonly #items: Ring<T>;
  #waiters: Ring<Waiter<T>> = new Ring(Infinity);
  /** Live waiters in `#waiters`; the rest are tombstones. */
  #waiting = 0;
  #dropped = 0;
  #closed: { reason: Error } | undefined;

  /**
   * Creates an empty mailbox.
   *
   * @param name The name of its owner, used in error messages.
   * @param options Its capacity and overflow policy.
   * @param onDrop Called with each message an overflow policy drops.
   * @throws {RangeError} When `capacity` is not a positive safe integer, or
   *   `overflow` is not an {@linkcode OverflowPolicy}.
   */
  constructor(
    name: string,
    options?: MailboxOptions,
    onDrop?: (item: T) => void,
  ) {
    const capacity = options?.capacity ?? 1000;
    const overflow = options?.overflow ?? "reject";
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `Cannot create the mailbox of actor "${name}": option "capacity" is ${
          String(capacity)
        }; use a positive safe integer`,
      );
    }
    if (!POLICIES.includes(overflow)) {
      throw new RangeError(
        `Cannot create the mailbox of actor "${name}": option "overflow" is "${
          String(overflow)
        }"; use one of ${POLICIES.map((p) => `"${p}"`).join(", ")}`,
      );
    }
    this.#name = name;
    this.#capacity = capacity;
    this.#overflow = overflow;
    this.#onDrop = onDrop;
    this.#items = new Ring(capacity);
  }

  /** The name of the mailbox's owner. */
  get name(): string {
    return this.#name;
  }

  /** How many messages the mailbox holds at most. */
  get capacity(): number {
    return this.#capacity;
  }

  /** What the mailbox does with a message when it is full. */
  get overflow(): OverflowPolicy {
    return this.#overflow;
  }

  /** How many messages are inside. */
  get size(): number {
    return this.#items.length;
  }

  /** How many senders are blocked in {@linkcode Mailbox.put}. */
  get waiting(): number {
    return this.#waiting;
  }

  /** How many messages the overflow policy dropped. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Whether {@linkcode Mailbox.close} was called. */
  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /**
   * Offers a message without waiting. When the mailbox is full, its overflow
   * policy decides: `"reject"` throws, `"drop_newest"` drops `item`,
   * `"drop_oldest"` drops the oldest message and accepts `item`, `"wait"`
   * refuses it (use {@linkcode Mailbox.put} to wait for room).
   *
   * @param item The message.
   * @returns Whether `item` is now in the mailbox.
   * @throws {MailboxFullError} When the mailbox is full and its policy is
   *   `"reject"`.
   * @throws {Error} The reason given to `close`, once closed.
   */
  post(item: T): boolean {
    if (this.#closed !== undefined) throw this.#closed.reason;
    if (this.#items.length < this.#capacity && this.#waiting === 0) {
      this.#items.push(item);
      return true;
    }
    switch (this.#overflow) {
      case "reject":
        throw new MailboxFullError(this.#name, this.#capacity);
      case "drop_newest":
        this.#dropped++;
        this.#onDrop?.(item);
        return false;
      case "drop_oldest": {
        const oldest = this.#items.shift();
        this.#items.push(item);
        this.#dropped++;
        this.#onDrop?.(oldest);
        return true;
      }
      case "wait":
        return false;
    }
  }

  /**
   * Puts a message in the mailbox, waiting for room under the `"wait"`
   * policy. Waiting senders are served in the order they called `put`, so
   * messages enter the mailbox in that order. Under the other policies it
   * settles at once, as {@linkcode Mailbox.post} does.
   *
   * @param item The message.
   * @param options A signal to stop waiting; `item` is then not added.
   * @returns A promise that resolves once `item` is in the mailbox, or was
   *   dropped by a `"drop_newest"` policy.
   * @throws {MailboxFullError} When the mailbox is full and its policy is
   *   `"reject"`.
   * @throws {Error} The reason given to `close`, once closed or when it
   *   closes while waiting; `signal.reason` when aborted.
   */
  put(item: T, options?: { signal?: AbortSignal }): Promise<void> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    try {
      if (this.post(item) || this.#overflow !== "wait") {
        return Promise.resolve();
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const waiter: Waiter<T> = {
      item,
      resolve,
      reject,
      signal,
      onAbort: undefined,
      done: false,
    };
    if (signal !== undefined) {
      waiter.onAbort = () => {
        if (waiter.done) return;
        waiter.done = true;
        this.#waiting--;
        this.#compact();
        reject(signal.reason);
      };
      signal.addEventListener("abort", waiter.onAbort, { once: true });
    }
    this.#waiters.push(waiter);
    this.#waiting++;
    return promise;
  }

  /**
   * Takes the oldest message out. The room it leaves goes to the first
   * sender waiting in {@linkcode Mailbox.put}, if any.
   *
   * @returns The oldest message, or `undefined` when the mailbox is empty.
   */
  take(): T | undefined {
    if (this.#items.length === 0) return undefined;
    const item = this.#items.shift();
    if (this.#waiting > 0) this.#admit();
    return item;
  }

  /**
   * Removes a message that is still inside, e.g. one whose sender gave up.
   * The others keep their order. This walks the queue: O(size).
   *
   * @param item The message, compared with `===`.
   * @returns Whether it was inside.
   *
   * @example
   * ```ts
   * import { Mailbox } from "@isolates/isolates";
   * import assert from "node:assert/strict";
   *
   * const mailbox = new Mailbox<string>("jobs");
   * for (const job of ["a", "b", "c"]) mailbox.post(job);
   * assert.equal(mailbox.remove("b"), true);
   * assert.deepEqual([mailbox.take(), mailbox.take()], ["a", "c"]);
   * ```
   */
  remove(item: T): boolean {
    if (!this.#items.remove(item)) return false;
    if (this.#waiting > 0) this.#admit();
    return true;
  }

  /**
   * Closes the mailbox: senders blocked in {@linkcode Mailbox.put} are
   * rejected with `reason`, and from now on `post` throws and `put` rejects
   * with it. Idempotent: later calls return nothing and keep the first
   * reason.
   *
   * @param reason Why it closed.
   * @returns The messages that were still inside, oldest first, for the
   *   owner to settle.
   */
  close(reason: Error): T[] {
    if (this.#closed !== undefined) return [];
    this.#closed = { reason };
    const items = this.#items.drain();
    const waiters = this.#waiters.drain();
    this.#waiting = 0;
    for (const waiter of waiters) {
      if (waiter.done) continue;
      waiter.done = true;
      this.#forget(waiter);
      waiter.reject(reason);
    }
    return items;
  }

  /** Moves waiting senders' messages in while there is room, in order. */
  #admit(): void {
    while (this.#waiting > 0 && this.#items.length < this.#capacity) {
      const waiter = this.#waiters.shift();
      if (waiter.done) continue;
      waiter.done = true;
      this.#waiting--;
      this.#forget(waiter);
      this.#items.push(waiter.item);
      waiter.resolve();
    }
    if (this.#waiting === 0) this.#waiters = new Ring(Infinity);
  }

  /**
   * Drops the tombstones of aborted senders once they outnumber the live
   * ones, so a queue that never moves does not grow without bound.
   */
  #compact(): void {
    const dead = this.#waiters.length - this.#waiting;
    if (dead <= 32 || dead <= this.#waiting) return;
    const live = new Ring<Waiter<T>>(Infinity);
    for (const waiter of this.#waiters.drain()) {
      if (!waiter.done) live.push(waiter);
    }
    this.#waiters = live;
  }

  #forget(waiter: Waiter<T>): void {
    if (waiter.onAbort !== undefined) {
      waiter.signal?.removeEventListener("abort", waiter.onAbort);
    }
  }
}
