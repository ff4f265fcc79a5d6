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
  const state = {
    refs: false,
    transfer: [] as Transferable[],
    seen: new Map<object, unknown>(),
  };
  const payload = encode(message, state);
  return { payload, refs: state.refs, transfer: state.transfer };
}

function encode(
  value: unknown,
  state: {
    refs: boolean;
    transfer: Transferable[];
    seen: Map<object, unknown>;
  },
): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (state.seen.has(value)) return state.seen.get(value);
  if (value instanceof SendPort) {
    state.refs = true;
    return { [TAG]: "SendPort", isolate: value.isolate, port: value.port };
  }
  if (value instanceof RootIsolateToken) {
    state.refs = true;
    return { [TAG]: "RootIsolateToken", ...tokenToData(value) };
  }
  if (value instanceof MessagePort) {
    if (!state.transfer.includes(value)) state.transfer.push(value);
    return value;
  }
  if (Array.isArray(value)) {
    state.seen.set(value, value);
    let copy: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const item = encode(value[i], state);
      if (item !== value[i] && copy === null) {
        copy = value.slice();
        state.seen.set(value, copy);
      }
      if (copy !== null) copy[i] = item;
    }
    return copy ?? value;
  }
  if (value instanceof Map) {
    state.seen.set(value, value);
    let changed = false;
    const entries: [unknown, unknown][] = [];
    for (const [k, v] of value) {
      const key = encode(k, state);
      const item = encode(v, state);
      changed ||= key !== k || item !== v;
      entries.push([key, item]);
    }
    if (!changed) return value;
    const copy = new Map(entries);
    state.seen.set(value, copy);
    return copy;
  }
  if (value instanceof Set) {
    state.seen.set(value, value);
    const items = [...value].map((item) => encode(item, state));
    if (items.every((item, i) => item === [...value][i])) return value;
    const copy = new Set(items);
    state.seen.set(value, copy);
    return copy;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  state.seen.set(value, value);
  let copy: Record<string, unknown> | null = null;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = encode(record[key], state);
    if (item !== record[key] && copy === null) {
      copy = { ...record };
      state.seen.set(value, copy);
    }
    if (copy !== null) copy[key] = item;
  }
  return copy ?? value;
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
