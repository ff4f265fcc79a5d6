import {
  RootIsolateToken,
  tokenFromData,
  tokenToData,
} from "./root_isolate_token.ts";
import { SendPort } from "./send_port.ts";

/**
 * Structured cloning drops the classes of `SendPort` and `RootIsolateToken`
 * and refuses an untransferred `MessagePort`. Before a message leaves, the
 * first two are replaced by tagged records and every `MessagePort` is listed
 * for transfer; on arrival the records become working objects again. The
 * walk copies only the containers on the way to a replaced value, so plain
 * data is not copied twice.
 */
const TAG = "__isolates_ref__";

type Ref =
  | { [TAG]: "SendPort"; isolate: string; port: number }
  | { [TAG]: "RootIsolateToken"; process: string; secret: string };

/** A message ready for `postMessage`. */
export interface EncodedMessage {
  /** The message with ports and tokens replaced by records. */
  payload: unknown;
  /** Whether the receiver must revive records. */
  refs: boolean;
  /** The MessagePorts to transfer. */
  transfer: Transferable[];
}

/** Prepares a message for another isolate. */
export function encodeRefs(message: unknown): EncodedMessage {
  const transfer: Transferable[] = [];
  // Most messages hold no port or token: find out first, so that plain data
  // is posted as it is, without a copy.
  if (!scan(message, transfer, new Set())) {
    return { payload: message, refs: false, transfer };
  }
  return { payload: copy(message, new Map()), refs: true, transfer };
}

/** Whether `value` holds a SendPort or a token; lists its MessagePorts. */
function scan(
  value: unknown,
  transfer: Transferable[],
  seen: Set<object>,
): boolean {
  if (typeof value !== "object" || value === null || seen.has(value)) {
    return false;
  }
  seen.add(value);
  if (value instanceof SendPort || value instanceof RootIsolateToken) {
    return true;
  }
  if (value instanceof MessagePort) {
    transfer.push(value);
    return false;
  }
  let found = false;
  for (const child of children(value)) {
    found = scan(child, transfer, seen) || found;
  }
  return found;
}

/** The values inside a container that structured cloning walks into. */
function children(value: object): Iterable<unknown> {
  if (Array.isArray(value)) return value;
  if (value instanceof Map) return [...value].flat();
  if (value instanceof Set) return value;
  if (isPlainObject(value)) return Object.values(value);
  return [];
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A copy with ports and tokens replaced by records. Each container is
 * registered before its contents are copied, so cycles point at the copy.
 */
function copy(value: unknown, copies: Map<object, unknown>): unknown {
  if (typeof value !== "object" || value === null) return value;
  const known = copies.get(value);
  if (known !== undefined) return known;
  if (value instanceof SendPort) {
    return { [TAG]: "SendPort", isolate: value.isolate, port: value.port };
  }
  if (value instanceof RootIsolateToken) {
    return { [TAG]: "RootIsolateToken", ...tokenToData(value) };
  }
  if (Array.isArray(value)) {
    const result: unknown[] = new Array(value.length);
    copies.set(value, result);
    for (let i = 0; i < value.length; i++) result[i] = copy(value[i], copies);
    return result;
  }
  if (value instanceof Map) {
    const result = new Map<unknown, unknown>();
    copies.set(value, result);
    for (const [k, v] of value) result.set(copy(k, copies), copy(v, copies));
    return result;
  }
  if (value instanceof Set) {
    const result = new Set<unknown>();
    copies.set(value, result);
    for (const item of value) result.add(copy(item, copies));
    return result;
  }
  if (isPlainObject(value)) {
    const result: Record<string, unknown> = {};
    copies.set(value, result);
    for (const [k, v] of Object.entries(value)) result[k] = copy(v, copies);
    return result;
  }
  // MessagePorts (transferred), typed arrays, dates…: cloned as they are.
  return value;
}

/** Turns the records of {@linkcode encodeRefs} back into objects, in place. */
export function reviveRefs(payload: unknown): unknown {
  return revive(payload, new Set());
}

function revive(value: unknown, seen: Set<object>): unknown {
  if (typeof value !== "object" || value === null || seen.has(value)) {
    return value;
  }
  const tag = (value as Record<string, unknown>)[TAG];
  if (tag === "SendPort") {
    const ref = value as Extract<Ref, { [TAG]: "SendPort" }>;
    return new SendPort(ref.isolate, ref.port);
  }
  if (tag === "RootIsolateToken") {
    const ref = value as Extract<Ref, { [TAG]: "RootIsolateToken" }>;
    return tokenFromData({ process: ref.process, secret: ref.secret });
  }
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = revive(value[i], seen);
  } else if (value instanceof Map) {
    const entries = [...value].map(([k, v]) =>
      [revive(k, seen), revive(v, seen)] as const
    );
    value.clear();
    for (const [k, v] of entries) value.set(k, v);
  } else if (value instanceof Set) {
    const items = [...value].map((item) => revive(item, seen));
    value.clear();
    for (const item of items) value.add(item);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      record[key] = revive(record[key], seen);
    }
  }
  return value;
}
