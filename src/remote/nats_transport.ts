import {
  AckPolicy,
  createInbox,
  type KV,
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
  NAME,
  type RemoteMessage,
  type Subjects,
  subjectsOf,
  type TaskOrder,
} from "./_wire.ts";
import {
  check,
  issue,
  keyOf,
  nodeOf,
  sign,
  type TokenVerdict,
} from "./_token.ts";
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
  /**
   * The hub's name: nodes join it by name. Letters, digits, `_`, `-`.
   *
   * @default {"default"}
   */
  hub?: string;
  /**
   * Signs node tokens and hides the hub's subjects. Keep it stable to keep
   * tokens (and, in durable mode, the task stream) across restarts.
   *
   * @default {random, for this transport's life}
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
 * const info: RemoteNodeInfo = { node: "n1", capacity: 4, running: 1, done: 10 };
 * assert.equal(info.capacity - info.running, 3);
 * ```
 */
export interface RemoteNodeInfo {
  /** The node's name (from its token). */
  readonly node: string;
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
  node: string | null;
  timer: ReturnType<typeof setTimeout> | null;
  onAbort: (() => void) | null;
}

interface NodeState {
  readonly node: string;
  capacity: number;
  running: number;
  done: number;
  seen: number;
}

const DAY = 86_400_000;

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
  readonly #key: CryptoKey;
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
  readonly #outgoing: TaskOrder[] = [];
  readonly #nodes = new Map<string, NodeState>();
  readonly #revoked = new Set<string>();
  readonly #verified = new Map<string, number>();
  readonly #stops: Array<() => void> = [];
  readonly #results: KV | null;
  #wake: () => void = () => {};
  #watchdog: ReturnType<typeof setInterval> | null = null;
  #closed = false;

  private constructor(
    init: {
      nc: NatsConnection;
      key: CryptoKey;
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
    this.#key = init.key;
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
   * @throws {RangeError} When an option is out of range.
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
    const secret = options.secret ??
      crypto.getRandomValues(new Uint8Array(32)).join(".");
    const key = await keyOf(secret);
    const tag = (await sign(key, `subjects:${prefix}.${hub}`))
      .replace(/[^A-Za-z0-9]/g, "").slice(0, 22);
    const subjects = subjectsOf(prefix, hub, tag);
    const nc = await open(options.servers, hub);
    let results: KV | null = null;
    if (options.durable) {
      try {
        results = await setUpDurable(nc, hub, subjects, options);
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
      key,
      hub,
      tag,
      subjects,
      results,
    }, options);
    await transport.#start();
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
      node: n.node,
      capacity: n.capacity,
      running: n.running,
      done: n.done,
    }));
  }

  /**
   * Makes a token a node joins this hub with. It is scoped to this hub (and
   * its secret) and names the node; a node without a good one gets nothing.
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
    return await issue(this.#key, this.hub, node, Date.now() + ttl);
  }

  /**
   * Revokes every token of a node: it can no longer join or call plugins.
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
  async verifyToken(token: string): Promise<TokenVerdict | null> {
    // A token seen good is not signed again on every call: only its expiry
    // and its node's revocation can change.
    const expires = this.#verified.get(token);
    if (expires !== undefined && expires > Date.now()) {
      return this.#revoked.has(nodeOf(token)!) ? "revoked" : null;
    }
    const verdict = await check(
      this.#key,
      this.hub,
      token,
      this.#revoked,
      Date.now(),
    );
    if (verdict === null) {
      if (this.#verified.size >= 10_000) this.#verified.clear();
      this.#verified.set(token, Number(token.split(".")[3]));
    }
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
      node: null,
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
   * Closes the hub: pending tasks reject with `RemoteNodeError`
   * (`remote_unavailable`), subscriptions end, and the connection closes
   * when the transport opened it. Close the pool first to let tasks finish.
   * Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#watchdog !== null) clearInterval(this.#watchdog);
    for (const pending of [...this.#pending.values()]) {
      this.#settle(pending);
      pending.reject(
        new RemoteNodeError(
          "remote_unavailable",
          `Cannot finish the task on hub "${this.hub}": the transport closed; close the pool before its transport`,
        ),
      );
    }
    for (const stop of this.#stops) stop();
    await this.#nc.close();
  }

  /** Closes the hub (for `await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #start(): Promise<void> {
    const s = this.#subjects;
    this.#listen(s.join, (message, msg) => this.#onJoin(message, msg));
    this.#listen(s.alive, (message) => this.#onAlive(message));
    this.#listen(this.#inbox, (message) => this.#onAnswer(message));
    this.#listen(s.platform, (message, msg) => this.#onCall(message, msg));
    if (this.#results !== null) {
      const watch = await this.#results.watch({ key: `${this.#caller}.*` });
      (async () => {
        for await (const entry of watch) {
          if (entry.operation !== "PUT") continue;
          const message = decodeRemote(entry.value);
          if (message !== null) this.#onAnswer(message);
          this.#results!.purge(entry.key).catch(() => {});
        }
      })().catch(() => {});
      this.#stops.push(() => watch.stop());
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
        Promise.resolve(handler(message, msg)).catch(() => {});
      },
    });
    this.#stops.push(() => subscription.unsubscribe());
  }

  async #onJoin(message: RemoteMessage, msg: Msg): Promise<void> {
    if (message.kind !== "join" || msg.reply === undefined) return;
    const verdict = await this.verifyToken(message.token);
    if (verdict === null && nodeOf(message.token) !== message.node) {
      msg.respond(encodeRemote(refusal("forged", this.hub)));
      return;
    }
    if (verdict !== null) {
      msg.respond(encodeRemote(refusal(verdict, this.hub)));
      return;
    }
    msg.respond(encodeRemote({
      kind: "welcome",
      tag: this.#tag,
      heartbeat: this.#heartbeat,
      durable: this.#durable,
      ackWait: this.#ackWait,
    }));
    this.#seen(message.node, message.capacity, 0);
  }

  #onAlive(message: RemoteMessage): void {
    if (message.kind === "alive") {
      if (this.#revoked.has(message.node)) return;
      this.#seen(message.node, message.capacity, message.running);
    } else if (message.kind === "bye") {
      this.#lose(message.node, "left");
    }
  }

  #seen(node: string, capacity: number, running: number): void {
    let state = this.#nodes.get(node);
    const grew = state === undefined || capacity > state.capacity;
    if (state === undefined) {
      state = { node, capacity, running, done: 0, seen: 0 };
      this.#nodes.set(node, state);
    }
    state.capacity = capacity;
    state.running = running;
    state.seen = performance.now();
    if (grew) this.#wake();
  }

  #checkNodes(): void {
    const now = performance.now();
    for (const state of [...this.#nodes.values()]) {
      if (now - state.seen > 3 * this.#heartbeat) {
        this.#lose(state.node, "went silent");
      }
    }
  }

  /** A node is gone: what it held is sent again, or fails. */
  #lose(node: string, how: string): void {
    if (!this.#nodes.delete(node)) return;
    if (this.#durable) return; // JetStream hands its tasks to another node
    for (const pending of [...this.#pending.values()]) {
      if (pending.node !== node) continue;
      this.#retry(
        pending,
        new RemoteNodeError(
          "remote_node_lost",
          `Cannot finish the task on hub "${this.hub}": node "${node}" ${how} while running it (attempt ${pending.attempt} of ${
            this.#retries + 1
          }); the task may have run partly, so make tasks idempotent, or raise "retries"`,
        ),
      );
    }
  }

  #dispatch(pending: Pending): void {
    pending.attempt++;
    pending.node = null;
    const order: TaskOrder = {
      id: pending.key,
      attempt: pending.attempt,
      entry: pending.task.entry,
      exportName: pending.task.exportName,
      source: pending.task.source,
      input: pending.task.input,
    };
    if (this.#durable) {
      let bytes: Uint8Array;
      try {
        bytes = encodeRemote({ kind: "task", task: order });
      } catch (error) {
        this.#failed(pending, unsendable(this.hub, error));
        return;
      }
      this.#nc.jetstream().publish(this.#subjects.jobs, bytes, {
        msgID: `${pending.key}.${pending.attempt}`,
      }).catch((error) =>
        this.#failed(
          pending,
          new RemoteNodeError(
            "remote_unavailable",
            `Cannot store the task on hub "${this.hub}": JetStream refused it (${
              error instanceof Error ? error.message : String(error)
            })`,
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
      const batch = orders.slice(i, i + size);
      let bytes: Uint8Array;
      try {
        bytes = encodeRemote({ kind: "tasks", tasks: batch });
      } catch {
        // One input cannot be sent: fail that task, send the others.
        const sendable = batch.filter((order) => {
          try {
            encodeRemote({ kind: "tasks", tasks: [order] });
            return true;
          } catch (error) {
            const pending = this.#pending.get(order.id);
            if (pending !== undefined) {
              this.#failed(pending, unsendable(this.hub, error));
            }
            return false;
          }
        });
        if (sendable.length === 0) continue;
        bytes = encodeRemote({ kind: "tasks", tasks: sendable });
      }
      this.#nc.publish(this.#subjects.tasks, bytes, { reply: this.#inbox });
    }
  }

  #retry(pending: Pending, error: RemoteNodeError): void {
    if (pending.timer !== null) clearTimeout(pending.timer);
    pending.timer = null;
    if (pending.attempt <= this.#retries && !this.#closed) {
      this.#dispatch(pending);
    } else this.#failed(pending, error);
  }

  #onAnswer(message: RemoteMessage): void {
    if (message.kind === "accepted") {
      for (const [id, attempt] of message.tasks) {
        const pending = this.#pending.get(id);
        if (pending === undefined || attempt !== pending.attempt) continue;
        if (pending.timer !== null) clearTimeout(pending.timer);
        pending.timer = null;
        pending.node = message.node;
      }
      return;
    }
    if (message.kind !== "answers") return;
    const state = this.#nodes.get(message.node);
    for (const answer of message.answers) {
      // The first answer wins, from whichever attempt.
      const pending = this.#pending.get(answer.id);
      if (pending === undefined) continue;
      if (state !== undefined) state.done++;
      this.#settle(pending);
      if (answer.ok) pending.resolve(answer.result);
      else pending.reject(new RemoteError(answer.error));
    }
  }

  #cancel(pending: Pending, reason: unknown): void {
    if (!this.#pending.has(pending.key)) return;
    this.#nc.publish(
      this.#subjects.cancel,
      encodeRemote({
        kind: "cancel",
        id: pending.key,
        reason: reason instanceof Error ? reason.message : String(reason),
      }),
    );
    this.#failed(pending, reason);
  }

  #failed(pending: Pending, error: unknown): void {
    if (!this.#pending.has(pending.key)) return;
    this.#settle(pending);
    pending.reject(error);
  }

  #settle(pending: Pending): void {
    this.#pending.delete(pending.key);
    if (pending.timer !== null) clearTimeout(pending.timer);
    pending.timer = null;
    if (pending.onAbort !== null) {
      pending.signal.removeEventListener("abort", pending.onAbort);
      pending.onAbort = null;
    }
  }

  /** A node calls one of this root's platform channels. */
  async #onCall(message: RemoteMessage, msg: Msg): Promise<void> {
    if (message.kind !== "call" || msg.reply === undefined) return;
    const verdict = await this.verifyToken(message.token);
    if (verdict !== null) {
      msg.respond(encodeRemote(refusal(verdict, this.hub)));
      return;
    }
    const allowed = this.#plugins === true ||
      (this.#plugins !== false && this.#plugins.has(message.channel));
    if (!allowed) {
      msg.respond(encodeRemote({
        kind: "refused",
        code: "channel",
        message:
          `Cannot call channel "${message.channel}" on hub "${this.hub}": the hub does not serve it to nodes; list it in the hub's "plugins" option`,
      }));
      return;
    }
    const reply = await ServicesBinding.defaultBinaryMessenger.send(
      message.channel,
      message.payload,
    );
    msg.respond(encodeRemote({ kind: "reply", payload: reply }));
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

async function setUpDurable(
  nc: NatsConnection,
  hub: string,
  subjects: Subjects,
  options: NatsTransportOptions,
): Promise<KV> {
  const jsm = await nc.jetstreamManager();
  const stream = streamOf(hub);
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
    max_deliver: -1,
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
