/**
 * Who sent a message that a handler is answering: the id of the isolate it
 * came from (`"0"` is the root isolate, the main thread).
 *
 * @example Answering with the sender's id
 * ```ts
 * import { type MessageContext, ServicesBinding, StringCodec } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const codec = new StringCodec();
 * const messenger = ServicesBinding.defaultBinaryMessenger;
 * messenger.setMessageHandler(
 *   "example/who",
 *   (_message, context: MessageContext) => codec.encodeMessage(context.isolate),
 * );
 * const reply = await messenger.send("example/who", null);
 * assert.equal(codec.decodeMessage(reply), "0"); // sent from the main thread
 * messenger.setMessageHandler("example/who", null);
 * ```
 */
export interface MessageContext {
  /** The id of the sending isolate. */
  readonly isolate: string;
}

/**
 * Answers one message on a channel. The returned bytes are the reply;
 * `null` means "no reply" (a method channel caller then gets
 * `MissingPluginException`).
 *
 * @example An asynchronous handler that answers some messages
 * ```ts
 * import { type MessageHandler, ServicesBinding, StringCodec } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const codec = new StringCodec();
 * const upperCase: MessageHandler = async (message) => {
 *   const text = codec.decodeMessage(message);
 *   if (text === null) return null; // nothing to answer
 *   await Promise.resolve(); // a handler may wait for I/O before replying
 *   return codec.encodeMessage(text.toUpperCase());
 * };
 * const messenger = ServicesBinding.defaultBinaryMessenger;
 * messenger.setMessageHandler("example/upper", upperCase);
 * const reply = await messenger.send("example/upper", codec.encodeMessage("hi"));
 * assert.equal(codec.decodeMessage(reply), "HI");
 * assert.equal(await messenger.send("example/upper", null), null);
 * messenger.setMessageHandler("example/upper", null);
 * ```
 */
export type MessageHandler = (
  message: Uint8Array | null,
  context: MessageContext,
) => Uint8Array | null | Promise<Uint8Array | null>;

/**
 * Sends binary messages on named channels and receives them: the contract of
 * Flutter's `BinaryMessenger`. Every isolate has a default one: on the main
 * thread the root messenger, which hosts the platform side (the handlers
 * plugins register); in a worker, after
 * `BackgroundIsolateBinaryMessenger.ensureInitialized(token)`, the background
 * messenger, whose `send` reaches those handlers on the root.
 *
 * @example Registering a handler and sending to it on the main thread
 * ```ts
 * import { type BinaryMessenger, ServicesBinding } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const messenger: BinaryMessenger = ServicesBinding.defaultBinaryMessenger;
 * messenger.setMessageHandler("example/echo", (bytes) => bytes);
 * const reply = await messenger.send("example/echo", new Uint8Array([1, 2]));
 * assert.deepEqual(reply, new Uint8Array([1, 2]));
 * messenger.setMessageHandler("example/echo", null);
 * ```
 */
export interface BinaryMessenger {
  /**
   * Sends a message on a channel and resolves with the reply (`null` when
   * nothing handled it).
   *
   * @param channel The channel name.
   * @param message The bytes, or `null`.
   * @returns The reply bytes, or `null`.
   */
  send(channel: string, message: Uint8Array | null): Promise<Uint8Array | null>;

  /**
   * Sets the handler for messages arriving on a channel, replacing any
   * previous one; `null` removes it.
   *
   * @param channel The channel name.
   * @param handler The handler, or `null`.
   */
  setMessageHandler(channel: string, handler: MessageHandler | null): void;
}
