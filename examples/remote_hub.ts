/**
 * A hub that runs its pool's tasks on node processes over NATS, and serves
 * a main-thread plugin (a progress log) to the nodes' workers.
 *
 * It starts its nodes itself (`examples/node.ts`, as another machine would
 * run them), sends 24 × fib(27) to them, prints which node ran how many
 * and the lines the nodes' workers logged through the hub's plugin.
 *
 * Needs a NATS server: `apt-get install nats-server; nats-server -js`.
 *
 * Run: `deno run -A examples/remote_hub.ts [nodes] [nats-url]`.
 */
import { IsolatePool, MethodChannel } from "@isolates/isolates";
import { NatsTransport, RemoteNodeError } from "@isolates/isolates/nats";

const nodes = Number(Deno.args[0] ?? 2);
const servers = Deno.args[1] ?? Deno.env.get("NATS_URL") ?? "127.0.0.1:4222";

let hub: NatsTransport;
try {
  hub = await NatsTransport.connect({ servers, hub: "demo" });
} catch (error) {
  if (!(error instanceof RemoteNodeError)) throw error;
  console.error(error.message);
  Deno.exit(1);
}

// The plugin bound to this main thread: nodes' workers log through it.
const lines: string[] = [];
new MethodChannel<{ log: { args: string; result: null } }>("demo/log")
  .setMethodCallHandler((call) => {
    lines.push(String(call.arguments));
    return null;
  });

const children: Deno.ChildProcess[] = [];
for (let i = 1; i <= nodes; i++) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./node.ts", import.meta.url).pathname,
      "--servers",
      servers,
      "--hub",
      "demo",
      "--size",
      "1",
      "--forward",
      "demo/log",
    ],
    env: { ISOLATES_NODE_TOKEN: await hub.issueToken(`node${i}`) },
    stdout: "inherit",
  }).spawn();
  children.push(child);
}
while (hub.nodes.length < nodes) await new Promise((r) => setTimeout(r, 20));

const pool = new IsolatePool({ name: "demo", size: 0, transport: hub });
const started = performance.now();
const mod = new URL("../mod.ts", import.meta.url).href;
const results = await Promise.all(
  Array.from(
    { length: 24 },
    (_, i) =>
      pool.run(async (input: { n: number; i: number; mod: string }) => {
        const fib = (
          k: number,
        ): number => (k < 2 ? k : fib(k - 1) + fib(k - 2));
        const value = fib(input.n);
        const { MethodChannel } = await import(input.mod);
        await new MethodChannel("demo/log").invokeMethod(
          "log",
          `task ${input.i} done`,
        );
        return value;
      }, { n: 27, i, mod }),
  ),
);
console.log(
  `24 × fib(27) = ${results[0]} each, in ${
    (performance.now() - started).toFixed(0)
  } ms on ${nodes} nodes`,
);
for (const node of hub.nodes) console.log(`  ${node.node}: ${node.done} tasks`);
console.log(`${lines.length} lines logged on the hub, e.g. "${lines[0]}"`);

await pool.close();
for (const child of children) child.kill("SIGTERM");
await Promise.all(children.map((child) => child.status));
await hub.close();
