// JetStream mode: accepted tasks are stored, and survive every node
// crashing with tasks pending.
import assert from "node:assert/strict";
import { natsUnavailable, until, withHub } from "./_nats.ts";

const ignore = natsUnavailable() !== null;
const durable = {
  durable: true,
  secret: "a test secret, kept here only",
  ackWait: 1000,
  heartbeat: 200,
};

Deno.test({
  name:
    "nats durable: every node killed with tasks pending, new nodes finish them all",
  ignore,
  async fn(): Promise<void> {
    await withHub("durable", durable, async ({ hub, pool, nodes, start }) => {
      // Submitted before any node exists: JetStream holds them.
      let settled = 0;
      const spin = (n: number): number => {
        const end = Date.now() + 25;
        while (Date.now() < end) { /* busy */ }
        return n * 5;
      };
      const runs = Array.from(
        { length: 60 },
        (_, i) => pool.run(spin, i).finally(() => settled++),
      );
      await start("n1");
      await start("n2");
      await until(() => settled >= 10, "10 tasks to finish");
      // A node pulls no more than its capacity (4 × 1 worker): the first
      // could not take all 60 before the second joined.
      await until(
        () => hub.nodes.length === 2 && hub.nodes.every((n) => n.done > 0),
        "both nodes to finish tasks",
      );
      await Promise.all(nodes.map((node) => node.stop("SIGKILL")));
      const before = settled;
      assert.ok(before < 60, "every task finished before the crash");
      await new Promise((r) => setTimeout(r, 300));
      // No node: nothing moves, nothing fails.
      assert.ok(settled <= before + 2, `${settled} settled with no node`);
      await start("n3");
      await start("n4");
      const results = await Promise.all(runs);
      assert.deepEqual(results, Array.from({ length: 60 }, (_, i) => i * 5));
    });
  },
});

Deno.test({
  name:
    "nats durable: a task's error and a cancelled task settle, and the stream goes on",
  ignore,
  async fn(): Promise<void> {
    await withHub("durable", { ...durable, nodes: 1 }, async ({ pool }) => {
      const thrown = await pool.run(() => {
        throw new TypeError("bad row");
      }).catch((e) => e);
      assert.equal(thrown.remoteName, "TypeError");
      assert.equal(thrown.message, "TypeError: bad row");

      const controller = new AbortController();
      const cancelled = pool.run(
        async (_: null, signal: AbortSignal) => {
          while (!signal.aborted) await new Promise((r) => setTimeout(r, 5));
          return "stopped";
        },
        null,
        { signal: controller.signal },
      ).catch((e) => e);
      await new Promise((r) => setTimeout(r, 200));
      controller.abort(new Error("cancelled by the test"));
      assert.equal((await cancelled).message, "cancelled by the test");
      // The node's worker is free again: the next task runs.
      assert.equal(
        await pool.run((n: number) => n + 1, 1, { timeout: 10_000 }),
        2,
      );
    });
  },
});

Deno.test({
  name:
    "nats durable: a task cancelled before any node took it never runs; one that kills every node holding it fails after retries + 1 starts",
  ignore,
  async fn(): Promise<void> {
    await withHub("durable", durable, async ({ pool, start, nodes }) => {
      const dir = await Deno.makeTempDir({ prefix: "isolates_durable_" });
      try {
        const mark = `${dir}/cancelled_task_ran`;
        const controller = new AbortController();
        const cancelled = pool.run(
          (path: string) => Deno.writeTextFileSync(path, "ran"),
          mark,
          { signal: controller.signal },
        ).catch((e) => e);
        await new Promise((r) => setTimeout(r, 100)); // stored by now
        controller.abort(new Error("not needed"));
        assert.equal((await cancelled).message, "not needed");
        await start("n1");
        // A later task runs: the node went past the cancelled one.
        assert.equal(await pool.run((n: number) => n + 1, 1), 2);
        await assert.rejects(() => Deno.stat(mark), Deno.errors.NotFound);

        // Each node that takes this task dies (retries: 1, so 2 deliveries).
        const fatal = pool.run(() => Deno.kill(Deno.pid, "SIGKILL"))
          .catch((e) => e);
        await until(async () => (await nodes[0].exited), "n1 to die");
        await start("n2");
        await until(async () => (await nodes[1].exited), "n2 to die");
        const error = await fatal;
        assert.equal(error.code, "remote_node_lost");
        assert.match(error.message, /started 2 times/);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  },
});

Deno.test({
  name:
    "nats durable: a node that takes a task every allowed start died with reports it lost, and no node runs it",
  ignore,
  async fn(): Promise<void> {
    // The hub notices a dead node only after 15 s of silence here, so the
    // next node, handed the task after `ackWait`, is the one to tell.
    const slowWatch = { ...durable, retries: 0, heartbeat: 5000 };
    await withHub("durable", slowWatch, async ({ pool, start, nodes }) => {
      const dir = await Deno.makeTempDir({ prefix: "isolates_durable_" });
      try {
        const fatal = pool.run((path: string) => {
          try {
            Deno.statSync(path);
            Deno.writeTextFileSync(`${path}.again`, "ran twice");
          } catch {
            Deno.writeTextFileSync(path, "ran");
            Deno.kill(Deno.pid, "SIGKILL");
          }
        }, `${dir}/ran`).catch((e) => e);
        await start("n1");
        await until(async () => (await nodes[0].exited), "n1 to die");
        await start("n2");
        const error = await fatal;
        assert.equal(error.code, "remote_node_lost");
        assert.match(error.message, /started 1 time and/);
        // n2 lives, did not run it, and runs the next task.
        assert.equal(await pool.run((n: number) => n * 2, 21), 42);
        await assert.rejects(
          () => Deno.stat(`${dir}/ran.again`),
          Deno.errors.NotFound,
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  },
});

Deno.test({
  name:
    "nats durable: 500 tasks at once all settle, over 2 nodes holding no more than their capacity",
  ignore,
  async fn(): Promise<void> {
    await withHub(
      "durable",
      { ...durable, nodes: 2 },
      async ({ hub, pool }) => {
        let settled = 0;
        const runs = Array.from(
          { length: 500 },
          (_, i) => pool.run((n: number) => n * 3, i).finally(() => settled++),
        );
        let most = 0;
        await until(
          () => {
            for (const node of hub.nodes) most = Math.max(most, node.running);
            return settled === 500;
          },
          "500 durable tasks to settle",
          60_000,
        );
        assert.deepEqual(
          await Promise.all(runs),
          Array.from({ length: 500 }, (_, i) => i * 3),
        );
        assert.ok(hub.nodes.every((node) => node.done > 0), "a node idled");
        assert.ok(most <= 4, `a node ran ${most} tasks at once (capacity 4)`);
      },
    );
  },
});
