// Test helpers for the channel tests: a caller on the main thread and a
// caller in a background isolate (fixtures/channel_client.ts) with the same
// interface, so each scenario runs from both; and error predicates for
// assert.rejects.
import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import {
  Isolate,
  type MethodCallHandler,
  MethodChannel,
  type MethodCodec,
  MissingPluginException,
  PlatformException,
  ReceivePort,
  RootIsolateToken,
  type SendPort,
} from "@isolates/isolates";
import {
  type Command,
  perform,
  scriptedHandler,
  type WireError,
} from "./fixtures/_calls.ts";
import type { Request } from "./fixtures/channel_client.ts";

/** Something that runs channel commands in one isolate. */
export interface Caller {
  /** `"main"` or `"worker"`, for step names. */
  readonly where: "main" | "worker";
  /** The id of the isolate the commands run in (`"0"` on the main thread). */
  readonly id: string;
  /** Runs a command; rejects with the error it failed with. */
  perform(command: Command): Promise<unknown>;
}

/** Runs commands on the main thread. */
export const mainCaller: Caller = { where: "main", id: "0", perform };

/** An error a worker reported that is not one of Flutter's exceptions. */
export class WorkerError extends Error {
  /** The `code` of the worker's error, when it had one. */
  readonly code: string | null;

  constructor(name: string, message: string, code: string | null) {
    super(message);
    this.name = name;
    this.code = code;
  }
}

/** A worker-side caller died before answering. */
export class CallerExitedError extends Error {
  constructor(isolate: string) {
    super(`Cannot complete the command: worker ${isolate} exited`);
    this.name = "CallerExitedError";
  }
}

function fromWire(error: WireError): unknown {
  switch (error.type) {
    case "PlatformException":
      return new PlatformException(error);
    case "MissingPluginException":
      return new MissingPluginException(error.message);
    case "Error":
      if (error.name === "TypeError") return new TypeError(error.message);
      return new WorkerError(error.name, error.message, error.code);
    case "value":
      return error.value;
  }
}

type Reply =
  | { kind: "ready"; isolate: string; commands: SendPort }
  | { kind: "done"; id: number; value: unknown }
  | { kind: "failed"; id: number; error: WireError };

/** Options of {@linkcode WorkerClient.spawn}. */
export interface WorkerClientOptions {
  /**
   * Whether the worker calls `BackgroundIsolateBinaryMessenger.ensureInitialized`.
   *
   * @default {true}
   */
  initialize?: boolean;
  /** The isolate's debug name. */
  debugName?: string;
}

/**
 * A background isolate running fixtures/channel_client.ts: it runs commands
 * as a caller there. `await using` it: disposing closes its command port and
 * waits for the isolate to exit.
 */
export class WorkerClient implements Caller, AsyncDisposable {
  readonly where = "worker" as const;
  readonly isolate: Isolate;
  readonly #port: ReceivePort;
  readonly #commands: SendPort;
  readonly #pending = new Map<number, PromiseWithResolvers<unknown>>();
  #nextId = 1;

  private constructor(isolate: Isolate, port: ReceivePort, commands: SendPort) {
    this.isolate = isolate;
    this.#port = port;
    this.#commands = commands;
    isolate.exited.then(() => {
      for (const pending of this.#pending.values()) {
        pending.reject(new CallerExitedError(isolate.id));
      }
      this.#pending.clear();
    });
  }

  /** The worker's isolate id. */
  get id(): string {
    return this.isolate.id;
  }

  /** Spawns a worker and waits until it accepts commands. */
  static async spawn(options: WorkerClientOptions = {}): Promise<WorkerClient> {
    const port = new ReceivePort("channel client");
    const ready = Promise.withResolvers<
      { isolate: string; commands: SendPort }
    >();
    let client: WorkerClient | null = null;
    port.listen((data) => {
      const reply = data as Reply;
      if (reply.kind === "ready") {
        ready.resolve(reply);
        return;
      }
      const settling: WorkerClient | null = client;
      if (settling !== null) settling.#settle(reply);
    });
    let isolate: Isolate;
    try {
      isolate = await Isolate.spawn(
        new URL("./fixtures/channel_client.ts", import.meta.url),
        {
          token: RootIsolateToken.instance,
          port: port.sendPort,
          initialize: options.initialize ?? true,
        },
        { debugName: options.debugName },
      );
    } catch (error) {
      port.close();
      throw error;
    }
    const { isolate: id, commands } = await ready.promise;
    assert.equal(id, isolate.id);
    client = new WorkerClient(isolate, port, commands);
    return client;
  }

  perform(command: Command): Promise<unknown> {
    const id = this.#nextId++;
    const pending = Promise.withResolvers<unknown>();
    this.#pending.set(id, pending);
    this.#commands.send({ id, command } satisfies Request);
    return pending.promise;
  }

  /** Lets the worker end (closes its command port) and waits until it has. */
  async close(): Promise<void> {
    this.#commands.send("close" satisfies Request);
    await this.isolate.exited;
    this.#port.close();
  }

  /** Kills the worker and waits until it is gone. */
  async kill(): Promise<void> {
    this.isolate.kill();
    await this.isolate.exited;
    this.#port.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #settle(reply: Exclude<Reply, { kind: "ready" }>): void {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    if (reply.kind === "done") pending.resolve(reply.value);
    else pending.reject(fromWire(reply.error));
  }
}

/** Checks a PlatformException's fields (for assert.rejects). */
export function platformException(
  expected: { code: string; message: string | null; details?: unknown },
): (error: unknown) => true {
  return (error) => {
    assert.ok(error instanceof PlatformException, `got ${String(error)}`);
    assert.equal(error.code, expected.code);
    assert.equal(error.message, expected.message);
    assert.deepEqual(error.details, expected.details ?? null);
    assert.equal(error.stacktrace, null, "the stacktrace is not forwarded");
    return true;
  };
}

/** Checks a MissingPluginException whose message mentions every part. */
export function missingPlugin(
  ...parts: string[]
): (error: unknown) => true {
  return (error) => {
    assert.ok(error instanceof MissingPluginException, `got ${String(error)}`);
    for (const part of parts) {
      assert.ok(
        error.message?.includes(part),
        `${JSON.stringify(error.message)} should mention ${
          JSON.stringify(part)
        }`,
      );
    }
    return true;
  };
}

/** Resolves after the current turn of the event loop and its microtasks. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Runs `fn` with console.error captured; returns what was printed. */
export async function capturingConsoleError(
  fn: () => Promise<void>,
): Promise<unknown[][]> {
  const printed: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => printed.push(args);
  try {
    await fn();
  } finally {
    console.error = original;
  }
  return printed;
}

/** A fresh channel name per use, so tests never share handlers. */
let channels = 0;
export function uniqueChannel(prefix: string): string {
  return `tests/${prefix}/${++channels}`;
}

/**
 * Runs a scenario as a step from the main thread, then as a step from a
 * fresh worker (which is closed afterwards).
 */
export async function fromMainAndWorker(
  t: Deno.TestContext,
  scenario: (caller: Caller) => Promise<void>,
): Promise<void> {
  await t.step("from the main thread", () => scenario(mainCaller));
  await using worker = await WorkerClient.spawn();
  await t.step("from a worker", () => scenario(worker));
}

/**
 * Serves a method channel on the main thread (the platform side) until
 * disposed: `using served = serveOnMain(name)`.
 */
export function serveOnMain(
  name: string,
  handler: MethodCallHandler = scriptedHandler,
  codec?: MethodCodec,
): Disposable & { channel: MethodChannel } {
  const channel = new MethodChannel(name, codec);
  channel.setMethodCallHandler(handler);
  return {
    channel,
    [Symbol.dispose]: () => channel.setMethodCallHandler(null),
  };
}
