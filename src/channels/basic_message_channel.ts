import type { MessageCodec } from "../codec/message_codec.ts";
import type { BinaryMessenger, MessageContext } from "./binary_messenger.ts";
import { defaultMessenger, hintOf } from "./_default_messenger.ts";
import { MissingPluginException } from "../codec/missing_plugin_exception.ts";

/**
 * A named channel for messages of one type, encoded with a
 * {@linkcode MessageCodec}, as in Flutter: `send` resolves with the decoded
 * reply (an empty reply decodes to `null`; there is no
 * `MissingPluginException` on this channel type).
 *
 * @typeParam T The type of the messages.
 *
 * @example
 * ```ts
 * import { BasicMessageChannel, StringCodec } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const channel = new BasicMessageChannel("example/greeter", new StringCodec());
 * channel.setMessageHandler((name) => `hello ${name}`);
 * assert.equal(await channel.send("deno"), "hello deno");
 * channel.setMessageHandler(null);
 * ```
 */
export class BasicMessageChannel<T> {
  /** The channel name. */
  readonly name: string;
  /** The codec of the messages. */
  readonly codec: MessageCodec<T>;
  readonly #messenger: BinaryMessenger | undefined;

  /**
   * Creates a channel; nothing is sent or registered until it is used.
   *
   * @param name The channel name.
   * @param codec The message codec.
   * @param binaryMessenger The messenger; the current isolate's default one
   * when omitted.
   */
  constructor(
    name: string,
    codec: MessageCodec<T>,
    binaryMessenger?: BinaryMessenger,
  ) {
    this.name = name;
    this.codec = codec;
    this.#messenger = binaryMessenger;
  }

  /** The messenger this channel sends through. */
  get binaryMessenger(): BinaryMessenger {
    return this.#messenger ?? defaultMessenger();
  }

  /**
   * Sends a message and resolves with the decoded reply.
   *
   * @param message The message.
   * @returns The reply (`null` when nothing answered).
   * @throws {UnsupportedValueError} When the message cannot be encoded.
   * @throws {MissingPluginException} In a worker that did not call
   * `BackgroundIsolateBinaryMessenger.ensureInitialized`.
   */
  async send(message: T): Promise<T> {
    const messenger = this.binaryMessenger;
    const hint = hintOf(messenger);
    if (hint !== undefined) {
      // Not Flutter's silent null: this isolate cannot reach any handler.
      throw new MissingPluginException(
        `No handler can be reached for channel ${this.name}: ${hint}`,
      );
    }
    const reply = await messenger.send(
      this.name,
      this.codec.encodeMessage(message),
    );
    return this.codec.decodeMessage(reply);
  }

  /**
   * Sets the handler of messages arriving on this channel; its result is
   * encoded as the reply. `null` removes it.
   *
   * @param handler The handler, or `null`.
   */
  setMessageHandler(
    handler: ((message: T, context: MessageContext) => T | Promise<T>) | null,
  ): void {
    if (handler === null) {
      this.binaryMessenger.setMessageHandler(this.name, null);
      return;
    }
    const codec = this.codec;
    this.binaryMessenger.setMessageHandler(
      this.name,
      async (message, context) =>
        codec.encodeMessage(
          await handler(codec.decodeMessage(message), context),
        ),
    );
  }
}
