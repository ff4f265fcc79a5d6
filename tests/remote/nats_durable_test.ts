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
    await withHub("durable", durable, async ({ pool, nodes, start }) => {
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
