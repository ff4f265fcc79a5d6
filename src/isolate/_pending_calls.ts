import type { SerializedError } from "./protocol.ts";

interface Pending {
  to: string;
  channel: string;
  resolve: (reply: Uint8Array | null) => void;
  reject: (error: unknown) => void;
}

/**
 * The calls this isolate sent and awaits answers for. Every entry settles:
 * with the reply, with a failure from the other side, or with an error when
 * the isolate it was sent to is gone.
 */
export class PendingCalls {
  #calls = new Map<number, Pending>();
  #nextId = 1;
  #onIdle: () => void;
  #onBusy: () => void;

  /**
   * @param onBusy Called when a call starts (keeps the isolate alive).
   * @param onIdle Called when a call settles.
   */
  constructor(onBusy: () => void = () => {}, onIdle: () => void = () => {}) {
    this.#onBusy = onBusy;
    this.#onIdle = onIdle;
  }

  /** How many calls await an answer. */
  get size(): number {
    return this.#calls.size;
  }

  /** Registers a call to `to`; returns its id and the answer's promise. */
  add(
    to: string,
    channel: string,
  ): { id: number; reply: Promise<Uint8Array | null> } {
    const id = this.#nextId++;
    const { promise, resolve, reject } = Promise.withResolvers<
      Uint8Array | null
    >();
    this.#calls.set(id, { to, channel, resolve, reject });
    this.#onBusy();
    return { id, reply: promise };
  }

  /** Settles a call with its reply; ignores unknown ids and wrong senders. */
  resolve(id: number, from: string, reply: Uint8Array | null): void {
    const call = this.#take(id, from);
    call?.resolve(reply);
  }

  /** Settles a call with a failure built from the other side's error. */
  reject(
    id: number,
    from: string,
    error: SerializedError,
    toError: (e: SerializedError, channel: string) => unknown,
  ): void {
    const call = this.#take(id, from);
    call?.reject(toError(error, call.channel));
  }

  /** Fails every call sent to `isolate` or its descendants. */
  failWithin(
    isWithin: (to: string) => boolean,
    error: (channel: string) => unknown,
  ): void {
    for (const [id, call] of this.#calls) {
      if (!isWithin(call.to)) continue;
      this.#calls.delete(id);
      this.#onIdle();
      call.reject(error(call.channel));
    }
  }

  #take(id: number, from: string): Pending | undefined {
    const call = this.#calls.get(id);
    // A reply must come from the isolate the call went to: another isolate
    // cannot settle someone else's call.
    if (call === undefined || call.to !== from) return undefined;
    this.#calls.delete(id);
    this.#onIdle();
    return call;
  }
}
