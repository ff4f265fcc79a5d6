import type {
  BinaryMessenger,
  MessageHandler,
} from "../channels/binary_messenger.ts";
import type { EventMessenger } from "../channels/event_messenger.ts";
import { IsolateExitedError } from "./isolate_exited_error.ts";
import { isWithin, type TokenData, type WireMessage } from "./protocol.ts";
import {
  RootIsolateToken,
  TOKEN_EPOCH,
  tokenToData,
} from "./root_isolate_token.ts";
import type { TokenRejection } from "./root_isolate_token_error.ts";
import { readVersion } from "./_shared_versions.ts";
import { transferOf } from "../channels/_owned_bytes.ts";
import { StateError } from "./state_error.ts";
import { ROOT_ID, runtime } from "./_runtime.ts";
import { PendingCalls } from "./_pending_calls.ts";
import { isMainThread } from "./_thread.ts";
import { errorFromWire } from "./_wire_errors.ts";
import { answer, whenAnswered } from "./_answer.ts";

let instance: BackgroundIsolateBinaryMessenger | null = null;

/**
 * The messenger of a background isolate, as Flutter's: after
 * {@linkcode BackgroundIsolateBinaryMessenger.ensureInitialized}, channels
 * created in the worker without a messenger use it, and their calls reach the
 * platform handlers on the root isolate.
 *
 * Beyond Flutter, a background isolate can also receive: `setMessageHandler`
 * (and so `MethodChannel.setMethodCallHandler`) and `EventChannel` work here.
 * An empty reply is `MissingPluginException` here too (Flutter hangs), and
 * every pending call settles if the root side goes away.
 *
 * @example Inside a worker started by Isolate.spawn
 * ```ts ignore
 * // ignore: runs only inside a worker, which doc tests do not start
 * import { BackgroundIsolateBinaryMessenger, type RootIsolateToken } from "@isolates/isolates";
 *
 * export default function entry(init: { token: RootIsolateToken }) {
 *   BackgroundIsolateBinaryMessenger.ensureInitialized(init.token);
 * }
 * ```
 *
 * @example Before initialization, instance says what to do
 * ```ts
 * import { BackgroundIsolateBinaryMessenger, StateError } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => BackgroundIsolateBinaryMessenger.instance, StateError);
 * ```
 */
export class BackgroundIsolateBinaryMessenger
  implements BinaryMessenger, EventMessenger {
  #pending = new PendingCalls(() => runtime.retain(), () => runtime.release());
  #handlers = new Map<string, MessageHandler>();
  #token: TokenData | null = null;
  /** The root's verdict on the token, as of revocation epoch `#epoch`. */
  #verdict: PromiseWithResolvers<TokenRejection | null> | null = null;
  #known: { rejection: TokenRejection | null } | null = null;
  #epoch: number | null = null;

  private constructor() {}

  /**
   * Connects this background isolate to the root isolate with its token.
   * Synchronous and idempotent, as in Flutter: after the first call it does
   * nothing (the token is not looked at again). The root checks the token
   * when it arrives; if it refuses it, the first call reports why
   * (`RootIsolateTokenError`). On the main thread it does nothing: channels
   * there use the root messenger already.
   *
   * @param token The `RootIsolateToken.instance` the main thread sent.
   * @throws {TypeError} When `token` is not a `RootIsolateToken`.
   * @throws {StateError} In a worker not started by `Isolate.spawn` or
   * `Isolate.run` (it has no route to the root).
   */
  static ensureInitialized(token: RootIsolateToken): void {
    if (instance !== null || isMainThread) return;
    if (!(token instanceof RootIsolateToken)) {
      throw new TypeError(
        `Cannot initialize BackgroundIsolateBinaryMessenger: expected a RootIsolateToken, got ${
          token === null ? "null" : typeof token
        }; pass RootIsolateToken.instance from the main thread`,
      );
    }
    if (!runtime.connected) {
      throw new StateError(
        "Cannot initialize BackgroundIsolateBinaryMessenger: this worker was not started by Isolate.spawn or Isolate.run, so it has no route to the root isolate",
      );
    }
    const messenger = new BackgroundIsolateBinaryMessenger();
    instance = messenger;
    runtime.setDeliveries({
      call: (message) => messenger.#receiveCall(message),
      reply: (message) =>
        messenger.#pending.resolve(message.id, message.from, message.payload),
      fail: (message) =>
        messenger.#pending.reject(
          message.id,
          message.from,
          message.error,
          (error, channel) => errorFromWire(error, channel, runtime.id),
        ),
      register: () => {},
      registered: (message) => {
        const rejection = message.rejection as TokenRejection | null;
        messenger.#known = { rejection };
        messenger.#verdict?.resolve(rejection);
        messenger.#verdict = null;
      },
      gone: (message) =>
        messenger.#pending.failWithin(
          (to) => isWithin(to, message.isolate),
          (channel) =>
            new IsolateExitedError(message.isolate, message.reason, channel),
        ),
    });
    messenger.#token = tokenToData(token);
    messenger.#register();
  }

  /** Presents the token to the root; its verdict comes back. */
  #register(): void {
    this.#epoch = readVersion(TOKEN_EPOCH);
    this.#known = null;
    this.#verdict ??= Promise.withResolvers();
    runtime.route({
      kind: "register",
      from: runtime.id,
      to: ROOT_ID,
      token: this.#token!,
    });
  }

  /**
   * The root's verdict on this isolate's token: `null` when accepted, else
   * why not. Plugin calls that run in this isolate check it, as the root
   * checks every call that reaches it. Asked again after any revocation.
   */
  verdict(): TokenRejection | null | Promise<TokenRejection | null> {
    if (this.#epoch !== readVersion(TOKEN_EPOCH)) this.#register();
    if (this.#known !== null) return this.#known.rejection;
    return this.#verdict!.promise;
  }

  /**
   * The initialized messenger.
   *
   * @throws {StateError} Before {@linkcode BackgroundIsolateBinaryMessenger.ensureInitialized}.
   */
  static get instance(): BackgroundIsolateBinaryMessenger {
    if (instance === null) {
      throw new StateError(
        "The BackgroundIsolateBinaryMessenger.instance value is invalid until BackgroundIsolateBinaryMessenger.ensureInitialized is executed.",
      );
    }
    return instance;
  }

  /** Whether `ensureInitialized` has run in this isolate. */
  static get isInitialized(): boolean {
    return instance !== null;
  }

  /**
   * Sends a message to the platform handler of a channel on the root
   * isolate. Keeps this isolate alive until the reply arrives.
   *
   * @param channel The channel name.
   * @param message The bytes, or `null`.
   * @returns The reply, or `null` when no handler answered.
   * @throws {RootIsolateTokenError} When the root refused this isolate's token.
   * @throws {IsolateExitedError} When the route to the root is gone.
   */
  send(
    channel: string,
    message: Uint8Array | null,
  ): Promise<Uint8Array | null> {
    const { id, reply } = this.#pending.add(ROOT_ID, channel);
    runtime.route({
      kind: "call",
      id,
      from: runtime.id,
      to: ROOT_ID,
      channel,
      payload: message,
    }, transferOf(message));
    return reply;
  }

  /**
   * Sets the handler of messages the platform side sends into this isolate;
   * `null` removes it. A handler does not keep the isolate alive: hold a
   * `ReceivePort` open for that.
   *
   * @param channel The channel name.
   * @param handler The handler, or `null`.
   */
  setMessageHandler(channel: string, handler: MessageHandler | null): void {
    if (handler === null) this.#handlers.delete(channel);
    else this.#handlers.set(channel, handler);
  }

  /**
   * Sets the receiver of events arriving at this isolate on a channel;
   * `null` removes it. While set, it keeps the worker alive.
   *
   * @param channel The channel name.
   * @param handler Called with each event's bytes (`null` ends the stream),
   * or `null`.
   */
  setEventHandler(
    channel: string,
    handler: ((event: Uint8Array | null) => void) | null,
  ): void {
    runtime.setEventHandler(channel, handler);
  }

  /**
   * Sends an event to an isolate's receiver.
   *
   * @param isolate The receiving isolate's id.
   * @param channel The channel name.
   * @param event The bytes; `null` ends the stream.
   */
  sendEvent(isolate: string, channel: string, event: Uint8Array | null): void {
    runtime.sendEvent(isolate, channel, event);
  }

  /**
   * Calls `onGone` once when an isolate (or one of its ancestors) ends.
   *
   * @param isolate The id of the isolate to watch.
   * @param onGone Called once when it ends.
   * @returns A function that stops watching.
   */
  watchIsolate(isolate: string, onGone: () => void): () => void {
    return runtime.watchIsolate(isolate, onGone);
  }

  #receiveCall(call: Extract<WireMessage, { kind: "call" }>): void {
    // A call being answered keeps the isolate alive until its reply is sent.
    runtime.retain();
    whenAnswered(
      answer(
        this.#handlers.get(call.channel),
        call.payload,
        { isolate: call.from },
        call.channel,
        ["in isolate", runtime.id],
      ),
      (payload) => {
        runtime.route({
          kind: "reply",
          id: call.id,
          from: runtime.id,
          to: call.from,
          payload,
        }, transferOf(payload));
        runtime.release();
      },
    );
  }
}
