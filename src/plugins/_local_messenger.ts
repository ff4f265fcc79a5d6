import type {
  BinaryMessenger,
  MessageHandler,
} from "../channels/binary_messenger.ts";

/**
 * A messenger whose handlers run in this isolate: a plugin method that runs
 * locally still goes through its codec, so a local call answers exactly as
 * the same call proxied to the main thread would (same types, same errors).
 */
export class LocalMessenger implements BinaryMessenger {
  readonly #handlers = new Map<string, MessageHandler>();
  readonly #isolate: () => string;

  /** @param isolate This isolate's id, for the handlers' context. */
  constructor(isolate: () => string) {
    this.#isolate = isolate;
  }

  /** Runs the channel's handler here. */
  async send(
    channel: string,
    message: Uint8Array | null,
  ): Promise<Uint8Array | null> {
    const handler = this.#handlers.get(channel);
    if (handler === undefined) return null;
    return await handler(message, { isolate: this.#isolate() });
  }

  /** Sets the handler of a channel. */
  setMessageHandler(channel: string, handler: MessageHandler | null): void {
    if (handler === null) this.#handlers.delete(channel);
    else this.#handlers.set(channel, handler);
  }
}
