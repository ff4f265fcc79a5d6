// Shared by the NATS tests: a server to talk to, node processes to kill,
// and waits that fail instead of hanging.
import assert from "node:assert/strict";
import { IsolatePool } from "../../mod.ts";
import {
  NatsTransport,
  type NatsTransportOptions,
} from "../../src/remote/mod.ts";

/** A NATS server with JetStream, on a loopback port. */
export interface NatsServer {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Why the NATS tests cannot run here, or `null` when they can: a server
 * from `.ci/run` (`ISOLATES_NATS_URL`) or an installed `nats-server`.
 */
export function natsUnavailable(what = "The NATS tests are"): string | null {
  if (Deno.env.get("ISOLATES_NATS_URL") !== undefined) return null;
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/nats-server`).isFile) return null;
    } catch {
      // Not in this folder.
    }
  }
  const reason =
    "nats-server is not installed (apt-get install nats-server) and ISOLATES_NATS_URL is not set";
  console.warn(`${what} skipped: ${reason}`);
  return reason;
}

/**
 * The server `.ci/run` started (`ISOLATES_NATS_URL`), else a fresh one
 * with JetStream on a free loopback port, stopped by `stop()`.
 */
export async function natsServer(): Promise<NatsServer> {
  const shared = Deno.env.get("ISOLATES_NATS_URL");
  if (shared !== undefined) return { url: shared, stop: async () => {} };
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const store = await Deno.makeTempDir({ prefix: "isolates_nats_" });
  const child = new Deno.Command("nats-server", {
    args: ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", store],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `127.0.0.1:${port}`;
  await until(async () => {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return true;
    } catch {
      return false;
    }
  }, "nats-server to listen");
  return {
    url,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(store, { recursive: true });
    },
  };
}

/** A node process running `examples/node.ts`. */
export interface NodeProcess {
  readonly name: string;
  /** Its instance id, as the hub's `nodes` lists it. */
  readonly instance: string;
  /** Ends it: SIGKILL (a crash) or SIGTERM (it leaves gracefully). */
  stop(signal?: Deno.Signal): Promise<void>;
  /** Whether the process has ended (by itself or stopped). */
  readonly exited: Promise<boolean>;
}

const NODE = new URL("../../examples/node.ts", import.meta.url);

/** Starts a node process and waits until it has joined its hub. */
export async function startNode(
  url: string,
  hub: string,
  token: string,
  extra: string[] = [],
): Promise<NodeProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      NODE.pathname,
      "--servers",
      url,
      "--hub",
      hub,
      "--token",
      token,
      ...extra,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const joined = Promise.withResolvers<[string, string]>();
  let output = "";
  const read = async (stream: ReadableStream<Uint8Array>): Promise<void> => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      output += text;
      const match = output.match(/node (\S+) joined hub \S+ as (\S+)/);
      if (match) joined.resolve([match[1], match[2]]);
    }
  };
  const reading = Promise.all([read(child.stdout), read(child.stderr)]);
  const status = child.status.then((s) => {
    joined.reject(
      new Error(`node exited (${s.code}) before joining:\n${output}`),
    );
    return s;
  });
  const timer = setTimeout(
    () => joined.reject(new Error(`node did not join in 30 s:\n${output}`)),
    30_000,
  );
  let name: string;
  let instance: string;
  try {
    [name, instance] = await joined.promise;
  } catch (error) {
    child.kill("SIGKILL");
    await status;
    await reading;
    throw error;
  } finally {
    clearTimeout(timer);
  }
  let stopped: Promise<void> | null = null;
  let ended = false;
  status.then(() => ended = true);
  return {
    name,
    instance,
    get exited() {
      return Promise.resolve(ended);
    },
    stop: (signal = "SIGKILL") => {
      stopped ??= (async () => {
        try {
          child.kill(signal);
        } catch {
          // Already gone.
        }
        await status;
        await reading;
      })();
      return stopped;
    },
  };
}

/** Polls `check` every 20 ms; fails after `ms` naming what it waited for. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 15_000,
): Promise<void> {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let hubs = 0;

/** A hub name no other test uses (they may share one server). */
export function hubName(what: string): string {
  return `${what}_${Deno.pid}_${++hubs}`;
}

/** What {@linkcode withHub} hands its body. */
export interface HubFixture {
  readonly url: string;
  readonly name: string;
  readonly hub: NatsTransport;
  /** The hub's pool: no workers of its own, the hub as transport. */
  readonly pool: IsolatePool;
  /** The node processes started so far. */
  readonly nodes: NodeProcess[];
  /**
   * Starts one more node process (one worker), with a new token for `node`
   * or the `token` given.
   */
  start(node: string, extra?: string[], token?: string): Promise<NodeProcess>;
}

/**
 * A server, a hub named after `what`, its pool, and `nodes` node processes
 * (one worker each), joined before `body` runs; all ended after it.
 */
export async function withHub(
  what: string,
  options: Omit<NatsTransportOptions, "servers" | "hub"> & {
    nodes?: number;
    nodeArgs?: string[];
  },
  body: (fixture: HubFixture) => Promise<void>,
): Promise<void> {
  const server = await natsServer();
  const name = hubName(what);
  const { nodes: count = 0, nodeArgs = [], ...hubOptions } = options;
  const hub = await NatsTransport.connect({
    ...hubOptions,
    servers: server.url,
    hub: name,
  });
  const pool = new IsolatePool({ name, size: 0, transport: hub });
  const nodes: NodeProcess[] = [];
  const fixture: HubFixture = {
    url: server.url,
    name,
    hub,
    pool,
    nodes,
    start: async (node, extra = nodeArgs, token?: string) => {
      const started = await startNode(
        server.url,
        name,
        token ?? await hub.issueToken(node),
        ["--size", "1", ...extra],
      );
      nodes.push(started);
      return started;
    },
  };
  try {
    for (let i = 1; i <= count; i++) await fixture.start(`n${i}`);
    await until(() => hub.nodes.length === count, `${count} nodes to join`);
    await body(fixture);
  } finally {
    await pool.close({ drain: false });
    await Promise.all(nodes.map((node) => node.stop("SIGKILL")));
    await hub.close();
    await server.stop();
  }
}
