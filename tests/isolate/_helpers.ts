// Shared by the isolate tests: fixture URLs, waits that cannot hang on a
// dead isolate, and checks of the reports fixtures send back.
import assert from "node:assert/strict";
import {
  Isolate,
  type IsolateSpawnOptions,
  MethodChannel,
  ReceivePort,
  RootIsolateToken,
  type SendPort,
} from "../../mod.ts";
import type { ErrorReport, Outcome } from "./fixtures/_report.ts";
import type { AgentInit, Command, Ready } from "./fixtures/agent.ts";

/** The URL of a module in `fixtures/`. */
export function fixture(name: string): URL {
  return new URL(`./fixtures/${name}`, import.meta.url);
}

const EXITED = Symbol("exited");

/**
 * The first message on `port`, or a failure naming the isolate when it ends
 * before sending one (so a dead isolate fails the test instead of hanging
 * it). The port is closed either way.
 */
export async function firstFrom<T = unknown>(
  port: ReceivePort,
  isolate: Isolate,
): Promise<T> {
  try {
    const value = await Promise.race([
      port.first,
      isolate.exited.then(() => EXITED),
    ]);
    if (value === EXITED) {
      assert.fail(`isolate ${isolate.id} ended before it answered`);
    }
    return value as T;
  } finally {
    port.close();
  }
}

/**
 * Listens to `port`; `next()` resolves with the next message not yet taken
 * (messages that arrive before anyone asks are kept in order).
 */
export function collect(port: ReceivePort): {
  next: () => Promise<unknown>;
} {
  const waiting: PromiseWithResolvers<unknown>[] = [];
  const queued: unknown[] = [];
  port.listen((message) => {
    const waiter = waiting.shift();
    if (waiter !== undefined) waiter.resolve(message);
    else queued.push(message);
  });
  return {
    next: () => {
      if (queued.length > 0) return Promise.resolve(queued.shift());
      const waiter = Promise.withResolvers<unknown>();
      waiting.push(waiter);
      return waiter.promise;
    },
  };
}

/**
 * Sends `command` to a fixture's command port with a fresh reply port in
 * `reply`, and waits for the answer (see {@linkcode firstFrom}).
 */
export function ask<T = Outcome>(
  isolate: Isolate,
  to: SendPort,
  command: Record<string, unknown>,
): Promise<T> {
  const port = new ReceivePort("reply");
  to.send({ ...command, reply: port.sendPort });
  return firstFrom<T>(port, isolate);
}

/** The value of a successful outcome. */
export function okOf(outcome: Outcome): unknown {
  assert.ok(
    "ok" in outcome,
    `expected success, got ${JSON.stringify(outcome)}`,
  );
  return outcome.ok;
}

/** The error of a failed outcome. */
export function errorOf(outcome: Outcome): ErrorReport {
  assert.ok(
    "error" in outcome,
    `expected an error, got ${JSON.stringify(outcome)}`,
  );
  return outcome.error;
}

/** Asserts that `text` contains each of `parts`. */
export function mentions(text: string, ...parts: string[]): void {
  for (const part of parts) {
    assert.ok(
      text.includes(part),
      `${JSON.stringify(text)} should mention ${JSON.stringify(part)}`,
    );
  }
}

/** How long a test may wait for events before it fails as hung. */
const HANG_LIMIT_MS = 60_000;

/**
 * Wraps a test so that a hang fails it: every wait in these tests is on an
 * event (a message, a settled promise, an exit), and a bug that loses the
 * event would otherwise block the run forever. The limit is a watchdog far
 * above any real wait, not a timing assertion; its timer is always cleared.
 */
export function guarded(
  fn: (t: Deno.TestContext) => void | Promise<void>,
): (t: Deno.TestContext) => Promise<void> {
  return async (t) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const watchdog = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `Cannot finish the test: an awaited event did not happen within ${HANG_LIMIT_MS} ms (a hang)`,
            ),
          ),
        HANG_LIMIT_MS,
      );
    });
    try {
      await Promise.race([fn(t), watchdog]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * Deno 2.9 runs tests without the op and resource sanitizers unless asked;
 * every test here asks, so a leaked port, isolate or timer fails it.
 */
export const sanitized: Omit<Deno.TestDefinition, "fn" | "name"> = {
  sanitizeOps: true,
  sanitizeResources: true,
};

/** A running agent fixture (see `fixtures/agent.ts`). */
export interface Agent {
  /** The isolate. */
  isolate: Isolate;
  /** What the agent reported at start. */
  ready: Ready;
  /** Runs a command in the agent and resolves with its outcome. */
  ask(command: Command): Promise<Outcome>;
  /** Tells the agent to close its command port, and waits for its end. */
  close(): Promise<void>;
}

/** Spawns `fixtures/agent.ts` and waits for its `Ready` report. */
export async function spawnAgent(
  init: Omit<AgentInit, "reply"> = {},
  options: IsolateSpawnOptions = {},
): Promise<Agent> {
  const port = new ReceivePort("ready");
  let isolate: Isolate;
  try {
    isolate = await Isolate.spawn(fixture("agent.ts"), {
      ...init,
      reply: port.sendPort,
    }, options);
  } catch (error) {
    port.close();
    throw error;
  }
  const ready = await firstFrom<Ready>(port, isolate);
  return {
    isolate,
    ready,
    ask: (command) => ask(isolate, ready.commands, command),
    close: async () => {
      ready.commands.send({ op: "close" });
      await isolate.exited;
    },
  };
}

/** The main thread's root token (asserted non-null). */
export function rootToken(): RootIsolateToken {
  const token = RootIsolateToken.instance;
  assert.ok(token !== null);
  return token;
}

/** A main-thread method handler, removed on dispose. */
export function mainHandler(
  name: string,
  handler: Parameters<MethodChannel["setMethodCallHandler"]>[0],
): Disposable & { channel: string } {
  const channel = new MethodChannel(name);
  channel.setMethodCallHandler(handler);
  return {
    channel: name,
    [Symbol.dispose]: () => channel.setMethodCallHandler(null),
  };
}

/** Every permission denied: a sandboxed worker reaches files only by proxy. */
export const SANDBOX: Deno.PermissionOptionsObject = {
  read: false,
  write: false,
  env: false,
  net: false,
  run: false,
  ffi: false,
  sys: false,
};

/** Sets an environment variable until disposed (then restores it). */
export function setEnv(name: string, value: string): Disposable {
  const previous = Deno.env.get(name);
  Deno.env.set(name, value);
  return {
    [Symbol.dispose]: () => {
      if (previous === undefined) Deno.env.delete(name);
      else Deno.env.set(name, previous);
    },
  };
}

/**
 * A fresh ISOLATES_DATA_DIR until disposed (then removed and restored).
 * With `subfolder`, the variable names a folder inside the temporary one,
 * not yet created.
 */
export async function freshDataDir(
  prefix: string,
  subfolder?: string,
): Promise<AsyncDisposable & { dir: string }> {
  const root = await Deno.makeTempDir({ prefix });
  const dir = subfolder === undefined ? root : `${root}/${subfolder}`;
  const env = setEnv("ISOLATES_DATA_DIR", dir);
  return {
    dir,
    async [Symbol.asyncDispose](): Promise<void> {
      env[Symbol.dispose]();
      await Deno.remove(root, { recursive: true });
    },
  };
}
