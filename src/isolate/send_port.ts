import { portHooks } from "./_ports.ts";

/**
 * Sends messages to a {@linkcode ReceivePort}, in this isolate or another,
 * as Dart's `SendPort`. It can be sent any number of times, to any isolate,
 * inside any message (at any depth), and keeps working there.
 *
 * Messages are copied with the structured clone algorithm; `SendPort`s,
 * `RootIsolateToken`s and `MessagePort`s inside them arrive as working
 * objects. Sending to a closed port drops the message, as in Dart.
 *
 * @example
 * ```ts
 * import { ReceivePort } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const port = new ReceivePort();
 * port.sendPort.send({ hello: "world" });
 * assert.deepEqual(await port.first, { hello: "world" });
 * ```
 */
export class SendPort {
  /** The id of the isolate that owns the receiving port. */
  readonly isolate: string;
  /** The number of the receiving port in that isolate. */
  readonly port: number;

  /**
   * Not for direct use: take {@linkcode ReceivePort.sendPort}.
   *
   * @param isolate The id of the owning isolate.
   * @param port The port number.
   */
  constructor(isolate: string, port: number) {
    this.isolate = isolate;
    this.port = port;
  }

  /**
   * Sends a message to the port.
   *
   * @param message Any structured-cloneable value.
   * @throws {DOMException} When the message cannot be cloned (a function, for
   * example).
   */
  send(message: unknown): void {
    portHooks.send(this.isolate, this.port, message);
  }

  /**
   * Renders the port's address.
   *
   * @returns `SendPort(isolate:port)`.
   */
  toString(): string {
    return `SendPort(${this.isolate}:${this.port})`;
  }
}
