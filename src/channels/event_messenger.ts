/**
 * What a messenger offers beyond Flutter's `BinaryMessenger` so that event
 * streams work in every direction: events travel on their own path, so the
 * main thread can both host a stream's platform side and listen to it on the
 * same channel name. Both messengers of this module implement it.
 *
 * @example
 * ```ts
 * import { type EventMessenger, ServicesBinding } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const messenger = ServicesBinding.defaultBinaryMessenger as unknown as EventMessenger;
 * const got = Promise.withResolvers<Uint8Array | null>();
 * messenger.setEventHandler("example/events", got.resolve);
 * messenger.sendEvent(ServicesBinding.isolateId, "example/events", new Uint8Array([7]));
 * assert.deepEqual(await got.promise, new Uint8Array([7]));
 * messenger.setEventHandler("example/events", null);
 * ```
 */
export interface EventMessenger {
  /**
   * Sets the receiver of events arriving at this isolate on a channel;
   * `null` removes it.
   *
   * @param channel The channel name.
   * @param handler Called with each event's bytes (`null` ends the stream).
   */
  setEventHandler(
    channel: string,
    handler: ((event: Uint8Array | null) => void) | null,
  ): void;

  /**
   * Delivers an event to the event receiver of an isolate.
   *
   * @param isolate The id of the receiving isolate.
   * @param channel The channel name.
   * @param event The event's bytes; `null` ends the stream.
   */
  sendEvent(isolate: string, channel: string, event: Uint8Array | null): void;

  /**
   * Calls `onGone` once when an isolate (or one of its ancestors) ends, so
   * the platform side can drop what it keeps for a listener that is gone.
   *
   * @param isolate The id of the isolate to watch.
   * @param onGone Called when it ends.
   * @returns A function that stops watching.
   */
  watchIsolate(isolate: string, onGone: () => void): () => void;
}

/** Whether a messenger can carry events. */
export function isEventMessenger(value: unknown): value is EventMessenger {
  return typeof value === "object" && value !== null &&
    typeof (value as EventMessenger).setEventHandler === "function" &&
    typeof (value as EventMessenger).sendEvent === "function" &&
    typeof (value as EventMessenger).watchIsolate === "function";
}
