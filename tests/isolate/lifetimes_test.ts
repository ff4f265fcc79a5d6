import assert from "node:assert/strict";
import {
  Isolate,
  IsolateExitedError,
  IsolateSpawnError,
  MethodChannel,
  ReceivePort,
  RemoteError,
  type SendPort,
  ServicesBinding,
} from "../../mod.ts";
// What keeps the main thread alive (open ports, live isolates, calls): the
// tests read it to see that an isolate is gone when a promise says so.
import { runtime } from "../../src/isolate/_runtime.ts";
import type { Outcome } from "./fixtures/_report.ts";
import {
  firstFrom,
  fixture,
  guarded,
  mainHandler,
  mentions,
  okOf,
  rootToken,
  sanitized,
  spawnAgent,
} from "./_helpers.ts";

const ENTRIES = fixture("entries.ts");
const LIFETIMES = fixture("lifetimes.ts");
const ROOT = new URL("../../", import.meta.url);

/** Spawning another `deno` process needs `--allow-run`. */
const canRunDeno = Deno.permissions.querySync({
  name: "run",
  command: Deno.execPath(),
}).state === "granted";

/**
 * Runs `deno run` on a program with a fresh ISOLATES_DATA_DIR; a watchdog
 * kills the process if it has not ended by itself (the failure this checks).
 */
async function runDeno(
  program: string | URL,
  args: string[],
  dataDir: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const controller = new AbortController();
  const watchdog = setTimeout(() => controller.abort(), 60_000);
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        program instanceof URL ? program.pathname : program,
        ...args,
      ],
      cwd: ROOT.pathname,
      env: { ISOLATES_DATA_DIR: dataDir, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).output();
    assert.ok(
      !controller.signal.aborted,
      `${program} did not end by itself; it was killed`,
    );
    return {
      code: output.code,
      stdout: new TextDecoder().decode(output.stdout),
      stderr: new TextDecoder().decode(output.stderr),
    };
  } finally {
    clearTimeout(watchdog);
  }
}

Deno.test(
  "Isolate ends by itself when its entry has returned and it holds no port",
  sanitized,
  guarded(async () => {
    const exits = new ReceivePort("exits");
    const isolate = await Isolate.spawn(ENTRIES, null, {
      exportName: "returnsAtOnce",
      onExit: exits.sendPort,
      onExitMessage: "ended",
    });
    await isolate.exited;
    assert.equal(await exits.first, "ended");
  }),
);

Deno.test(
  "Isolate holding a ReceivePort stays alive until it closes the port",
  sanitized,
  guarded(async () => {
    const replies = new ReceivePort("replies");
    const iterator = replies[Symbol.asyncIterator]();
    // The entry has returned once spawn() resolves (it is synchronous).
    const isolate = await Isolate.spawn(ENTRIES, replies.sendPort, {
      exportName: "holdsPort",
    });
    const commands = (await iterator.next()).value as SendPort;
    commands.send("ping");
    const first = await Promise.race([
      iterator.next().then((result) => result.value),
      isolate.exited.then(() => "exited"),
    ]);
    assert.equal(first, "pong");
    commands.send("close");
    await isolate.exited;
    replies.close();
  }),
);

Deno.test(
  "Isolate with a call in flight stays alive until the answer arrives",
  sanitized,
  guarded(async () => {
    const called = Promise.withResolvers<void>();
    const gate = Promise.withResolvers<string>();
    using handler = mainHandler("tests/lifetimes/wait", async () => {
      called.resolve();
      return await gate.promise;
    });
    const port = new ReceivePort();
    const isolate = await Isolate.spawn(LIFETIMES, {
      token: rootToken(),
      reply: port.sendPort,
      channel: handler.channel,
    }, { exportName: "callsAndReturns" });
    await called.promise;
    gate.resolve("answered late");
    // Had the isolate ended while waiting, this would fail, not hang.
    assert.deepEqual(await firstFrom<Outcome>(port, isolate), {
      ok: "answered late",
    });
    await isolate.exited;
  }),
);

/**
 * How many things keep the main thread alive at the moment `promise`
 * settles (read in the first reaction to it, before any other event).
 */
function holdsWhenSettled(promise: Promise<unknown>): Promise<number> {
  return promise.then(() => runtime.holds, () => runtime.holds);
}

Deno.test(
  "Isolate.run() settles only once its isolate is gone",
  sanitized,
  guarded(async (t) => {
    const before = runtime.holds;
    await t.step("with a result", async () => {
      const run = Isolate.run(() => "value");
      assert.equal(await holdsWhenSettled(run), before, "isolate still alive");
      assert.equal(await run, "value");
    });
    await t.step("with an error", async () => {
      const run = Isolate.run(async () => {
        await Promise.resolve();
        throw new Error("failed");
      });
      assert.equal(await holdsWhenSettled(run), before, "isolate still alive");
      await assert.rejects(run, RemoteError);
    });
  }),
);

Deno.test(
  "Isolate.spawn() rejects only once the isolate that failed to start is gone",
  sanitized,
  guarded(async () => {
    const before = runtime.holds;
    const spawn = Isolate.spawn(ENTRIES, null, { exportName: "noSuchExport" });
    assert.equal(await holdsWhenSettled(spawn), before, "isolate still alive");
    await assert.rejects(spawn, IsolateSpawnError);
  }),
);

Deno.test(
  "Isolate killed while its call to the main thread is in flight: nothing hangs",
  sanitized,
  guarded(async () => {
    const called = Promise.withResolvers<string>();
    const gate = Promise.withResolvers<void>();
    const finished = Promise.withResolvers<void>();
    using handler = mainHandler("tests/lifetimes/never", async (_, context) => {
      called.resolve(context.isolate);
      await gate.promise;
      finished.resolve();
      return "too late";
    });
    const agent = await spawnAgent({ token: rootToken() });
    const answer = agent.ask({
      op: "invoke",
      channel: handler.channel,
      method: "block",
    });
    assert.equal(await called.promise, agent.isolate.id);
    agent.isolate.kill();
    await agent.isolate.exited;
    await assert.rejects(answer, /ended before it answered/);
    // The handler's late answer goes nowhere, without an error.
    gate.resolve();
    await finished.promise;
  }),
);

Deno.test(
  "Isolate killed while the main thread's calls into it are in flight: they reject with IsolateExitedError",
  sanitized,
  guarded(async () => {
    const agent = await spawnAgent({ token: rootToken() }, {
      debugName: "busy-worker",
    });
    const notify = new ReceivePort("notify");
    const notified = notify[Symbol.asyncIterator]();
    okOf(
      await agent.ask({
        op: "serve",
        channel: "tests/lifetimes/hold",
        behaviour: "hold",
        notify: notify.sendPort,
      }),
    );
    const channel = new MethodChannel(
      "tests/lifetimes/hold",
      undefined,
      ServicesBinding.messengerFor(agent.isolate.id),
    );
    const calls = [
      channel.invokeMethod("first"),
      channel.invokeMethod("second"),
    ];
    await notified.next();
    await notified.next();
    agent.isolate.kill();
    for (const call of calls) {
      await assert.rejects(call, (error: unknown) => {
        assert.ok(error instanceof IsolateExitedError, String(error));
        assert.equal(error.code, "isolate_exited");
        assert.equal(error.isolate, agent.isolate.id);
        mentions(
          error.message,
          '"busy-worker"',
          `(${agent.isolate.id})`,
          "killed",
          '"tests/lifetimes/hold"',
        );
        return true;
      });
    }
    await agent.isolate.exited;
    notify.close();

    // A call to an isolate that is gone fails at once.
    await assert.rejects(
      channel.invokeMethod("afterwards"),
      (error: unknown) => {
        assert.ok(error instanceof IsolateExitedError, String(error));
        assert.equal(error.isolate, agent.isolate.id);
        return true;
      },
    );
  }),
);

Deno.test(
  "Isolate that crashes while handling a call: the caller gets IsolateExitedError, onError the crash",
  sanitized,
  guarded(async () => {
    const crashed = Promise.withResolvers<RemoteError>();
    const agent = await spawnAgent({ token: rootToken() }, {
      onError: crashed.resolve,
    });
    const notify = new ReceivePort("notify");
    okOf(
      await agent.ask({
        op: "serve",
        channel: "tests/lifetimes/crash",
        behaviour: "crash",
        notify: notify.sendPort,
      }),
    );
    const call = new MethodChannel(
      "tests/lifetimes/crash",
      undefined,
      ServicesBinding.messengerFor(agent.isolate.id),
    ).invokeMethod("work");
    await notify.first;
    await assert.rejects(call, (error: unknown) => {
      assert.ok(error instanceof IsolateExitedError, String(error));
      assert.equal(error.isolate, agent.isolate.id);
      return true;
    });
    mentions((await crashed.promise).message, "crashed while handling a call");
    await agent.isolate.exited;
  }),
);

Deno.test(
  "The seed's program ends by itself, and a new process reads what it stored",
  { ...sanitized, ignore: !canRunDeno }, // needs --allow-run
  guarded(async (t) => {
    const dataDir = await Deno.makeTempDir({ prefix: "isolates_seed_" });
    try {
      await t.step("the seed, as the issue writes it", async () => {
        const run = await runDeno(fixture("seed_program.ts"), ["20"], dataDir);
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(JSON.parse(run.stdout), {
          result: 6765,
          stored: 6765,
        });
      });
      await t.step("a new process reads the stored value", async () => {
        await Deno.remove(dataDir, { recursive: true });
        await Deno.mkdir(dataDir);
        const seed = await runDeno(fixture("seed_program.ts"), ["21"], dataDir);
        assert.equal(seed.code, 0, seed.stderr);
        const read = await runDeno(
          fixture("read_last_computation.ts"),
          [],
          dataDir,
        );
        assert.equal(read.code, 0, read.stderr);
        assert.deepEqual(JSON.parse(read.stdout), { last_computation: 10946 });
      });
      await t.step("examples/background_service.ts", async () => {
        const run = await runDeno(
          "examples/background_service.ts",
          ["22"],
          dataDir,
        );
        assert.equal(run.code, 0, run.stderr);
        mentions(
          run.stdout,
          "fib(22) = 17711",
          '"last_computation" = 17711',
          dataDir,
        );
      });
      await t.step("examples/missing_initialization.ts", async () => {
        const run = await runDeno(
          "examples/missing_initialization.ts",
          [],
          dataDir,
        );
        assert.equal(run.code, 0, run.stderr);
        mentions(
          run.stdout,
          "RootIsolateToken.instance inside the isolate: null",
          "MissingPluginException(",
          "ensureInitialized",
        );
      });
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  }),
);
