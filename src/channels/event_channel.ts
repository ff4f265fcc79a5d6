import type { MethodCodec } from "../codec/method_codec.ts";
import { MissingPluginException } from "../codec/missing_plugin_exception.ts";
import { StandardMethodCodec } from "../codec/standard_method_codec.ts";
import type { BinaryMessenger } from "./binary_messenger.ts";
import { type EventMessenger, isEventMessenger } from "./event_messenger.ts";
import { MethodChannel } from "./method_channel.ts";
import { defaultMessenger } from "./_default_messenger.ts";

/** The subscription on each channel of each messenger (see receiveBroadcastStream). */
/** One isolate's subscription to a stream, on the platform side. */
interface Subscription {
  /** Whether events still go to the listener. */
  active: boolean;
  /** Whether onListen was called (and onCancel is owed). */
  listening: boolean;
  /** The listener's arguments, for onListen and onCancel. */
  args: unknown;
  /** Stops watching the listener's isolate. */
  unwatch: () => void;
}

const activeStreams = new WeakMap<EventMessenger, Map<string, () => void>>();

/**
 * Where the platform side of a stream sends its events.
 *
 * @example Progress events, or an error that fails the listener's stream
 * ```ts
 * import { EventChannel, type EventSink, PlatformException } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const channel = new EventChannel("example/download");
 * channel.setStreamHandler({
 *   onListen(file, events: EventSink) {
 *     if (file !== "report.pdf") {
 *       events.error("NOT_FOUND", `No file named ${file}`, file);
 *       return;
 *     }
 *     events.success(50);
 *     events.success(100);
 *     events.endOfStream();
 *   },
 * });
 *
 * const progress: unknown[] = [];
 * for await (const percent of channel.receiveBroadcastStream("report.pdf")) {
 *   progress.push(percent);
 * }
 * assert.deepEqual(progress, [50, 100]);
 *
 * const missing = channel.receiveBroadcastStream("missing.pdf").getReader();
 * await assert.rejects(
 *   missing.read(),
 *   (error: unknown) =>
 *     error instanceof PlatformException && error.code === "NOT_FOUND" &&
 *     error.details === "missing.pdf",
 * );
 * channel.setStreamHandler(null);
 * ```
 */
export interface EventSink {
  /** Sends an event. */
  success(event: unknown): void;
  /** Sends an error; the listener's stream fails with a `PlatformException`. */
  error(code: string, message?: string | null, details?: unknown): void;
  /** Ends the stream. */
  endOfStream(): void;
}

/**
 * The platform side of an {@linkcode EventChannel}.
 *
 * @example A handler told when its listener stops
 * ```ts
 * import { EventChannel, type StreamHandler } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const cancelled = Promise.withResolvers<unknown>();
 * const clock: StreamHandler = {
 *   onListen(_args, events) {
 *     events.success("tick");
 *     events.success("tock");
 *   },
 *   onCancel(args) {
 *     cancelled.resolve(args);
 *   },
 * };
 * const channel = new EventChannel("example/clock");
 * channel.setStreamHandler(clock);
 * for await (const event of channel.receiveBroadcastStream("fast")) {
 *   assert.equal(event, "tick");
 *   break; // leaving the loop cancels the subscription
 * }
 * assert.equal(await cancelled.promise, "fast");
 * channel.setStreamHandler(null);
 * ```
 */
export interface StreamHandler {
  /**
   * Called when an isolate starts listening.
   *
   * @param args The arguments the listener passed.
   * @param events Where to send that listener's events.
   */
  onListen(args: unknown, events: EventSink): void | Promise<void>;
  /**
   * Called when that listener stops.
   *
   * @param args The arguments the listener passed.
   */
  onCancel?(args: unknown): void | Promise<void>;
}

/**
 * A named channel for streams of events from the platform side, with
 * Flutter's protocol: listening invokes `listen` (with the arguments) on a
 * method channel of the same name, each event arrives as an envelope, an
 * empty message ends the stream, and cancelling invokes `cancel`.
 *
 * Unlike Flutter, it works in background isolates too, and the platform side
 * is written here as well, with {@linkcode EventChannel.setStreamHandler}.
 * The listen and cancel calls go through this channel's own messenger.
 *
 * @example A stream served and consumed on the main thread
 * ```ts
 * import { EventChannel } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const channel = new EventChannel("example/ticks");
 * channel.setStreamHandler({
 *   onListen(count, events) {
 *     for (let i = 0; i < (count as number); i++) events.success(i);
 *     events.endOfStream();
 *   },
 * });
 * const ticks: unknown[] = [];
 * for await (const tick of channel.receiveBroadcastStream(3)) ticks.push(tick);
 * assert.deepEqual(ticks, [0, 1, 2]);
 * channel.setStreamHandler(null);
 * ```
 */
export class EventChannel {
  /** The channel name. */
  readonly name: string;
  /** The codec of the listen/cancel calls and of the events. */
  readonly codec: MethodCodec;
  readonly #messenger: BinaryMessenger | undefined;

  /**
   * Creates a channel; nothing is sent or registered until it is used.
   *
   * @param name The channel name.
   * @param codec The method codec.
   * @default {new StandardMethodCodec()}
   * @param binaryMessenger The messenger; the current isolate's default one
   * when omitted.
   */
  constructor(
    name: string,
    codec: MethodCodec = new StandardMethodCodec(),
    binaryMessenger?: BinaryMessenger,
  ) {
    this.name = name;
    this.codec = codec;
    this.#messenger = binaryMessenger;
  }

  /** The messenger this channel uses. */
  get binaryMessenger(): BinaryMessenger {
    return this.#messenger ?? defaultMessenger();
  }

  /**
   * Starts listening: returns a stream of the platform side's events, also
   * usable with `for await`. Cancelling the stream (or leaving the loop)
   * stops the subscription. An error event fails the stream with the
   * `PlatformException` it carries and ends the subscription; so does a
   * failed `listen` call (e.g. `MissingPluginException` when nothing serves
   * the channel). A second stream on the same channel in the same isolate
   * ends the first (the platform side keeps one subscription per isolate).
   *
   * @param args Arguments for the platform side's `onListen`.
   * @returns The events.
   * @throws {TypeError} When the messenger cannot carry events.
   */
  receiveBroadcastStream(args: unknown = null): ReadableStream<unknown> {
    const messenger = this.#eventMessenger();
    const methods = new MethodChannel(
      this.name,
      this.codec,
      this.binaryMessenger,
    );
    const { name, codec } = this;
    let active = false;
    // `controller.error()` drops what is queued; an error waits until the
    // events before it have been read, so they arrive in order, as in Dart.
    let pendingError: { error: unknown } | null = null;
    const fail = (
      controller: ReadableStreamDefaultController<unknown>,
      error: unknown,
    ): void => {
      if ((controller.desiredSize ?? 0) >= 1) controller.error(error);
      else pendingError = { error };
    };
    let streams = activeStreams.get(messenger);
    if (streams === undefined) {
      streams = new Map();
      activeStreams.set(messenger, streams);
    }
    const open = streams;
    let replace = (): void => {};
    const forget = (): void => {
      if (open.get(name) === replace) open.delete(name);
    };
    const stop = (): void => {
      if (!active) return;
      active = false;
      forget();
      messenger.setEventHandler(name, null);
      // A failed cancel has nobody left to tell: the listener is gone.
      methods.invokeMethod("cancel", args).catch(() => {});
    };
    return new ReadableStream<unknown>({
      start(controller): void {
        // One subscription per channel and isolate (the platform side keeps
        // one sink per listener): a new stream ends the previous one.
        open.get(name)?.();
        replace = () => {
          if (!active) return;
          active = false;
          controller.close();
        };
        open.set(name, replace);
        active = true;
        messenger.setEventHandler(name, (bytes) => {
          if (!active) return;
          if (bytes === null) {
            stop();
            controller.close();
            return;
          }
          try {
            controller.enqueue(codec.decodeEnvelope(bytes));
          } catch (error) {
            stop();
            fail(controller, error);
          }
        });
        methods.invokeMethod("listen", args).catch((error) => {
          if (!active) return;
          active = false;
          forget();
          messenger.setEventHandler(name, null);
          fail(controller, error);
        });
      },
      pull(controller): void {
        // The queue has drained: an error held back for it is due now.
        if (pendingError !== null) controller.error(pendingError.error);
      },
      cancel(): void {
        stop();
      },
    });
  }

  /**
   * Serves this channel's stream (the platform side). `onListen` is called
   * for each isolate that listens, with a sink bound to that isolate;
   * `onCancel` when it stops. `null` removes the handler.
   *
   * @param handler The stream handler, or `null`.
   */
  setStreamHandler(handler: StreamHandler | null): void {
    const methods = new MethodChannel(
      this.name,
      this.codec,
      this.binaryMessenger,
    );
    if (handler === null) {
      methods.setMethodCallHandler(null);
      return;
    }
    const messenger = this.#eventMessenger();
    const { name, codec } = this;
    const sinks = new Map<string, Subscription>();
    methods.setMethodCallHandler(async (call, context) => {
      const listener = context.isolate;
      if (call.method === "listen") {
        // Recorded before anything is awaited, so that a cancel arriving
        // meanwhile finds this subscription, not the one it replaces.
        const previous = sinks.get(listener);
        const state: Subscription = {
          active: true,
          listening: false,
          args: call.arguments,
          unwatch: () => {},
        };
        sinks.set(listener, state);
        // A listener that ends without cancelling is cancelled for it.
        state.unwatch = messenger.watchIsolate(listener, () => {
          if (sinks.get(listener) !== state) return;
          sinks.delete(listener);
          end(state).catch((error) =>
            console.error(
              `isolates: onCancel of stream "${name}" failed for isolate ${listener}:`,
              error,
            )
          );
        });
        if (previous !== undefined) await end(previous);
        if (!state.active) return null; // cancelled before it began
        state.listening = true;
        const send = (bytes: Uint8Array | null): void => {
          if (state.active) messenger.sendEvent(listener, name, bytes);
        };
        await handler.onListen(state.args, {
          success: (event) => send(codec.encodeSuccessEnvelope(event)),
          error: (code, message, details) =>
            send(codec.encodeErrorEnvelope({ code, message, details })),
          endOfStream: () => {
            send(null);
            state.active = false;
          },
        });
        return null;
      }
      if (call.method === "cancel") {
        const state = sinks.get(listener);
        if (state === undefined) return null;
        sinks.delete(listener);
        await end(state);
        return null;
      }
      throw new MissingPluginException();
    });
    /** Ends a subscription; `onCancel` runs once, for one that began. */
    const end = async (state: Subscription): Promise<void> => {
      state.active = false;
      state.unwatch();
      // After endOfStream too: the listener still cancels, as in Flutter.
      if (state.listening) {
        state.listening = false;
        await handler.onCancel?.(state.args);
      }
    };
  }

  #eventMessenger(): EventMessenger {
    const messenger = this.binaryMessenger;
    if (!isEventMessenger(messenger)) {
      throw new TypeError(
        `Cannot use EventChannel "${this.name}": its messenger cannot carry events; use the default messenger or one that implements EventMessenger`,
      );
    }
    return messenger;
  }
}
