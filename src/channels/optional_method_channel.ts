import type { MethodCodec } from "../codec/method_codec.ts";
import { StandardMethodCodec } from "../codec/standard_method_codec.ts";
import type { BinaryMessenger } from "./binary_messenger.ts";
import {
  type MethodArgs,
  MethodChannel,
  type MethodMap,
} from "./method_channel.ts";

/**
 * A {@linkcode MethodChannel} whose calls resolve to `null`, instead of
 * failing with `MissingPluginException`, when nothing handles them: for
 * plugins that may be absent.
 *
 * @typeParam M The channel's methods, for compile-time checks.
 *
 * @example
 * ```ts
 * import { OptionalMethodChannel } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const channel = new OptionalMethodChannel("example/not-installed");
 * assert.equal(await channel.invokeMethod("anything"), null);
 * ```
 */
export class OptionalMethodChannel<M extends MethodMap = MethodMap>
  extends MethodChannel<M> {
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
    super(name, codec, binaryMessenger);
  }

  /**
   * Invokes a method; resolves to `null` when nothing handles it.
   *
   * @param method The method name.
   * @param args The arguments.
   * @returns The result, or `null` when no handler answered.
   * @throws {PlatformException} When the handler reports an error.
   */
  override invokeMethod<K extends keyof M & string>(
    method: K,
    ...args: MethodArgs<M[K]["args"]>
  ): Promise<M[K]["result"]> {
    return this.invoke(method, args[0], true) as Promise<M[K]["result"]>;
  }
}
