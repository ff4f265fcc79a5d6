/**
 * The one definition of every message that crosses a Worker boundary
 * between isolates. Messages are checked once, at the edge, by
 * {@linkcode parseWireMessage}; everything past it switches on `kind`.
 *
 * Isolate ids are paths: the root (main thread) is `"0"`, its children
 * `"0.1"`, `"0.2"`, theirs `"0.1.1"`… A message with a `to` field is routed:
 * delivered when it reaches that isolate, sent down when the target is a
 * descendant, up otherwise.
 *
 * @module
 */

/**
 * An error as it crosses a boundary: what a {@linkcode RemoteError} is made
 * from.
 *
 * @example Rebuilding an error reported by another isolate
 * ```ts
 * import { RemoteError, type SerializedError } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const reported: SerializedError = {
 *   name: "RangeError",
 *   message: "Cannot compute fib(-1): n must not be negative",
 *   stack: "RangeError: Cannot compute fib(-1)\n    at fib (file:///tasks.ts:2:11)",
 *   code: null,
 * };
 * const error = new RemoteError(reported);
 * assert.equal(error.message, "RangeError: Cannot compute fib(-1): n must not be negative");
 * assert.equal(error.remoteName, "RangeError");
 * assert.equal(error.remoteStack, reported.stack);
 * ```
 */
export interface SerializedError {
  /** The error's class name, e.g. `"TypeError"`. */
  name: string;
  /** The error's message. */
  message: string;
  /** The stack as the throwing isolate printed it, if any. */
  stack: string | null;
  /** The module's error code, for this module's own errors. */
  code: string | null;
}

/** The data of a root isolate token: which process issued it, and its secret. */
export interface TokenData {
  /** The issuing process's random id. */
  process: string;
  /** The token's random secret. */
  secret: string;
}

/**
 * How a started isolate runs: `spawn` calls its entry with the message,
 * `run` calls it once and returns the result, `pool` runs the tasks it is
 * sent (an `IsolatePool` worker; its message is the root token or `null`).
 */
export type StartMode = "spawn" | "run" | "pool";

/** Every message between isolates. */
export type WireMessage =
  // Parent to a new child, once: what to run.
  | {
    kind: "start";
    isolate: string;
    debugName: string;
    mode: StartMode;
    /** The entry module's URL, or `null` for a function source. */
    entry: string | null;
    exportName: string;
    /** A self-contained function's source (Isolate.run), else `null`. */
    source: string | null;
    payload: unknown;
    /** Whether `payload` holds SendPorts or tokens to revive. */
    refs: boolean;
    errorsAreFatal: boolean;
    /** The process's shared version counters (see `_shared_versions.ts`). */
    shared: SharedArrayBuffer | null;
  }
  // Child to parent: the entry was loaded and called.
  | { kind: "started"; isolate: string }
  // Child to parent: what an Isolate.run task returned.
  | { kind: "result"; isolate: string; payload: unknown; refs: boolean }
  // Child to parent: an error (while loading, in the entry, or uncaught).
  | {
    kind: "error";
    isolate: string;
    phase: "load" | "entry" | "uncaught";
    fatal: boolean;
    error: SerializedError;
  }
  // Child to parent: the isolate is done and may be terminated.
  | { kind: "exit"; isolate: string }
  // Routed up to the root: an isolate (and its subtree) is gone.
  | { kind: "gone"; isolate: string; to: string; reason: string }
  // Routed: a message for a ReceivePort.
  | {
    kind: "port";
    from: string;
    to: string;
    port: number;
    payload: unknown;
    refs: boolean;
  }
  // Routed to the root: register with a root isolate token.
  | { kind: "register"; from: string; to: string; token: TokenData }
  // Routed from the root to an isolate that registered: whether its token
  // was accepted (`rejection: null`) or why not.
  | {
    kind: "registered";
    from: string;
    to: string;
    rejection: string | null;
  }
  // Routed: a platform-channel message and its answers.
  | {
    kind: "call";
    id: number;
    from: string;
    to: string;
    channel: string;
    payload: Uint8Array | null;
  }
  | {
    kind: "reply";
    id: number;
    from: string;
    to: string;
    payload: Uint8Array | null;
  }
  | {
    kind: "fail";
    id: number;
    from: string;
    to: string;
    error: SerializedError;
  }
  // Several messages posted together (see Outbox); each is checked alone.
  | { kind: "batch"; messages: unknown[] }
  // Parent to a pool worker: what task number `task` runs (sent once per
  // worker, before the first task that uses it).
  | {
    kind: "define";
    task: number;
    entry: string | null;
    exportName: string;
    source: string | null;
  }
  // Parent to a pool worker: run task `task` with `payload`. Tasks run one at
  // a time, in the order they arrive.
  | {
    kind: "task";
    id: number;
    task: number;
    payload: unknown;
    refs: boolean;
  }
  // Parent to a pool worker: abort task `id` (drop it if it has not started,
  // abort its signal if it runs).
  | { kind: "abort"; id: number }
  // Pool worker to parent: task `id` returned, or threw.
  | { kind: "done"; id: number; payload: unknown; refs: boolean }
  | { kind: "failed"; id: number; error: SerializedError }
  // Routed: an event for an EventChannel listener.
  | {
    kind: "event";
    from: string;
    to: string;
    channel: string;
    payload: Uint8Array | null;
  };

/** The kinds of wire messages. */
export type WireKind = WireMessage["kind"];

/**
 * How a message is posted. Calls and replies, the messages of every channel
 * round trip, travel as arrays (`["c", id, from, to, channel, payload]`,
 * `["r", id, from, to, payload]`): structured clone copies an array of
 * values markedly faster than an object with as many named fields. Every
 * other message travels as itself. {@linkcode parseWireMessage} reads both.
 */
export function packWireMessage(message: WireMessage): unknown {
  switch (message.kind) {
    case "call":
      return [
        "c",
        message.id,
        message.from,
        message.to,
        message.channel,
        message.payload,
      ];
    case "reply":
      return ["r", message.id, message.from, message.to, message.payload];
    default:
      return message;
  }
}

function unpack(data: unknown[]): WireMessage | null {
  const [tag, id, from, to] = data;
  if (!Number.isSafeInteger(id) || !isString(from) || !isString(to)) {
    return null;
  }
  if (tag === "c" && data.length === 6) {
    const [, , , , channel, payload] = data;
    return isString(channel) && isBytes(payload)
      ? {
        kind: "call",
        id: id as number,
        from,
        to,
        channel,
        payload,
      }
      : null;
  }
  if (tag === "r" && data.length === 5) {
    const payload = data[4];
    return isBytes(payload)
      ? { kind: "reply", id: id as number, from, to, payload }
      : null;
  }
  return null;
}

/** Turns any thrown value into its wire form. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: String(error.message ?? ""),
      stack: typeof error.stack === "string" ? error.stack : null,
      code: typeof code === "string" ? code : null,
    };
  }
  return { name: "Error", message: String(error), stack: null, code: null };
}

function isString(value: unknown): value is string {
  return typeof value === "string";
}

function isBytes(value: unknown): value is Uint8Array | null {
  return value === null || value instanceof Uint8Array;
}

function isSerializedError(value: unknown): value is SerializedError {
  if (typeof value !== "object" || value === null) return false;
  const e = value as Record<string, unknown>;
  return isString(e.name) && isString(e.message) &&
    (e.stack === null || isString(e.stack)) &&
    (e.code === null || isString(e.code));
}

/**
 * Checks that posted data is a well-formed wire message. Returns `null` for
 * anything else (foreign code posting to a worker's port, a corrupted
 * message), which the caller reports as a protocol error.
 *
 * @param data What arrived on a port.
 * @returns The message, or `null` when it is not one.
 */
export function parseWireMessage(data: unknown): WireMessage | null {
  if (typeof data !== "object" || data === null) return null;
  if (Array.isArray(data)) return unpack(data);
  const m = data as Record<string, unknown>;
  switch (m.kind) {
    case "call":
      return Number.isSafeInteger(m.id) && isString(m.from) && isString(m.to) &&
          isString(m.channel) && isBytes(m.payload)
        ? data as WireMessage
        : null;
    case "reply":
      return Number.isSafeInteger(m.id) && isString(m.from) && isString(m.to) &&
          isBytes(m.payload)
        ? data as WireMessage
        : null;
    case "fail":
      return Number.isSafeInteger(m.id) && isString(m.from) && isString(m.to) &&
          isSerializedError(m.error)
        ? data as WireMessage
        : null;
    case "event":
      return isString(m.from) && isString(m.to) && isString(m.channel) &&
          isBytes(m.payload)
        ? data as WireMessage
        : null;
    case "port":
      return isString(m.from) && isString(m.to) &&
          Number.isSafeInteger(m.port) &&
          typeof m.refs === "boolean" && "payload" in m
        ? data as WireMessage
        : null;
    case "register": {
      const token = m.token as Record<string, unknown> | null;
      return isString(m.from) && isString(m.to) && typeof token === "object" &&
          token !== null && isString(token.process) && isString(token.secret)
        ? data as WireMessage
        : null;
    }
    case "registered":
      return isString(m.from) && isString(m.to) &&
          (m.rejection === null || isString(m.rejection))
        ? data as WireMessage
        : null;
    case "start":
      return isString(m.isolate) && isString(m.debugName) &&
          (m.mode === "spawn" || m.mode === "run" || m.mode === "pool") &&
          (m.entry === null || isString(m.entry)) && isString(m.exportName) &&
          (m.source === null || isString(m.source)) &&
          typeof m.errorsAreFatal === "boolean" &&
          (m.shared === null || m.shared instanceof SharedArrayBuffer) &&
          typeof m.refs === "boolean" && "payload" in m
        ? data as WireMessage
        : null;
    case "started":
    case "exit":
      return isString(m.isolate) ? data as WireMessage : null;
    case "result":
      return isString(m.isolate) && typeof m.refs === "boolean" &&
          "payload" in m
        ? data as WireMessage
        : null;
    case "error":
      return isString(m.isolate) &&
          (m.phase === "load" || m.phase === "entry" ||
            m.phase === "uncaught") &&
          typeof m.fatal === "boolean" && isSerializedError(m.error)
        ? data as WireMessage
        : null;
    case "gone":
      return isString(m.isolate) && isString(m.to) && isString(m.reason)
        ? data as WireMessage
        : null;
    case "batch":
      return Array.isArray(m.messages) ? data as WireMessage : null;
    case "define":
      return Number.isSafeInteger(m.task) &&
          (m.entry === null || isString(m.entry)) && isString(m.exportName) &&
          (m.source === null || isString(m.source))
        ? data as WireMessage
        : null;
    case "task":
      return Number.isSafeInteger(m.id) && Number.isSafeInteger(m.task) &&
          typeof m.refs === "boolean" && "payload" in m
        ? data as WireMessage
        : null;
    case "abort":
      return Number.isSafeInteger(m.id) ? data as WireMessage : null;
    case "done":
      return Number.isSafeInteger(m.id) && typeof m.refs === "boolean" &&
          "payload" in m
        ? data as WireMessage
        : null;
    case "failed":
      return Number.isSafeInteger(m.id) && isSerializedError(m.error)
        ? data as WireMessage
        : null;
    default:
      return null;
  }
}

/** Whether `id` is `ancestor` itself or one of its descendants. */
export function isWithin(id: string, ancestor: string): boolean {
  return id === ancestor ||
    (id.length > ancestor.length && id.startsWith(ancestor) &&
      id.charCodeAt(ancestor.length) === 46 /* "." */);
}

/** The id of the child of `self` on the way to `target` (a descendant). */
export function childToward(self: string, target: string): string {
  const rest = target.slice(self.length + 1);
  const dot = rest.indexOf(".");
  return self + "." + (dot === -1 ? rest : rest.slice(0, dot));
}

/** Throws when a switch over message kinds misses one. */
export function assertNever(value: never): never {
  throw new Error(`Unexpected wire message: ${JSON.stringify(value)}`);
}
