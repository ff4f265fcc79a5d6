import type {
  MessageContext,
  MessageHandler,
} from "../channels/binary_messenger.ts";

/**
 * Runs the handler of a message and returns its reply. As in Flutter, a
 * missing handler means an empty reply, and a handler that fails is reported
 * (to stderr, naming the channel) and answered with an empty reply: the
 * caller's method channel then fails with `MissingPluginException`.
 */
export async function answer(
  handler: MessageHandler | undefined,
  message: Uint8Array | null,
  context: MessageContext,
  channel: string,
  where: string,
): Promise<Uint8Array | null> {
  if (handler === undefined) return null;
  try {
    return await handler(message, context);
  } catch (error) {
    console.error(
      `isolates: error while handling a message on channel "${channel}" ${where}:`,
      error,
    );
    return null;
  }
}
