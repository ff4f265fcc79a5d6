/**
 * `@isolates/isolates/nats`: an {@linkcode IsolatePool}'s tasks and the
 * root's plugins over NATS, across processes and machines, with the same
 * API as in one process.
 *
 * The hub (the process whose pool submits tasks, and whose root hosts the
 * plugins) opens a {@linkcode NatsTransport} and passes it to its pool as
 * `transport`; each node process runs {@linkcode NatsNode.start} with a
 * token the hub issued. Tasks go to nodes through a NATS queue group, or
 * through JetStream when `durable`. This entry point depends on the `nats`
 * client from npm; the core module (`@isolates/isolates`) has none.
 *
 * @example The pieces, without a server
 * ```ts
 * import { NatsNode, NatsTransport, RemoteNodeError } from "@isolates/isolates/nats";
 * import assert from "node:assert/strict";
 *
 * assert.equal(typeof NatsTransport.connect, "function");
 * assert.equal(typeof NatsNode.start, "function");
 * const refused = await NatsTransport.connect({ servers: "127.0.0.1:1" }).catch((e) => e);
 * assert.ok(refused instanceof RemoteNodeError);
 * ```
 *
 * @module
 */

export {
  type IssueTokenOptions,
  NatsTransport,
  type NatsTransportOptions,
  type RemoteNodeInfo,
} from "./nats_transport.ts";
export { NatsNode, type NatsNodeOptions } from "./nats_node.ts";
export type { NatsAuth } from "./nats_auth.ts";
export { RemoteNodeError } from "./remote_node_error.ts";
export type { TokenVerdict } from "./_token.ts";
