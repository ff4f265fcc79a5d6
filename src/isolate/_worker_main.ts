/**
 * The first module of every isolate's worker: the only file that touches the
 * worker's global scope. It waits for the parent's `start` message, connects
 * the runtime to the parent, loads and calls the entry, reports errors, and
 * ends the worker when nothing keeps it alive.
 *
 * @module
 */
import {
  parseWireMessage,
  serializeError,
  type WireMessage,
} from "./protocol.ts";
import { encodeRefs, reviveRefs } from "./_message_refs.ts";
import { Outbox } from "./_outbox.ts";
import { runtime } from "./_runtime.ts";
import { TaskRunner } from "./_task_runner.ts";
import { useSharedVersions } from "./_shared_versions.ts";
import { BackgroundIsolateBinaryMessenger } from "./background_isolate_binary_messenger.ts";
import { RootIsolateToken } from "./root_isolate_token.ts";
import "./services_binding.ts";

type Start = Extract<WireMessage, { kind: "start" }>;

const scope = self as unknown as {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  close(): void;
  onmessage: ((event: MessageEvent) => void) | null;
  addEventListener(
    type: "error" | "unhandledrejection",
    listener: (event: Event & { error?: unknown; reason?: unknown }) => void,
  ): void;
};

let start: Start | null = null;
let ended = false;

// A worker that ends itself (self.close(), Deno.exit()) must still tell its
// parent, or the parent would wait for it forever.
const closeWorker = scope.close.bind(scope);
scope.close = () => exit();
const denoExit = Deno.exit.bind(Deno);
try {
  Object.defineProperty(Deno, "exit", {
    value: (code?: number): never => {
      exit(false);
      return denoExit(code);
    },
  });
} catch {
  // A runtime whose Deno.exit cannot be replaced: exits go unannounced.
}

// Messages to the parent leave in batches (see Outbox). An empty transfer
// list costs about 3 µs a message in Deno, so it is passed only when needed.
const outbox = new Outbox((message, transfer) => {
  if (transfer === undefined || transfer.length === 0) {
    scope.postMessage(message);
  } else scope.postMessage(message, transfer);
});

function post(message: WireMessage, transfer?: Transferable[]): void {
  outbox.send(message, transfer);
}

function reportError(
  phase: "load" | "entry" | "uncaught",
  error: unknown,
  fatal: boolean,
): void {
  post({
    kind: "error",
    isolate: runtime.id,
    phase,
    fatal,
    error: serializeError(error),
  });
}

function exit(close = true): void {
  if (ended) return;
  ended = true;
  for (const child of runtime.children()) child.terminate();
  post({ kind: "exit", isolate: runtime.id });
  outbox.flush();
  if (close) closeWorker();
}

scope.onmessage = (event: MessageEvent) => {
  if (start !== null) {
    runtime.fromParent(event.data);
    return;
  }
  const message = parseWireMessage(event.data);
  if (message === null || message.kind !== "start") return;
  start = message;
  useSharedVersions(message.shared);
  runtime.attachParent(message.isolate, post);
  runtime.setIdleHandler(exit);
  runtime.setProtocolErrorHandler((error) =>
    reportError("uncaught", error, false)
  );
  if (message.mode === "pool") serveTasks(message);
  else run(message);
};

scope.addEventListener("error", (event) => {
  event.preventDefault();
  const fatal = start?.errorsAreFatal ?? true;
  reportError("uncaught", event.error, fatal);
  if (fatal) exit();
});

scope.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  const fatal = start?.errorsAreFatal ?? true;
  reportError("uncaught", event.reason, fatal);
  if (fatal) exit();
});

/**
 * An IsolatePool worker: it runs the tasks it is sent until its pool ends it.
 * Its message is the root token, if any: pool workers reach plugins without
 * calling ensureInitialized themselves.
 */
function serveTasks(spec: Start): void {
  runtime.retain(); // until the pool terminates it
  const token = spec.refs ? reviveRefs(spec.payload) : spec.payload;
  try {
    if (token instanceof RootIsolateToken) {
      BackgroundIsolateBinaryMessenger.ensureInitialized(token);
    }
  } catch (error) {
    reportError("load", error, true);
    exit();
    return;
  }
  const runner = new TaskRunner(
    (message, transfer) => {
      // Each answer leaves before the next task starts (see TaskRunner).
      outbox.flush();
      if (transfer.length === 0) scope.postMessage(message);
      else scope.postMessage(message, transfer);
    },
    (url, exportName) => load(url, exportName),
    (source) => compile(source),
  );
  runtime.setTaskHandler((order) => runner.handle(order));
  post({ kind: "started", isolate: runtime.id });
}

async function run(spec: Start): Promise<void> {
  runtime.retain(); // the entry, until it settles
  let entry: (...args: unknown[]) => unknown;
  try {
    entry = spec.source !== null
      ? compile(spec.source)
      : await load(spec.entry!, spec.exportName);
  } catch (error) {
    reportError("load", error, true);
    exit();
    return;
  }
  const argument = spec.refs ? reviveRefs(spec.payload) : spec.payload;
  let pending: unknown;
  if (spec.mode === "run") {
    // Isolate.run: the isolate has started once its task is loaded; whatever
    // the task throws, synchronously or not, is the run's error.
    post({ kind: "started", isolate: runtime.id });
    pending = new Promise((resolve) =>
      resolve(entry.apply(null, argument as unknown[]))
    );
  } else {
    try {
      pending = entry(argument);
    } catch (error) {
      reportError("entry", error, true);
      exit();
      return;
    }
    post({ kind: "started", isolate: runtime.id });
  }
  try {
    const value = await pending;
    if (spec.mode === "run") {
      const { payload, refs, transfer } = encodeRefs(value);
      try {
        post({ kind: "result", isolate: runtime.id, payload, refs }, transfer);
      } catch (error) {
        reportError(
          "uncaught",
          new TypeError(
            `the result of Isolate.run cannot be copied back to the caller (${
              error instanceof Error ? error.message : String(error)
            }); return only structured-cloneable values`,
          ),
          true,
        );
      }
      exit(); // Isolate.run: the isolate is gone once it has answered
      return;
    }
  } catch (error) {
    reportError("uncaught", error, spec.errorsAreFatal || spec.mode === "run");
    if (spec.errorsAreFatal || spec.mode === "run") {
      exit();
      return;
    }
  }
  runtime.release();
}

async function load(
  url: string,
  exportName: string,
): Promise<(...args: unknown[]) => unknown> {
  const module = await importEntry(url);
  const entry = module[exportName];
  if (typeof entry !== "function") {
    const found = Object.keys(module).filter((key) =>
      typeof module[key] === "function"
    );
    throw new TypeError(
      `the module ${url} has no function export "${exportName}"${
        found.length > 0
          ? `; its function exports are: ${found.join(", ")}`
          : ""
      }`,
    );
  }
  return entry as (...args: unknown[]) => unknown;
}

/**
 * Imports the user's entry module. Its URL is known only at run time (it is
 * absolute, so it needs no import map); `deno publish` warns about any such
 * `import(url)` in a package and offers no way to mark one as intended, so
 * the import is made from a function built here.
 */
const importEntry = new Function(
  "url",
  "return import(url);",
) as (url: string) => Promise<Record<string, unknown>>;

function compile(source: string): (...args: unknown[]) => unknown {
  // The source of a self-contained function, evaluated in this worker's
  // global scope (nothing from the sender's scope exists here).
  // Strict, as the module the function was written in: sloppy-mode code
  // also runs markedly slower (fib(30): 11.5 ms against 8.0 ms).
  const fn = new Function(`"use strict"; return (${source});`)();
  if (typeof fn !== "function") {
    throw new TypeError("the source sent to Isolate.run is not a function");
  }
  return fn;
}
