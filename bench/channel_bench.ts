/**
 * Platform-channel cost against raw Web Worker messaging, in the same run:
 *
 * - a MethodChannel call from a worker answered on the main thread, against
 *   a raw `postMessage` round trip, with one call in flight and with 1,000;
 * - `Isolate.spawn` + `ensureInitialized` to the first answered call,
 *   against a raw `new Worker` to its first message; a raw worker that
 *   imports the same module graph shows how much of the gap is loading it.
 *
 * Both sides time whole batches driven from inside the worker, so the
 * command that starts a batch costs the same on both sides.
 *
 * Run: `deno task bench` (or `deno bench -R -W -E bench/channel_bench.ts`).
 */
import {
  Isolate,
  MethodChannel,
  ReceivePort,
  RootIsolateToken,
} from "../mod.ts";
import { commandIsolate, pause } from "./_measure.ts";

const echo = new MethodChannel("bench/echo");
echo.setMethodCallHandler((call) => call.arguments);

// --- raw worker -----------------------------------------------------------
const raw = new Worker(new URL("./fixtures/raw_worker.ts", import.meta.url), {
  type: "module",
});
let rawDone: PromiseWithResolvers<void> = Promise.withResolvers();
const rawReady = Promise.withResolvers<void>();
raw.onmessage = (event) => {
  const data = event.data as {
    call?: unknown;
    done?: boolean;
    ready?: boolean;
  };
  if (data.call !== undefined) raw.postMessage({ echo: data.call });
  else if (data.done) rawDone.resolve();
  else if (data.ready) rawReady.resolve();
};
await rawReady.promise;

function rawBatch(cmd: string, n: number): Promise<void> {
  rawDone = Promise.withResolvers();
  raw.postMessage({ cmd, n });
  return rawDone.promise;
}

// --- channel worker -------------------------------------------------------
const channelWorker = await commandIsolate(
  new URL("./fixtures/channel_worker.ts", import.meta.url),
);
const channelBatch = channelWorker.batch;

// Warm both paths up before anything is measured.
for (let i = 0; i < 5; i++) {
  await rawBatch("sequential", 200);
  await channelBatch("sequential", 200);
  await rawBatch("parallel", 1000);
  await channelBatch("parallel", 1000);
}

const SEQUENTIAL = 200;
const PARALLEL = 1000;

/** A timed batch of round trips, after a pause (see _measure.ts). */
function roundTrips(
  batch: (cmd: string, n: number) => Promise<unknown>,
  cmd: string,
  n: number,
): (b: Deno.BenchContext) => Promise<void> {
  return async (b) => {
    await pause(10);
    b.start();
    await batch(cmd, n);
    b.end();
  };
}

for (
  const [cmd, n, group] of [
    ["sequential", SEQUENTIAL, "round trip, one in flight"],
    ["parallel", PARALLEL, `round trip, ${PARALLEL} in flight`],
  ] as const
) {
  const what = cmd === "sequential"
    ? `one in flight (x${n})`
    : `${n} in flight`;
  Deno.bench({
    name: `raw postMessage round trip, ${what}`,
    group,
    baseline: true,
    n: 30,
    warmup: 3,
    fn: roundTrips(rawBatch, cmd, n),
  });
  Deno.bench({
    name: `MethodChannel.invokeMethod worker -> main, ${what}`,
    group,
    n: 30,
    warmup: 3,
    fn: roundTrips(channelBatch, cmd, n),
  });
}

Deno.bench({
  name: "raw new Worker to its first message",
  group: "spawn to first answer",
  baseline: true,
  n: 15,
  warmup: 3,
  async fn(b): Promise<void> {
    await pause(20);
    b.start();
    const worker = new Worker(
      new URL("./fixtures/raw_first_message_worker.ts", import.meta.url),
      { type: "module" },
    );
    await new Promise((resolve) => worker.onmessage = resolve);
    b.end();
    worker.terminate();
  },
});
// The floor of the row below: a raw worker that loads the module graph an
// isolate's worker loads (its runtime, and mod.ts for the entry) and posts
// at once. Deno loads a fresh worker's modules one by one, so this graph
// costs most of what spawning an isolate costs over a bare worker.
const GRAPH_WORKER = "data:text/javascript," + encodeURIComponent(
  `import ${
    JSON.stringify(
      new URL("../src/isolate/_worker_main.ts", import.meta.url).href,
    )
  };\n` +
    `import ${JSON.stringify(new URL("../mod.ts", import.meta.url).href)};\n` +
    `self.postMessage("ready");\n`,
);
Deno.bench({
  name:
    "raw new Worker importing the isolate's module graph, to its first message",
  group: "spawn to first answer",
  n: 15,
  warmup: 3,
  async fn(b): Promise<void> {
    await pause(20);
    b.start();
    const worker = new Worker(GRAPH_WORKER, { type: "module" });
    await new Promise((resolve) => worker.onmessage = resolve);
    b.end();
    worker.terminate();
  },
});
Deno.bench({
  name: "Isolate.spawn + ensureInitialized to the first answered call",
  group: "spawn to first answer",
  n: 15,
  warmup: 3,
  async fn(b): Promise<void> {
    await pause(20);
    const port = new ReceivePort();
    b.start();
    const isolate = await Isolate.spawn(
      new URL("./fixtures/first_call_worker.ts", import.meta.url),
      { token: RootIsolateToken.instance, reply: port.sendPort },
    );
    await port.first;
    b.end();
    await isolate.exited;
  },
});

// Let the process end once the benches are done.
globalThis.addEventListener("unload", () => {
  channelWorker.close();
  raw.terminate();
});
