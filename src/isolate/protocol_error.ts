import { IsolatesError } from "../errors/isolates_error.ts";

/**
 * A message that is not part of this module's wire protocol arrived on an
 * isolate's port (foreign code posting to a worker, a corrupted message). It
 * is dropped, reported with this error, and the isolate keeps serving.
 *
 * @example
 * ```ts
 * import { ProtocolError } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const error = new ProtocolError("0.1", { hello: 1 });
 * assert.equal(error.code, "protocol");
 * assert.match(error.message, /0\.1/);
 * ```
 */
export class ProtocolError extends IsolatesError {
  /** The isolate that received the message. */
  readonly isolate: string;

  /**
   * Creates the error for a message that is not a wire message.
   *
   * @param isolate The id of the isolate that received the message.
   * @param data What arrived.
   */
  constructor(isolate: string, data: unknown) {
    super(
      "protocol",
      `Cannot handle a message on isolate ${isolate}: it is not an isolates wire message (${
        preview(data)
      }); post to isolates only through SendPort and channels`,
    );
    this.isolate = isolate;
  }
}

function preview(data: unknown): string {
  try {
    const text = JSON.stringify(data) ?? String(data);
    return text.length > 80 ? text.slice(0, 77) + "..." : text;
  } catch {
    return typeof data;
  }
}
