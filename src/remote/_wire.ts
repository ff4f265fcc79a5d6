import type { SerializedError } from "../isolate/protocol.ts";
import { RemoteCodec } from "./_remote_codec.ts";

/**
 * Every message between a hub (`NatsTransport`) and its nodes (`NatsNode`),
 * one union tagged by `kind`, written by {@linkcode RemoteCodec}: task inputs
 * and results keep the types `postMessage` keeps (plain objects, `Map`,
 * `Set`, `Date`, typed arrays, `bigint`, errors…).
 */
export type RemoteMessage =
  /** node → hub: asks to join with a token the hub issued. */
  | { kind: "join"; token: string; node: string; capacity: number }
  /** hub → node: the subjects' secret tag and the hub's settings. */
  | {
    kind: "welcome";
    tag: string;
    heartbeat: number;
    durable: boolean;
    ackWait: number;
  }
  /** hub → node: the join or a plugin call was refused, and why. */
  | { kind: "refused"; code: string; message: string }
  /** hub → nodes (queue group or JetStream): a task to run. */
  | {
    kind: "task";
    id: string;
    attempt: number;
    entry: string | null;
    exportName: string;
    source: string | null;
    input: unknown;
  }
  /** node → hub: it has these tasks (`[id, attempt]`), still running. */
  | { kind: "accepted"; node: string; tasks: Array<[string, number]> }
  /** node → hub: the task's result. */
  | { kind: "done"; id: string; attempt: number; node: string; result: unknown }
  /** node → hub: what the task threw. */
  | {
    kind: "failed";
    id: string;
    attempt: number;
    node: string;
    error: SerializedError;
  }
  /** hub → nodes: stop a task. */
  | { kind: "cancel"; id: string; reason: string }
  /** node → hub, every heartbeat: it lives, with its room. */
  | { kind: "alive"; node: string; capacity: number; running: number }
  /** node → hub: it leaves (its running tasks are finished). */
  | { kind: "bye"; node: string }
  /** node → hub: a platform-channel message for the hub's root. */
  | { kind: "call"; token: string; channel: string; payload: Uint8Array | null }
  /** hub → node: the platform handler's reply. */
  | { kind: "reply"; payload: Uint8Array | null };

const codec = new RemoteCodec();

/**
 * The bytes of a message.
 *
 * @throws {UnsupportedValueError} When something inside cannot be sent.
 */
export function encodeRemote(message: RemoteMessage): Uint8Array {
  return codec.encodeMessage(message)!;
}

/** Reads a message; `null` when the bytes are not one (dropped). */
export function decodeRemote(bytes: Uint8Array): RemoteMessage | null {
  let value: unknown;
  try {
    value = codec.decodeMessage(bytes);
  } catch {
    return null;
  }
  return isRemoteMessage(value) ? value : null;
}

function isRemoteMessage(value: unknown): value is RemoteMessage {
  if (typeof value !== "object" || value === null) return false;
  const m = value as Record<string, unknown>;
  const str = (key: string): boolean => typeof m[key] === "string";
  const num = (key: string): boolean => typeof m[key] === "number";
  const bytes = (key: string): boolean =>
    m[key] === null || m[key] instanceof Uint8Array;
  switch (m.kind) {
    case "join":
      return str("token") && str("node") && num("capacity");
    case "welcome":
      return str("tag") && num("heartbeat") &&
        typeof m.durable === "boolean" && num("ackWait");
    case "refused":
      return str("code") && str("message");
    case "task":
      return str("id") && num("attempt") && str("exportName") &&
        (m.entry === null || str("entry")) &&
        (m.source === null || str("source")) && "input" in m;
    case "accepted":
      return str("node") && Array.isArray(m.tasks) &&
        (m.tasks as unknown[]).every((t) =>
          Array.isArray(t) && typeof t[0] === "string" &&
          typeof t[1] === "number"
        );
    case "done":
      return str("id") && num("attempt") && str("node") && "result" in m;
    case "failed": {
      const e = m.error as Record<string, unknown> | null;
      return str("id") && num("attempt") && str("node") &&
        typeof e === "object" && e !== null &&
        typeof e.name === "string" && typeof e.message === "string";
    }
    case "cancel":
      return str("id") && str("reason");
    case "alive":
      return str("node") && num("capacity") && num("running");
    case "bye":
      return str("node");
    case "call":
      return str("token") && str("channel") && bytes("payload");
    case "reply":
      return bytes("payload");
    default:
      return false;
  }
}

/** The subjects a hub and its nodes share. */
export interface Subjects {
  /** Where nodes ask to join (public: the hub checks tokens here). */
  readonly join: string;
  /** Tasks, to the nodes' queue group. */
  readonly tasks: string;
  /** JetStream tasks (durable mode). */
  readonly jobs: string;
  /** Cancellations, to every node. */
  readonly cancel: string;
  /** Heartbeats and farewells. */
  readonly alive: string;
  /** Platform-channel calls to the hub's root. */
  readonly platform: string;
}

/** The subjects of hub `hub`; all but `join` hold the secret tag. */
export function subjectsOf(prefix: string, hub: string, tag: string): Subjects {
  const base = `${prefix}.${hub}.${tag}`;
  return {
    join: `${prefix}.${hub}.join`,
    tasks: `${base}.tasks`,
    jobs: `${base}.jobs`,
    cancel: `${base}.cancel`,
    alive: `${base}.alive`,
    platform: `${base}.platform`,
  };
}

/** Names usable as one NATS subject token (and a JetStream name). */
export const NAME = /^[A-Za-z0-9_-]{1,64}$/;
