import type { MessageContext } from "../channels/binary_messenger.ts";
import { hintOf } from "../channels/_default_messenger.ts";
import {
  type MethodArgs,
  MethodChannel,
  type MethodMap,
} from "../channels/method_channel.ts";
import { encodeFailure, encodeSuccess } from "../channels/_envelopes.ts";
import { MethodCall } from "../codec/method_call.ts";
import type { MethodCodec } from "../codec/method_codec.ts";
import { MissingPluginException } from "../codec/missing_plugin_exception.ts";
import { StandardMethodCodec } from "../codec/standard_method_codec.ts";
import type { BackgroundIsolateBinaryMessenger } from "../isolate/background_isolate_binary_messenger.ts";
import { RootIsolateTokenError } from "../isolate/root_isolate_token_error.ts";
import { ServicesBinding } from "../isolate/services_binding.ts";
import { runtime } from "../isolate/_runtime.ts";
import { isMainThread } from "../isolate/_thread.ts";

/**
 * Where a plugin's methods run when called from a worker:
 *
 * - `worker`: in the calling isolate (no hop to the main thread);
 * - `main`: always on the main thread (the call is proxied there);
 * - `auto`: per method: methods marked `threadSafe` run in the calling
 *   isolate, the others are proxied.
 *
 * Whatever the affinity, a worker that lacks a permission the method
 * `requires` (a sandboxed worker without file access, say) proxies the call:
 * the main thread runs it. On the main thread every call runs there.
 *
 * @example
 * ```ts
 * import type { Affinity } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const affinity: Affinity = "auto";
 * assert.equal(affinity, "auto");
 * ```
 */
export type Affinity = "worker" | "main" | "auto";

/**
 * Where one call ran: `local` (in the calling isolate) or `proxied` (on the
 * main thread, for a caller in a worker).
 *
 * @example
 * ```ts
 * import type { Placement } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const placement: Placement = "proxied";
 * assert.notEqual(placement, "local");
 * ```
 */
export type Placement = "local" | "proxied";

/**
 * What a method implementation is told about the call it serves.
 *
 * @example
 * ```ts
 * import type { PluginContext } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const context: PluginContext = {
 *   plugin: "example/counter",
 *   method: "increment",
 *   isolate: "0",
 *   caller: "0.1",
 *   placement: "proxied",
 * };
 * assert.equal(context.caller, "0.1");
 * ```
 */
export interface PluginContext {
  /** The plugin's channel name. */
  plugin: string;
  /** The method. */
  method: string;
  /** The isolate running the implementation (`"0"`: the main thread). */
  isolate: string;
  /** The isolate that made the call. */
  caller: string;
  /** Whether the call runs where it was made, or was proxied. */
  placement: Placement;
}

/**
 * One method of a plugin: its implementation and what it needs to run in a
 * worker.
 *
 * @example
 * ```ts
 * import type { PluginMethod } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const double: PluginMethod<number, number> = {
 *   threadSafe: true,
 *   run: (n) => n * 2,
 * };
 * assert.equal(await double.run(4, {
 *   plugin: "p", method: "double", isolate: "0", caller: "0", placement: "local",
 * }), 8);
 * ```
 */
export interface PluginMethod<A, R> {
  /**
   * The implementation. It runs on the main thread or in the calling
   * isolate; arguments and result go through the plugin's codec either
   * way. Throw `PlatformException` for errors a caller should handle.
   */
  run(args: A, context: PluginContext): R | Promise<R>;
  /**
   * For `auto` affinity: whether the method may run in a worker.
   *
   * @default {false}
   */
  threadSafe?: boolean;
  /**
   * Deno permissions a local run needs in a worker; a worker that lacks any
   * of them proxies the call instead. Asked once per method and isolate (a
   * function, on the first call of the method).
   *
   * @default {the plugin's `requires`}
   */
  requires?:
    | Deno.PermissionDescriptor[]
    | (() => Deno.PermissionDescriptor[]);
}

/**
 * The implementations of a plugin's methods, one per method of its map:
 * the compiler checks names, argument and result types.
 *
 * @example
 * ```ts
 * import type { PluginMethods } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * type Methods = { greet: { args: string; result: string } };
 * const methods: PluginMethods<Methods> = { greet: { run: (name) => `hi ${name}` } };
 * assert.equal(typeof methods.greet.run, "function");
 * ```
 */
export type PluginMethods<M extends MethodMap> = {
  [K in keyof M & string]: PluginMethod<M[K]["args"], M[K]["result"]>;
};

/**
 * A plugin's declaration.
 *
 * @example
 * ```ts
 * import type { PluginOptions } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * type Methods = { now: { args: void; result: number } };
 * const options: PluginOptions<Methods> = {
 *   channel: "example/clock",
 *   affinity: "worker",
 *   methods: { now: { run: () => Date.now() } },
 * };
 * assert.equal(options.affinity, "worker");
 * ```
 */
export interface PluginOptions<M extends MethodMap> {
  /** The channel name, e.g. `"plugins.example.com/counter"`. */
  channel: string;
  /** Where its methods run when called from a worker. */
  affinity: Affinity;
  /** Its methods. */
  methods: PluginMethods<M>;
  /**
   * The codec of calls and replies.
   *
   * @default {new StandardMethodCodec()}
   */
  codec?: MethodCodec;
  /**
   * Deno permissions every method needs to run locally in a worker (see
   * {@linkcode PluginMethod.requires}).
   *
   * @default {[]}
   */
  requires?:
    | Deno.PermissionDescriptor[]
    | (() => Deno.PermissionDescriptor[]);
}

/**
 * A trace of one plugin call, for {@linkcode Plugin.addCallListener}.
 *
 * @example
 * ```ts
 * import type { PluginCallTrace } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const trace: PluginCallTrace = {
 *   plugin: "example/counter",
 *   method: "get",
 *   isolate: "0.1",
 *   placement: "local",
 *   served: false,
 *   duration: 0.02,
 *   ok: true,
 * };
 * assert.equal(trace.placement, "local");
 * ```
 */
export interface PluginCallTrace {
  /** The plugin's channel name. */
  plugin: string;
  /** The method. */
  method: string;
  /** The isolate that made the call. */
  isolate: string;
  /** Where it ran. */
  placement: Placement;
  /**
   * `false`: traced by the caller (`duration` is the whole call); `true`:
   * traced by the main thread as it served a proxied call (`duration` is
   * the implementation's time).
   */
  served: boolean;
  /** How long it took, in ms. */
  duration: number;
  /** Whether it succeeded. */
  ok: boolean;
}

const listeners = new Set<(trace: PluginCallTrace) => void>();

/**
 * A plugin with thread affinity: it declares its channel, codec, typed
 * methods and where they run, once; every call is then placed for the
 * caller, in the calling isolate or on the main thread (the proxy pattern),
 * with the same results and errors either way.
 *
 * The same module serves both sides: import it on the main thread (that
 * registers the main-thread side of the channel) and in the workers that
 * call it. Workers reach the main thread after
 * `BackgroundIsolateBinaryMessenger.ensureInitialized(token)` (pool workers
 * are initialized for you). Third-party plugins use this same class.
 *
 * @example A plugin of one's own
 * ```ts
 * import { Plugin, type PluginCallTrace } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * type Methods = {
 *   add: { args: [number, number]; result: number };
 *   hostname: { args: void; result: string };
 * };
 * const math = new Plugin<Methods>({
 *   channel: "example/math",
 *   affinity: "auto",
 *   methods: {
 *     add: { threadSafe: true, run: ([a, b]) => a + b }, // runs in workers
 *     hostname: { run: () => Deno.hostname() }, // proxied from workers
 *   },
 * });
 * const traces: PluginCallTrace[] = [];
 * const stop = Plugin.addCallListener((trace) => traces.push(trace));
 * assert.equal(await math.invoke("add", [2, 3]), 5);
 * stop();
 * assert.equal(traces[0].placement, "local"); // on the main thread
 * assert.equal(math.placement("hostname"), "local");
 * math.dispose();
 * ```
 */
export class Plugin<M extends MethodMap = MethodMap> {
  /** The channel name. */
  readonly channel: string;
  /** Where its methods run when called from a worker. */
  readonly affinity: Affinity;
  /** The codec of calls and replies. */
  readonly codec: MethodCodec;
  readonly #methods: PluginMethods<M>;
  readonly #requires: PluginOptions<M>["requires"];
  readonly #remote: MethodChannel<M>;
  readonly #placements = new Map<string, Placement>();
  #disposed = false;

  /**
   * Declares a plugin. On the main thread this also registers its methods
   * on the root messenger, for the calls workers proxy.
   *
   * @param options Channel, affinity, methods and codec.
   * @throws {RangeError} When the affinity is not one of the three.
   */
  constructor(options: PluginOptions<M>) {
    if (!["worker", "main", "auto"].includes(options.affinity)) {
      throw new RangeError(
        `Cannot declare plugin "${options.channel}": "affinity" must be "worker", "main" or "auto", got ${
          JSON.stringify(options.affinity)
        }`,
      );
    }
    this.channel = options.channel;
    this.affinity = options.affinity;
    this.codec = options.codec ?? new StandardMethodCodec();
    this.#methods = options.methods;
    this.#requires = options.requires;
    this.#remote = new MethodChannel<M>(this.channel, this.codec);
    if (isMainThread) {
      this.#remote.setMethodCallHandler((call, context) =>
        this.#serve(call, context, "proxied")
      );
    }
  }

  /**
   * Listens to the traces of every plugin call made (or served) in this
   * isolate: plugin, method, isolate, placement, duration.
   *
   * @param listener Called once per call, after it settled.
   * @returns A function that removes the listener.
   */
  static addCallListener(
    listener: (trace: PluginCallTrace) => void,
  ): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /**
   * Where a call of `method` made now, in this isolate, runs.
   *
   * @param method The method.
   * @returns `local` or `proxied`.
   */
  placement<K extends keyof M & string>(method: K): Placement {
    let placement = this.#placements.get(method);
    if (placement === undefined) {
      placement = this.#place(method);
      this.#placements.set(method, placement);
    }
    return placement;
  }

  /**
   * Calls a method, where its affinity says.
   *
   * @param method The method.
   * @param args Its argument.
   * @returns Its result.
   * @throws {PlatformException} What the implementation threw (other
   * errors arrive as `PlatformException` with code `"error"`).
   * @throws {MissingPluginException} When the method is unknown, or a
   * worker must proxy but is not initialized, or the main thread never
   * imported the plugin.
   */
  invoke<K extends keyof M & string>(
    method: K,
    ...args: MethodArgs<M[K]["args"]>
  ): Promise<M[K]["result"]> {
    const placement = this.placement(method);
    const start = listeners.size === 0 ? -1 : performance.now();
    let result: Promise<unknown>;
    if (placement === "local") {
      try {
        const value = this.#runLocal(method, args[0]);
        if (value instanceof Promise && !isMainThread) {
          // As a call to the main thread does, a call running here keeps
          // the isolate alive until it settles.
          runtime.retain();
          value.then(() => runtime.release(), () => runtime.release());
        }
        result = Promise.resolve(value);
      } catch (error) {
        result = Promise.reject(error);
      }
    } else result = this.#remote.invokeMethod(method, ...args);
    if (start === -1) return result as Promise<M[K]["result"]>;
    const trace = (ok: boolean): void =>
      emit({
        plugin: this.channel,
        method,
        isolate: ServicesBinding.isolateId,
        placement,
        served: false,
        duration: performance.now() - start,
        ok,
      });
    return result.then(
      (value) => {
        trace(true);
        return value as M[K]["result"];
      },
      (error) => {
        trace(false);
        throw error;
      },
    );
  }

  /**
   * Runs a method in this isolate, through the codec both ways, as if the
   * call had crossed a channel: the caller sees the same types and the same
   * errors (by Flutter's reply rules) as from a proxied call.
   */
  #runLocal(method: string, args: unknown): unknown {
    if (!isMainThread) {
      // As in Flutter, a background isolate reaches plugins only once it is
      // initialized with the root token, even where they run locally; and,
      // as for a call that crosses to the root, only with a token the root
      // accepts (revoked, forged or foreign tokens reach no plugin).
      const messenger = ServicesBinding.defaultBinaryMessenger;
      const hint = hintOf(messenger);
      if (hint !== undefined) throw this.#missing(method, hint);
      const verdict = (messenger as BackgroundIsolateBinaryMessenger).verdict();
      if (verdict instanceof Promise) {
        return verdict.then((rejection) => {
          if (rejection !== null) {
            throw new RootIsolateTokenError(
              rejection,
              ServicesBinding.isolateId,
            );
          }
          return this.#runHere(method, args);
        });
      }
      if (verdict !== null) {
        throw new RootIsolateTokenError(verdict, ServicesBinding.isolateId);
      }
    }
    return this.#runHere(method, args);
  }

  #runHere(method: string, args: unknown): unknown {
    const codec = this.codec;
    // With the standard codec, primitives (and arrays of them) come out of
    // a round trip as they went in: they skip the bytes, nothing else does.
    const plain = codec.constructor === StandardMethodCodec;
    const copied = plain ? transparent(args) : OPAQUE;
    const call = copied !== OPAQUE
      ? new MethodCall(method, copied)
      : codec.decodeMethodCall(
        codec.encodeMethodCall(new MethodCall(method, args ?? null)),
      );
    const reply = (bytes: Uint8Array | null): unknown => {
      if (bytes === null) throw this.#missing(method);
      return codec.decodeEnvelope(bytes);
    };
    const success = (value: unknown): unknown => {
      if (plain) {
        const result = transparent(value);
        if (result !== OPAQUE) return result;
      }
      return reply(encodeSuccess(codec, value));
    };
    let result: unknown;
    try {
      result = this.#serve(
        call,
        { isolate: ServicesBinding.isolateId },
        "local",
      );
    } catch (error) {
      return reply(encodeFailure(codec, error));
    }
    if (result instanceof Promise) {
      return result.then(
        success,
        (error) => reply(encodeFailure(codec, error)),
      );
    }
    return success(result);
  }

  #missing(method: string, hint?: string): MissingPluginException {
    return new MissingPluginException(
      `No implementation found for method ${method} on channel ${this.channel}${
        hint === undefined ? "" : `: ${hint}`
      }`,
    );
  }

  /**
   * Removes the plugin's handlers (the main thread's side, and the local
   * one). Calls made afterwards fail with `MissingPluginException`.
   */
  dispose(): void {
    this.#disposed = true;
    if (isMainThread) this.#remote.setMethodCallHandler(null);
  }

  #place(method: string): Placement {
    if (isMainThread || ServicesBinding.isolateId === "0") return "local";
    const spec = this.#methods[method as keyof M & string];
    if (spec === undefined) return "local"; // answered as missing, locally
    const runsHere = this.affinity === "worker" ||
      (this.affinity === "auto" && spec.threadSafe === true);
    if (!runsHere) return "proxied";
    return hasAll(spec.requires ?? this.#requires) ? "local" : "proxied";
  }

  #serve(
    call: MethodCall,
    context: MessageContext,
    placement: Placement,
  ): unknown {
    const spec = this.#disposed
      ? undefined
      : this.#methods[call.method as keyof M & string];
    if (spec === undefined || typeof spec.run !== "function") {
      throw new MissingPluginException(
        `No implementation found for method ${call.method} on channel ${this.channel}`,
      );
    }
    const pluginContext: PluginContext = {
      plugin: this.channel,
      method: call.method,
      isolate: ServicesBinding.isolateId,
      caller: context.isolate,
      placement,
    };
    if (placement === "local" || listeners.size === 0) {
      return spec.run(call.arguments as never, pluginContext);
    }
    const start = performance.now();
    const trace = (ok: boolean): void =>
      emit({
        plugin: this.channel,
        method: call.method,
        isolate: context.isolate,
        placement,
        served: true,
        duration: performance.now() - start,
        ok,
      });
    try {
      const result = spec.run(call.arguments as never, pluginContext);
      if (result instanceof Promise) {
        return result.then(
          (value) => {
            trace(true);
            return value;
          },
          (error) => {
            trace(false);
            throw error;
          },
        );
      }
      trace(true);
      return result;
    } catch (error) {
      trace(false);
      throw error;
    }
  }
}

/** Marks a value the codec would change: it must take the bytes path. */
const OPAQUE: unique symbol = Symbol("opaque");

/**
 * What a standard-codec round trip would give for `value`, when that is
 * cheap to tell: `null`, booleans, numbers and strings come back as they
 * are (`undefined` as `null`), and an array of them as a copy. Anything else
 * (a bigint, a map, bytes, an object) is `OPAQUE`.
 */
function transparent(value: unknown): unknown {
  switch (typeof value) {
    case "undefined":
      return null;
    case "boolean":
    case "number":
    case "string":
      return value;
    case "object": {
      if (value === null) return null;
      if (!Array.isArray(value)) return OPAQUE;
      const copy = new Array(value.length);
      for (let i = 0; i < value.length; i++) {
        const item = value[i];
        const type = typeof item;
        if (
          item !== null && type !== "boolean" && type !== "number" &&
          type !== "string"
        ) return OPAQUE;
        copy[i] = item;
      }
      return copy;
    }
    default:
      return OPAQUE;
  }
}

function emit(trace: PluginCallTrace): void {
  for (const listener of listeners) {
    try {
      listener(trace);
    } catch (error) {
      // A listener's failure must not fail the call it observes.
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}

function hasAll(
  requires: PluginOptions<MethodMap>["requires"],
): boolean {
  if (requires === undefined) return true;
  const descriptors = typeof requires === "function" ? requires() : requires;
  for (const descriptor of descriptors) {
    try {
      if (Deno.permissions.querySync(descriptor).state !== "granted") {
        return false;
      }
    } catch {
      return false;
    }
  }
  return true;
}
