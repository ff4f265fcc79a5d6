// Remote plugins: a task on another process's worker calls a plugin bound
// to the hub's main thread, through the same typed channel API.
import assert from "node:assert/strict";
import { MethodChannel, PlatformException } from "../../mod.ts";
import { natsUnavailable, until, withHub } from "./_nats.ts";

const ignore = natsUnavailable() !== null;

Deno.test({
  name:
    "nats plugins: a task on a node's worker calls the hub root's plugin, errors included",
  ignore,
  async fn(): Promise<void> {
    await withHub("plugins", {}, async ({ pool, hub, name, start }) => {
      // A main-thread-bound service of the hub: an audit log in its memory.
      const audit: string[] = [];
      const channel = new MethodChannel<{
        append: { args: string; result: number };
      }>(`${name}/audit`);
      channel.setMethodCallHandler((call) => {
        if (call.arguments === "") {
          throw new PlatformException({
            code: "empty",
            message: "Cannot append an empty line",
          });
        }
        audit.push(String(call.arguments));
        return audit.length;
      });
      try {
        await start("n1", ["--forward", `${name}/audit`]);
        await until(() => hub.nodes.length === 1, "the node to join");
        const mod = new URL("../../mod.ts", import.meta.url).href;
        // Runs on the node's worker: the channel goes to the node's main
        // thread, which forwards it to the hub's root.
        const append = async (
          input: { mod: string; channel: string; line: string },
        ): Promise<unknown> => {
          const { MethodChannel } = await import(input.mod);
          try {
            return await new MethodChannel(input.channel).invokeMethod(
              "append",
              input.line,
            );
          } catch (error) {
            const e = error as { name: string; code: string; message: string };
            return `${e.name}/${e.code}/${e.message}`;
          }
        };
        const args = { mod, channel: `${name}/audit` };
        assert.equal(await pool.run(append, { ...args, line: "first" }), 1);
        assert.equal(await pool.run(append, { ...args, line: "second" }), 2);
        assert.deepEqual(audit, ["first", "second"]);
        assert.equal(
          await pool.run(append, { ...args, line: "" }),
          "PlatformException/empty/Cannot append an empty line",
        );
        // Not forwarded by the node: nothing handles it there.
        assert.match(
          String(
            await pool.run(append, { mod, channel: `${name}/x`, line: "a" }),
          ),
          /^MissingPluginException/,
        );
      } finally {
        channel.setMethodCallHandler(null);
      }
    });
  },
});
