import { connect, type NatsConnection } from "nats";
import { RemoteNodeError } from "./remote_node_error.ts";

/** Opens a connection, with a typed error when no server answers. */
export async function open(
  servers: string | string[] | undefined,
  who: string,
): Promise<NatsConnection> {
  const list = servers ?? "127.0.0.1:4222";
  try {
    return await connect({
      servers: list,
      name: `isolates ${who}`,
      maxReconnectAttempts: -1,
      waitOnFirstConnect: false,
    });
  } catch (error) {
    throw new RemoteNodeError(
      "remote_unavailable",
      `Cannot connect "${who}" to NATS at ${[list].flat().join(", ")}: ${
        error instanceof Error ? error.message : String(error)
      }; start nats-server (apt-get install nats-server; nats-server -js)`,
      null,
      error,
    );
  }
}

/** The JetStream stream of a hub's durable tasks. */
export function streamOf(hub: string): string {
  return `ISOLATES_${hub}`;
}
