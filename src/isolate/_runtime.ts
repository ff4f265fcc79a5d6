import { nextTurn } from "./_next_turn.ts";
import { ProtocolError } from "./protocol_error.ts";
import {
  childToward,
  isWithin,
  parseWireMessage,
  type SerializedError,
  type WireMessage,
} from "./protocol.ts";
import { encodeRefs, reviveRefs } from "./_message_refs.ts";
import { openPorts, portHooks } from "./_ports.ts";
import { isMainThread } from "./_thread.ts";

type Routed = Extract<WireMessage, { to: string }>;
type Lifecycle = Extract<
  WireMessage,
  { kind: "started" | "result" | "error" | "exit" }
>;

/** A direct child isolate, as its parent sees it. */
export interface ChildLink {
  /** The child's id. */
  readonly id: string;
  /** Posts to the child's worker. */
  post(message: WireMessage, transfer?: Transferable[]): void;
  /** Handles the child's lifecycle messages. */
  lifecycle(message: Lifecycle): void;
  /** Reports a malformed message from the child. */
  protocolError(error: ProtocolError): void;
  /** Ends the child now. */
  terminate(): void;
  /** Handles a pool worker's task answers (absent for other isolates). */
  task?: ((message: TaskAnswer) => void) | undefined;
  /**
   * The child's mailbox on this side: how many platform-channel calls from
   * and to its subtree may be in flight at once, and which are. Only an
   * answer matching a call takes one out, never a forged one.
   */
  readonly capacity: number;
  readonly calls: CallLedger;
}

/**
 * The calls in flight through one child link, by caller and call id: those
 * that went up from the child's subtree and those that went down into it.
 * Ids are numbers per caller, so no key string is built per call.
 */
export class CallLedger {
  readonly #up = new Map<string, Set<number>>();
  readonly #down = new Map<string, Set<number>>();
  #size = 0;

  /** Calls in flight, both ways. */
  get size(): number {
    return this.#size;
  }

  /** Records a call from the child's subtree. */
  addUp(caller: string, id: number): void {
    this.#add(this.#up, caller, id);
  }

  /** Records a call into the child's subtree. */
  addDown(caller: string, id: number): void {
    this.#add(this.#down, caller, id);
  }

  /** Takes out the call an answer going down answers, if recorded. */
  deleteUp(caller: string, id: number): boolean {
    return this.#delete(this.#up, caller, id);
  }

  /** Takes out the call an answer coming up answers, if recorded. */
  deleteDown(caller: string, id: number): boolean {
    return this.#delete(this.#down, caller, id);
  }

  #add(calls: Map<string, Set<number>>, caller: string, id: number): void {
    let ids = calls.get(caller);
    if (ids === undefined) calls.set(caller, ids = new Set());
    if (!ids.has(id)) {
      ids.add(id);
      this.#size++;
    }
  }

  #delete(
    calls: Map<string, Set<number>>,
    caller: string,
    id: number,
  ): boolean {
    const ids = calls.get(caller);
    if (ids === undefined || !ids.delete(id)) return false;
    if (ids.size === 0) calls.delete(caller);
    this.#size--;
    return true;
  }
}

/** A pool worker's answer to a task. */
export type TaskAnswer = Extract<WireMessage, { kind: "done" | "failed" }>;
/** What a pool worker's parent sends about tasks. */
export type TaskOrder = Extract<
  WireMessage,
  { kind: "define" | "task" | "abort" }
>;

/** What the messengers of this isolate do with routed messages for it. */
export interface Deliveries {
  call(message: Extract<WireMessage, { kind: "call" }>): void;
  reply(message: Extract<WireMessage, { kind: "reply" }>): void;
  fail(message: Extract<WireMessage, { kind: "fail" }>): void;
  register(message: Extract<WireMessage, { kind: "register" }>): void;
  registered(message: Extract<WireMessage, { kind: "registered" }>): void;
  gone(message: Extract<WireMessage, { kind: "gone" }>): void;
}

/** The id of the root isolate. */
export const ROOT_ID = "0";

/**
 * This isolate's place in the tree: its id, its link to its parent and to its
 * children, the routing between them, and what keeps it alive. One per
 * JavaScript realm (the main thread or a worker).
 */
class IsolateRuntime {
  /** This isolate's id: `"0"` on the main thread, assigned at start in a worker. */
  id: string = isMainThread ? ROOT_ID : "";
  readonly isRoot: boolean = isMainThread;
  #parent: ((message: WireMessage, transfer?: Transferable[]) => void) | null =
    null;
  #children = new Map<string, ChildLink>();
  #childCount = 0;
  #deliveries: Deliveries | null = null;
  #eventHandlers = new Map<string, (event: Uint8Array | null) => void>();
  #watchers = new Set<{ isolate: string; onGone: () => void }>();
  #holds = 0;
  #keepAlive: MessageChannel | null = null;
  #onIdle: (() => void) | null = null;
  #tasks: ((message: TaskOrder) => void) | null = null;
  #protocolErrors: (error: ProtocolError) => void = (error) =>
    console.error(error);

  /** Whether this worker was started by Isolate.spawn/run (has a route to the root). */
  get connected(): boolean {
    return this.isRoot || this.#parent !== null;
  }

  /** Attaches a worker to its parent (called once, at start). */
  attachParent(
    id: string,
    post: (message: WireMessage, transfer?: Transferable[]) => void,
  ): void {
    this.id = id;
    this.#parent = post;
  }

  /** Installs what the messengers do with messages for this isolate. */
  setDeliveries(deliveries: Deliveries): void {
    this.#deliveries = deliveries;
  }

  /** Sets what happens when the isolate has nothing left to keep it alive. */
  setIdleHandler(onIdle: () => void): void {
    this.#onIdle = onIdle;
  }

  /** Sets what runs the tasks the parent sends (a pool worker). */
  setTaskHandler(handler: (message: TaskOrder) => void): void {
    this.#tasks = handler;
  }

  /** Sets where malformed messages are reported. */
  setProtocolErrorHandler(report: (error: ProtocolError) => void): void {
    this.#protocolErrors = report;
  }

  /** A fresh id for a new child. */
  nextChildId(): string {
    return `${this.id}.${++this.#childCount}`;
  }

  /** Registers a child's link. */
  addChild(link: ChildLink): void {
    this.#children.set(link.id, link);
    this.retain();
  }

  /**
   * Forgets a child that ended; every call in flight to it (or to its
   * descendants) fails with `reason`, here and at the root.
   */
  removeChild(id: string, reason: string): void {
    if (!this.#children.delete(id)) return;
    this.route({ kind: "gone", isolate: id, to: ROOT_ID, reason });
    if (!this.isRoot) {
      this.#deliveries?.gone({
        kind: "gone",
        isolate: id,
        to: this.id,
        reason,
      });
    }
    this.release();
  }

  /** Terminates every child (when this isolate ends). */
  children(): ChildLink[] {
    return [...this.#children.values()];
  }

  /** Keeps this isolate alive (a port, a call, a subscription, a child). */
  retain(): void {
    this.#holds++;
    if (this.isRoot && this.#keepAlive === null) {
      // An open ReceivePort keeps the main thread alive, as in Dart. A port
      // with a listener does so; a timer would too, but the first timer of
      // a Deno 2.9 process costs it about 15 ms (Node-compatible timers
      // start up), on a program's first spawn.
      this.#keepAlive = new MessageChannel();
      this.#keepAlive.port1.onmessage = () => {};
    }
  }

  /** Releases what {@linkcode retain} took. */
  release(): void {
    this.#holds--;
    if (this.#holds > 0) return;
    if (this.isRoot) {
      this.#keepAlive?.port1.close();
      this.#keepAlive?.port2.close();
      this.#keepAlive = null;
      return;
    }
    // Check again on the next turn: a message may be arriving that retains.
    nextTurn(() => {
      if (this.#holds === 0) this.#onIdle?.();
    });
  }

  /** How many things keep this isolate alive. */
  get holds(): number {
    return this.#holds;
  }

  /** Sets the receiver of events on a channel (see EventMessenger). */
  setEventHandler(
    channel: string,
    handler: ((event: Uint8Array | null) => void) | null,
  ): void {
    const had = this.#eventHandlers.has(channel);
    if (handler === null) {
      if (had) {
        this.#eventHandlers.delete(channel);
        this.release();
      }
      return;
    }
    this.#eventHandlers.set(channel, handler);
    if (!had) this.retain();
  }

  /**
   * Calls `onGone` once when `isolate` (or an ancestor) is reported gone to
   * this isolate. Returns a function that stops watching.
   */
  watchIsolate(isolate: string, onGone: () => void): () => void {
    const watcher = { isolate, onGone };
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }

  #notifyGone(isolate: string): void {
    for (const watcher of this.#watchers) {
      if (isWithin(watcher.isolate, isolate)) {
        this.#watchers.delete(watcher);
        watcher.onGone();
      }
    }
  }

  /** Sends an event to the event receiver of an isolate. */
  sendEvent(isolate: string, channel: string, event: Uint8Array | null): void {
    this.route({
      kind: "event",
      from: this.id,
      to: isolate,
      channel,
      payload: event,
    });
  }

  /** Sends a message to a port of any isolate. */
  sendToPort(isolate: string, port: number, message: unknown): void {
    const { payload, refs, transfer } = encodeRefs(message);
    if (isolate === this.id) {
      // Same isolate: copy now (as a send to another isolate would), deliver
      // on a later turn, in order.
      const copy = structuredClone(payload, { transfer });
      nextTurn(() => this.#deliverPort(port, copy, refs));
      return;
    }
    this.route(
      { kind: "port", from: this.id, to: isolate, port, payload, refs },
      transfer,
    );
  }

  /** Sends a routed message toward its target. */
  route(message: Routed, transfer?: Transferable[]): void {
    const to = message.to;
    if (to === this.id) {
      this.#deliver(message);
      return;
    }
    if (isWithin(to, this.id)) {
      const child = this.#children.get(childToward(this.id, to));
      if (child === undefined) {
        this.#undeliverable(message, `${to} is not running`);
        return;
      }
      // The child's mailbox holds the calls in flight from and to its
      // subtree: an answer going down takes one out, a call going down
      // needs room.
      if (message.kind === "call") {
        if (child.calls.size >= child.capacity) {
          this.route({
            kind: "fail",
            id: message.id,
            from: message.to,
            to: message.from,
            error: mailboxFull(message.channel, to, child.capacity),
          });
          return;
        }
        child.calls.addDown(message.from, message.id);
      } else if (message.kind === "reply" || message.kind === "fail") {
        child.calls.deleteUp(message.to, message.id);
      }
      child.post(message, transfer);
      return;
    }
    if (this.#parent === null) {
      this.#undeliverable(message, `${to} is not running`);
      return;
    }
    this.#parent(message, transfer);
  }

  /** Handles data posted by the parent. Returns the message for lifecycle use. */
  fromParent(data: unknown): WireMessage | null {
    const message = parseWireMessage(data);
    if (message === null) {
      this.#protocolErrors(new ProtocolError(this.id, data));
      return null;
    }
    if (message.kind === "batch") {
      for (const item of message.messages) {
        if (isBatch(item)) {
          this.#protocolErrors(new ProtocolError(this.id, item));
        } else settleEach(() => this.fromParent(item));
      }
      return null;
    }
    if ("to" in message) {
      this.route(message);
      return null;
    }
    switch (message.kind) {
      case "define":
      case "task":
      case "abort":
        if (this.#tasks === null) {
          this.#protocolErrors(new ProtocolError(this.id, data));
        } else this.#tasks(message);
        return null;
      case "done":
      case "failed":
        this.#protocolErrors(new ProtocolError(this.id, data));
        return null;
    }
    return message;
  }

  /** Handles data posted by a child. */
  fromChild(link: ChildLink, data: unknown): void {
    const message = parseWireMessage(data);
    if (message === null) {
      link.protocolError(new ProtocolError(this.id, data));
      return;
    }
    switch (message.kind) {
      case "batch":
        for (const item of message.messages) {
          if (isBatch(item)) {
            link.protocolError(new ProtocolError(this.id, item));
          } else settleEach(() => this.fromChild(link, item));
        }
        return;
      case "started":
      case "result":
      case "error":
      case "exit":
        if (message.isolate !== link.id) {
          link.protocolError(new ProtocolError(this.id, data));
          return;
        }
        link.lifecycle(message);
        return;
      case "call":
        // A child speaks only for itself and its descendants.
        if (!isWithin(message.from, link.id)) {
          link.protocolError(new ProtocolError(this.id, data));
          return;
        }
        if (link.calls.size >= link.capacity) {
          // Its mailbox is full: the call fails at once, typed, instead of
          // queueing without bound; the caller may retry.
          link.post({
            kind: "fail",
            id: message.id,
            from: message.to,
            to: message.from,
            error: mailboxFull(message.channel, message.from, link.capacity),
          });
          return;
        }
        link.calls.addUp(message.from, message.id);
        this.route(message);
        return;
      case "register":
        if (!isWithin(message.from, link.id)) {
          link.protocolError(new ProtocolError(this.id, data));
          return;
        }
        this.route(message);
        return;
      case "reply":
      case "fail":
        if (!isWithin(message.from, link.id)) {
          link.protocolError(new ProtocolError(this.id, data));
          return;
        }
        // Only an answer to a call that went down into the child's subtree:
        // a forged one would settle nothing, and must not free its mailbox.
        if (!link.calls.deleteDown(message.to, message.id)) {
          link.protocolError(new ProtocolError(this.id, data));
          return;
        }
        this.route(message);
        return;
      case "gone":
        if (!isWithin(message.isolate, link.id)) {
          link.protocolError(new ProtocolError(this.id, data));
          return;
        }
        this.route(message);
        return;
      case "port":
      case "event":
        // Only what the child or its descendants send: no one can pose as
        // the platform side, or as another isolate's sender.
        if (!isWithin(message.from, link.id)) {
          link.protocolError(new ProtocolError(this.id, data));
          return;
        }
        this.route(message);
        return;
      case "done":
      case "failed":
        if (link.task === undefined) {
          link.protocolError(new ProtocolError(this.id, data));
        } else link.task(message);
        return;
      case "start":
      case "define":
      case "task":
      case "abort":
      case "registered":
        link.protocolError(new ProtocolError(this.id, data));
        return;
    }
  }

  #deliver(message: Routed): void {
    const deliveries = this.#deliveries;
    switch (message.kind) {
      case "port":
        this.#deliverPort(message.port, message.payload, message.refs);
        return;
      case "event":
        // Streams are served by the platform side, on the root.
        if (message.from !== ROOT_ID) return;
        this.#eventHandlers.get(message.channel)?.(message.payload);
        return;
      case "call":
        if (deliveries === null) {
          // Nothing here handles channels yet: an empty reply, which the
          // caller's MethodChannel reports as MissingPluginException.
          this.route({
            kind: "reply",
            id: message.id,
            from: this.id,
            to: message.from,
            payload: null,
          });
          return;
        }
        deliveries.call(message);
        return;
      case "reply":
        deliveries?.reply(message);
        return;
      case "fail":
        deliveries?.fail(message);
        return;
      case "register":
        deliveries?.register(message);
        return;
      case "registered":
        // Only the root judges tokens.
        if (message.from === ROOT_ID) deliveries?.registered(message);
        return;
      case "gone":
        deliveries?.gone(message);
        this.#notifyGone(message.isolate);
        return;
    }
  }

  #deliverPort(port: number, payload: unknown, refs: boolean): void {
    openPorts.get(port)?.(refs ? reviveRefs(payload) : payload);
  }

  #undeliverable(message: Routed, reason: string): void {
    if (message.kind !== "call") return;
    const error: SerializedError = {
      name: "IsolateExitedError",
      message: `isolate ${reason}`,
      stack: null,
      code: "isolate_exited",
    };
    this.route({
      kind: "fail",
      id: message.id,
      from: message.to,
      to: message.from,
      error,
    });
  }
}

function mailboxFull(
  channel: string,
  isolate: string,
  capacity: number,
): SerializedError {
  return {
    name: "MailboxFullError",
    message:
      `Cannot deliver a call on channel "${channel}" to or from isolate ${isolate}: its mailbox is full (${capacity} calls in flight); raise "mailboxCapacity" or await calls before making more`,
    stack: null,
    code: "mailbox_full",
  };
}

function isBatch(data: unknown): boolean {
  return typeof data === "object" && data !== null &&
    (data as { kind?: unknown }).kind === "batch";
}

/**
 * Runs one message of a batch. What a handler throws is rethrown on its own,
 * as it would have been had the message arrived alone, and the rest of the
 * batch is still delivered.
 */
function settleEach(handle: () => unknown): void {
  try {
    handle();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/** This realm's isolate runtime. */
export const runtime: IsolateRuntime = new IsolateRuntime();

portHooks.isolateId = () => runtime.id;
portHooks.send = (isolate, port, message) =>
  runtime.sendToPort(isolate, port, message);
portHooks.retain = () => runtime.retain();
portHooks.release = () => runtime.release();
