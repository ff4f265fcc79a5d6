import type {
  BinaryMessenger,
  MessageHandler,
} from "../channels/binary_messenger.ts";
import type { EventMessenger } from "../channels/event_messenger.ts";
import { missingPluginHint } from "../channels/_default_messenger.ts";
import { MissingPluginException } from "../codec/missing_plugin_exception.ts";
import { StateError } from "./state_error.ts";
import { runtime } from "./_runtime.ts";

const HINT =
  "this background isolate is not connected to the root isolate; call BackgroundIsolateBinaryMessenger.ensureInitialized(token) first, with the RootIsolateToken.instance that the main thread passed to this isolate";

/**
 * The default messenger of a worker before `ensureInitialized`: every send
 * fails with `MissingPluginException` saying how to fix it (the failure a
 * Flutter developer knows from background isolates).
 */
export class UninitializedMessenger implements BinaryMessenger, EventMessenger {
  /** The fix, read by the channels to complete their error message. */
  get [missingPluginHint](): string {
    return runtime.connected
      ? HINT
      : "this worker was not started by Isolate.spawn or Isolate.run, so it has no route to the root isolate";
  }

  send(channel: string): Promise<Uint8Array | null> {
    return Promise.reject(
      new MissingPluginException(
        `No handler can be reached for channel ${channel}: ${
          this[missingPluginHint]
        }`,
      ),
    );
  }

  setMessageHandler(channel: string, _handler: MessageHandler | null): void {
    throw new StateError(
      `Cannot set a handler for channel "${channel}": ${
        this[missingPluginHint]
      }`,
    );
  }

  setEventHandler(channel: string): void {
    throw new StateError(
      `Cannot listen to events on channel "${channel}": ${
        this[missingPluginHint]
      }`,
    );
  }

  watchIsolate(): () => void {
    return () => {};
  }

  sendEvent(_isolate: string, channel: string): void {
    throw new StateError(
      `Cannot send events on channel "${channel}": ${this[missingPluginHint]}`,
    );
  }
}
