/**
 * Plugins with thread affinity, in the same run:
 *
 * - a `worker`-affinity call made in a worker (it runs there, on the
 *   worker's own SQLite connection) against the same call proxied to the
 *   main thread (`main` affinity), for a read (`get`) and a write (`set`);
 * - `SharedPreferences.setInt` against a raw `node:sqlite` upsert loop, one
 *   transaction per write, WAL mode, on the main thread.
 *
 * Run: `deno task bench` (or `deno bench -A bench/plugin_bench.ts`).
 */
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { SharedPreferences } from "../mod.ts";
import { commandIsolate, pause } from "./_measure.ts";
import "./fixtures/prefs_plugins.ts";

const dir = await Deno.makeTempDir({ prefix: "isolates_plugin_bench_" });
Deno.env.set("ISOLATES_DATA_DIR", dir);

// --- the worker that calls the plugins ---------------------------------------
const worker = await commandIsolate(
  new URL("./fixtures/plugin_worker.ts", import.meta.url),
);
const batch = worker.batch;

const CALLS = 200;
for (let i = 0; i < 5; i++) {
  for (const cmd of ["local-set", "proxied-set", "local-get", "proxied-get"]) {
    const placements = await batch(cmd, CALLS) as string[];
    const expected = cmd.startsWith("local") ? "local" : "proxied";
    if (placements[0] !== expected) {
      throw new Error(`${cmd} ran ${placements[0]}, expected ${expected}`);
    }
  }
}

for (const op of ["get", "set"] as const) {
  const group = `plugin ${op}, worker: local vs proxied`;
  for (const where of ["proxied", "local"] as const) {
    Deno.bench({
      name: `${where} ${op} from a worker (x${CALLS})`,
      group,
      baseline: where === "proxied",
      n: 30,
      warmup: 3,
      async fn(b): Promise<void> {
        await pause(10);
        b.start();
        await batch(`${where}-${op}`, CALLS);
        b.end();
      },
    });
  }
}

// --- SharedPreferences.setInt against raw SQLite ------------------------------
const WRITES = 200;
const raw = new DatabaseSync(join(dir, "raw.db"));
raw.exec("PRAGMA journal_mode = WAL");
raw.exec("PRAGMA synchronous = FULL");
raw.exec(
  "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value INTEGER)",
);
const upsert = raw.prepare(
  "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
);
const prefs = await SharedPreferences.getInstance();
for (let i = 0; i < WRITES; i++) {
  upsert.run(`k${i % 10}`, i);
  await prefs.setInt(`k${i % 10}`, i);
}

Deno.bench({
  name: `raw node:sqlite upsert, one transaction per write (x${WRITES})`,
  group: "setInt throughput",
  baseline: true,
  n: 20,
  warmup: 2,
  async fn(b): Promise<void> {
    await pause(10);
    b.start();
    for (let i = 0; i < WRITES; i++) upsert.run(`k${i % 10}`, i);
    b.end();
  },
});
Deno.bench({
  name: `SharedPreferences.setInt on the main thread (x${WRITES})`,
  group: "setInt throughput",
  n: 20,
  warmup: 2,
  async fn(b): Promise<void> {
    await pause(10);
    b.start();
    for (let i = 0; i < WRITES; i++) await prefs.setInt(`k${i % 10}`, i);
    b.end();
  },
});

globalThis.addEventListener("unload", () => {
  worker.close();
  raw.close();
  Deno.removeSync(dir, { recursive: true });
});
