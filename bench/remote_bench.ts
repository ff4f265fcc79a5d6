/**
 * The pool and the plugins over NATS, on loopback, in the same run:
 *
 * - tasks/s of 1, 2 and 3 node processes (`examples/node.ts`, one worker
 *   each), and of 2 behind a durable hub (JetStream), against the
 *   in-process `IsolatePool` of 2 workers, for tiny tasks (500 × `n + 1`
 *   at once) and for compute (16 × fib(27));
 * - a remote plugin call (a worker on a node calls a channel of the hub's
 *   root, forwarded over NATS) against the same call proxied from a worker
 *   to its own main thread.
 *
 * Needs `nats-server` (apt-get install nats-server): it starts its own on a
 * free loopback port, or uses `ISOLATES_NATS_URL`.
 *
 * Run: `deno bench -A bench/remote_bench.ts`.
 */
import { IsolatePool, MethodChannel } from "../mod.ts";
import { NatsTransport } from "../src/remote/mod.ts";
import {
  natsServer,
  natsUnavailable,
  type NodeProcess,
  startNode,
} from "../tests/remote/_nats.ts";
import { pause } from "./_measure.ts";

const TINY = 500;
const FIBS = 16;
const CALLS = 50;
const MOD = new URL("../mod.ts", import.meta.url).href;

const tiny = (n: number): number => n + 1;
const fib = (n: number): number => {
  const f = (k: number): number => (k < 2 ? k : f(k - 1) + f(k - 2));
  return f(n);
};
/** A task that calls a main-thread channel `calls` times. */
const calling = async (
  input: { mod: string; calls: number },
): Promise<number> => {
  const { MethodChannel } = await import(input.mod);
  const channel = new MethodChannel("bench/echo");
  let sum = 0;
  for (let i = 0; i < input.calls; i++) {
    sum += await channel.invokeMethod("echo", i) as number;
  }
  return sum;
};

if (natsUnavailable("The NATS benches are") === null) {
  const server = await natsServer();
  new MethodChannel("bench/echo").setMethodCallHandler((call) =>
    call.arguments
  );
  const local = new IsolatePool({ name: "local", size: 2 });
  await local.ready();
  const setups: Array<
    { label: string; pool: IsolatePool; hub: NatsTransport }
  > = [];
  const nodes: NodeProcess[] = [];
  for (
    const [count, durable] of [[1, false], [2, false], [3, false], [
      2,
      true,
    ]] as const
  ) {
    const name = `bench${count}${durable ? "d" : ""}_${Deno.pid}`;
    const hub = await NatsTransport.connect({
      servers: server.url,
      hub: name,
      ...(durable ? { durable, secret: `bench secret ${Deno.pid}` } : {}),
    });
    for (let i = 1; i <= count; i++) {
      nodes.push(
        await startNode(server.url, name, await hub.issueToken(`n${i}`), [
          "--size",
          "1",
          "--forward",
          "bench/echo",
        ]),
      );
    }
    while (hub.nodes.length < count) await pause(20);
    setups.push({
      label: `${count} node${count > 1 ? "s" : ""}${
        durable ? ", durable (JetStream)" : ""
      }`,
      pool: new IsolatePool({ name, size: 0, transport: hub }),
      hub,
    });
  }
  const all = [
    { label: "in-process pool (2 workers)", pool: local },
    ...setups,
  ];
  // Warm every worker: compiled tasks, imported module, open channels.
  for (const { pool } of all) {
    for (let i = 0; i < 3; i++) {
      await Promise.all(
        Array.from({ length: 64 }, (_, n) => pool.run(tiny, n)),
      );
      await Promise.all(Array.from({ length: 4 }, () => pool.run(fib, 20)));
      await pool.run(calling, { mod: MOD, calls: 5 });
    }
  }

  for (const { label, pool } of all) {
    const baseline = pool === local;
    Deno.bench({
      name: `${label}: ${TINY} tiny tasks at once`,
      group: "remote pool, tiny tasks",
      baseline,
      n: 20,
      warmup: 2,
      async fn(b): Promise<void> {
        await pause(20);
        b.start();
        await Promise.all(
          Array.from({ length: TINY }, (_, n) => pool.run(tiny, n)),
        );
        b.end();
      },
    });
    Deno.bench({
      name: `${label}: ${FIBS} × fib(27)`,
      group: "remote pool, compute",
      baseline,
      n: 10,
      warmup: 1,
      async fn(b): Promise<void> {
        await pause(20);
        b.start();
        await Promise.all(
          Array.from({ length: FIBS }, () => pool.run(fib, 27)),
        );
        b.end();
      },
    });
  }
  for (const { label, pool } of [all[0], all[1]]) {
    Deno.bench({
      name: pool === local
        ? `worker → its own main thread (x${CALLS})`
        : `worker on a node → the hub's root over NATS (x${CALLS})`,
      group: "remote plugin call",
      baseline: pool === local,
      n: 20,
      warmup: 2,
      async fn(b): Promise<void> {
        await pause(20);
        b.start();
        await pool.run(calling, { mod: MOD, calls: CALLS });
        b.end();
      },
    });
    void label;
  }

  globalThis.addEventListener("unload", () => {
    for (const node of nodes) node.stop("SIGKILL");
    void server.stop();
  });
}
