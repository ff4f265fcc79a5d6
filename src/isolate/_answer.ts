import type {
  MessageContext,
  MessageHandler,
} from "../channels/binary_messenger.ts";

/**
 * Runs the handler of a message and returns its reply. As in Flutter, a
 * missing handler means an empty reply, and a handler that fails is reported
 * (to stderr, naming the channel) and answered with an empty reply: the
 * caller's method channel then fails with `MissingPluginException`.
 * Returns the reply itself when the handler answered synchronously.
 */
export function answer(
  handler: MessageHandler | undefined,
  message: Uint8Array | null,
  context: MessageContext,
  channel: string,
  where: Where,
): Uint8Array | null | Promise<Uint8Array | null> {
  if (handler === undefined) return null;
  let reply: Uint8Array | null | Promise<Uint8Array | null>;
  try {
    reply = handler(message, context);
  } catch (error) {
    return report(error, channel, where);
  }
  // A synchronous reply is sent at once; a promise, when it settles.
  return typeof (reply as PromiseLike<unknown> | null)?.then === "function"
    ? Promise.resolve(reply).catch((error) => report(error, channel, where))
    : reply;
}

/**
 * Where a message was handled, for the report of a failing handler: built
 * into text only when one fails (this runs for every call).
 */
export type Where = readonly ["from isolate" | "in isolate", string];

function report(error: unknown, channel: string, where: Where): null {
  console.error(
    `isolates: error while handling a message on channel "${channel}" ${
      where[0]
    } ${where[1]}:`,
    error,
  );
  return null;
}

/** Calls `send` with a reply from {@linkcode answer}, now or when it settles. */
export function whenAnswered(
  reply: Uint8Array | null | Promise<Uint8Array | null>,
  send: (reply: Uint8Array | null) => void,
): void {
  if (reply instanceof Promise) reply.then(send);
  else send(reply);
}
