import { transferOf } from "../channels/_owned_bytes.ts";
import { nextTurn } from "./_next_turn.ts";
import type { EventMessenger } from "../channels/event_messenger.ts";
import type {
  BinaryMessenger,
  MessageContext,
  MessageHandler,
} from "../channels/binary_messenger.ts";
import { IsolateExitedError } from "./isolate_exited_error.ts";
import {
  isWithin,
  serializeError,
  type TokenData,
  type WireMessage,
} from "./protocol.ts";
import { RootIsolateTokenError } from "./root_isolate_token_error.ts";
import { verifyToken } from "./root_isolate_token.ts";
import { ROOT_ID, runtime } from "./_runtime.ts";
import { PendingCalls } from "./_pending_calls.ts";
import { errorFromWire } from "./_wire_errors.ts";
import { answer, whenAnswered } from "./_answer.ts";

type Call = Extract<WireMessage, { kind: "call" }>;

const ROOT_CONTEXT: MessageContext = { isolate: ROOT_ID };

/**
 * The root isolate's messenger. It hosts the platform side: the handlers
 * plugins register with `setMessageHandler` answer messages sent from the
 * main thread and from every background isolate whose token the root
 * accepted. It also sends calls and events into background isolates.
 */
export class RootMessenger implements BinaryMessenger, EventMessenger {
  #handlers = new Map<string, MessageHandler>();
  #tokens = new Map<string, TokenData>();
  #pending = new PendingCalls();

  /**
   * Sends a message to the platform handler of a channel, on a later turn
   * of the event loop (as Flutter's do), so a main thread awaiting calls in
   * a loop still lets workers' messages in.
   */
  send(
    channel: string,
    message: Uint8Array | null,
  ): Promise<Uint8Array | null> {
    return new Promise((resolve) => {
      nextTurn(() => resolve(this.#dispatch(channel, message, ROOT_CONTEXT)));
    });
  }

  /** Sets the platform handler of a channel; `null` removes it. */
  setMessageHandler(channel: string, handler: MessageHandler | null): void {
    if (handler === null) this.#handlers.delete(channel);
    else this.#handlers.set(channel, handler);
  }

  /** Sends a message to a handler that a background isolate registered. */
  sendTo(
    isolate: string,
    channel: string,
    message: Uint8Array | null,
  ): Promise<Uint8Array | null> {
    if (isolate === ROOT_ID) return this.send(channel, message);
    const { id, reply } = this.#pending.add(isolate, channel);
    runtime.route({
      kind: "call",
      id,
      from: ROOT_ID,
      to: isolate,
      channel,
      payload: message,
    }, transferOf(message));
    return reply;
  }

  // The event half: events travel through this isolate's runtime (the
  // public BackgroundIsolateBinaryMessenger documents the same three).
  setEventHandler(
    channel: string,
    handler: ((event: Uint8Array | null) => void) | null,
  ): void {
    runtime.setEventHandler(channel, handler);
  }
  sendEvent(isolate: string, channel: string, event: Uint8Array | null): void {
    runtime.sendEvent(isolate, channel, event);
  }
  watchIsolate(isolate: string, onGone: () => void): () => void {
    return runtime.watchIsolate(isolate, onGone);
  }

  /** A call from a background isolate. */
  receiveCall(call: Call): void {
    const token = this.#tokens.get(call.from);
    const verdict = token === undefined ? "token_forged" : verifyToken(token);
    if (verdict !== null) {
      this.#fail(call, new RootIsolateTokenError(verdict, call.from));
      return;
    }
    whenAnswered(
      this.#dispatch(call.channel, call.payload, { isolate: call.from }),
      (payload) =>
        runtime.route({
          kind: "reply",
          id: call.id,
          from: ROOT_ID,
          to: call.from,
          payload,
        }, transferOf(payload)),
    );
  }

  /** A background isolate presents its token. */
  receiveRegister(from: string, token: TokenData): void {
    this.#tokens.set(from, token);
    // Its verdict, for the plugin calls it runs itself (they never cross
    // to the root, which checks the token of every call that does).
    runtime.route({
      kind: "registered",
      from: ROOT_ID,
      to: from,
      rejection: verifyToken(token),
    });
  }

  /** The answer to a call the root sent into a background isolate. */
  receiveReply(
    message: Extract<WireMessage, { kind: "reply" | "fail" }>,
  ): void {
    if (message.kind === "reply") {
      this.#pending.resolve(message.id, message.from, message.payload);
    } else {
      this.#pending.reject(
        message.id,
        message.from,
        message.error,
        (error, channel) => errorFromWire(error, channel, message.from),
      );
    }
  }

  /** An isolate and its descendants are gone. */
  receiveGone(isolate: string, reason: string): void {
    for (const id of this.#tokens.keys()) {
      if (isWithin(id, isolate)) this.#tokens.delete(id);
    }
    this.#pending.failWithin(
      (to) => isWithin(to, isolate),
      (channel) => new IsolateExitedError(isolate, reason, channel),
    );
  }

  #dispatch(
    channel: string,
    message: Uint8Array | null,
    context: MessageContext,
  ): Uint8Array | null | Promise<Uint8Array | null> {
    return answer(
      this.#handlers.get(channel),
      message,
      context,
      channel,
      ["from isolate", context.isolate],
    );
  }

  #fail(call: Call, error: Error): void {
    runtime.route({
      kind: "fail",
      id: call.id,
      from: ROOT_ID,
      to: call.from,
      error: serializeError(error),
    });
  }
}
