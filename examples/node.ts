/**
 * A node of a hub: joins it over NATS with a token the hub issued, runs the
 * hub's tasks in its own pool of isolates, and forwards the listed platform
 * channels to the hub's root (remote plugins). It runs until interrupted
 * (Ctrl-C or SIGTERM leave the hub gracefully: running tasks finish first).
 *
 * Run (with a hub running, e.g. `examples/remote_hub.ts`):
 *
 *     ISOLATES_NODE_TOKEN=<token> deno run -A examples/node.ts \
 *       --servers 127.0.0.1:4222 --hub demo --size 2 --forward demo/log
 */
import { parseArgs } from "node:util";
import { NatsNode, RemoteNodeError } from "@isolates/isolates/nats";

const args = parseArgs({
  options: {
    servers: { type: "string", default: "127.0.0.1:4222" },
    hub: { type: "string", default: "default" },
    token: { type: "string" },
    size: { type: "string" },
    capacity: { type: "string" },
    forward: { type: "string", multiple: true, default: [] },
  },
});
const token = args.values.token ?? Deno.env.get("ISOLATES_NODE_TOKEN");
if (token === undefined) {
  console.error(
    "Cannot start the node: no token; pass --token or set ISOLATES_NODE_TOKEN to a token from the hub's issueToken()",
  );
  Deno.exit(2);
}
const number = (text: string | undefined): number | undefined =>
  text === undefined ? undefined : Number(text);

let node: NatsNode;
try {
  node = await NatsNode.start({
    servers: args.values.servers,
    hub: args.values.hub,
    token,
    size: number(args.values.size),
    capacity: number(args.values.capacity),
    forward: args.values.forward,
  });
} catch (error) {
  if (!(error instanceof RemoteNodeError)) throw error;
  console.error(error.message);
  Deno.exit(1);
}
// One line a supervising process can wait for.
console.log(`node ${node.node} joined hub ${node.hub} as ${node.instance}`);

const leave = (): void => {
  node.close().then(() => Deno.exit(0));
};
Deno.addSignalListener("SIGINT", leave);
Deno.addSignalListener("SIGTERM", leave);
