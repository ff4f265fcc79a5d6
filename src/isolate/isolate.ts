import type { ExitReason } from "./exit_reason.ts";
import { IsolateSpawnError } from "./isolate_spawn_error.ts";
import type { SerializedError, WireMessage } from "./protocol.ts";
import type { ProtocolError } from "./protocol_error.ts";
import { RemoteError } from "./remote_error.ts";
import { SendPort } from "./send_port.ts";
import { encodeRefs, reviveRefs } from "./_message_refs.ts";
import { nextTurn } from "./_next_turn.ts";
import { Outbox } from "./_outbox.ts";
import {
  CallLedger,
  type ChildLink,
  runtime,
  type TaskAnswer,
} from "./_runtime.ts";
import { assertWorkerOptions } from "./_worker_options.ts";
import { sharedVersionsBuffer } from "./_shared_versions.ts";

const WORKER_MAIN = new URL("./_worker_main.ts", import.meta.url);

/**
 * Options of {@linkcode Isolate.spawn}.
 *
 * @example Hearing of an isolate's uncaught error and of its end
 * ```ts
 * import {
 *   Isolate,
 *   type IsolateSpawnOptions,
 *   type RemoteError,
 * } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * // An entry is usually a file, new URL("./entry.ts", import.meta.url); a
 * // data: URL keeps this example in one piece. Its function fails after
 * // the isolate has started.
 * const entry = "data:text/javascript," +
 *   "export default async (n) => { await null; throw new RangeError(`bad ${n}`); }";
 *
 * const errors: RemoteError[] = [];
 * const exited = Promise.withResolvers<void>();
 * const options: IsolateSpawnOptions = {
 *   debugName: "fragile",
 *   onError: (error) => errors.push(error),
 *   onExit: () => exited.resolve(),
 * };
 * const isolate = await Isolate.spawn(entry, 7, options);
 * assert.equal(isolate.debugName, "fragile");
 * await exited.promise; // errorsAreFatal (the default) ended it
 * assert.equal(errors.length, 1);
 * assert.equal(errors[0].remoteName, "RangeError");
 * assert.match(errors[0].message, /bad 7/);
 * ```
 */
export interface IsolateSpawnOptions {
  /**
   * A name for debugging; it names the worker and appears in errors.
   *
   * @default {the isolate's id}
   */
  debugName?: string;
  /**
   * The export of the entry module to call with the message.
   *
   * @default {"default"}
   */
  exportName?: string;
  /**
   * Told when the isolate ends: a `SendPort` receives `onExitMessage`; a
   * function is called.
   */
  onExit?: SendPort | (() => void);
  /**
   * What an `onExit` port receives.
   *
   * @default {null}
   */
  onExitMessage?: unknown;
  /**
   * Told of uncaught errors in the isolate: a `SendPort` receives
   * `[message, stack]` as in Dart; a function receives a `RemoteError`.
   * Without a listener, uncaught errors are printed to stderr.
   */
  onError?: SendPort | ((error: RemoteError) => void);
  /**
   * Whether an uncaught error ends the isolate.
   *
   * @default {true}
   */
  errorsAreFatal?: boolean;
  /**
   * How the root supervisor treats the isolate when it ends (OTP restart
   * types): `temporary` is never restarted; `transient` is restarted when it
   * crashed or was killed; `permanent` is always restarted, with the same
   * entry, message and options (a token in the message registers again on
   * its own). A restart is a new isolate; `Supervisor.root.child(id)` finds
   * the current one by the id {@linkcode Isolate.supervisionId}.
   *
   * @default {"temporary"}
   */
  restart?: "permanent" | "transient" | "temporary";
  /**
   * A narrower Deno permission set for the worker (a sandbox), as Deno's
   * worker `deno.permissions`. Needs the process to run with
   * `--unstable-worker-options` (see the README, "Sandboxing").
   * A sandboxed isolate still reaches the main thread's plugins through
   * its messenger: proxied plugin calls run with the main thread's
   * permissions, inside the limits each plugin sets.
   *
   * @default {"inherit"}
   */
  permissions?: Deno.PermissionOptions;
  /**
   * How many platform-channel calls from the isolate may be in flight at
   * once (its mailbox on the main thread). Past it, calls fail at once
   * with `MailboxFullError` instead of queueing without bound.
   *
   * @default {10000}
   */
  mailboxCapacity?: number;
}

/**
 * Options of {@linkcode Isolate.run}.
 *
 * @example Running a module's export with arguments
 * ```ts
 * import { Isolate, type IsolateRunOptions } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * // A module task is usually a file, new URL("./tasks.ts", import.meta.url);
 * // a data: URL keeps this example in one piece.
 * const tasks = "data:text/javascript,export const add = (a, b) => a + b;";
 *
 * const options: IsolateRunOptions<[number, number]> = {
 *   args: [2, 3],
 *   debugName: "add",
 * };
 * const sum = await Isolate.run<(a: number, b: number) => number>(tasks, "add", options);
 * assert.equal(sum, 5);
 * ```
 */
export interface IsolateRunOptions<A extends unknown[] = unknown[]> {
  /** Arguments for a module task's export. */
  args?: A;
  /**
   * A name for debugging.
   *
   * @default {"run"}
   */
  debugName?: string;
  /**
   * A narrower Deno permission set for the worker; see
   * {@linkcode IsolateSpawnOptions.permissions}.
   *
   * @default {"inherit"}
   */
  permissions?: Deno.PermissionOptions;
}

/**
 * How the root supervisor adopts isolates. Installed by the actor layer
 * (`Supervisor`), which sits above this one; without it isolates simply run
 * unsupervised.
 */
export const supervision: {
  adopt:
    | ((
      isolate: Isolate,
      restart: "permanent" | "transient" | "temporary",
      respawn: (() => Promise<Isolate>) | null,
    ) => void)
    | null;
} = { adopt: null };

/** What a pool worker's owner gets: the isolate and its task link. */
export interface PoolWorkerLink {
  readonly isolate: Isolate;
  /** Posts a task order (batched; `onFail` hears a value that cannot copy). */
  post(
    message: WireMessage,
    transfer?: Transferable[],
    onFail?: (error: unknown) => void,
  ): void;
  /** Resolves once the worker is ready for tasks; rejects if it failed. */
  readonly started: Promise<void>;
}

/** Starts a pool worker (see `IsolatePool`). Set by the Isolate class. */
export let startPoolWorker: (spec: {
  debugName: string;
  token: unknown;
  permissions: Deno.PermissionOptions | undefined;
  onAnswer: (message: TaskAnswer) => void;
}) => PoolWorkerLink;

type Lifecycle = Extract<
  WireMessage,
  { kind: "started" | "result" | "error" | "exit" }
>;

// deno-lint-ignore no-explicit-any
type AnyFunction = (...args: any[]) => unknown;

/**
 * An isolate: a Deno Web Worker that runs a module's function with a
 * message, as Dart's `Isolate`. Isolates share no memory; they talk through
 * `SendPort`/`ReceivePort` and platform channels, and reach the main
 * thread's plugins after `BackgroundIsolateBinaryMessenger.ensureInitialized`
 * with the `RootIsolateToken` passed to them.
 *
 * Lifetimes are Dart's: an isolate ends when its entry has returned and it
 * holds no open `ReceivePort`, no pending call, no event subscription and no
 * live child isolate (or when killed). An uncaught error in an isolate never
 * takes the main process down.
 *
 * @example Run a function in a worker
 * ```ts
 * import { Isolate } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const sum = await Isolate.run(() => {
 *   let total = 0;
 *   for (let i = 1; i <= 100; i++) total += i;
 *   return total;
 * });
 * assert.equal(sum, 5050);
 * ```
 */
export class Isolate {
  /** The isolate's id in the tree (`"0.1"`, `"0.1.2"`…). */
  readonly id: string;
  /** The isolate's debug name. */
  readonly debugName: string;
  readonly #worker: Worker;
  readonly #exitListeners: (SendPort | (() => void))[] = [];
  readonly #exitMessages = new Map<SendPort, unknown>();
  readonly #errorListeners: (SendPort | ((error: RemoteError) => void))[] = [];
  readonly #exited = Promise.withResolvers<ExitReason>();
  #fatal: RemoteError | null = null;
  #link: ChildLink | null = null;
  #supervisionId: string;
  #started = Promise.withResolvers<void>();
  #result: PromiseWithResolvers<unknown> | null = null;
  #isStarted = false;
  #alive = true;

  private constructor(id: string, debugName: string, worker: Worker) {
    this.id = id;
    this.debugName = debugName;
    this.#worker = worker;
    this.#supervisionId = id;
    // Observed by spawn() and run(); a rejection nobody awaits must not
    // count as unhandled.
    this.#started.promise.catch(() => {});
  }

  /**
   * Resolves when the isolate has ended, with why: `normal` (its entry
   * returned and nothing kept it alive, or its run task returned),
   * `shutdown` ({@linkcode Isolate.stop}), `killed` ({@linkcode Isolate.kill})
   * or `crashed` (an uncaught error ended it; `error` is its `RemoteError`).
   * Never rejects.
   */
  get exited(): Promise<ExitReason> {
    return this.#exited.promise;
  }

  /**
   * The id under which the root supervisor knows this isolate: the id of its
   * first incarnation, kept by its restarts.
   */
  get supervisionId(): string {
    return this.#supervisionId;
  }

  /**
   * Figures for `Supervisor.inspect()`: the isolate's id and its mailbox
   * depth (platform-channel calls from it in flight).
   *
   * @returns The isolate's id and mailbox depth.
   */
  describe(): { isolate: string; mailboxDepth: number } {
    return { isolate: this.id, mailboxDepth: this.#link?.calls.size ?? 0 };
  }

  /**
   * Starts an isolate running `entry`'s default export (or
   * `options.exportName`) with `message`. Resolves once the module has
   * loaded and the function was called.
   *
   * `message` is copied (structured clone); `SendPort`s, `RootIsolateToken`s
   * and `MessagePort`s inside it arrive as working objects.
   *
   * @param entry The entry module: a URL, or an absolute path or URL string
   * (prefer `new URL("./entry.ts", import.meta.url)`).
   * @param message The argument of the entry function.
   * @param options Debug name, export, exit and error listeners.
   * @returns The running isolate.
   * @throws {IsolateSpawnError} When the module fails to load, lacks the
   * export, or the function throws when called.
   */
  static spawn(
    entry: URL | string,
    message: unknown,
    options: IsolateSpawnOptions = {},
  ): Promise<Isolate> {
    let url: string;
    try {
      url = resolveEntry(entry);
    } catch (error) {
      return Promise.reject(error);
    }
    const restart = options.restart ?? "temporary";
    if (
      restart !== "temporary" && restart !== "transient" &&
      restart !== "permanent"
    ) {
      return Promise.reject(
        new RangeError(
          `Cannot spawn isolate: "restart" must be "permanent", "transient" or "temporary", got ${
            JSON.stringify(restart)
          }`,
        ),
      );
    }
    let isolate: Isolate;
    try {
      isolate = Isolate.#spawnOnce(url, message, options);
    } catch (error) {
      return Promise.reject(error);
    }
    const started = isolate.#started.promise.then(() => isolate);
    const firstId = isolate.id;
    const respawn = async (): Promise<Isolate> => {
      const next = Isolate.#spawnOnce(url, message, options);
      next.#supervisionId = firstId;
      await next.#started.promise;
      return next;
    };
    started.then(
      () => supervision.adopt?.(isolate, restart, respawn),
      () => {},
    );
    return started;
  }

  static #spawnOnce(
    url: string,
    message: unknown,
    options: IsolateSpawnOptions,
  ): Isolate {
    const isolate = Isolate.#start({
      entry: url,
      source: null,
      exportName: options.exportName ?? "default",
      message,
      mode: "spawn",
      debugName: options.debugName,
      errorsAreFatal: options.errorsAreFatal ?? true,
      permissions: options.permissions,
      mailboxCapacity: options.mailboxCapacity,
    });
    if (options.onExit !== undefined) {
      isolate.#exitListeners.push(options.onExit);
      if (options.onExit instanceof SendPort) {
        isolate.#exitMessages.set(
          options.onExit,
          options.onExitMessage ?? null,
        );
      }
    }
    if (options.onError !== undefined) {
      isolate.#errorListeners.push(options.onError);
    }
    return isolate;
  }

  /**
   * Runs a computation in a new isolate and resolves with its result; the
   * isolate is gone afterwards. Two forms:
   *
   * - a self-contained function, `Isolate.run(() => work())`: its source is
   *   sent and evaluated in the worker, so it **cannot use variables from
   *   the enclosing scope** (nor imports): pass what it needs inside it, or
   *   use the module form. Using an outside variable fails with a
   *   `RemoteError` that says so.
   * - a module export, typed from the module:
   *   `Isolate.run<typeof tasks.fib>(new URL("./tasks.ts", import.meta.url), "fib", [30])`
   *   (or `{ args: [30] }`).
   *
   * @param computation The function, or the module URL.
   * @returns The result (structured-cloned back).
   * @throws {RemoteError} With the worker's error and its remote stack.
   * @throws {IsolateSpawnError} When the module cannot be loaded or lacks
   * the export.
   */
  static run<R>(computation: () => R | Promise<R>): Promise<Awaited<R>>;
  /**
   * Runs a module's export in a new isolate.
   *
   * @param module The module.
   * @param exportName The export to call.
   * @param options The arguments and a debug name.
   * @returns The result.
   */
  static run<F extends AnyFunction>(
    module: URL | string,
    exportName: string,
    options?: IsolateRunOptions<Parameters<F>>,
  ): Promise<Awaited<ReturnType<F>>>;
  /**
   * Runs a module's export in a new isolate, with its arguments as a list.
   *
   * @param module The module.
   * @param exportName The export to call.
   * @param args The export's arguments.
   * @param options A debug name.
   * @returns The result.
   */
  static run<F extends AnyFunction>(
    module: URL | string,
    exportName: string,
    args: Parameters<F>,
    options?: Omit<IsolateRunOptions, "args">,
  ): Promise<Awaited<ReturnType<F>>>;
  static run(
    computation: (() => unknown) | URL | string,
    exportName?: string,
    argsOrOptions: unknown[] | IsolateRunOptions = {},
    moreOptions: Omit<IsolateRunOptions, "args"> = {},
  ): Promise<unknown> {
    const options: IsolateRunOptions = Array.isArray(argsOrOptions)
      ? { ...moreOptions, args: argsOrOptions }
      : argsOrOptions;
    const isFunction = typeof computation === "function";
    if (isFunction && isNative(computation)) {
      return Promise.reject(
        new TypeError(
          "Cannot run a native or bound function in an isolate: its source cannot be sent; pass an arrow function or a module task",
        ),
      );
    }
    let isolate: Isolate;
    try {
      const entry = isFunction
        ? null
        : resolveEntry(computation as URL | string);
      isolate = Isolate.#start({
        entry,
        source: isFunction ? computation.toString() : null,
        exportName: isFunction ? "" : exportName ?? "default",
        message: options.args ?? [],
        mode: "run",
        debugName: options.debugName ?? "run",
        errorsAreFatal: true,
        permissions: options.permissions,
        mailboxCapacity: undefined,
      });
    } catch (error) {
      return Promise.reject(error);
    }
    const result = Promise.withResolvers<unknown>();
    isolate.#result = result;
    isolate.#started.promise.catch(result.reject);
    supervision.adopt?.(isolate, "temporary", null);
    return result.promise;
  }

  static {
    startPoolWorker = (spec) => {
      const isolate = Isolate.#start({
        entry: null,
        source: null,
        exportName: "",
        message: spec.token,
        mode: "pool",
        debugName: spec.debugName,
        errorsAreFatal: true,
        permissions: spec.permissions,
        mailboxCapacity: undefined,
        onAnswer: spec.onAnswer,
      });
      // A pool worker's uncaught error reaches the task it ends; it is not
      // printed as well.
      isolate.#errorListeners.push(() => {});
      return {
        isolate,
        post: isolate.#post,
        started: isolate.#started.promise,
      };
    };
  }

  #post: PoolWorkerLink["post"] = () => {};

  static #start(spec: {
    entry: string | null;
    source: string | null;
    exportName: string;
    message: unknown;
    mode: "spawn" | "run" | "pool";
    debugName: string | undefined;
    errorsAreFatal: boolean;
    permissions: Deno.PermissionOptions | undefined;
    mailboxCapacity: number | undefined;
    onAnswer?: (message: TaskAnswer) => void;
  }): Isolate {
    const capacity = spec.mailboxCapacity ?? 10_000;
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `Cannot spawn isolate: "mailboxCapacity" must be a positive integer, got ${capacity}`,
      );
    }
    const id = runtime.nextChildId();
    const debugName = spec.debugName ?? id;
    if (spec.permissions !== undefined && spec.permissions !== "inherit") {
      assertWorkerOptions(debugName);
    }
    const sandboxed = spec.permissions !== undefined &&
      spec.permissions !== "inherit";
    const worker = sandboxed
      ? new Worker(
        // A worker's own module graph loads with its parent's permissions;
        // what it imports later needs its own. So a sandboxed worker (which
        // may not read files) starts from a module that imports its entry
        // up front; the later import of the entry finds it loaded.
        spec.entry === null ? WORKER_MAIN : sandboxMain(spec.entry),
        {
          type: "module",
          name: debugName,
          deno: { permissions: spec.permissions },
        } as WorkerOptions,
      )
      : new Worker(WORKER_MAIN, { type: "module", name: debugName });
    const isolate = new Isolate(id, debugName, worker);
    // Messages to the worker leave in batches (see Outbox). An empty
    // transfer list costs about 3 µs a message in Deno: passed only if needed.
    const outbox = new Outbox((message, transfer) =>
      transfer === undefined || transfer.length === 0
        ? worker.postMessage(message)
        : worker.postMessage(message, transfer)
    );
    const link: ChildLink = {
      id,
      post: (message, transfer) => outbox.send(message, transfer),
      lifecycle: (message) => isolate.#lifecycle(message),
      protocolError: (error) => isolate.#protocolError(error),
      terminate: () => isolate.kill(),
      task: spec.onAnswer,
      capacity,
      calls: new CallLedger(),
    };
    isolate.#link = link;
    isolate.#post = (message, transfer, onFail) =>
      outbox.send(message, transfer, onFail);
    worker.onmessage = (event) => runtime.fromChild(link, event.data);
    worker.onerror = (event) => {
      // An error that escaped the isolate's own handlers: it must not take
      // the main process down. The worker is dead; treat it as a crash.
      event.preventDefault();
      isolate.#crash(event.error ?? new Error(event.message));
    };
    worker.onmessageerror = () => {
      isolate.#protocolError(null);
    };
    try {
      const { payload, refs, transfer } = encodeRefs(spec.message);
      const start = {
        kind: "start",
        isolate: id,
        debugName,
        mode: spec.mode,
        entry: spec.entry,
        exportName: spec.exportName,
        source: spec.source,
        payload,
        refs,
        errorsAreFatal: spec.errorsAreFatal,
        shared: sharedVersionsBuffer(),
      } satisfies WireMessage;
      // The first postMessage with a transfer list, even an empty one, costs
      // the process about 5 ms (Deno 2.9): a program's first spawn would pay
      // it for nothing.
      if (transfer.length === 0) worker.postMessage(start);
      else worker.postMessage(start, transfer);
    } catch (error) {
      // The message cannot be copied (a function in it, say): nothing was
      // started, and nothing is left running.
      worker.terminate();
      isolate.#alive = false;
      const failure = new IsolateSpawnError(
        `Cannot start isolate "${debugName}" (${id}): its message cannot be copied to a worker (${
          error instanceof Error ? error.message : String(error)
        }); send only structured-cloneable values, SendPorts and tokens`,
        error,
      );
      isolate.#started.reject(failure);
      isolate.#exited.resolve({ kind: "crashed", error: failure });
      return isolate;
    }
    // Registered only once the worker has its start message: from here on
    // the child keeps the main thread alive until it ends.
    runtime.addChild(link);
    return isolate;
  }

  /**
   * Ends the isolate now, as Dart's `kill(priority: immediate)`. Calls in
   * flight to or from it fail with `IsolateExitedError`; exit listeners are
   * told. Idempotent.
   */
  kill(): void {
    this.#end(`"${this.debugName}" (${this.id}) was killed`, undefined, {
      kind: "killed",
    });
  }

  /**
   * Asks the isolate to stop, as a supervisor does at shutdown. A worker
   * cannot be interrupted between two of its own tasks, so this ends it now
   * like {@linkcode Isolate.kill}, but its exit reason is `shutdown`: a
   * `transient` isolate is not restarted. Idempotent.
   */
  stop(): void {
    this.#end(`"${this.debugName}" (${this.id}) was stopped`, undefined, {
      kind: "shutdown",
    });
  }

  /**
   * Adds a port that receives `response` when the isolate ends.
   *
   * @param port The port.
   * @param options What the port receives.
   */
  addOnExitListener(
    port: SendPort,
    options: { response?: unknown } = {},
  ): void {
    if (!this.#alive) {
      port.send(options.response ?? null);
      return;
    }
    this.#exitListeners.push(port);
    this.#exitMessages.set(port, options.response ?? null);
  }

  /**
   * Removes a port added with {@linkcode Isolate.addOnExitListener}.
   *
   * @param port The port.
   */
  removeOnExitListener(port: SendPort): void {
    const i = this.#exitListeners.indexOf(port);
    if (i !== -1) this.#exitListeners.splice(i, 1);
    this.#exitMessages.delete(port);
  }

  /**
   * Adds a port that receives `[message, stack]` for each uncaught error.
   *
   * @param port The port.
   */
  addErrorListener(port: SendPort): void {
    this.#errorListeners.push(port);
  }

  /**
   * Removes a port added with {@linkcode Isolate.addErrorListener}.
   *
   * @param port The port.
   */
  removeErrorListener(port: SendPort): void {
    const i = this.#errorListeners.indexOf(port);
    if (i !== -1) this.#errorListeners.splice(i, 1);
  }

  #lifecycle(message: Lifecycle): void {
    switch (message.kind) {
      case "started":
        this.#isStarted = true;
        this.#started.resolve();
        return;
      case "result":
        // Isolate.run: the isolate is gone once it has answered.
        this.#end(`"${this.debugName}" (${this.id}) exited`, {
          value: message.refs ? reviveRefs(message.payload) : message.payload,
        }, { kind: "normal" });
        return;
      case "error":
        this.#error(message.phase, message.error, message.fatal);
        return;
      case "exit":
        if (this.#fatal !== null) {
          this.#end(
            `"${this.debugName}" (${this.id}) crashed: ${this.#fatal.message}`,
            undefined,
            { kind: "crashed", error: this.#fatal },
          );
        } else {
          this.#end(`"${this.debugName}" (${this.id}) exited`, undefined, {
            kind: "normal",
          });
        }
        return;
    }
  }

  #error(
    phase: "load" | "entry" | "uncaught",
    error: SerializedError,
    fatal: boolean,
  ): void {
    if (!this.#isStarted) {
      const what = phase === "load"
        ? `could not load its entry: ${error.message}`
        : `threw when its entry was called: ${error.name}: ${error.message}`;
      // It never started: the caller hears of it once it is gone.
      const failure = new IsolateSpawnError(
        `Cannot start isolate "${this.debugName}" (${this.id}): it ${what}`,
        new RemoteError(error),
      );
      this.#end(
        `"${this.debugName}" (${this.id}) failed to start`,
        { error: failure },
        { kind: "crashed", error: failure },
      );
      return;
    }
    const remote = new RemoteError(
      error,
      describeRemote(error, this.#result !== null),
    );
    if (this.#result !== null) {
      this.#end(
        `"${this.debugName}" (${this.id}) failed`,
        { error: remote },
        { kind: "crashed", error: remote },
      );
      return;
    }
    if (fatal) this.#fatal ??= remote;
    if (this.#errorListeners.length === 0) {
      console.error(
        `Uncaught error in isolate "${this.debugName}" (${this.id}):`,
        remote,
      );
      return;
    }
    for (const listener of this.#errorListeners) {
      if (listener instanceof SendPort) {
        listener.send([`${error.name}: ${error.message}`, error.stack ?? ""]);
      } else listener(remote);
    }
  }

  #protocolError(error: ProtocolError | null): void {
    console.error(
      `isolates: dropped a malformed message from isolate "${this.debugName}" (${this.id})`,
      error ?? "",
    );
  }

  #crash(error: unknown): void {
    if (!this.#alive) return;
    const serialized: SerializedError = {
      name: error instanceof Error ? error.name : "Error",
      message: error instanceof Error ? error.message : String(error),
      stack: error instanceof Error ? error.stack ?? null : null,
      code: null,
    };
    this.#error(this.#isStarted ? "uncaught" : "load", serialized, true);
    this.#end(
      `"${this.debugName}" (${this.id}) crashed: ${serialized.message}`,
      undefined,
      { kind: "crashed", error: this.#fatal ?? new RemoteError(serialized) },
    );
  }

  /**
   * Ends the isolate. What its caller waits for (spawn, run) settles with
   * `outcome`, or with an error naming `reason`.
   */
  #end(
    reason: string,
    outcome: { value: unknown } | { error: Error } | undefined,
    exit: ExitReason,
  ): void {
    if (!this.#alive) return;
    this.#alive = false;
    this.#worker.terminate();
    // Everything else happens on a later turn, in this order: after the
    // messages the isolate sent before it ended (an error report to a port,
    // say); calls in flight fail and the caller's promise settles together
    // with `exited`, so whoever awaits one can still handle the others.
    nextTurn(() => {
      runtime.removeChild(this.id, reason);
      const failure = outcome !== undefined && "error" in outcome
        ? outcome.error
        : null;
      this.#started.reject(
        failure ??
          new IsolateSpawnError(
            `Cannot start isolate: isolate ${reason} before it started`,
          ),
      );
      if (outcome !== undefined && "value" in outcome) {
        this.#result?.resolve(outcome.value);
      } else {
        this.#result?.reject(
          failure ??
            new IsolateSpawnError(
              `Cannot complete Isolate.run: isolate ${reason} before it returned`,
            ),
        );
      }
      this.#result = null;
      for (const listener of this.#exitListeners) {
        if (listener instanceof SendPort) {
          listener.send(this.#exitMessages.get(listener) ?? null);
        } else listener();
      }
      this.#exitListeners.length = 0;
      this.#exited.resolve(exit);
    });
  }
}

function resolveEntry(entry: URL | string): string {
  if (entry instanceof URL) return entry.href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(entry)) return entry;
  if (entry.startsWith("/")) return new URL(`file://${entry}`).href;
  throw new TypeError(
    `Cannot resolve isolate entry "${entry}": a relative path has no base here; pass new URL("${entry}", import.meta.url)`,
  );
}

/** A worker main module that loads the runtime, then `entry`. */
function sandboxMain(entry: string): string {
  const source = `import ${JSON.stringify(WORKER_MAIN.href)};\n` +
    `import ${JSON.stringify(entry)};\n`;
  return `data:text/javascript,${encodeURIComponent(source)}`;
}

function isNative(fn: () => unknown): boolean {
  return /\{\s*\[native code\]\s*\}\s*$/.test(fn.toString());
}

function describeRemote(
  error: SerializedError,
  isRun: boolean,
): string | undefined {
  if (isRun && error.name === "ReferenceError") {
    return `ReferenceError: ${error.message}. A function passed to Isolate.run runs in a new worker from its source text and cannot use variables or imports from the enclosing scope; compute them inside the function, or use a module task: Isolate.run(moduleUrl, "exportName", { args })`;
  }
  return undefined;
}
