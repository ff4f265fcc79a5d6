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
export class MissingPluginException {
  /** The class name, `"MissingPluginException"`. */
  name: string;
  /** Where the exception was created, as `Error`'s `stack` is. */
  declare stack?: string;
  /** The error that led to this one, when one was given. */
  declare cause?: unknown;
  /** What is missing, or `null`. */
  readonly message: string | null;

  /**
   * Creates the exception, optionally saying what is missing.
   *
   * @param message What is missing and how to fix it.
   * @param options The underlying error, when there is one.
   */
  constructor(message: string | null = null, options?: { cause?: unknown }) {
    this.name = "MissingPluginException";
    this.message = message;
    if (options !== undefined && "cause" in options) {
      // Non-enumerable, as `Error` installs it.
      Object.defineProperty(this, "cause", {
        value: options.cause,
        writable: true,
        configurable: true,
      });
    }
    Error.captureStackTrace(this, new.target);
  }

  /**
   * Renders Flutter's form of the exception.
   *
   * @returns `MissingPluginException(message)`.
   */
  toString(): string {
    return `MissingPluginException(${this.message})`;
  }
}

// Not `extends Error`: TypeScript would then type `message` as `string`, and
// Flutter's is nullable. Error.prototype in the chain keeps `instanceof
// Error`, and captureStackTrace (V8) gives the `stack` a thrown Error has.
// It is not a native error, though: `Error.isError` is false for it, and
// structured clone copies it as a plain object.
Object.setPrototypeOf(MissingPluginException.prototype, Error.prototype);
