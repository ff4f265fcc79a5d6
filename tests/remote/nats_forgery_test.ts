// A client that reads every subject of the hub (an open NATS server) but
// holds no token: what it forges is dropped, and tasks still get real
// answers.
import assert from "node:assert/strict";
import { connect, headers, type Msg } from "nats";
import { decodeRemote, encodeRemote } from "../../src/remote/_wire.ts";
import { MethodChannel } from "../../mod.ts";
import { natsUnavailable, until, withHub } from "./_nats.ts";

const ignore = natsUnavailable() !== null;

Deno.test({
  name:
    "nats forgery: a token-less eavesdropper cannot answer tasks, send tasks or fake heartbeats",
  ignore,
  async fn(): Promise<void> {
    // Tasks the thief takes are never accepted: they are sent again.
    const options = {
      nodes: 1,
      heartbeat: 200,
      acceptTimeout: 300,
      retries: 20,
    };
    await withHub("forgery", options, async ({ url, name, hub, pool }) => {
      const spy = await connect({ servers: url });
      const dir = await Deno.makeTempDir({ prefix: "isolates_forgery_" });
      try {
        // It learns the secret-tagged subjects from the heartbeats.
        const tagged = Promise.withResolvers<string>();
        const all = spy.subscribe(`isolates.${name}.>`, {
          callback: (_e, msg) => {
            if (msg.subject.endsWith(".alive")) {
              tagged.resolve(msg.subject.slice(0, -".alive".length));
            }
          },
        });
        const base = await tagged.promise;
        const forged = (
          kind: string,
        ): { headers: ReturnType<typeof headers> } => {
          const h = headers();
          h.set("Isolates-Instance", kind);
          h.set("Isolates-Mac", "AAAA");
          return { headers: h };
        };
        // It joins the nodes' queue group and answers what it gets.
        let stolen = 0;
        const thief = spy.subscribe(`${base}.tasks`, {
          queue: "nodes",
          callback: (_e, msg: Msg) => {
            const message = decodeRemote(msg.data);
            if (message?.kind !== "tasks" || msg.reply === undefined) return;
            stolen += message.tasks.length;
            msg.respond(
              encodeRemote({
                kind: "answers",
                answers: message.tasks.map((t) => ({
                  id: t.id,
                  attempt: t.attempt,
                  ok: true,
                  result: "FORGED",
                })),
              }),
              forged("thief"),
            );
          },
        });
        // It claims a node with room for 1,000 tasks.
        spy.publish(
          `${base}.alive`,
          encodeRemote({
            kind: "alive",
            beat: 1e9,
            capacity: 1000,
            running: 0,
          }),
          forged(hub.nodes[0].instance),
        );
        // It sends a task of its own to the nodes.
        const mark = `${dir}/forged_task_ran`;
        spy.publish(
          `${base}.tasks`,
          encodeRemote({
            kind: "tasks",
            tasks: [{
              id: "x.1",
              attempt: 1,
              entry: null,
              exportName: "",
              source: `() => Deno.writeTextFileSync(${
                JSON.stringify(mark)
              }, "ran")`,
              input: null,
              deadline: null,
            }],
          }),
          { reply: "_INBOX.spy" },
        );
        await spy.flush();

        const results = await Promise.all(
          Array.from(
            { length: 20 },
            (_, i) => pool.run((n: number) => n * 2, i),
          ),
        );
        assert.deepEqual(results, Array.from({ length: 20 }, (_, i) => i * 2));
        assert.ok(stolen > 0, "the thief got no task to forge an answer for");
        assert.equal(hub.capacity, 4, "a forged heartbeat changed the room");
        await new Promise((r) => setTimeout(r, 300));
        await assert.rejects(() => Deno.stat(mark), Deno.errors.NotFound);
        all.unsubscribe();
        thief.unsubscribe();
      } finally {
        await spy.close();
        await Deno.remove(dir, { recursive: true });
      }
    });
  },
});

Deno.test({
  name:
    "nats forgery: replayed tasks, plugin calls and heartbeats change nothing",
  ignore,
  async fn(): Promise<void> {
    const options = { heartbeat: 100, retries: 0 };
    await withHub(
      "replay",
      options,
      async ({ url, name, hub, pool, start }) => {
        let calls = 0;
        const channel = new MethodChannel(`${name}/count`);
        channel.setMethodCallHandler(() => ++calls);
        const spy = await connect({ servers: url });
        const dir = await Deno.makeTempDir({ prefix: "isolates_replay_" });
        try {
          const node = await start("n1", ["--forward", `${name}/count`]);
          await until(() => hub.nodes.length === 1, "the node to join");
          // The spy records every message with its headers.
          const seen: Msg[] = [];
          spy.subscribe(">", { callback: (_e, msg) => seen.push(msg) });
          await spy.flush();
          const replay = (kind: string): number => {
            let sent = 0;
            for (const msg of seen) {
              if (decodeRemote(msg.data)?.kind !== kind) continue;
              spy.publish(msg.subject, msg.data, {
                headers: msg.headers,
                reply: msg.reply ?? undefined,
              });
              sent++;
            }
            return sent;
          };

          // A task that appends a line each time it runs, and one plugin call.
          const log = `${dir}/runs`;
          const mod = new URL("../../mod.ts", import.meta.url).href;
          await pool.run(
            async (input: { log: string; mod: string; channel: string }) => {
              await Deno.writeTextFile(input.log, "ran\n", { append: true });
              const { MethodChannel } = await import(input.mod);
              return await new MethodChannel(input.channel).invokeMethod(
                "count",
              );
            },
            { log, mod, channel: `${name}/count` },
          );
          assert.equal(calls, 1);
          assert.ok(replay("tasks") > 0, "no task message to replay");
          assert.ok(replay("call") > 0, "no plugin call to replay");
          await spy.flush();
          await new Promise((r) => setTimeout(r, 300));
          assert.equal(await Deno.readTextFile(log), "ran\n");
          assert.equal(calls, 1);

          // A dead node kept "alive" by replayed heartbeats is still lost.
          const task = pool.run(async (_: null, signal: AbortSignal) => {
            while (!signal.aborted) await new Promise((r) => setTimeout(r, 10));
          }, null).catch((e) => e);
          await until(() => hub.nodes[0]?.running === 1, "the task to start");
          await node.stop("SIGKILL");
          const keepAlive = setInterval(() => replay("alive"), 50);
          try {
            const error = await task;
            assert.equal(error.code, "remote_node_lost");
          } finally {
            clearInterval(keepAlive);
          }
        } finally {
          channel.setMethodCallHandler(null);
          await spy.close();
          await Deno.remove(dir, { recursive: true });
        }
      },
    );
  },
});
