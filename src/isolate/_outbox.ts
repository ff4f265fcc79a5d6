import { packWireMessage, type WireMessage } from "./protocol.ts";

/**
 * The messages one side of a Worker link has yet to post. Messages sent in
 * the same task are posted together, as one `batch`, when the task's
 * microtasks run: with many calls in flight this posts once instead of once
 * per call (each post is a copy and a thread wake-up), and a lone call still
 * leaves in the same task, as itself. Order is kept: a message posted at once
 * first posts what is queued, then itself.
 */
export class Outbox {
  /** Messages as they are posted (see packWireMessage). */
  #queue: unknown[] = [];
  /** Failure handlers of queued messages that carry a user's value. */
  #onFail: Map<unknown, (error: unknown) => void> | null = null;
  readonly #post: (message: unknown, transfer?: Transferable[]) => void;

  /** @param post Posts one message (with transferables) on the link. */
  constructor(post: (message: unknown, transfer?: Transferable[]) => void) {
    this.#post = post;
  }

  /**
   * Queues a message. Messages with transferables, and those carrying a
   * user's value (port messages, a run's result), are posted at once, after
   * what is queued: a value that cannot be copied then throws to its sender
   * and takes no other message with it.
   */
  send(
    message: WireMessage,
    transfer?: Transferable[],
    onFail?: (error: unknown) => void,
  ): void {
    if (
      onFail !== undefined && (transfer === undefined || transfer.length === 0)
    ) {
      // A user's value that may not copy, batched all the same: if the batch
      // fails, its messages are posted one by one and only the culprit fails.
      const packed = packWireMessage(message);
      (this.#onFail ??= new Map()).set(packed, onFail);
      this.#queue.push(packed);
      if (this.#queue.length === 1) queueMicrotask(() => this.flush());
      return;
    }
    if (
      (transfer !== undefined && transfer.length > 0) ||
      message.kind === "port" || message.kind === "result"
    ) {
      this.flush();
      this.#post(packWireMessage(message), transfer);
      return;
    }
    this.#queue.push(packWireMessage(message));
    if (this.#queue.length === 1) queueMicrotask(() => this.flush());
  }

  /** Posts everything queued now (before the worker closes, say). */
  flush(): void {
    const queue = this.#queue;
    if (queue.length === 0) return;
    this.#queue = [];
    const onFail = this.#onFail;
    if (onFail === null) {
      this.#post(
        queue.length === 1 ? queue[0] : { kind: "batch", messages: queue },
      );
      return;
    }
    this.#onFail = null;
    try {
      this.#post(
        queue.length === 1 ? queue[0] : { kind: "batch", messages: queue },
      );
    } catch {
      for (const message of queue) {
        try {
          this.#post(message);
        } catch (error) {
          const fail = onFail.get(message);
          if (fail === undefined) throw error;
          fail(error);
        }
      }
    }
  }
}
