import type { BinaryMessenger } from "../channels/binary_messenger.ts";
import { installDefaultMessenger } from "../channels/_default_messenger.ts";
import { BackgroundIsolateBinaryMessenger } from "./background_isolate_binary_messenger.ts";
import { RootIsolateToken } from "./root_isolate_token.ts";
import { RootMessenger } from "./_root_messenger.ts";
import { runtime } from "./_runtime.ts";
import { isMainThread } from "./_thread.ts";
import { UninitializedMessenger } from "./_uninitialized_messenger.ts";

const rootMessenger: RootMessenger | null = isMainThread
  ? new RootMessenger()
  : null;
const uninitialized = new UninitializedMessenger();

if (rootMessenger !== null) {
  runtime.setDeliveries({
    call: (message) => rootMessenger.receiveCall(message),
    reply: (message) => rootMessenger.receiveReply(message),
    fail: (message) => rootMessenger.receiveReply(message),
    register: (message) =>
      rootMessenger.receiveRegister(message.from, message.token),
    registered: () => {},
    gone: (message) =>
      rootMessenger.receiveGone(message.isolate, message.reason),
  });
}

/**
 * The services of the current isolate, in the spirit of Flutter's
 * `ServicesBinding`: its default messenger (what channels created without
 * one use), the root token, and the isolate's id.
 *
 * @example
 * ```ts
 * import { ServicesBinding } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ServicesBinding.isolateId, "0"); // the main thread
 * assert.ok(ServicesBinding.rootIsolateToken !== null);
 * ```
 */
export class ServicesBinding {
  private constructor() {}

  /**
   * The current isolate's default messenger: on the main thread the root
   * messenger, which hosts the platform side; in a worker the
   * `BackgroundIsolateBinaryMessenger` once initialized, and before that a
   * messenger whose calls fail with `MissingPluginException` saying to call
   * `ensureInitialized`.
   */
  static get defaultBinaryMessenger(): BinaryMessenger {
    if (rootMessenger !== null) return rootMessenger;
    return BackgroundIsolateBinaryMessenger.isInitialized
      ? BackgroundIsolateBinaryMessenger.instance
      : uninitialized;
  }

  /** `RootIsolateToken.instance`: non-null only on the main thread. */
  static get rootIsolateToken(): RootIsolateToken | null {
    return RootIsolateToken.instance;
  }

  /** This isolate's id: `"0"` on the main thread, `"0.1"`, `"0.1.2"`… in workers. */
  static get isolateId(): string {
    return runtime.id;
  }

  /**
   * A messenger whose `send` reaches the handlers a background isolate set
   * with `setMessageHandler` (or `MethodChannel.setMethodCallHandler`): the
   * platform side calling into a worker. Main thread only.
   *
   * @param isolate The id of the isolate (e.g. from a handler's context, or
   * `Isolate.id`).
   * @returns A messenger for channels that call into that isolate.
   * @throws {TypeError} Outside the main thread.
   */
  static messengerFor(isolate: string): BinaryMessenger {
    if (rootMessenger === null) {
      throw new TypeError(
        "Cannot call into another isolate from a worker: only the root isolate hosts the platform side",
      );
    }
    const root = rootMessenger;
    return {
      send: (channel, message) => root.sendTo(isolate, channel, message),
      setMessageHandler: () => {
        throw new TypeError(
          `Cannot set a handler through the messenger of isolate ${isolate}: set it in that isolate`,
        );
      },
    };
  }
}

installDefaultMessenger(() => ServicesBinding.defaultBinaryMessenger);
