import {
  AckPolicy,
  createInbox,
  type KV,
  KvWatchInclude,
  type Msg,
  nanos,
  type NatsConnection,
  RetentionPolicy,
  StorageType,
} from "nats";
import type { PoolTransport, TransportTask } from "../actor/pool_transport.ts";
import { RemoteError } from "../isolate/remote_error.ts";
import { ServicesBinding } from "../isolate/services_binding.ts";
import {
  decodeRemote,
  encodeRemote,
  INSTANCE_HEADER,
  isSealed,
  NAME,
  type RemoteMessage,
  sealed,
  type Subjects,
  subjectsOf,
  type TaskAnswer,
  type TaskOrder,
  TOKEN_HEADER,
} from "./_wire.ts";
import {
  type HmacKey,
  hmacKey,
  holderKey,
  issue,
  mac,
  parseBody,
  sessionKey,
  sign,
  signTask,
  type TaskKeys,
  taskKeys,
  type TokenVerdict,
  verify,
} from "./_token.ts";
import type { NatsAuth } from "./nats_auth.ts";
import { RemoteNodeError } from "./remote_node_error.ts";
import { open, streamOf } from "./_connection.ts";

/**
 * Options of {@linkcode NatsTransport.connect}.
 *
 * @example A durable hub with a fixed secret
 * ```ts
 * import type { NatsTransportOptions } from "@isolates/isolates/nats";
 * import assert from "node:assert/strict";
 *
 * const options: NatsTransportOptions = {
 *   servers: "127.0.0.1:4222",
 *   hub: "images",
 *   secret: "a long random string kept out of the repository",
 *   durable: true,
 *   ackWait: 10_000,
 * };
 * assert.equal(options.hub, "images");
 * ```
 */
export interface NatsTransportOptions {
  /**
   * The NATS servers to connect to.
   *
   * @default {"127.0.0.1:4222"}
   */
  servers?: string | string[];
  /** How the hub proves itself to the NATS server, when it asks. */
  auth?: NatsAuth;
  /**
   * The hub's name: nodes join it by name. Letters, digits, `_`, `-`.
   *
   * @default {"default"}
   */
  hub?: string;
  /**
   * Signs node tokens and hides the hub's subjects. Keep it stable to keep
   * tokens across restarts; durable mode requires it (its stored tasks and
   * results outlive the hub). Change it to cut every node off.
   *
   * @default {random, for this transport's life; required with `durable`}
   */
  secret?: string;
  /**
   * How often nodes report they live, in ms; a node silent for 3 beats is
   * lost, and its tasks are retried elsewhere.
   *
   * @default {500}
   */
  heartbeat?: number;
  /**
   * Times a task lost with its node is sent again to another node.
   *
   * @default {1}
   */
  retries?: number;
  /**
   * How long a sent task may wait for a node to take it, in ms, before it
   * counts as lost.
   *
   * @default {2000}
   */
  acceptTimeout?: number;
  /**
   * Submit through JetStream: a task is stored before `run` counts it as
   * accepted, and acknowledged only after its result is stored, so a crash
   * of every node loses none (at least once: tasks must be idempotent).
   * Nodes count the starts of each task in the key-value store: a task that
   * `retries + 1` nodes started and died with fails with `RemoteNodeError`
   * (`remote_node_lost`) instead of starting again. A node holds at most
   * its `capacity` of tasks at a time.
   *
   * @default {false}
   */
  durable?: boolean;
  /**
   * Durable mode: how long a node may hold a task without reporting
   * progress before JetStream hands it to another node, in ms. Running
   * tasks report progress every third of it.
   *
   * @default {30000}
   */
  ackWait?: number;
  /**
   * The root's platform channels nodes may call (remote plugins): `true`
   * for all, `false` for none, or a list of channel names.
   *
   * @default {true}
   */
  plugins?: boolean | string[];
  /**
   * The first subject token of every subject.
   *
   * @default {"isolates"}
   */
  prefix?: string;
}

/**
 * Options of {@linkcode NatsTransport.issueToken}.
 *
 * @example A token valid for one hour
 * ```ts
 * import type { IssueTokenOptions } from "@isolates/isolates/nats";
 * import assert from "node:assert/strict";
 *
 * const options: IssueTokenOptions = { ttl: 3_600_000 };
 * assert.equal(options.ttl, 3_600_000);
 * ```
 */
export interface IssueTokenOptions {
  /**
   * How long the token is valid, in ms.
   *
   * @default {30 days}
   */
  ttl?: number;
}

/**
 * A node of a hub, as {@linkcode NatsTransport.nodes} reports it.
 *
 * @example Reading the nodes
 * ```ts
 * import type { RemoteNodeInfo } from "@isolates/isolates/nats";
 * import assert from "node:assert/strict";
 *
 * const info: RemoteNodeInfo = {
 *   node: "n1",
 *   instance: "3f2a9c",
 *   capacity: 4,
 *   running: 1,
 *   done: 10,
 * };
 * assert.equal(info.capacity - info.running, 3);
 * ```
 */
export interface RemoteNodeInfo {
  /** The node's name (from its token). */
  readonly node: string;
  /** The node process's instance id (several may share a token). */
  readonly instance: string;
  /** Tasks it takes at once. */
  readonly capacity: number;
  /** Tasks of this hub it runs now. */
  readonly running: number;
  /** Tasks of this hub it has finished. */
  readonly done: number;
}

interface Pending {
  readonly key: string;
  readonly task: TransportTask;
  readonly signal: AbortSignal;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  attempt: number;
  /**
   * The instance that holds it, once it said so (durable: the last one that
   * counted a start).
   */
  instance: string | null;
  /** Its JetStream sequence (durable), once stored. */
  seq: number | null;
  timer: ReturnType<typeof setTimeout> | null;
  onAbort: (() => void) | null;
}

/** A node instance that joined: its keys outlive its liveness. */
interface Session {
  readonly instance: string;
  readonly node: string;
  readonly expires: number;
  readonly key: HmacKey;
  /** The last heartbeat's count: an older one is a replay. */
  beat: number;
  /** The last plugin call's id: an id not above it is a replay. */
  call: number;
}

/** A live node instance (counted once its first heartbeat arrived). */
interface NodeState {
  readonly session: Session;
  capacity: number;
  running: number;
  done: number;
  seen: number;
}

const DAY = 86_400_000;
/** How far a join's clock may be from the hub's, in ms. */
const JOIN_SKEW = 300_000;
/** Sessions remembered; forgotten ones are derived again when needed. */
const MAX_SESSIONS = 10_000;

/**
 * The hub's side of running an {@linkcode IsolatePool}'s tasks on other
 * processes and machines over NATS, and of serving this root's plugins to
 * them. Pass it as the pool's `transport`; nodes (`NatsNode`) join with a
 * token from {@linkcode NatsTransport.issueToken} and take tasks through a
 * NATS queue group (or, `durable`, a JetStream work queue).
 *
 * `pool.run(task, input, { signal, timeout, priority })` behaves as with
 * local workers: priorities order what the pool sends, abort and timeout
 * stop the task on its node, a task's error arrives as a `RemoteError`
 * with the node's stack. A node that goes silent mid-task has its tasks
 * sent again to another node (`retries`), else they fail with
 * `RemoteNodeError` (`remote_node_lost`). Inputs and results keep the types
 * `postMessage` keeps for plain data (objects, arrays, `Map`, `Set`,
 * `Date`, typed arrays, `bigint`, errors); function tasks travel as source,
 * module tasks as URLs the node must be able to import.
 *
 * A node proves its token without sending it, and every message after the
 * join is sealed (HMAC) with keys only the hub and that node hold: forged
 * tasks, answers, heartbeats and plugin calls are dropped.
 *
 * @example Refused when no NATS server answers
 * ```ts
 * import { NatsTransport, RemoteNodeError } from "@isolates/isolates/nats";
 * import assert from "node:assert/strict";
 *
 * const error = await NatsTransport.connect({ servers: "127.0.0.1:1" })
 *   .catch((e) => e);
 * assert.ok(error instanceof RemoteNodeError);
 * assert.equal(error.code, "remote_unavailable");
 * ```
 */
export class NatsTransport implements PoolTransport, AsyncDisposable {
  /** `nats:<hub>`, in the pool's supervision tree. */
  readonly name: string;
  /** The hub's name. */
  readonly hub: string;
  readonly #nc: NatsConnection;
  readonly #secret: HmacKey;
  readonly #tasks: TaskKeys;
  readonly #subjects: Subjects;
  readonly #tag: string;
  readonly #heartbeat: number;
  readonly #retries: number;
  readonly #acceptTimeout: number;
  readonly #durable: boolean;
  readonly #ackWait: number;
  readonly #plugins: boolean | ReadonlySet<string>;
  readonly #caller = crypto.randomUUID().replaceAll("-", "");
  readonly #inbox: string;
  readonly #pending = new Map<string, Pending>();
  readonly #bySeq = new Map<number, string>();
  readonly #outgoing: TaskOrder[] = [];
  readonly #sessions = new Map<string, Session>();
  readonly #nodes = new Map<string, NodeState>();
  readonly #revoked = new Set<string>();
  readonly #stops: Array<() => void> = [];
  readonly #results: KV | null;
  #stream = "";
  #wake: () => void = () => {};
  #watchdog: ReturnType<typeof setInterval> | null = null;
  #closed = false;

  private constructor(
    init: {
      nc: NatsConnection;
      secret: HmacKey;
      tasks: TaskKeys;
      hub: string;
      tag: string;
      subjects: Subjects;
      results: KV | null;
    },
    options: NatsTransportOptions,
  ) {
    this.hub = init.hub;
    this.name = `nats:${init.hub}`;
    this.#nc = init.nc;
    this.#secret = init.secret;
    this.#tasks = init.tasks;
    this.#tag = init.tag;
    this.#subjects = init.subjects;
    this.#results = init.results;
    this.#heartbeat = options.heartbeat ?? 500;
    this.#retries = options.retries ?? 1;
    this.#acceptTimeout = options.acceptTimeout ?? 2000;
    this.#durable = options.durable ?? false;
    this.#ackWait = options.ackWait ?? 30_000;
    const plugins = options.plugins ?? true;
    this.#plugins = typeof plugins === "boolean" ? plugins : new Set(plugins);
    this.#inbox = createInbox();
  }

  /**
   * Connects to NATS and opens the hub: it answers joins, tracks nodes and,
   * in durable mode, sets up its JetStream stream and result store.
   *
   * @param options Servers, hub name, secret, retries, durability.
   * @returns The transport, ready to pass to an `IsolatePool`.
   * @throws {RangeError} When an option is out of range, or `durable` is
   * set without a `secret`.
   * @throws {RemoteNodeError} `remote_unavailable` when NATS (or, durable,
   * JetStream) cannot be reached.
   */
  static async connect(
    options: NatsTransportOptions = {},
  ): Promise<NatsTransport> {
    const hub = options.hub ?? "default";
    const prefix = options.prefix ?? "isolates";
    checkName("hub", hub);
    checkName("prefix", prefix);
    for (
      const [name, value, min] of [
        ["heartbeat", options.heartbeat, 10],
        ["retries", options.retries, 0],
        ["acceptTimeout", options.acceptTimeout, 1],
        ["ackWait", options.ackWait, 100],
      ] as const
    ) {
      if (value !== undefined && !(value >= min && Number.isFinite(value))) {
        throw new RangeError(
          `Cannot open hub "${hub}": "${name}" must be a finite number >= ${min}, got ${value}`,
        );
      }
    }
    if (options.durable && options.secret === undefined) {
      throw new RangeError(
        `Cannot open durable hub "${hub}": durable mode needs a "secret" (its stored tasks and results outlive this hub, and a new random secret would orphan them); pass a long random string kept outside the code`,
      );
    }
    const secretText = options.secret ??
      crypto.getRandomValues(new Uint8Array(32)).join(".");
    const secret = hmacKey(secretText);
    const tag = (sign(secret, `subjects:${prefix}.${hub}`))
      .replace(/[^A-Za-z0-9]/g, "").slice(0, 22);
    const tasks = taskKeys(mac(secret, `tasks:${prefix}.${hub}`));
    const subjects = subjectsOf(prefix, hub, tag);
    const nc = await open(options.servers, hub, options.auth);
    let results: KV | null = null;
    if (options.durable) {
      try {
        results = await setUpDurable(nc, streamOf(hub, tag), subjects, options);
      } catch (error) {
        await nc.close();
        throw new RemoteNodeError(
          "remote_unavailable",
          `Cannot open durable hub "${hub}": JetStream is not available (${
            error instanceof Error ? error.message : String(error)
          }); start nats-server with JetStream (-js)`,
          null,
          error,
        );
      }
    }
    const transport = new NatsTransport({
      nc,
      secret,
      tasks,
      hub,
      tag,
      subjects,
      results,
    }, options);
    await transport.#start(streamOf(hub, tag));
    return transport;
  }

  /**
   * Tasks the nodes can take now: the sum of live nodes' capacities (in
   * durable mode, unbounded: JetStream holds what waits).
   */
  get capacity(): number {
    if (this.#closed) return 0;
    if (this.#durable) return Number.MAX_SAFE_INTEGER;
    let sum = 0;
    for (const node of this.#nodes.values()) sum += node.capacity;
    return sum;
  }

  /** The live nodes, with their room and counts. */
  get nodes(): RemoteNodeInfo[] {
    return [...this.#nodes.values()].map((n) => ({
      node: n.session.node,
      instance: n.session.instance,
      capacity: n.capacity,
      running: n.running,
      done: n.done,
    }));
  }

  /**
   * Makes a token a node joins this hub with. It is scoped to this hub (and
   * its secret) and names the node; a node without a good one gets nothing.
   * Several processes may share one token: each is its own instance.
   *
   * @param node The node's name (letters, digits, `_`, `-`).
   * @param options How long it is valid.
   * @returns The token.
   * @throws {RangeError} When the name or ttl is invalid.
   */
  async issueToken(
    node: string,
    options: IssueTokenOptions = {},
  ): Promise<string> {
    checkName("node", node);
    const ttl = options.ttl ?? 30 * DAY;
    if (!(ttl > 0) || !Number.isFinite(ttl)) {
      throw new RangeError(
        `Cannot issue a token for "${node}": "ttl" must be a finite number of ms > 0, got ${ttl}`,
      );
    }
    return await issue(this.#secret, this.hub, node, Date.now() + ttl);
  }

  /**
   * Revokes every token of a node: it can no longer join, and the hub drops
   * what its running instances send (heartbeats, answers, plugin calls), so
   * their tasks go to other nodes. A revoked node that already joined can
   * still read tasks until the hub's `secret` changes.
   *
   * @param node The node's name.
   */
  revoke(node: string): void {
    this.#revoked.add(node);
  }

  /**
   * Checks a token as a join would.
   *
   * @param token The token.
   * @returns `null` when it is good, otherwise why not.
   */
  verifyToken(token: string): Promise<TokenVerdict | null> {
    return Promise.resolve(this.#verdict(token));
  }

  #verdict(token: string): TokenVerdict | null {
    const parts = typeof token === "string" ? token.split(".") : [];
    if (parts.length !== 5) return "forged";
    const body = parseBody(parts.slice(0, 4).join("."));
    if (body === null) return "forged";
    const verdict = this.#judge(body.hub, body.node, body.expires);
    if (verdict === "foreign") return verdict;
    if (!verify(this.#secret, body.text, parts[4])) return "forged";
    return verdict;
  }

  /**
   * Called by the pool using the transport.
   *
   * @param wake Asks the pool to send queued tasks.
   */
  attach(wake: () => void): void {
    this.#wake = wake;
  }

  /**
   * Sends a task to a node and settles with its result.
   *
   * @param task What to run.
   * @param signal Stops the task on its node.
   * @returns The task's result.
   */
  run(task: TransportTask, signal: AbortSignal): Promise<unknown> {
    if (this.#closed) {
      return Promise.reject(
        new RemoteNodeError(
          "remote_unavailable",
          `Cannot send the task to hub "${this.hub}": the transport is closed; connect a new one`,
        ),
      );
    }
    if (signal.aborted) return Promise.reject(signal.reason);
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    const pending: Pending = {
      key: `${this.#caller}.${task.id}`,
      task,
      signal,
      resolve,
      reject,
      attempt: 0,
      instance: null,
      seq: null,
      timer: null,
      onAbort: null,
    };
    pending.onAbort = () => this.#cancel(pending, signal.reason);
    signal.addEventListener("abort", pending.onAbort, { once: true });
    this.#pending.set(pending.key, pending);
    this.#dispatch(pending);
    return promise;
  }

  /**
   * Closes the hub: the tasks it still waits for are cancelled on their
   * nodes and reject with `RemoteNodeError` (`remote_unavailable`),
   * subscriptions end, and the connection closes. Close the pool first to
   * let tasks finish. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#watchdog !== null) clearInterval(this.#watchdog);
    const error = new RemoteNodeError(
      "remote_unavailable",
      `Cannot finish the task on hub "${this.hub}": the transport closed; close the pool before its transport`,
    );
    const cancels = [...this.#pending.values()].map((pending) =>
      this.#cancel(pending, error)
    );
    await Promise.allSettled(cancels);
    for (const stop of this.#stops) stop();
    try {
      await this.#nc.flush();
    } catch {
      // Already disconnected: nothing more can leave.
    }
    await this.#nc.close();
  }

  /** Closes the hub (for `await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #start(stream: string): Promise<void> {
    this.#stream = stream;
    const s = this.#subjects;
    this.#listen(s.join, (message, msg) => this.#onJoin(message, msg));
    this.#listenSealed(
      s.alive,
      (message, node) => this.#onAlive(message, node),
    );
    this.#listenSealed(
      this.#inbox,
      (message, node) => this.#onAnswer(message, node),
    );
    this.#listenSealed(
      s.platform,
      (message, node, msg) => this.#onCall(message, node, msg),
    );
    if (this.#results !== null) {
      const results = this.#results;
      const watch = await results.watch({
        key: `${this.#caller}.*`,
        include: KvWatchInclude.UpdatesOnly,
      });
      (async () => {
        for await (const entry of watch) {
          if (entry.operation !== "PUT") continue;
          this.#onStored(entry.value);
          results.purge(entry.key).catch(() => {});
          results.purge(`start.${entry.key}`).catch(() => {});
        }
      })().catch(() => {});
      this.#stops.push(() => watch.stop());
      // A task fails when the node holding its `retries + 1`th start is
      // lost, or when a node takes it after that (it tells). JetStream's
      // own delivery limit, higher since it also counts deliveries to the
      // pull requests of nodes that had just died, is the backstop.
      const advisories = this.#nc.subscribe(
        `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.nodes`,
        {
          callback: (error, msg) => {
            if (error === null) this.#onMaxDeliveries(msg, stream);
          },
        },
      );
      this.#stops.push(() => advisories.unsubscribe());
    }
    this.#watchdog = setInterval(() => this.#checkNodes(), this.#heartbeat);
    Deno.unrefTimer(this.#watchdog as unknown as number);
    await this.#nc.flush();
  }

  #listen(
    subject: string,
    handler: (message: RemoteMessage, msg: Msg) => void | Promise<void>,
  ): void {
    const subscription = this.#nc.subscribe(subject, {
      callback: (error, msg) => {
        if (error !== null) return;
        const message = decodeRemote(msg.data);
        // Not one of ours (or tampered with): dropped.
        if (message === null) return;
        try {
          Promise.resolve(handler(message, msg)).catch(() => {});
        } catch {
          // A message a handler cannot take is dropped, as a malformed one.
        }
      },
    });
    this.#stops.push(() => subscription.unsubscribe());
  }

  /** Listens to what nodes send: sealed by a good session, else dropped. */
  #listenSealed(
    subject: string,
    handler: (
      message: RemoteMessage,
      session: Session,
      msg: Msg,
    ) => void | Promise<void>,
  ): void {
    this.#listen(subject, async (message, msg) => {
      const session = this.#sessionOf(
        msg.headers?.get(INSTANCE_HEADER) ?? "",
        msg.headers?.get(TOKEN_HEADER) ?? "",
      );
      if (session === null) return;
      if (!isSealed(session.key, msg.data, msg.headers)) return;
      this.#remember(session);
      if (this.#judge(this.hub, session.node, session.expires) !== null) {
        // Revoked or expired: what it sends counts no more.
        this.#refuseCall(session, message, msg);
        return;
      }
      await handler(message, session, msg);
    });
  }

  /**
   * The session of a node instance: remembered, or derived again from the
   * token body it names (the hub's secret makes the same key), so a hub
   * restarted with its secret still knows the nodes of the one before.
   * `null` when the body is not one of this hub's.
   */
  #sessionOf(instance: string, body: string): Session | null {
    const known = this.#sessions.get(instance);
    if (known !== undefined) return known;
    const parsed = parseBody(body);
    if (instance === "" || parsed === null || parsed.hub !== this.hub) {
      return null;
    }
    const holder = holderKey(sign(this.#secret, parsed.text));
    return {
      instance,
      node: parsed.node,
      expires: parsed.expires,
      key: sessionKey(holder, instance),
      beat: 0,
      call: 0,
    };
  }

  /** Keeps a session whose seal checked out; forgets idle ones past a cap. */
  #remember(session: Session): void {
    if (this.#sessions.get(session.instance) === session) return;
    if (this.#sessions.size >= MAX_SESSIONS) {
      for (const instance of this.#sessions.keys()) {
        if (this.#nodes.has(instance)) continue;
        this.#sessions.delete(instance);
        break;
      }
    }
    this.#sessions.set(session.instance, session);
  }

  /** Why a token body is refused, without its signature; `null`: good. */
  #judge(hub: string, node: string, expires: number): TokenVerdict | null {
    if (hub !== this.hub) return "foreign";
    if (!(expires > Date.now())) return "expired";
    if (this.#revoked.has(node)) return "revoked";
    return null;
  }

  #onJoin(message: RemoteMessage, msg: Msg): void {
    if (message.kind !== "join" || msg.reply === undefined) return;
    const body = parseBody(message.body);
    if (body === null) {
      msg.respond(encodeRemote(refusal("forged", this.hub)));
      return;
    }
    const judged = this.#judge(body.hub, body.node, body.expires);
    if (judged === "foreign") {
      msg.respond(encodeRemote(refusal(judged, this.hub)));
      return;
    }
    // The signature this body would carry, and the proof made with it.
    const holder = holderKey(sign(this.#secret, body.text));
    const fresh = Math.abs(Date.now() - message.at) < JOIN_SKEW;
    const proven = verify(
      holder,
      `join.${message.instance}.${message.at}`,
      message.proof,
    );
    const verdict = !proven || !fresh ? "forged" : judged;
    if (verdict !== null) {
      msg.respond(encodeRemote(refusal(verdict, this.hub)));
      return;
    }
    const session: Session = {
      instance: message.instance,
      node: body.node,
      expires: body.expires,
      key: sessionKey(holder, message.instance),
      beat: this.#sessions.get(message.instance)?.beat ?? 0,
      call: this.#sessions.get(message.instance)?.call ?? 0,
    };
    this.#remember(session);
    const welcome = encodeRemote({
      kind: "welcome",
      tag: this.#tag,
      heartbeat: this.#heartbeat,
      durable: this.#durable,
      ackWait: this.#ackWait,
      starts: this.#retries + 1,
      taskPublicKey: this.#tasks.public,
      now: Date.now(),
    });
    // Counted as live at its first heartbeat, sent once it listens.
    msg.respond(welcome, { headers: sealed(session.key, welcome) });
  }

  #onAlive(message: RemoteMessage, session: Session): void {
    if (message.kind === "alive") {
      if (message.beat <= session.beat) return; // replayed
      session.beat = message.beat;
      let state = this.#nodes.get(session.instance);
      const grew = state === undefined || message.capacity > state.capacity;
      if (state === undefined) {
        state = { session, capacity: 0, running: 0, done: 0, seen: 0 };
        this.#nodes.set(session.instance, state);
      }
      state.capacity = message.capacity;
      state.running = message.running;
      state.seen = performance.now();
      if (grew) this.#wake();
    } else if (message.kind === "bye") {
      this.#lose(session.instance, "left");
    }
  }

  #checkNodes(): void {
    const now = performance.now();
    for (const state of [...this.#nodes.values()]) {
      const verdict = this.#judge(
        this.hub,
        state.session.node,
        state.session.expires,
      );
      if (verdict !== null) {
        this.#lose(state.session.instance, `was ${verdict}`);
      } else if (now - state.seen > 3 * this.#heartbeat) {
        this.#lose(state.session.instance, "went silent");
      }
    }
  }

  /** A node instance is gone: what it held is sent again, or fails. */
  #lose(instance: string, how: string): void {
    const state = this.#nodes.get(instance);
    if (state === undefined) return;
    this.#nodes.delete(instance);
    for (const pending of [...this.#pending.values()]) {
      if (pending.instance !== instance) continue;
      if (this.#durable) {
        // JetStream hands the task to another node, unless this was the
        // last start allowed.
        pending.instance = null;
        if (pending.attempt > this.#retries) {
          this.#lost(pending.key, pending.attempt);
        }
        continue;
      }
      this.#retry(
        pending,
        new RemoteNodeError(
          "remote_node_lost",
          `Cannot finish the task on hub "${this.hub}": node "${state.session.node}" ${how} while running it (attempt ${pending.attempt} of ${
            this.#retries + 1
          }); make tasks idempotent and raise "retries", or run more nodes`,
        ),
      );
    }
  }

  #dispatch(pending: Pending): void {
    pending.attempt++;
    pending.instance = null;
    const order: TaskOrder = {
      id: pending.key,
      attempt: pending.attempt,
      entry: pending.task.entry,
      exportName: pending.task.exportName,
      source: pending.task.source,
      input: pending.task.input,
      // Sent again after the accept timeout: an older copy must not run.
      deadline: this.#durable ? null : Date.now() + this.#acceptTimeout,
    };
    if (this.#durable) {
      this.#store(pending, order).catch((error) =>
        this.#failed(
          pending,
          error instanceof TypeError ? error : new RemoteNodeError(
            "remote_unavailable",
            `Cannot store the task on hub "${this.hub}": JetStream refused it (${
              error instanceof Error ? error.message : String(error)
            }); check the NATS server's JetStream limits`,
            null,
            error,
          ),
        )
      );
      return;
    }
    pending.timer = setTimeout(() => {
      pending.timer = null;
      this.#retry(
        pending,
        new RemoteNodeError(
          "remote_unavailable",
          `Cannot run the task on hub "${this.hub}": no node took it within ${this.#acceptTimeout} ms; start a node (NatsNode.start) with a token from this hub`,
        ),
      );
    }, this.#acceptTimeout);
    // Tasks sent in one turn leave together, in batches a node can hold.
    if (this.#outgoing.length === 0) queueMicrotask(() => this.#flush());
    this.#outgoing.push(order);
  }

  async #store(pending: Pending, order: TaskOrder): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = encodeRemote({ kind: "task", task: order, reply: this.#inbox });
    } catch (error) {
      throw unsendable(this.hub, error);
    }
    const ack = await this.#nc.jetstream().publish(this.#subjects.jobs, bytes, {
      msgID: `${pending.key}.${pending.attempt}`,
      headers: sealed(this.#tasks.signer, bytes),
    });
    if (!this.#pending.has(pending.key)) return;
    pending.seq = ack.seq;
    this.#bySeq.set(ack.seq, pending.key);
  }

  #flush(): void {
    // Tasks aborted before they left are not sent.
    const orders = this.#outgoing.splice(0).filter((order) =>
      this.#pending.get(order.id)?.attempt === order.attempt
    );
    if (this.#closed) return;
    const nodes = Math.max(1, this.#nodes.size);
    // A quarter of a node's room per message: the queue group hands each
    // message to one node, and smaller batches spread over more of them.
    const size = Math.max(1, Math.floor(this.capacity / nodes / 4));
    for (let i = 0; i < orders.length; i += size) {
      const batch = orders.slice(i, i + size).filter((order) => {
        try {
          encodeRemote({ kind: "tasks", tasks: [order] });
          return true;
        } catch (error) {
          // That input cannot be sent: that task fails, the others leave.
          const pending = this.#pending.get(order.id);
          if (pending !== undefined) {
            this.#failed(pending, unsendable(this.hub, error));
          }
          return false;
        }
      });
      if (batch.length === 0) continue;
      const bytes = encodeRemote({ kind: "tasks", tasks: batch });
      this.#nc.publish(this.#subjects.tasks, bytes, {
        reply: this.#inbox,
        headers: sealed(this.#tasks.signer, bytes, { bound: this.#inbox }),
      });
    }
  }

  #retry(pending: Pending, error: RemoteNodeError): void {
    if (pending.timer !== null) clearTimeout(pending.timer);
    pending.timer = null;
    if (pending.attempt <= this.#retries && !this.#closed) {
      this.#dispatch(pending);
    } else this.#failed(pending, error);
  }

  #onAnswer(message: RemoteMessage, session: Session): void {
    if (message.kind === "accepted") {
      // From an instance already lost: the accept timer keeps running, so
      // the task is sent again.
      if (!this.#nodes.has(session.instance)) return;
      for (const [id, attempt] of message.tasks) {
        const pending = this.#pending.get(id);
        if (pending === undefined) continue;
        if (this.#durable) {
          // `attempt` counts the task's starts: the latest holder wins.
          if (attempt < pending.attempt) continue;
          pending.attempt = attempt;
        } else if (attempt !== pending.attempt) continue;
        if (pending.timer !== null) clearTimeout(pending.timer);
        pending.timer = null;
        pending.instance = session.instance;
      }
      return;
    }
    if (message.kind === "answers") this.#answered(message.answers, session);
    if (message.kind === "lost") this.#lost(message.id, message.starts);
  }

  #answered(answers: readonly TaskAnswer[], session: Session): void {
    const state = this.#nodes.get(session.instance);
    for (const answer of answers) {
      // The first answer wins, from whichever attempt; a copy of the task
      // still running elsewhere (sent again after a loss) is stopped.
      const pending = this.#pending.get(answer.id);
      if (pending === undefined) continue;
      if (state !== undefined) state.done++;
      if (pending.attempt > 1) this.#publishCancel(pending.key, "answered");
      this.#settle(pending);
      if (answer.ok) pending.resolve(answer.result);
      else pending.reject(new RemoteError(answer.error));
    }
  }

  /**
   * An outcome or a start a node stored in JetStream's key-value bucket
   * (durable mode).
   */
  #onStored(bytes: Uint8Array): void {
    const stored = decodeRemote(bytes);
    if (stored?.kind !== "stored") return;
    const session = this.#sessionOf(stored.instance, stored.body);
    if (session === null) return;
    if (!verify(session.key, stored.data, stored.mac)) return;
    this.#remember(session);
    const message = decodeRemote(stored.data);
    if (message?.kind === "answers") this.#answered(message.answers, session);
    if (message?.kind === "lost") this.#lost(message.id, message.starts);
  }

  /**
   * A durable task that every node starting it died with: it fails, and
   * leaves the stream so that no node runs it again.
   */
  #lost(key: string, starts: number): void {
    const pending = this.#pending.get(key);
    if (pending === undefined) return;
    const seq = pending.seq;
    if (seq !== null) {
      this.#nc.jetstreamManager()
        .then((jsm) => jsm.streams.deleteMessage(this.#stream, seq))
        .catch(() => {});
    }
    this.#failed(
      pending,
      new RemoteNodeError(
        "remote_node_lost",
        `Cannot finish the durable task on hub "${this.hub}": it was started ${starts} ${
          starts === 1 ? "time" : "times"
        } and each node running it ended before finishing it; make the task idempotent and raise "retries", or find why it ends its node`,
      ),
    );
  }

  #onMaxDeliveries(msg: Msg, stream: string): void {
    let seq: unknown;
    let deliveries: unknown;
    try {
      ({ stream_seq: seq, deliveries } = JSON.parse(
        new TextDecoder().decode(msg.data),
      ) as { stream_seq?: unknown; deliveries?: unknown });
    } catch {
      return;
    }
    if (typeof seq !== "number") return;
    const key = this.#bySeq.get(seq);
    const pending = key === undefined ? undefined : this.#pending.get(key);
    this.#nc.jetstreamManager()
      .then((jsm) => jsm.streams.deleteMessage(stream, seq as number))
      .catch(() => {});
    if (pending === undefined) return;
    this.#failed(
      pending,
      new RemoteNodeError(
        "remote_node_lost",
        `Cannot finish the durable task on hub "${this.hub}": JetStream delivered it ${
          typeof deliveries === "number" ? deliveries : "too many"
        } times and no node finished it; check that nodes can reach the server and stay up, and raise "retries"`,
      ),
    );
  }

  #cancel(pending: Pending, reason: unknown): Promise<void> {
    if (!this.#pending.has(pending.key)) return Promise.resolve();
    const why = reason instanceof Error ? reason.message : String(reason);
    this.#failed(pending, reason);
    this.#publishCancel(pending.key, why);
    if (this.#results === null) return Promise.resolve();
    // Durable: a node that takes it later finds the cancellation stored.
    const bytes = encodeRemote({
      kind: "cancel",
      id: pending.key,
      reason: why,
    });
    const stored = this.#results.put(
      `cancel.${pending.key}`,
      encodeRemote({
        kind: "stored",
        instance: "",
        body: "",
        mac: signTask(this.#tasks.signer, bytes),
        data: bytes,
      }),
    );
    return stored.then(() => {}, () => {});
  }

  #publishCancel(id: string, reason: string): void {
    const bytes = encodeRemote({ kind: "cancel", id, reason });
    try {
      this.#nc.publish(this.#subjects.cancel, bytes, {
        headers: sealed(this.#tasks.signer, bytes),
      });
    } catch {
      // The connection closed: nodes see the hub go instead.
    }
  }

  #failed(pending: Pending, error: unknown): void {
    if (!this.#pending.has(pending.key)) return;
    this.#settle(pending);
    pending.reject(error);
  }

  #settle(pending: Pending): void {
    this.#pending.delete(pending.key);
    if (pending.seq !== null) this.#bySeq.delete(pending.seq);
    if (pending.timer !== null) clearTimeout(pending.timer);
    pending.timer = null;
    if (pending.onAbort !== null) {
      pending.signal.removeEventListener("abort", pending.onAbort);
      pending.onAbort = null;
    }
  }

  /** A node calls one of this root's platform channels. */
  async #onCall(
    message: RemoteMessage,
    session: Session,
    msg: Msg,
  ): Promise<void> {
    if (message.kind !== "call" || msg.reply === undefined) return;
    // A replayed call (an id not above the last, or too old) is dropped.
    if (
      message.id <= session.call ||
      Math.abs(Date.now() - message.at) > JOIN_SKEW
    ) return;
    session.call = message.id;
    const allowed = this.#plugins === true ||
      (this.#plugins !== false && this.#plugins.has(message.channel));
    const answer: RemoteMessage = allowed
      ? {
        kind: "reply",
        id: message.id,
        payload: await ServicesBinding.defaultBinaryMessenger.send(
          message.channel,
          message.payload,
        ),
      }
      : {
        kind: "refusedCall",
        id: message.id,
        code: "channel",
        message:
          `Cannot call channel "${message.channel}" on hub "${this.hub}": the hub does not serve it to nodes; list it in the hub's "plugins" option`,
      };
    const bytes = encodeRemote(answer);
    msg.respond(bytes, { headers: sealed(session.key, bytes) });
  }

  #refuseCall(session: Session, message: RemoteMessage, msg: Msg): void {
    if (message.kind !== "call" || msg.reply === undefined) return;
    const verdict = this.#judge(this.hub, session.node, session.expires) ??
      "revoked";
    const refused = refusal(verdict, this.hub) as { message: string };
    const bytes = encodeRemote({
      kind: "refusedCall",
      id: message.id,
      code: verdict,
      message: refused.message,
    });
    msg.respond(bytes, { headers: sealed(session.key, bytes) });
  }
}

function unsendable(hub: string, error: unknown): TypeError {
  return new TypeError(
    `Cannot send the task to hub "${hub}": its input cannot be serialized (${
      error instanceof Error ? error.message : String(error)
    }); send null, booleans, numbers, bigint, strings, typed arrays, arrays, plain objects, Map, Set, Date or errors`,
    { cause: error },
  );
}

function refusal(verdict: TokenVerdict, hub: string): RemoteMessage {
  const why = {
    forged: "it is forged or altered",
    foreign: "it was issued by another hub",
    expired: "it has expired",
    revoked: "its node was revoked",
  }[verdict];
  return {
    kind: "refused",
    code: verdict,
    message:
      `Cannot reach hub "${hub}": the node's token was refused (${why}); ask the hub for a new token (issueToken)`,
  };
}

function checkName(option: string, value: string): void {
  if (typeof value !== "string" || !NAME.test(value)) {
    throw new RangeError(
      `Cannot use ${option} "${value}": use 1 to 64 letters, digits, "_" or "-"`,
    );
  }
}

/**
 * JetStream's delivery limit for a task that `retries + 1` node starts may
 * run: deliveries to a node that died before it counted the start, or to a
 * dead node's pull request, also count there.
 */
function deliveryLimit(retries: number): number {
  return 2 * (retries + 1) + 3;
}

async function setUpDurable(
  nc: NatsConnection,
  stream: string,
  subjects: Subjects,
  options: NatsTransportOptions,
): Promise<KV> {
  const jsm = await nc.jetstreamManager();
  const config = {
    name: stream,
    subjects: [subjects.jobs],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
  };
  try {
    await jsm.streams.info(stream);
  } catch {
    await jsm.streams.add(config);
  }
  const consumer = {
    durable_name: "nodes",
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(options.ackWait ?? 30_000),
    max_deliver: deliveryLimit(options.retries ?? 1),
  };
  try {
    await jsm.consumers.update(stream, "nodes", consumer);
  } catch {
    await jsm.consumers.add(stream, consumer);
  }
  return await nc.jetstream().views.kv(`${stream}_results`, {
    history: 1,
    ttl: DAY,
  });
}
