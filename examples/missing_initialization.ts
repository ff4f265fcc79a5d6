/**
 * The failure a Flutter developer knows: a background isolate that uses a
 * plugin without `BackgroundIsolateBinaryMessenger.ensureInitialized(token)`.
 * The plugin call fails with MissingPluginException saying how to fix it,
 * and `RootIsolateToken.instance` is null inside the isolate.
 *
 * Run: `deno run --allow-read --allow-write --allow-env examples/missing_initialization.ts`.
 */
import { Isolate, ReceivePort } from "../mod.ts";

const port = new ReceivePort();
await Isolate.spawn(
  new URL("./missing_initialization_entry.ts", import.meta.url),
  port.sendPort,
  { debugName: "uninitialized" },
);
const report = await port.first as { tokenInWorker: string; error: string };
console.log(
  `RootIsolateToken.instance inside the isolate: ${report.tokenInWorker}`,
);
console.log(
  `SharedPreferences.getInstance() inside the isolate failed with:\n  ${report.error}`,
);
