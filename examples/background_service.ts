/**
 * Flutter's background-isolate example, ported line for line: the main
 * thread spawns an isolate with the root token; the isolate computes, stores
 * the result through SharedPreferences (a plugin with worker affinity: it
 * runs in the isolate, on the same file), and sends it back. The program
 * ends by itself.
 *
 * Run: `deno task demo`, or
 * `deno run --allow-read --allow-write --allow-env examples/background_service.ts [n]`.
 */
import {
  Isolate,
  ReceivePort,
  RootIsolateToken,
  SharedPreferences,
} from "../mod.ts";

const valueToProcess = Number(Deno.args[0] ?? 35);
const started = performance.now();

const rootToken = RootIsolateToken.instance; // null anywhere but the main thread
if (rootToken === null) {
  throw new Error(
    "Cannot get the root isolate token: run this on the main thread",
  );
}
const receivePort = new ReceivePort();
await Isolate.spawn(
  new URL("./background_service_entry.ts", import.meta.url),
  { token: rootToken, sendPort: receivePort.sendPort, valueToProcess },
  { debugName: "background-service" },
);
const result = await receivePort.first;
const elapsed = performance.now() - started;

const prefs = await SharedPreferences.getInstance();
await prefs.reload(); // see what the isolate wrote
console.log(
  `fib(${valueToProcess}) = ${result}, computed in a background isolate in ${
    elapsed.toFixed(0)
  } ms`,
);
console.log(
  `stored by the isolate as "last_computation" = ${
    prefs.getInt("last_computation")
  }`,
);
console.log(`in ${await prefs.getStoragePath()}`);
