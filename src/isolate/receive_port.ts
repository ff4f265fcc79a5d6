import { SendPort } from "./send_port.ts";
import { StateError } from "./state_error.ts";
import { closePort, openPort, portHooks } from "./_ports.ts";

/**
 * A listener's handle on a {@linkcode ReceivePort}.
 *
 * @example Stopping after the message that says so
 * ```ts
 * import { type PortSubscription, ReceivePort } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const port = new ReceivePort();
 * const got: unknown[] = [];
 * const done = Promise.withResolvers<void>();
 * const subscription: PortSubscription = port.listen((message) => {
 *   if (message === "stop") subscription.cancel(); // closes the port
 *   else got.push(message);
 * }, { onDone: done.resolve });
 * port.sendPort.send(1);
 * port.sendPort.send("stop");
 * port.sendPort.send(2); // not delivered: the port is closed by then
 * await done.promise;
 * assert.deepEqual(got, [1]);
 * assert.ok(port.isClosed);
 * ```
 */
export interface PortSubscription {
  /** Stops listening and closes the port. */
  cancel(): void;
}

/**
 * Receives messages sent to its {@linkcode SendPort}, as Dart's
 * `ReceivePort`: a single-subscription stream. Listen with
 * {@linkcode ReceivePort.listen}, `for await`, or take
 * {@linkcode ReceivePort.first}. Messages that arrive before anyone listens
 * are kept.
 *
 * An open port keeps its isolate alive, as in Dart: close it (or take
 * `first`, which closes it) so that the program can end by itself.
 *
 * @example
 * ```ts
 * import { ReceivePort } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const port = new ReceivePort();
 * port.sendPort.send(1);
 * port.sendPort.send(2);
 * port.sendPort.send("done");
 * const got: unknown[] = [];
 * for await (const message of port) {
 *   if (message === "done") break; // leaving the loop closes the port
 *   got.push(message);
 * }
 * assert.deepEqual(got, [1, 2]);
 * ```
 */
export class ReceivePort implements AsyncIterable<unknown> {
  /** A name for debugging. */
  readonly debugName: string;
  readonly #port: number;
  readonly #sendPort: SendPort;
  #queue: unknown[] = [];
  #waiters: PromiseWithResolvers<IteratorResult<unknown>>[] = [];
  #listener: ((message: unknown) => void) | null = null;
  #listened = false;
  #closed = false;
  #onDone: (() => void) | null = null;

  /**
   * Opens a port that receives messages sent to its `sendPort`.
   *
   * @param debugName A name for debugging.
   */
  constructor(debugName = "") {
    this.debugName = debugName;
    this.#port = openPort((message) => this.#deliver(message));
    this.#sendPort = new SendPort(portHooks.isolateId(), this.#port);
  }

  /** The port that sends to this one. */
  get sendPort(): SendPort {
    return this.#sendPort;
  }

  /** Whether the port was closed. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Listens to the messages. A port has one listener, as in Dart.
   *
   * @param onData Called with each message.
   * @param options `onDone` is called when the port closes.
   * @returns A subscription whose `cancel()` closes the port.
   * @throws {StateError} When the port already has a listener.
   */
  listen(
    onData: (message: unknown) => void,
    options: { onDone?: () => void } = {},
  ): PortSubscription {
    this.#claim();
    this.#listener = onData;
    this.#onDone = options.onDone ?? null;
    const queued = this.#queue;
    this.#queue = [];
    for (const message of queued) onData(message);
    return { cancel: () => this.close() };
  }

  /**
   * The first message; the port is closed once it arrives.
   *
   * @throws {StateError} When the port is closed before any message, or
   * already has a listener.
   */
  get first(): Promise<unknown> {
    const iterator = this[Symbol.asyncIterator]();
    return iterator.next().then((result) => {
      this.close();
      if (result.done) {
        throw new StateError(
          "No element: the ReceivePort was closed before a message arrived",
        );
      }
      return result.value;
    });
  }

  /**
   * Closes the port: it receives nothing more, a pending iteration ends,
   * and the isolate no longer stays alive for it. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closePort(this.#port);
    this.#queue = [];
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) {
      waiter.resolve({ value: undefined, done: true });
    }
    const onDone = this.#onDone;
    this.#onDone = null;
    onDone?.();
  }

  /**
   * Iterates the messages until the port closes; leaving the loop closes it.
   *
   * @returns An iterator of the messages.
   * @throws {StateError} When the port already has a listener.
   */
  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    this.#claim();
    return {
      next: (): Promise<IteratorResult<unknown>> => {
        if (this.#queue.length > 0) {
          return Promise.resolve({ value: this.#queue.shift(), done: false });
        }
        if (this.#closed) {
          return Promise.resolve({ value: undefined, done: true });
        }
        const waiter = Promise.withResolvers<IteratorResult<unknown>>();
        this.#waiters.push(waiter);
        return waiter.promise;
      },
      return: (): Promise<IteratorResult<unknown>> => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  #claim(): void {
    if (this.#listened) {
      throw new StateError(
        "Stream has already been listened to: a ReceivePort has a single listener; use one listen(), for-await or first",
      );
    }
    this.#listened = true;
  }

  #deliver(message: unknown): void {
    if (this.#closed) return;
    if (this.#listener !== null) {
      this.#listener(message);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve({ value: message, done: false });
      return;
    }
    this.#queue.push(message);
  }
}
