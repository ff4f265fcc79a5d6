import { MethodCall } from "../codec/method_call.ts";
import type { MethodCodec } from "../codec/method_codec.ts";
import { MissingPluginException } from "../codec/missing_plugin_exception.ts";
import { StandardMethodCodec } from "../codec/standard_method_codec.ts";
import type { BinaryMessenger, MessageContext } from "./binary_messenger.ts";
import { defaultMessenger, hintOf } from "./_default_messenger.ts";
import { encodeFailure, encodeSuccess } from "./_envelopes.ts";
import { markOwned } from "./_owned_bytes.ts";

/**
 * The methods of a channel: for each name, its argument and result types.
 * The compiler then checks the names, arguments and results of
 * {@linkcode MethodChannel.invokeMethod}.
 *
 * @example A helper for any typed channel: one function per method
 * ```ts
 * import { MethodChannel, type MethodMap } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * function serve<M extends MethodMap>(
 *   channel: MethodChannel<M>,
 *   methods: { [K in keyof M]: (args: M[K]["args"]) => M[K]["result"] },
 * ): void {
 *   channel.setMethodCallHandler((call) => methods[call.method](call.arguments));
 * }
 *
 * type PathProvider = {
 *   getTemporaryDirectory: { args: void; result: string };
 *   getDirectory: { args: string; result: string | null };
 * };
 * const channel = new MethodChannel<PathProvider>("example/path_provider");
 * serve(channel, {
 *   getTemporaryDirectory: () => "/tmp",
 *   getDirectory: (kind) => kind === "music" ? "/home/music" : null,
 * });
 * assert.equal(await channel.invokeMethod("getTemporaryDirectory"), "/tmp");
 * assert.equal(await channel.invokeMethod("getDirectory", "music"), "/home/music");
 * channel.setMethodCallHandler(null);
 * ```
 */
export type MethodMap = Record<string, { args: unknown; result: unknown }>;

/**
 * The argument list of a method: optional when its `args` may be omitted.
 *
 * @example A wrapper that forwards typed arguments to invokeMethod
 * ```ts
 * import { type MethodArgs, MethodChannel } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * type Counter = {
 *   increment: { args: number; result: number };
 *   reset: { args: void; result: number };
 * };
 * const channel = new MethodChannel<Counter>("example/counter");
 * let count = 0;
 * channel.setMethodCallHandler((call) =>
 *   call.method === "increment" ? count += call.arguments as number : count = 0
 * );
 *
 * const log: string[] = [];
 * function invokeLogged<K extends keyof Counter & string>(
 *   method: K,
 *   ...args: MethodArgs<Counter[K]["args"]>
 * ): Promise<Counter[K]["result"]> {
 *   log.push(method);
 *   return channel.invokeMethod(method, ...args);
 * }
 *
 * assert.equal(await invokeLogged("increment", 2), 2); // args required
 * assert.equal(await invokeLogged("reset"), 0); // args: void may be omitted
 * assert.deepEqual(log, ["increment", "reset"]);
 * channel.setMethodCallHandler(null);
 * ```
 */
export type MethodArgs<A> = [unknown] extends [A] ? [args?: A]
  : [A] extends [void | undefined | null] ? [args?: A]
  : [args: A];

/**
 * Answers a method call; its result (or a promise of it) is the reply.
 * Throwing {@linkcode PlatformException} replies with an error envelope;
 * throwing {@linkcode MissingPluginException} replies that the method is not
 * implemented.
 *
 * @example One handler for several methods
 * ```ts
 * import {
 *   MethodChannel,
 *   type MethodCallHandler,
 *   MissingPluginException,
 * } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const handler: MethodCallHandler = (call, context) => {
 *   switch (call.method) {
 *     case "echo":
 *       return call.arguments;
 *     case "caller":
 *       return context.isolate;
 *     default:
 *       throw new MissingPluginException(`No method ${call.method}`);
 *   }
 * };
 * const channel = new MethodChannel("example/handler");
 * channel.setMethodCallHandler(handler);
 * assert.equal(await channel.invokeMethod("echo", "hi"), "hi");
 * assert.equal(await channel.invokeMethod("caller"), "0"); // the main thread
 * await assert.rejects(channel.invokeMethod("other"), MissingPluginException);
 * channel.setMethodCallHandler(null);
 * ```
 */
export type MethodCallHandler = (
  call: MethodCall,
  context: MessageContext,
) => unknown;

/**
 * A named channel for method calls, with Flutter's semantics: a call whose
 * reply is empty fails with {@linkcode MissingPluginException}; an error
 * envelope fails with the {@linkcode PlatformException} it carries.
 *
 * Created without a messenger, it uses the current isolate's default one:
 * the root messenger on the main thread, the background messenger in a
 * worker after `BackgroundIsolateBinaryMessenger.ensureInitialized(token)`.
 *
 * @typeParam M The channel's methods, for compile-time checks.
 *
 * @example A typed channel served on the main thread
 * ```ts
 * import { MethodChannel } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * type Calculator = { add: { args: [number, number]; result: number } };
 * const channel = new MethodChannel<Calculator>("example/calculator");
 * channel.setMethodCallHandler((call) => {
 *   const [a, b] = call.arguments as [number, number];
 *   return a + b;
 * });
 * assert.equal(await channel.invokeMethod("add", [2, 3]), 5);
 * channel.setMethodCallHandler(null);
 * ```
 */
export class MethodChannel<M extends MethodMap = MethodMap> {
  /** The channel name. */
  readonly name: string;
  /** The codec of calls and envelopes. */
  readonly codec: MethodCodec;
  readonly #messenger: BinaryMessenger | undefined;

  /**
   * Creates a channel; nothing is sent or registered until it is used.
   *
   * @param name The channel name, e.g. `"plugins.flutter.io/path_provider"`.
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

  /** The messenger this channel sends through. */
  get binaryMessenger(): BinaryMessenger {
    return this.#messenger ?? defaultMessenger();
  }

  /**
   * Invokes a method and resolves with its result.
   *
   * @param method The method name.
   * @param args The arguments (any value the codec can encode).
   * @returns The result.
   * @throws {MissingPluginException} When nothing handles the call.
   * @throws {PlatformException} When the handler reports an error.
   * @throws {UnsupportedValueError} When the arguments cannot be encoded.
   */
  invokeMethod<K extends keyof M & string>(
    method: K,
    ...args: MethodArgs<M[K]["args"]>
  ): Promise<M[K]["result"]> {
    return this.invoke(method, args[0], false) as Promise<M[K]["result"]>;
  }

  /**
   * Invokes a method whose result is a list.
   *
   * @param method The method name.
   * @param args The arguments.
   * @returns The list, or `null`.
   * @throws {TypeError} When the result is neither a list nor `null`.
   */
  async invokeListMethod<K extends keyof M & string>(
    method: K,
    ...args: MethodArgs<M[K]["args"]>
  ): Promise<unknown[] | null> {
    const result = await this.invoke(method, args[0], false);
    if (result === null || Array.isArray(result)) return result;
    throw new TypeError(
      `Cannot return the result of "${method}" on channel "${this.name}" as a list: it is a ${
        describe(result)
      }`,
    );
  }

  /**
   * Invokes a method whose result is a map. A plain object (what the JSON
   * codecs decode) is returned as a `Map`.
   *
   * @param method The method name.
   * @param args The arguments.
   * @returns The map, or `null`.
   * @throws {TypeError} When the result is neither a map nor `null`.
   */
  async invokeMapMethod<K extends keyof M & string>(
    method: K,
    ...args: MethodArgs<M[K]["args"]>
  ): Promise<Map<unknown, unknown> | null> {
    const result = await this.invoke(method, args[0], false);
    if (result === null || result instanceof Map) return result;
    if (typeof result === "object" && isPlainObject(result)) {
      return new Map(Object.entries(result as Record<string, unknown>));
    }
    throw new TypeError(
      `Cannot return the result of "${method}" on channel "${this.name}" as a map: it is a ${
        describe(result)
      }`,
    );
  }

  /**
   * Sets the handler of calls arriving on this channel (on the main thread:
   * the platform side that serves every isolate; in a worker: calls the
   * platform side makes into it). Its result is sent back in a success
   * envelope; a thrown {@linkcode PlatformException} becomes an error
   * envelope; a thrown {@linkcode MissingPluginException} an empty reply;
   * any other error an error envelope with code `"error"` and the error's
   * text. `null` removes the handler.
   *
   * @param handler The handler, or `null`.
   */
  setMethodCallHandler(handler: MethodCallHandler | null): void {
    if (handler === null) {
      this.binaryMessenger.setMessageHandler(this.name, null);
      return;
    }
    const codec = this.codec;
    const failure = (error: unknown): Uint8Array | null =>
      encodeFailure(codec, error);
    const success = (result: unknown): Uint8Array | null =>
      encodeSuccess(codec, result);
    this.binaryMessenger.setMessageHandler(this.name, (message, context) => {
      // Decoding stays outside the try, as in Flutter: a malformed call
      // fails the handler and the messenger answers it with no reply.
      const call = codec.decodeMethodCall(message);
      let result: unknown;
      try {
        result = handler(call, context);
      } catch (error) {
        return failure(error);
      }
      // A synchronous result is answered at once, without a promise.
      return isPromiseLike(result)
        ? Promise.resolve(result).then(success, failure)
        : success(result);
    });
  }

  /**
   * Sends a call and decodes the reply. `missingOk` makes an empty reply
   * resolve to `null` (OptionalMethodChannel) instead of failing.
   *
   * @param method The method name.
   * @param args The arguments.
   * @param missingOk Whether an empty reply is `null` rather than an error.
   * @returns The decoded result.
   */
  protected invoke(
    method: string,
    args: unknown,
    missingOk: boolean,
  ): Promise<unknown> {
    // Written with then(), not async/await: one promise hop fewer on every
    // call's way back.
    let bytes: Uint8Array;
    let messenger: BinaryMessenger;
    try {
      bytes = markOwned(
        this.codec.encodeMethodCall(new MethodCall(method, args ?? null)),
      );
      messenger = this.binaryMessenger;
    } catch (error) {
      return Promise.reject(error);
    }
    const hint = hintOf(messenger);
    if (hint !== undefined) {
      return Promise.reject(this.#missing(method, hint));
    }
    let sent: Promise<Uint8Array | null>;
    try {
      sent = messenger.send(this.name, bytes);
    } catch (error) {
      return Promise.reject(error);
    }
    return sent.then((reply) => {
      if (reply === null) {
        if (missingOk) return null;
        throw this.#missing(method);
      }
      return this.codec.decodeEnvelope(reply);
    });
  }

  #missing(method: string, hint?: string): MissingPluginException {
    return new MissingPluginException(
      `No implementation found for method ${method} on channel ${this.name}${
        hint === undefined ? "" : `: ${hint}`
      }`,
    );
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null &&
    typeof (value as PromiseLike<unknown>).then === "function";
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (typeof value !== "object") return typeof value;
  return (value as object).constructor?.name ?? "object";
}
