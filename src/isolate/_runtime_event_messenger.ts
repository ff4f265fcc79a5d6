import type { EventMessenger } from "../channels/event_messenger.ts";
import { runtime } from "./_runtime.ts";

/**
 * The event half of the root messenger: events go through this isolate's
 * runtime. `BackgroundIsolateBinaryMessenger` repeats these three methods
 * instead of extending this class, because a public class may not extend a
 * private one (`deno doc --lint`, private-type-ref).
 */
export abstract class RuntimeEventMessenger implements EventMessenger {
  /**
   * Sets the receiver of events arriving at this isolate on a channel;
   * while set, it keeps a worker alive.
   *
   * @param channel The channel name.
   * @param handler The receiver, or `null`.
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
    runtime.route({
      kind: "event",
      from: runtime.id,
      to: isolate,
      channel,
      payload: event,
    });
  }

  /**
   * Calls `onGone` once when an isolate (or an ancestor) ends.
   *
   * @param isolate The isolate to watch.
   * @param onGone Called once when it ends.
   * @returns A function that stops watching.
   */
  watchIsolate(isolate: string, onGone: () => void): () => void {
    return runtime.watchIsolate(isolate, onGone);
  }
}
