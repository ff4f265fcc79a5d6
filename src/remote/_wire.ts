import { headers, type MsgHdrs } from "nats";
import type { SerializedError } from "../isolate/protocol.ts";
import { RemoteCodec } from "./_remote_codec.ts";
import type { KeyObject } from "node:crypto";
import { type HmacKey, sign, signTask, verify, verifyTask } from "./_token.ts";

/** One task, as the hub orders it. */
export interface TaskOrder {
  /** `<hub's caller id>.<pool's task id>`. */
  readonly id: string;
  /** 1 for the first sending, more when a lost node's task is sent again. */
  readonly attempt: number;
  readonly entry: string | null;
  readonly exportName: string;
  readonly source: string | null;
  readonly input: unknown;
  /**
   * The hub's clock past which a node drops the order (it has been sent
   * again by then, or it is a replay); `null` for durable tasks.
   */
  readonly deadline: number | null;
}

/** One task's outcome: its result, or what it threw. */
export type TaskAnswer =
  | {
    readonly id: string;
    readonly attempt: number;
    readonly ok: true;
    readonly result: unknown;
  }
  | {
    readonly id: string;
    readonly attempt: number;
    readonly ok: false;
    readonly error: SerializedError;
  };

/**
 * Every message between a hub (`NatsTransport`) and its nodes (`NatsNode`),
 * one union tagged by `kind`, written by {@linkcode RemoteCodec}: task inputs
 * and results keep the types `postMessage` keeps (plain objects, `Map`,
 * `Set`, `Date`, typed arrays, `bigint`, errors…). Tasks and answers travel
 * in batches: what one turn of the event loop produces, in one message.
 *
 * What a node sends carries its instance id and an HMAC under its session
 * key in the headers ({@linkcode INSTANCE_HEADER}, {@linkcode MAC_HEADER});
 * tasks and cancellations the hub's Ed25519 signature.
 */
export type RemoteMessage =
  /**
   * node → hub: asks to join, with its token's body (never its signature)
   * and a proof of holding the signature: the HMAC of
   * `join.<instance>.<at>` under the holder key.
   */
  | {
    kind: "join";
    body: string;
    instance: string;
    at: number;
    proof: string;
    capacity: number;
  }
  /**
   * hub → node (sealed with the session key): the subjects' tag, the
   * settings, the hub's clock, and the public key of its task signatures.
   */
  | {
    kind: "welcome";
    tag: string;
    heartbeat: number;
    durable: boolean;
    ackWait: number;
    /** Durable mode: how many nodes may start a task before it is lost. */
    starts: number;
    taskPublicKey: Uint8Array;
    now: number;
  }
  /** hub → node: the join or a plugin call was refused, and why. */
  | { kind: "refused"; code: string; message: string }
  /** hub → nodes' queue group: tasks to run, answered to the reply subject. */
  | { kind: "tasks"; tasks: TaskOrder[] }
  /** hub → JetStream → one node: one durable task. */
  | {
    kind: "task";
    task: TaskOrder;
    /** The hub's inbox: the outcome goes there too, not only to the store. */
    reply: string;
  }
  /**
   * node → hub: it holds these tasks (`[id, attempt]`; durable mode: `[id,
   * starts so far]`), still running.
   */
  | { kind: "accepted"; tasks: Array<[string, number]> }
  /** node → hub: tasks' outcomes. */
  | { kind: "answers"; answers: TaskAnswer[] }
  /**
   * node → JetStream key-value and hub (durable mode): the task was
   * started `starts` times by nodes that each ended before finishing it, so
   * it is not run again.
   */
  | { kind: "lost"; id: string; starts: number }
  /**
   * node → JetStream key-value (durable mode), under `start.<id>`, read
   * by the next node to take the task: its starts so far.
   */
  | { kind: "started"; id: string; starts: number }
  /**
   * node → JetStream key-value → hub: answers, or a lost task, with their
   * seal inside.
   */
  | {
    kind: "stored";
    instance: string;
    body: string;
    mac: string;
    data: Uint8Array;
  }
  /** hub → nodes: stop a task (durable: also stored, for later nodes). */
  | { kind: "cancel"; id: string; reason: string }
  /**
   * node → hub, every heartbeat: it lives, with its room; `beat` counts up,
   * so a replayed heartbeat is dropped.
   */
  | { kind: "alive"; beat: number; capacity: number; running: number }
  /** node → hub: it leaves (its running tasks are finished). */
  | { kind: "bye" }
  /**
   * node → hub: a platform-channel message for the hub's root; `id` counts
   * up per instance and `at` is the node's clock, so the hub drops a
   * replayed call.
   */
  | {
    kind: "call";
    id: number;
    at: number;
    channel: string;
    payload: Uint8Array | null;
  }
  /**
   * hub → node (sealed with the session key): the handler's reply to call
   * `id`, or the hub's refusal of it.
   */
  | { kind: "reply"; id: number; payload: Uint8Array | null }
  | { kind: "refusedCall"; id: number; code: string; message: string };

/** The header naming the node instance that sent a message. */
export const INSTANCE_HEADER = "Isolates-Instance";
/** The header holding the sender's token body (never its signature). */
export const TOKEN_HEADER = "Isolates-Token";
/** The header holding a message's HMAC (base64url). */
export const MAC_HEADER = "Isolates-Mac";

/** Who sent a message: a node instance and its token's body. */
export interface Sender {
  readonly instance: string;
  readonly body: string;
}

/**
 * Headers sealing `bytes`: an HMAC under a session key, or the hub's
 * Ed25519 signature (tasks, cancellations), of the bytes and, when given,
 * of the subject they must be answered on (`bound`), so the seal cannot be
 * moved to another reply subject. A node's messages name it.
 *
 * @param key A session key, or the hub's task signing key.
 */
export function sealed(
  key: HmacKey | KeyObject,
  bytes: Uint8Array,
  options: { from?: Sender; bound?: string } = {},
): MsgHdrs {
  const h = headers();
  const data = bound(bytes, options.bound);
  h.set(
    MAC_HEADER,
    key instanceof Uint8Array ? sign(key, data) : signTask(key, data),
  );
  if (options.from !== undefined) {
    h.set(INSTANCE_HEADER, options.from.instance);
    h.set(TOKEN_HEADER, options.from.body);
  }
  return h;
}

/**
 * Whether a received message's seal is `key`'s (a session key, or the
 * hub's task public key), bound to `reply` when given.
 */
export function isSealed(
  key: HmacKey | KeyObject,
  bytes: Uint8Array,
  h: MsgHdrs | undefined,
  reply?: string,
): boolean {
  const data = bound(bytes, reply);
  const seal = h?.get(MAC_HEADER) || undefined;
  return key instanceof Uint8Array
    ? verify(key, data, seal)
    : verifyTask(key, data, seal);
}

function bound(bytes: Uint8Array, subject: string | undefined): Uint8Array {
  if (subject === undefined) return bytes;
  const prefix = new TextEncoder().encode(`${subject}\n`);
  const out = new Uint8Array(prefix.length + bytes.length);
  out.set(prefix);
  out.set(bytes, prefix.length);
  return out;
}

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

type Fields = Record<string, unknown>;
const isObject = (v: unknown): v is Fields =>
  typeof v === "object" && v !== null;
const isString = (v: unknown): v is string => typeof v === "string";
const isNumber = (v: unknown): v is number => typeof v === "number";
const isBytes = (v: unknown): boolean => v === null || v instanceof Uint8Array;

function isOrder(v: unknown): v is TaskOrder {
  return isObject(v) && isString(v.id) && isNumber(v.attempt) &&
    isString(v.exportName) && (v.entry === null || isString(v.entry)) &&
    (v.source === null || isString(v.source)) && "input" in v &&
    (v.deadline === null || isNumber(v.deadline));
}

function isAnswer(v: unknown): v is TaskAnswer {
  if (!isObject(v) || !isString(v.id) || !isNumber(v.attempt)) return false;
  if (v.ok === true) return "result" in v;
  const e = v.error;
  return v.ok === false && isObject(e) && isString(e.name) &&
    isString(e.message);
}

function isRemoteMessage(value: unknown): value is RemoteMessage {
  if (!isObject(value)) return false;
  const m = value;
  switch (m.kind) {
    case "join":
      return isString(m.body) && isString(m.instance) && isNumber(m.at) &&
        isString(m.proof) && isNumber(m.capacity);
    case "welcome":
      return isString(m.tag) && isNumber(m.heartbeat) &&
        typeof m.durable === "boolean" && isNumber(m.ackWait) &&
        isNumber(m.starts) && m.taskPublicKey instanceof Uint8Array &&
        isNumber(m.now);
    case "refused":
      return isString(m.code) && isString(m.message);
    case "tasks":
      return Array.isArray(m.tasks) && m.tasks.every(isOrder);
    case "task":
      return isOrder(m.task) && isString(m.reply);
    case "accepted":
      return Array.isArray(m.tasks) &&
        m.tasks.every((t) =>
          Array.isArray(t) && isString(t[0]) && isNumber(t[1])
        );
    case "answers":
      return Array.isArray(m.answers) && m.answers.every(isAnswer);
    case "lost":
    case "started":
      return isString(m.id) && isNumber(m.starts);
    case "stored":
      return isString(m.instance) && isString(m.body) && isString(m.mac) &&
        m.data instanceof Uint8Array;
    case "cancel":
      return isString(m.id) && isString(m.reason);
    case "alive":
      return isNumber(m.beat) && isNumber(m.capacity) && isNumber(m.running);
    case "bye":
      return true;
    case "call":
      return isNumber(m.id) && isNumber(m.at) && isString(m.channel) &&
        isBytes(m.payload);
    case "reply":
      return isNumber(m.id) && isBytes(m.payload);
    case "refusedCall":
      return isNumber(m.id) && isString(m.code) && isString(m.message);
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
