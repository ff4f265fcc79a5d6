import { FlutterErrorBase } from "./_flutter_error_base.ts";

/**
 * Thrown when a method channel call gets no answer because nothing on the
 * other side handles the channel: no handler is registered, or (in a worker)
 * the background messenger was never initialized. `message` may be `null`, as
 * in Dart; `toString()` renders `MissingPluginException(message)`.
 *
 * @example
 * ```ts
 * import { MissingPluginException } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const error = new MissingPluginException("No implementation found for method m on channel c");
 * assert.ok(error instanceof Error);
 * assert.equal(
 *   String(error),
 *   "MissingPluginException(No implementation found for method m on channel c)",
 * );
 * assert.equal(new MissingPluginException().message, null);
 * ```
 */
export class MissingPluginException extends FlutterErrorBase {
  /** What is missing, or `null`. */
  readonly message: string | null;

  /**
   * @param message What is missing and how to fix it.
   * @param options The underlying error, when there is one.
   */
  constructor(message: string | null = null, options?: { cause?: unknown }) {
    super(message ?? "MissingPluginException", options);
    this.name = "MissingPluginException";
    this.message = message;
  }

  /**
   * Renders Flutter's form of the exception.
   *
   * @returns `MissingPluginException(message)`.
   */
  override toString(): string {
    return `MissingPluginException(${this.message})`;
  }
}
