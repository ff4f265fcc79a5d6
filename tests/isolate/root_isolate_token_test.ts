import assert from "node:assert/strict";
import {
  MethodChannel,
  RootIsolateToken,
  RootIsolateTokenError,
  type TokenRejection,
} from "../../mod.ts";
import { tokenToData } from "../../src/isolate/root_isolate_token.ts";
import type { ErrorReport } from "./fixtures/_report.ts";
import {
  errorOf,
  fixture,
  guarded,
  mentions,
  okOf,
  sanitized,
  spawnAgent,
} from "./_helpers.ts";

/** Spawning another `deno` process needs `--allow-run`. */
const canRunDeno = Deno.permissions.querySync({
  name: "run",
  command: Deno.execPath(),
}).state === "granted";

/** The wire record of a token, as it crosses a worker boundary. */
function tokenRecord(process: string, secret: string): unknown {
  return { __isolates_ref__: "RootIsolateToken", process, secret };
}

function randomHex(bytes: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

/** The current root token (non-null on the main thread). */
function rootToken(): RootIsolateToken {
  const token = RootIsolateToken.instance;
  assert.ok(token !== null, "RootIsolateToken.instance is null on main");
  return token;
}

/**
 * A main-thread handler that counts its calls, removed on dispose: a refused
 * token must never reach it.
 */
function countingHandler(
  name: string,
): Disposable & { channel: string; calls: string[] } {
  const channel = new MethodChannel(name);
  const calls: string[] = [];
  channel.setMethodCallHandler((call, context) => {
    calls.push(`${context.isolate}:${call.method}`);
    return "answered";
  });
  return {
    channel: name,
    calls,
    [Symbol.dispose]: () => channel.setMethodCallHandler(null),
  };
}

/** Checks a RootIsolateTokenError reported by the worker `isolate`. */
function refused(
  error: ErrorReport,
  code: TokenRejection,
  isolate: string,
  why: string,
): void {
  assert.ok(
    error.classes.includes("RootIsolateTokenError"),
    `not a RootIsolateTokenError: ${error.text}`,
  );
  assert.ok(error.classes.includes("IsolatesError"));
  assert.equal(error.name, "RootIsolateTokenError");
  assert.equal(error.code, code);
  assert.equal(error.isolate, isolate);
  mentions(error.message, `isolate ${isolate}`, why);
}

/**
 * Spawns an agent that connects with `token` and checks that its first call
 * is refused with `code` without reaching the handler.
 */
async function expectRefused(
  token: unknown,
  code: TokenRejection,
  why: string,
): Promise<void> {
  using handler = countingHandler(`tests/token/${code}`);
  const agent = await spawnAgent({ token });
  // ensureInitialized is synchronous, as in Flutter: it accepts anything
  // that arrived as a token; the root's verdict comes with the first call.
  okOf(agent.ready.init!);
  assert.equal(agent.ready.tokenArrived, true);
  const first = await agent.ask({
    op: "invoke",
    channel: handler.channel,
    method: "read",
  });
  refused(errorOf(first), code, agent.isolate.id, why);
  const second = await agent.ask({
    op: "invoke",
    channel: handler.channel,
    method: "readAgain",
  });
  refused(errorOf(second), code, agent.isolate.id, why);
  assert.deepEqual(handler.calls, []);
  await agent.close();
}

Deno.test(
  "RootIsolateToken.instance is a stable token on the main thread",
  sanitized,
  guarded(() => {
    const token = rootToken();
    assert.ok(token instanceof RootIsolateToken);
    assert.equal(RootIsolateToken.instance, token);
    // Its secret is not printed.
    assert.equal(String(token), "RootIsolateToken");
    assert.throws(
      () =>
        new RootIsolateToken(Symbol("forged"), { process: "p", secret: "s" }),
      TypeError,
    );
  }),
);

Deno.test(
  "RootIsolateToken.instance is null in a worker, and a token sent to it arrives as a token",
  sanitized,
  guarded(async (t) => {
    await t.step("without a token", async () => {
      const agent = await spawnAgent();
      assert.equal(agent.ready.tokenIsNull, true);
      assert.equal(agent.ready.id, agent.isolate.id);
      await agent.close();
    });
    await t.step("with a token in the spawn message", async () => {
      const agent = await spawnAgent({ token: rootToken() });
      assert.equal(agent.ready.tokenIsNull, true);
      assert.equal(agent.ready.tokenArrived, true);
      await agent.close();
    });
  }),
);

Deno.test(
  "RootIsolateToken sent through a SendPort after spawn connects the worker",
  sanitized,
  guarded(async () => {
    using handler = countingHandler("tests/token/late");
    const agent = await spawnAgent();
    const init = okOf(
      await agent.ask({ op: "init", token: rootToken() }),
    );
    assert.deepEqual(init, { tokenArrived: true, sameInstance: false });
    const answer = await agent.ask({
      op: "invoke",
      channel: handler.channel,
      method: "read",
    });
    assert.equal(okOf(answer), "answered");
    assert.deepEqual(handler.calls, [`${agent.isolate.id}:read`]);
    await agent.close();
  }),
);

Deno.test(
  "RootIsolateToken sent back by a worker still works for another isolate",
  sanitized,
  guarded(async () => {
    using handler = countingHandler("tests/token/round_trip");
    const first = await spawnAgent();
    const back = okOf(
      await first.ask({ op: "echo", value: { nested: [rootToken()] } }),
    ) as { nested: [RootIsolateToken] };
    await first.close();
    const [token] = back.nested;
    assert.ok(token instanceof RootIsolateToken, `arrived as ${token}`);
    const second = await spawnAgent({ token });
    const call = await second.ask({
      op: "invoke",
      channel: handler.channel,
      method: "read",
    });
    assert.equal(okOf(call), "answered");
    await second.close();
  }),
);

Deno.test(
  "RootIsolateToken that was forged never reaches a handler: token_forged",
  sanitized,
  guarded(async (t) => {
    const { process } = tokenToData(rootToken());
    await t.step("this process's id with a made-up secret", async () => {
      await expectRefused(
        tokenRecord(process, randomHex(32)),
        "token_forged",
        "forged or altered",
      );
    });
    await t.step("an id that is not a process id", async () => {
      await expectRefused(
        tokenRecord("not-a-process", randomHex(32)),
        "token_forged",
        "forged or altered",
      );
    });
    await t.step("an empty secret", async () => {
      await expectRefused(
        tokenRecord(process, ""),
        "token_forged",
        "forged or altered",
      );
    });
  }),
);

Deno.test(
  "RootIsolateToken altered by a worker never reaches a handler: token_forged",
  sanitized,
  guarded(async () => {
    using handler = countingHandler("tests/token/altered");
    const agent = await spawnAgent();
    assert.equal(
      okOf(await agent.ask({ op: "alter", token: rootToken() })),
      true,
    );
    const call = await agent.ask({
      op: "invoke",
      channel: handler.channel,
      method: "read",
    });
    refused(errorOf(call), "token_forged", agent.isolate.id, "altered");
    assert.deepEqual(handler.calls, []);
    await agent.close();
  }),
);

Deno.test(
  "RootIsolateToken of another process never reaches a handler: token_foreign",
  sanitized,
  guarded(async () => {
    await expectRefused(
      tokenRecord(randomHex(16), randomHex(32)),
      "token_foreign",
      "another process",
    );
  }),
);

Deno.test(
  "RootIsolateToken printed by another deno process never reaches a handler: token_foreign",
  // Needs --allow-run; without it this test shows as ignored.
  { ...sanitized, ignore: !canRunDeno },
  guarded(async () => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", fixture("print_token.ts").pathname],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    const data = JSON.parse(new TextDecoder().decode(output.stdout)) as {
      process: string;
      secret: string;
    };
    assert.notEqual(data.process, tokenToData(rootToken()).process);
    await expectRefused(
      tokenRecord(data.process, data.secret),
      "token_foreign",
      "another process",
    );
  }),
);

Deno.test(
  "RootIsolateToken.revoke() refuses the old token to new isolates: token_revoked",
  sanitized,
  guarded(async () => {
    const old = rootToken();
    old.revoke();
    const fresh = rootToken();
    assert.notEqual(fresh, old);
    await expectRefused(old, "token_revoked", "revoked");

    using handler = countingHandler("tests/token/fresh");
    const agent = await spawnAgent({ token: fresh });
    const call = await agent.ask({
      op: "invoke",
      channel: handler.channel,
      method: "read",
    });
    assert.equal(okOf(call), "answered");
    await agent.close();
  }),
);

Deno.test(
  "RootIsolateToken.revoke() makes the next call of a registered isolate fail",
  sanitized,
  guarded(async (t) => {
    using handler = countingHandler("tests/token/revoked_live");
    const token = rootToken();
    const agent = await spawnAgent({ token });
    const call = { op: "invoke", channel: handler.channel, method: "read" };

    await t.step("before revoke() the call is answered", async () => {
      assert.equal(
        okOf(await agent.ask({ ...call, op: "invoke" })),
        "answered",
      );
      assert.equal(handler.calls.length, 1);
    });

    await t.step("after revoke() it fails with token_revoked", async () => {
      token.revoke();
      const refusedCall = await agent.ask({ ...call, op: "invoke" });
      refused(
        errorOf(refusedCall),
        "token_revoked",
        agent.isolate.id,
        "revoked",
      );
      assert.equal(handler.calls.length, 1);
    });
    await agent.close();
  }),
);

Deno.test(
  "RootIsolateToken.revoke() throws StateError outside the main thread",
  sanitized,
  guarded(async () => {
    const token = rootToken();
    const agent = await spawnAgent();
    const error = errorOf(await agent.ask({ op: "revoke", token }));
    assert.ok(error.classes.includes("StateError"), error.text);
    mentions(error.message, "main thread");
    await agent.close();
    // The token still works on the main thread's side.
    assert.equal(RootIsolateToken.instance, token);
  }),
);

Deno.test(
  "RootIsolateTokenError has a code and names the isolate",
  sanitized,
  guarded(() => {
    const error = new RootIsolateTokenError("token_foreign", "0.7");
    assert.equal(error.code, "token_foreign");
    assert.equal(error.isolate, "0.7");
    assert.match(
      error.message,
      /^Cannot reach platform handlers from isolate 0\.7: /,
    );
  }),
);
