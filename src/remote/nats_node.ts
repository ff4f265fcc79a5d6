import type { KeyObject } from "node:crypto";
import type { ConsumerMessages, JsMsg, KV, Msg, NatsConnection } from "nats";
import {
  IsolatePool,
  type IsolatePoolOptions,
  type PoolTask,
} from "../actor/isolate_pool.ts";
import type { BinaryMessenger } from "../channels/binary_messenger.ts";
import { type SerializedError, serializeError } from "../isolate/protocol.ts";
import { RemoteError } from "../isolate/remote_error.ts";
import { ServicesBinding } from "../isolate/services_binding.ts";
import { HubMessenger } from "./_hub_messenger.ts";
import {
  type HmacKey,
  holderKey,
  sessionKey,
  sign,
  splitToken,
  taskVerifier,
  verifyTask,
} from "./_token.ts";
import type { NatsAuth } from "./nats_auth.ts";
import {
  decodeRemote,
  encodeRemote,
  isSealed,
  NAME,
  type RemoteMessage,
  sealed,
  type Sender,
  type Subjects,
  subjectsOf,
  type TaskAnswer,
  type TaskOrder,
} from "./_wire.ts";
import { open, streamOf } from "./_connection.ts";
import { RemoteNodeError } from "./remote_node_error.ts";

/**
 * Options of {@linkcode NatsNode.start}.
 *
 * @example A node of hub "images" with 4 workers that forwards a plugin
 * ```ts
 * import type { NatsNodeOptions } from "@isolates/isolates/nats";
 * import assert from "node:assert/strict";
 *
 * const options: NatsNodeOptions = {
 *   servers: "127.0.0.1:4222",
 *   hub: "images",
 *   token: Deno.env.get("ISOLATES_NODE_TOKEN") ?? "v1.images.n1.0.none",
 *   size: 4,
 *   forward: ["app/audit_log"],
 * };
 * assert.equal(options.size, 4);
 * ```
 */
export interface NatsNodeOptions {
  /**
   * The NATS servers.
   *
   * @default {"127.0.0.1:4222"}
   */
  servers?: string | string[];
  /** How the node proves itself to the NATS server, when it asks. */
  auth?: NatsAuth;
  /**
   * The hub to join.
   *
   * @default {"default"}
   */
  hub?: string;
  /** The token the hub issued for this node (`issueToken`). */
  token: string;
  /**
   * Workers of the node's own pool.
   *
   * @default {navigator.hardwareConcurrency}
   */
  size?: number;
  /**
   * Tasks the node takes at once (the rest wait at the hub, where
   * priorities still apply, or in JetStream for a durable hub). Raise it for many tiny tasks (more in flight
   * hides the network's round trip: 32 × size ran 1.5 to 2.5 times the tasks/s
   * of the default here); keep it low for long tasks, so they spread over
   * nodes.
   *
   * @default {4 × size}
   */
  capacity?: number;
  /** More settings of the node's own pool. */
  pool?: Omit<IsolatePoolOptions, "size" | "min" | "max" | "transport">;
  /**
   * Platform channels answered by the hub's root: calls on them from this
   * node's isolates (and its main thread) go to the hub.
   *
   * @default {[]}
   */
  forward?: string[];
  /**
   * How long a call to the hub's root may take, in ms.
   *
   * @default {30000}
   */
  callTimeout?: number;
  /**
   * The first subject token, as the hub's.
   *
   * @default {"isolates"}
   */
  prefix?: string;
}

/** How long a task may run before the node tells the hub it holds it. */
const ACCEPT_DELAY = 5;

/** How long a durable node's pull for tasks waits on an empty queue, in ms. */
const PULL_EXPIRES = 5_000;

type Welcome = Extract<RemoteMessage, { kind: "welcome" }>;

/** A task the node runs now. */
interface Running {
  readonly controller: AbortController;
}

/**
 * A process that runs a hub's tasks: it joins the hub (`NatsTransport`)
 * with a token, takes tasks from the hub's NATS queue group (or JetStream
 * work queue, in durable mode), runs them in its own supervised
 * {@linkcode IsolatePool}, and answers. It reports it lives every
 * heartbeat; cancellations and timeouts from the hub abort the task here.
 * Channels in `forward` reach the hub's root plugins; `messenger` calls
 * them directly. It proves its token without sending it, seals what it
 * sends with its session key, and runs only tasks the hub sealed.
 *
 * @example A wrong hub address gets a typed error
 * ```ts
 * import { NatsNode, RemoteNodeError } from "@isolates/isolates/nats";
 * import assert from "node:assert/strict";
 *
 * const error = await NatsNode.start({
 *   servers: "127.0.0.1:1",
 *   token: "v1.default.n1.0.none",
 * }).catch((e) => e);
 * assert.ok(error instanceof RemoteNodeError);
 * assert.equal(error.code, "remote_unavailable");
 * ```
 */
export class NatsNode implements AsyncDisposable {
  /** The node's name (from its token). */
  readonly node: string;
  /** This process's instance id (several may share a token). */
  readonly instance: string;
  /** The hub it joined. */
  readonly hub: string;
  /** Sends platform-channel messages to the hub's root. */
  readonly messenger: BinaryMessenger;
  readonly #nc: NatsConnection;
  readonly #subjects: Subjects;
  readonly #session: HmacKey;
  readonly #from: Sender;
  /** Checks the hub's signature of tasks and cancellations. */
  readonly #taskKey: KeyObject;
  /** The hub's clock minus this one's, measured at the join. */
  readonly #skew: number;
  readonly #pool: IsolatePool;
  readonly #capacity: number;
  readonly #forward: string[];
  readonly #running = new Map<string, Running>();
  readonly #unaccepted = new Map<string, { reply: string; attempt: number }>();
  readonly #answers = new Map<string, TaskAnswer[]>();
  #acceptTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #cancelled = new Set<string>();
  readonly #seen = new Set<string>();
  readonly #functions = new Map<string, PoolTask>();
  /** Stop taking tasks. */
  readonly #intake: Array<() => void> = [];
  /** Stop the rest, once the tasks taken are answered. */
  readonly #stops: Array<() => void> = [];
  readonly #work: Set<Promise<void>> = new Set();
  #done = 0;
  #closing: Promise<void> | null = null;

  private constructor(init: {
    node: string;
    instance: string;
    hub: string;
    nc: NatsConnection;
    subjects: Subjects;
    session: HmacKey;
    body: string;
    skew: number;
    taskKey: KeyObject;
    options: NatsNodeOptions;
  }) {
    const { options } = init;
    this.node = init.node;
    this.instance = init.instance;
    this.hub = init.hub;
    this.#nc = init.nc;
    this.#subjects = init.subjects;
    this.#session = init.session;
    this.#from = { instance: init.instance, body: init.body };
    this.#skew = init.skew;
    this.#taskKey = init.taskKey;
    const size = options.size ?? (navigator.hardwareConcurrency || 1);
    this.#capacity = options.capacity ?? size * 4;
    this.#pool = new IsolatePool({
      ...options.pool,
      name: `node:${init.node}`,
      size,
    });
    this.messenger = new HubMessenger(
      init.nc,
      init.subjects.platform,
      { from: this.#from, key: init.session },
      init.hub,
      options.callTimeout ?? 30_000,
    );
    this.#forward = options.forward ?? [];
  }

  /**
   * Connects, joins the hub, and starts taking tasks.
   *
   * @param options The servers, hub, token and the node's pool.
   * @returns The running node.
   * @throws {RemoteNodeError} `remote_auth` when the hub refuses the token
   * (`reason` says why) or an answer is not sealed by the hub,
   * `remote_unavailable` when NATS or the hub does not answer.
   * @throws {RangeError} When an option is out of range.
   */
  static async start(options: NatsNodeOptions): Promise<NatsNode> {
    const hub = options.hub ?? "default";
    const prefix = options.prefix ?? "isolates";
    if (!NAME.test(hub) || !NAME.test(prefix)) {
      throw new RangeError(
        `Cannot start a node of hub "${hub}" (prefix "${prefix}"): use 1 to 64 letters, digits, "_" or "-"`,
      );
    }
    for (
      const [name, value] of [
        ["size", options.size],
        ["capacity", options.capacity],
      ] as const
    ) {
      if (value !== undefined && !(Number.isSafeInteger(value) && value >= 1)) {
        throw new RangeError(
          `Cannot start a node of hub "${hub}": "${name}" must be a positive integer, got ${value}`,
        );
      }
    }
    const token = splitToken(options.token);
    if (token === null || !NAME.test(token.body.node)) {
      throw new RemoteNodeError(
        "remote_auth",
        `Cannot join hub "${hub}": the token is not one a hub issues; ask the hub for a token (issueToken)`,
        "forged",
      );
    }
    const node = token.body.node;
    const instance = crypto.randomUUID().replaceAll("-", "");
    const holder = holderKey(token.signature);
    const nc = await open(options.servers, node, options.auth);
    const size = options.size ?? (navigator.hardwareConcurrency || 1);
    let reply: Msg;
    try {
      const at = Date.now();
      reply = await nc.request(
        `${prefix}.${hub}.join`,
        encodeRemote({
          kind: "join",
          body: token.body.text,
          instance,
          at,
          proof: sign(holder, `join.${instance}.${at}`),
          capacity: options.capacity ?? size * 4,
        }),
        { timeout: 5000 },
      );
    } catch (error) {
      await nc.close();
      throw new RemoteNodeError(
        "remote_unavailable",
        `Cannot join hub "${hub}": no hub answered (${
          error instanceof Error ? error.message : String(error)
        }); start the hub (NatsTransport.connect) first`,
        null,
        error,
      );
    }
    const answer = decodeRemote(reply.data);
    if (answer?.kind === "refused") {
      await nc.close();
      throw new RemoteNodeError(
        "remote_auth",
        answer.message,
        answer.code as "forged" | "foreign" | "expired" | "revoked",
      );
    }
    const session = sessionKey(holder, instance);
    if (
      answer?.kind !== "welcome" ||
      !isSealed(session, reply.data, reply.headers)
    ) {
      await nc.close();
      throw new RemoteNodeError(
        "remote_auth",
        `Cannot join hub "${hub}": its answer is not sealed by the hub; check that nothing else listens on the hub's subjects`,
      );
    }
    const taskKey = taskVerifier(answer.taskPublicKey);
    if (taskKey === null) {
      await nc.close();
      throw new RemoteNodeError(
        "remote_auth",
        `Cannot join hub "${hub}": its task key is not an Ed25519 public key; check that the hub runs this version of @isolates/isolates`,
      );
    }
    const self = new NatsNode({
      node,
      instance,
      hub,
      nc,
      subjects: subjectsOf(prefix, hub, answer.tag),
      session,
      body: token.body.text,
      skew: answer.now - Date.now(),
      taskKey,
      options,
    });
    try {
      await self.#start(answer);
    } catch (error) {
      await self.close();
      throw new RemoteNodeError(
        "remote_unavailable",
        `Cannot take tasks from hub "${hub}": ${
          error instanceof Error ? error.message : String(error)
        }; check that the NATS server runs JetStream (-js) for a durable hub`,
        null,
        error,
      );
    }
    return self;
  }

  /** Tasks it runs now. */
  get running(): number {
    return this.#running.size;
  }

  /** Tasks it has finished. */
  get done(): number {
    return this.#done;
  }

  /**
   * Leaves the hub: takes no new task, finishes those it holds (its
   * heartbeats go on meanwhile), says goodbye and closes its pool and its
   * connection. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** Leaves the hub (for `await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Publishes a message to the hub, sealed with the session key. */
  #send(subject: string, message: RemoteMessage): void {
    const bytes = encodeRemote(message);
    try {
      this.#nc.publish(subject, bytes, {
        headers: sealed(this.#session, bytes, { from: this.#from }),
      });
    } catch {
      // The connection closed: the hub notices the silence.
    }
  }

  async #start(welcome: Welcome): Promise<void> {
    const s = this.#subjects;
    const cancels = this.#nc.subscribe(s.cancel, {
      callback: (error, msg) => {
        if (error === null) this.#onCancel(msg);
      },
    });
    this.#stops.push(() => cancels.unsubscribe());
    if (welcome.durable) await this.#consume(welcome);
    else {
      const tasks = this.#nc.subscribe(s.tasks, {
        queue: "nodes",
        callback: (error, msg) => {
          if (error === null) this.#onTasks(msg);
        },
      });
      this.#intake.push(() => tasks.unsubscribe());
    }
    for (const channel of this.#forward) {
      ServicesBinding.defaultBinaryMessenger.setMessageHandler(
        channel,
        (message) => this.messenger.send(channel, message),
      );
      this.#stops.push(() =>
        ServicesBinding.defaultBinaryMessenger.setMessageHandler(channel, null)
      );
    }
    // The first heartbeat leaves after the subscriptions: the hub counts
    // this node from it, and what it sends then finds a listener.
    let beats = 0;
    const beat = (): void => {
      this.#send(s.alive, {
        kind: "alive",
        beat: ++beats,
        capacity: this.#closing === null ? this.#capacity : 0,
        running: this.#running.size,
      });
    };
    const heart = setInterval(beat, welcome.heartbeat);
    this.#stops.push(() => clearInterval(heart));
    await this.#nc.flush();
    beat();
  }

  #onCancel(msg: Msg): void {
    if (!isSealed(this.#taskKey, msg.data, msg.headers)) return;
    const message = decodeRemote(msg.data);
    if (message?.kind !== "cancel") return;
    const running = this.#running.get(message.id);
    if (running !== undefined) running.controller.abort(message.reason);
    else this.#remember(message.id);
  }

  #onTasks(msg: Msg): void {
    if (msg.reply === undefined) return;
    // Only tasks the hub sealed, for this reply subject, run here.
    if (!isSealed(this.#taskKey, msg.data, msg.headers, msg.reply)) return;
    const message = decodeRemote(msg.data);
    if (message?.kind !== "tasks") return;
    const reply = msg.reply;
    for (const order of message.tasks) {
      // A replayed or repeated order runs once here, and nowhere once its
      // deadline (on the hub's clock) has passed.
      const seen = `${order.id}#${order.attempt}`;
      const late = order.deadline !== null &&
        Date.now() + this.#skew > order.deadline;
      if (late || this.#cancelled.has(order.id) || this.#seen.has(seen)) {
        continue;
      }
      if (this.#seen.size >= 100_000) this.#seen.clear();
      this.#seen.add(seen);
      this.#unaccepted.set(order.id, { reply, attempt: order.attempt });
      this.#track(
        this.#run(order).then((answer) => this.#answer(reply, answer)),
      );
    }
    this.#acceptTimer ??= setTimeout(() => this.#accept(), ACCEPT_DELAY);
  }

  /** Queues an answer; those of one turn leave in one message per hub. */
  #answer(reply: string, answer: TaskAnswer): void {
    let answers = this.#answers.get(reply);
    if (answers === undefined) {
      if (this.#answers.size === 0) {
        queueMicrotask(() => this.#sendAnswers());
      }
      this.#answers.set(reply, answers = []);
    }
    answers.push(answer);
  }

  #sendAnswers(): void {
    const batches = [...this.#answers];
    this.#answers.clear();
    for (const [reply, answers] of batches) {
      const bytes = this.#encodeAnswers(answers);
      try {
        this.#nc.publish(reply, bytes, {
          headers: sealed(this.#session, bytes, { from: this.#from }),
        });
      } catch {
        // The connection closed: the hub sends these tasks again elsewhere.
      }
    }
  }

  /**
   * Tells the hubs which of their tasks this node holds, in one message per
   * hub inbox. Tasks answered within {@linkcode ACCEPT_DELAY} need none:
   * their answer names the node.
   */
  #accept(): void {
    this.#acceptTimer = null;
    const byReply = new Map<string, Array<[string, number]>>();
    for (const [id, { reply, attempt }] of this.#unaccepted) {
      let tasks = byReply.get(reply);
      if (tasks === undefined) byReply.set(reply, tasks = []);
      tasks.push([id, attempt]);
    }
    this.#unaccepted.clear();
    for (const [reply, tasks] of byReply) {
      this.#send(reply, { kind: "accepted", tasks });
    }
  }

  /**
   * Durable mode: pulls tasks from the work queue, never more than the
   * node's free room, so a node holds at most `capacity` tasks and leaves
   * the rest to other nodes.
   */
  async #consume(welcome: Welcome): Promise<void> {
    const js = this.#nc.jetstream();
    const stream = streamOf(this.hub, welcome.tag);
    const results = await js.views.kv(`${stream}_results`, { bindOnly: true });
    const consumer = await js.consumers.get(stream, "nodes");
    let held = 0;
    let room = Promise.withResolvers<void>();
    let batch: ConsumerMessages | null = null;
    let stopped = false;
    this.#intake.push(() => {
      stopped = true;
      batch?.stop();
      room.resolve();
    });
    const freed = (): void => {
      held--;
      room.resolve();
      room = Promise.withResolvers<void>();
    };
    (async () => {
      while (!stopped) {
        if (held >= this.#capacity) {
          await room.promise;
          continue;
        }
        try {
          batch = await consumer.fetch({
            max_messages: this.#capacity - held,
            expires: PULL_EXPIRES,
          });
          if (stopped) batch.stop();
          for await (const jsMsg of batch) {
            held++;
            this.#track(
              this.#durable(jsMsg, results, welcome).finally(freed),
            );
          }
        } catch {
          // The server is away or restarting: ask again a little later.
          if (!stopped) await new Promise((r) => setTimeout(r, PULL_EXPIRES));
        }
      }
    })();
  }

  async #durable(jsMsg: JsMsg, results: KV, welcome: Welcome): Promise<void> {
    const message = isSealed(this.#taskKey, jsMsg.data, jsMsg.headers)
      ? decodeRemote(jsMsg.data)
      : null;
    if (message?.kind !== "task") {
      jsMsg.term(); // not a task the hub sealed: never deliver it again
      return;
    }
    const order = message.task;
    if (this.#cancelled.has(order.id)) {
      jsMsg.ack();
      return;
    }
    // Progress reports keep JetStream from handing a long task elsewhere.
    const progress = setInterval(() => jsMsg.working(), welcome.ackWait / 3);
    try {
      // Both lookups at once: a start counted for a cancelled task is
      // harmless, as the task leaves the queue.
      const [cancelled, starts] = await Promise.all([
        this.#cancelledBefore(results, order.id),
        this.#countStart(
          results,
          order.id,
          jsMsg.info.redeliveryCount === 1,
          welcome.starts,
        ),
      ]);
      if (cancelled) {
        jsMsg.ack();
        return;
      }
      // Outcomes are stored before the task is acknowledged, and sent to
      // the hub at once: its watch of the store is the way round for a hub
      // that was away.
      if (starts.lost) {
        // Every node that started it before died with it: it is lost.
        const lost = {
          kind: "lost",
          id: order.id,
          starts: starts.count,
        } as const;
        await results.put(order.id, this.#stored(encodeRemote(lost)));
        jsMsg.ack();
        this.#send(message.reply, lost);
        return;
      }
      // The hub learns who holds it before it runs (a task may end its
      // node at once): if this node dies with it and this was the last
      // start allowed, the task fails then and there.
      this.#send(message.reply, {
        kind: "accepted",
        tasks: [[order.id, starts.count]],
      });
      await this.#nc.flush();
      const answer = await this.#run(order);
      await results.put(order.id, this.#stored(this.#encodeAnswers([answer])));
      jsMsg.ack();
      this.#answer(message.reply, answer);
    } catch {
      jsMsg.nak();
    } finally {
      clearInterval(progress);
    }
  }

  /**
   * Counts one more start of durable task `id` in the key-value store and
   * returns the count, or, when `limit` nodes already started it and each
   * died before storing its outcome, returns that it is `lost`. `first`:
   * JetStream delivers it for the first time, so no start was counted yet.
   */
  async #countStart(
    results: KV,
    id: string,
    first: boolean,
    limit: number,
  ): Promise<{ lost: boolean; count: number }> {
    const key = `start.${id}`;
    // Another node may count at the same time (a redelivery while this one
    // was slow): the revision check makes one of them read again.
    for (let tries = 0;; tries++) {
      const entry = first && tries === 0 ? null : await results.get(key);
      const live = entry !== null && entry.operation === "PUT";
      const count = live ? startsIn(entry.value, id) : 0;
      if (count >= limit) return { lost: true, count };
      const value = this.#stored(
        encodeRemote({ kind: "started", id, starts: count + 1 }),
      );
      try {
        if (live) await results.update(key, value, entry.revision);
        else await results.create(key, value);
        return { lost: false, count: count + 1 };
      } catch (error) {
        if (tries >= 3) throw error;
      }
    }
  }

  /** `data` sealed with this instance's session, for the key-value store. */
  #stored(data: Uint8Array): Uint8Array {
    return encodeRemote({
      kind: "stored",
      instance: this.instance,
      body: this.#from.body,
      mac: sign(this.#session, data),
      data,
    });
  }

  /** Whether the hub stored a cancellation of `id` (durable mode). */
  async #cancelledBefore(results: KV, id: string): Promise<boolean> {
    const entry = await results.get(`cancel.${id}`).catch(() => null);
    if (entry === null || entry.operation !== "PUT") return false;
    const stored = decodeRemote(entry.value);
    if (
      stored?.kind !== "stored" ||
      !verifyTask(this.#taskKey, stored.data, stored.mac)
    ) return false;
    // The sealed message must be this task's cancellation, not any other
    // sealed bytes copied under its key.
    const cancel = decodeRemote(stored.data);
    return cancel?.kind === "cancel" && cancel.id === id;
  }

  async #run(order: TaskOrder): Promise<TaskAnswer> {
    const controller = new AbortController();
    this.#running.set(order.id, { controller });
    const base = { id: order.id, attempt: order.attempt };
    try {
      const task = this.#taskOf(order);
      const options = { signal: controller.signal };
      const result = typeof task === "function"
        ? await this.#pool.run(task, order.input, options)
        : await this.#pool.run(task, order.input, options);
      return { ...base, ok: true, result };
    } catch (error) {
      return { ...base, ok: false, error: originOf(error) };
    } finally {
      this.#running.delete(order.id);
      this.#unaccepted.delete(order.id);
      this.#done++;
    }
  }

  #taskOf(order: TaskOrder): PoolTask {
    if (order.source === null) {
      return { module: order.entry ?? "", exportName: order.exportName };
    }
    let task = this.#functions.get(order.source);
    if (task === undefined) {
      // Compiled here only to hand its source on: the pool sends the source
      // to a worker, which runs it.
      task = (0, eval)(`(${order.source})`) as PoolTask;
      if (this.#functions.size >= 1000) this.#functions.clear();
      this.#functions.set(order.source, task);
    }
    return task;
  }

  /** The answers' message; a result that cannot be sent fails its task. */
  #encodeAnswers(answers: TaskAnswer[]): Uint8Array {
    try {
      return encodeRemote({ kind: "answers", answers });
    } catch {
      return encodeRemote({
        kind: "answers",
        answers: answers.map((answer) => {
          try {
            encodeRemote({ kind: "answers", answers: [answer] });
            return answer;
          } catch (error) {
            return {
              id: answer.id,
              attempt: answer.attempt,
              ok: false,
              error: serializeError(
                new TypeError(
                  `Cannot send the task's result back to the hub: it cannot be serialized (${
                    error instanceof Error ? error.message : String(error)
                  }); return null, booleans, numbers, bigint, strings, typed arrays, arrays, plain objects, Map, Set, Date or errors`,
                ),
              ),
            };
          }
        }),
      });
    }
  }

  #remember(id: string): void {
    if (this.#cancelled.size >= 10_000) this.#cancelled.clear();
    this.#cancelled.add(id);
  }

  #track(work: Promise<void>): void {
    const tracked = work.catch(() => {}).finally(() =>
      this.#work.delete(tracked)
    );
    this.#work.add(tracked);
  }

  async #close(): Promise<void> {
    // Take nothing new, finish what was taken (heartbeats, cancellations and
    // forwarded plugin calls still work meanwhile), then leave.
    for (const stop of this.#intake.splice(0)) stop();
    while (this.#work.size > 0) await Promise.all(this.#work);
    if (this.#acceptTimer !== null) clearTimeout(this.#acceptTimer);
    this.#acceptTimer = null;
    this.#sendAnswers();
    for (const stop of this.#stops.splice(0)) stop();
    await this.#pool.close();
    try {
      await this.#send(this.#subjects.alive, { kind: "bye" });
      await this.#nc.flush();
    } catch {
      // The connection is already gone: the hub notices the silence.
    }
    await this.#nc.close();
  }
}

/** The task's own error, unwrapped from the local pool's `RemoteError`. */
function originOf(error: unknown): SerializedError {
  if (error instanceof RemoteError) {
    const prefix = `${error.remoteName}: `;
    return {
      name: error.remoteName,
      message: error.message.startsWith(prefix)
        ? error.message.slice(prefix.length)
        : error.message,
      stack: error.remoteStack,
      code: error.remoteCode,
    };
  }
  return serializeError(error);
}

/** The start count in a `start.<id>` record (0 when it is not one). */
function startsIn(value: Uint8Array, id: string): number {
  const stored = decodeRemote(value);
  const started = stored?.kind === "stored" ? decodeRemote(stored.data) : null;
  return started?.kind === "started" && started.id === id ? started.starts : 0;
}
