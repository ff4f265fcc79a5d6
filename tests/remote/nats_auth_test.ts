// Tokens scoped to a hub: a node without a good one joins nothing, takes
// no task and reaches no plugin.
import assert from "node:assert/strict";
import { connect } from "nats";
import { MethodChannel, TimeoutError } from "../../mod.ts";
import {
  NatsNode,
  NatsTransport,
  RemoteNodeError,
} from "../../src/remote/mod.ts";
import { decodeRemote, encodeRemote } from "../../src/remote/_wire.ts";
import { hubName, natsServer, natsUnavailable, withHub } from "./_nats.ts";

const ignore = natsUnavailable() !== null;

async function refusal(
  start: Promise<NatsNode>,
): Promise<RemoteNodeError> {
  const error = await start.then(
    async (node) => {
      await node.close();
      assert.fail("the node joined");
    },
    (e) => e,
  );
  assert.ok(error instanceof RemoteNodeError, String(error));
  assert.equal(error.code, "remote_auth");
  return error;
}

Deno.test({
  name:
    "nats auth: forged, altered, foreign, expired and revoked tokens are refused, saying why",
  ignore,
  async fn(): Promise<void> {
    await withHub("auth", {}, async ({ url, name, hub }) => {
      const other = await NatsTransport.connect({
        servers: url,
        hub: `${name}_other`,
      });
      const start = (token: string): Promise<NatsNode> =>
        NatsNode.start({ servers: url, hub: name, token, size: 1 });
      const good = await hub.issueToken("n1");
      assert.equal(await hub.verifyToken(good), null);

      const altered = good.replace(".n1.", ".n2.");
      assert.equal((await refusal(start(altered))).reason, "forged");
      const resigned = good.slice(0, -2) + (good.endsWith("A") ? "BB" : "AA");
      assert.equal((await refusal(start(resigned))).reason, "forged");
      assert.equal((await refusal(start("not a token"))).reason, "forged");

      const sameNameOtherSecret = await NatsTransport.connect({
        servers: url,
        hub: `${name}_twin`,
      });
      const twin = await sameNameOtherSecret.issueToken("n1");
      await sameNameOtherSecret.close();
      const foreign = await refusal(start(twin));
      assert.equal(foreign.reason, "foreign");
      assert.match(foreign.message, /issued by another hub/);

      const forOther = await other.issueToken("n1");
      const otherHubName = forOther.replace(`${name}_other`, name);
      assert.equal((await refusal(start(otherHubName))).reason, "forged");

      const short = await hub.issueToken("n3", { ttl: 1 });
      await new Promise((r) => setTimeout(r, 5));
      const expired = await refusal(start(short));
      assert.equal(expired.reason, "expired");
      assert.match(
        expired.message,
        /it has expired\); ask the hub for a new token/,
      );

      const doomed = await hub.issueToken("n4");
      hub.revoke("n4");
      assert.equal((await refusal(start(doomed))).reason, "revoked");

      assert.equal(hub.nodes.length, 0);
      assert.equal(hub.capacity, 0);
      await assert.rejects(
        () => hub.issueToken("bad name"),
        RangeError,
      );
      await other.close();
    });
  },
});

Deno.test({
  name:
    "nats auth: with only refused nodes, tasks reach no one and plugins answer no one",
  ignore,
  async fn(): Promise<void> {
    await withHub("auth", {}, async ({ url, name, hub, pool }) => {
      let calls = 0;
      const channel = new MethodChannel(`${name}/secret`);
      channel.setMethodCallHandler(() => {
        calls++;
        return "secret";
      });
      // A client that speaks the protocol with a made-up token.
      const intruder = await connect({ servers: url });
      try {
        const token = `v1.${name}.evil.${Date.now() + 60_000}.AAAA`;
        await refusal(NatsNode.start({ servers: url, hub: name, token }));
        const error = await pool.run(() => "ran", null, { timeout: 300 })
          .catch((e) => e);
        assert.ok(error instanceof TimeoutError);
        assert.equal(hub.capacity, 0);

        const at = Date.now();
        const join = await intruder.request(
          `isolates.${name}.join`,
          encodeRemote({
            kind: "join",
            body: `v1.${name}.evil.${at + 60_000}`,
            instance: "evil",
            at,
            proof: "made-up",
            capacity: 1000,
          }),
          { timeout: 2000 },
        );
        const answer = decodeRemote(join.data);
        assert.deepEqual(
          answer?.kind === "refused" ? answer.code : answer,
          "forged",
        );
        // The platform subject holds a tag only joined nodes are told:
        // a guess reaches no one.
        const call = encodeRemote({
          kind: "call",
          id: 1,
          at: Date.now(),
          channel: `${name}/secret`,
          payload: null,
        });
        await assert.rejects(
          () =>
            intruder.request(`isolates.${name}.guess.platform`, call, {
              timeout: 500,
            }),
          /503|TIMEOUT|no responders/i,
        );
        assert.equal(calls, 0);
      } finally {
        channel.setMethodCallHandler(null);
        await intruder.close();
      }
    });
  },
});

Deno.test({
  name:
    "nats auth: a good node's calls reach the hub's plugins until it is revoked",
  ignore,
  async fn(): Promise<void> {
    const server = await natsServer();
    const name = hubName("auth");
    const hub = await NatsTransport.connect({
      servers: server.url,
      hub: name,
      plugins: [`${name}/clock`],
    });
    const channel = new MethodChannel<{ now: { args: void; result: number } }>(
      `${name}/clock`,
    );
    channel.setMethodCallHandler(() => 42);
    const node = await NatsNode.start({
      servers: server.url,
      hub: name,
      token: await hub.issueToken("n1"),
      size: 1,
    });
    try {
      const remote = new MethodChannel<{ now: { args: void; result: number } }>(
        `${name}/clock`,
        undefined,
        node.messenger,
      );
      assert.equal(await remote.invokeMethod("now"), 42);
      // A channel the hub does not serve is one nothing handles.
      const unserved = new MethodChannel(
        `${name}/other`,
        undefined,
        node.messenger,
      );
      await assert.rejects(
        () => unserved.invokeMethod("x"),
        (e: Error) => e.name === "MissingPluginException",
      );
      hub.revoke("n1");
      const revoked = await remote.invokeMethod("now").catch((e) => e);
      assert.ok(revoked instanceof RemoteNodeError);
      assert.equal(revoked.code, "remote_auth");
      assert.equal(revoked.reason, "revoked");
      assert.throws(
        () => node.messenger.setMessageHandler("x", () => null),
        TypeError,
      );
    } finally {
      channel.setMethodCallHandler(null);
      await node.close();
      await hub.close();
      await server.stop();
    }
  },
});
