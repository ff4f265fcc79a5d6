// The pool over NATS: node processes on loopback share tasks, lose none
// when one is killed, and stop tasks the hub cancels or times out.
import assert from "node:assert/strict";
import { IsolatePool, TimeoutError } from "../../mod.ts";
import { NatsTransport, RemoteNodeError } from "../../src/remote/mod.ts";
import {
  hubName,
  natsServer,
  natsUnavailable,
  startNode,
  until,
  withHub,
} from "./_nats.ts";

const ignore = natsUnavailable() !== null;

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "nats pool: three node processes share 1,000 tasks",
  ignore,
  async fn(): Promise<void> {
    await withHub(
      "pool",
      { nodes: 3, heartbeat: 200 },
      async ({ pool, hub }) => {
        const inputs = Array.from({ length: 1000 }, (_, i) => i);
        const results = await Promise.all(
          inputs.map((i) =>
            pool.run((n: number) => ({ n, doubled: n * 2 }), i, {
              priority: i % 3,
            })
          ),
        );
        assert.deepEqual(results, inputs.map((n) => ({ n, doubled: n * 2 })));
        const done = hub.nodes.map((node) => node.done);
        assert.equal(done.length, 3);
        assert.equal(done.reduce((a, b) => a + b, 0), 1000);
        for (const count of done) assert.ok(count > 0, `a node idle: ${done}`);
        assert.equal(pool.running, 0);
      },
    );
  },
});

Deno.test({
  name: "nats pool: killing a node mid-run loses no task (retried elsewhere)",
  ignore,
  async fn(): Promise<void> {
    await withHub(
      "pool",
      { nodes: 3, heartbeat: 200 },
      async ({ pool, hub, nodes }) => {
        // Each task busies its worker for ~15 ms.
        const spin = (n: number): number => {
          const end = Date.now() + 15;
          while (Date.now() < end) { /* busy */ }
          return n * 3;
        };
        let settled = 0;
        const runs = Array.from(
          { length: 150 },
          (_, i) =>
            pool.run(spin, i).finally(() => {
              settled++;
            }),
        );
        await until(() => settled >= 30, "30 tasks to finish");
        await nodes[1].stop("SIGKILL");
        const results = await Promise.all(runs);
        assert.deepEqual(results, Array.from({ length: 150 }, (_, i) => i * 3));
        await until(
          () => !hub.nodes.some((n) => n.node === nodes[1].name),
          "the killed node to be dropped",
        );
      },
    );
  },
});

Deno.test({
  name:
    "nats pool: a node lost with no retry left fails its task with remote_node_lost",
  ignore,
  async fn(): Promise<void> {
    await withHub(
      "pool",
      { nodes: 1, heartbeat: 200, retries: 0 },
      async ({ pool, hub, nodes }) => {
        const running = pool.run(async (_: null, signal: AbortSignal) => {
          while (!signal.aborted) await new Promise((r) => setTimeout(r, 10));
        }, null).catch((error) => error);
        await until(() => hub.nodes[0]?.running === 1, "the task to start");
        await nodes[0].stop("SIGKILL");
        const error = await running;
        assert.ok(error instanceof RemoteNodeError, String(error));
        assert.equal(error.code, "remote_node_lost");
        assert.match(error.message, /node "n1" went silent/);
      },
    );
  },
});

Deno.test({
  name:
    "nats pool: a cancelled or timed-out remote task stops on its node, and the node goes on",
  ignore,
  async fn(): Promise<void> {
    await withHub(
      "pool",
      { nodes: 1, heartbeat: 200 },
      async ({ pool, hub }) => {
        const dir = await Deno.makeTempDir({ prefix: "isolates_cancel_" });
        try {
          // The task runs until its signal aborts, then leaves a mark.
          const waitForAbort = async (
            path: string,
            signal: AbortSignal,
          ): Promise<string> => {
            while (!signal.aborted) await new Promise((r) => setTimeout(r, 5));
            await Deno.writeTextFile(path, String(signal.reason));
            return "stopped";
          };
          const controller = new AbortController();
          const cancelled = pool.run(waitForAbort, `${dir}/cancelled`, {
            signal: controller.signal,
          }).catch((error) => error);
          await until(() => hub.nodes[0]?.running === 1, "the task to start");
          controller.abort(new Error("no longer needed"));
          assert.equal((await cancelled).message, "no longer needed");
          await until(
            () => exists(`${dir}/cancelled`),
            "the node to stop the cancelled task",
          );
          // The worker's signal aborted, as a local pool's would.
          assert.match(await Deno.readTextFile(`${dir}/cancelled`), /aborted/);

          const late = await pool.run(waitForAbort, `${dir}/timed_out`, {
            timeout: 300,
          }).catch((error) => error);
          assert.ok(late instanceof TimeoutError);
          await until(
            () => exists(`${dir}/timed_out`),
            "the node to stop the timed-out task",
          );
          // The node still works.
          assert.equal(await pool.run((s: string) => s + "!", "ok"), "ok!");
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      },
    );
  },
});

Deno.test({
  name:
    "nats pool: errors, unsendable input and module tasks behave as with local workers",
  ignore,
  async fn(): Promise<void> {
    await withHub("pool", { nodes: 1, heartbeat: 200 }, async ({ pool }) => {
      const thrown = await pool.run(() => {
        throw new RangeError("n must be positive");
      }).catch((e) => e);
      assert.equal(thrown.name, "RemoteError");
      assert.equal(thrown.remoteName, "RangeError");
      assert.equal(thrown.message, "RangeError: n must be positive");
      assert.match(thrown.remoteStack, /RangeError: n must be positive/);

      const unsendable = await pool.run((x: unknown) => x, { f: () => 1 })
        .catch((e) => e);
      assert.ok(unsendable instanceof TypeError);
      assert.match(unsendable.message, /cannot be serialized/);

      const tasks =
        "data:text/javascript,export const join = (o) => [...o.parts.keys()].join('+');";
      assert.equal(
        await pool.run({ module: tasks, exportName: "join" }, {
          parts: new Map([["a", 1], ["b", 2]]),
        }),
        "a+b",
      );
      const when = new Date(86_400_000);
      assert.deepEqual(await pool.run((d: Date) => d, when), when);
    });
  },
});

/** A task that runs ~`ms` (or until aborted), then says how it ended. */
const lasting = async (ms: number, signal: AbortSignal): Promise<string> => {
  const end = Date.now() + ms;
  while (!signal.aborted && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 10));
  }
  return signal.aborted ? "aborted" : "done";
};

Deno.test({
  name:
    "nats pool: two processes sharing one token are two nodes; killing the one running a task does not hang it",
  ignore,
  async fn(): Promise<void> {
    await withHub(
      "pool",
      { heartbeat: 200 },
      async ({ pool, hub, nodes, start }) => {
        const token = await hub.issueToken("twin");
        await start("twin", ["--capacity", "1"], token);
        await start("twin", ["--capacity", "1"], token);
        await until(() => hub.nodes.length === 2, "both twins to join");
        assert.deepEqual(hub.nodes.map((n) => n.node), ["twin", "twin"]);
        const task = pool.run(lasting, 1500);
        let busy = "";
        await until(() => {
          busy = hub.nodes.find((n) => n.running === 1)?.instance ?? "";
          return busy !== "";
        }, "a twin to run the task");
        await nodes.find((n) => n.instance === busy)!.stop("SIGKILL");
        // Sent again to the other twin, it runs to its end.
        assert.equal(await task, "done");
        assert.equal(hub.nodes.length, 1);
      },
    );
  },
});

Deno.test({
  name:
    "nats pool: a node stopped gracefully (SIGTERM) finishes its running task before it leaves",
  ignore,
  async fn(): Promise<void> {
    await withHub(
      "pool",
      { nodes: 1, heartbeat: 200, retries: 0 },
      async ({ pool, hub, nodes }) => {
        const task = pool.run(lasting, 1500);
        await until(() => hub.nodes[0]?.running === 1, "the task to start");
        const leaving = nodes[0].stop("SIGTERM");
        // Seven heartbeats pass while it drains: it is not declared lost.
        assert.equal(await task, "done");
        await leaving;
        await until(() => hub.nodes.length === 0, "the node's goodbye");
      },
    );
  },
});

Deno.test({
  name:
    "nats pool: a hub restarted with its secret gets its nodes back, live and durable",
  ignore,
  async fn(): Promise<void> {
    const server = await natsServer();
    try {
      for (const durable of [false, true]) {
        const name = hubName("restart");
        const options = {
          servers: server.url,
          hub: name,
          secret: "kept across restarts",
          heartbeat: 100,
          durable,
          ackWait: 1000,
        };
        const first = await NatsTransport.connect(options);
        const node = await startNode(
          server.url,
          name,
          await first.issueToken("n1"),
          ["--size", "1"],
        );
        try {
          await first.close();
          const second = await NatsTransport.connect(options);
          const pool = new IsolatePool({ name, size: 0, transport: second });
          try {
            // Its heartbeats (or, durable, its stored answers) are sealed
            // with keys the second hub derives again from the secret.
            const seven = (n: number): number => n * 7;
            assert.equal(await pool.run(seven, 6, { timeout: 10_000 }), 42);
            if (!durable) assert.equal(second.nodes.length, 1);
          } finally {
            await pool.close();
            await second.close();
          }
        } finally {
          await node.stop("SIGKILL");
        }
      }
    } finally {
      await server.stop();
    }
  },
});
