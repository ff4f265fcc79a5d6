import {
  connect,
  type ConnectionOptions,
  credsAuthenticator,
  type NatsConnection,
} from "nats";
import type { NatsAuth } from "./nats_auth.ts";
import { RemoteNodeError } from "./remote_node_error.ts";

/** Opens a connection, with a typed error when no server answers. */
export async function open(
  servers: string | string[] | undefined,
  who: string,
  auth: NatsAuth = {},
): Promise<NatsConnection> {
  const list = servers ?? "127.0.0.1:4222";
  const options: ConnectionOptions = {
    servers: list,
    name: `isolates ${who}`,
    maxReconnectAttempts: -1,
    waitOnFirstConnect: false,
  };
  if (auth.user !== undefined) options.user = auth.user;
  if (auth.pass !== undefined) options.pass = auth.pass;
  if (auth.token !== undefined) options.token = auth.token;
  if (auth.creds !== undefined) {
    options.authenticator = credsAuthenticator(
      new TextEncoder().encode(auth.creds),
    );
  }
  if (auth.tls !== undefined) options.tls = { ...auth.tls };
  try {
    return await connect(options);
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

/**
 * The JetStream stream of a hub's durable tasks: named after the hub and
 * its secret's tag, so a hub with another secret never meets its tasks.
 */
export function streamOf(hub: string, tag: string): string {
  return `ISOLATES_${hub}_${tag.slice(0, 10)}`;
}
