// Isolates under the root supervisor (issue 5, item 3): restart types,
// re-registration with the root token, the isolate's mailbox on the main
// thread, and sandboxed workers that store through a proxied plugin.
import assert from "node:assert/strict";
import {
  Isolate,
  IsolateExitedError,
  MailboxFullError,
  MethodChannel,
  ReceivePort,
  ServicesBinding,
  SharedPreferences,
  Supervisor,
  type SupervisorEvent,
} from "../../mod.ts";
import {
  collect,
  fixture,
  guarded,
  mainHandler,
  okOf,
  rootToken,
  SANDBOX,
  sanitized,
  spawnAgent,
} from "../isolate/_helpers.ts";
import type {
  SupervisedCommand,
  SupervisedReport,
} from "../isolate/fixtures/supervised.ts";

/** The next root event that `match` accepts (later ones stay unread). */
async function nextEvent(
  events: AsyncIterator<SupervisorEvent>,
  match: (event: SupervisorEvent) => boolean,
): Promise<SupervisorEvent> {
  while (true) {
    const { value, done } = await events.next();
    assert.ok(!done, "the root supervisor's events ended");
    if (match(value)) return value;
  }
}

function send(report: SupervisedReport, command: SupervisedCommand): void {
  report.commands.send(command);
}

Deno.test({
  name:
    "Isolate.spawn() with restart permanent is restarted after a crash with its entry and message, and registers again",
  ...sanitized,
  fn: guarded(async () => {
    const greeted: unknown[] = [];
    using _ = mainHandler("test/supervised", (call) => {
      greeted.push(call.arguments);
      return `hello ${call.arguments}`;
    });
    const events = Supervisor.root.events();
    const reports = new ReceivePort("reports");
    const incoming = collect(reports);
    const isolate = await Isolate.spawn(
      fixture("supervised.ts"),
      { token: rootToken(), report: reports.sendPort },
      { restart: "permanent", debugName: "phoenix", onError: () => {} },
    );
    const id = isolate.supervisionId;
    assert.equal(id, isolate.id);
    const first = await incoming.next() as SupervisedReport;
    assert.equal(first.id, isolate.id);
    assert.equal(first.hello, `hello ${isolate.id}`);
    assert.equal(Supervisor.root.child(id), isolate);

    send(first, { op: "crash" });
    const reason = await isolate.exited;
    assert.equal(reason.kind, "crashed");
    await nextEvent(events, (e) => e.type === "restarted" && e.id === id);

    const second = await incoming.next() as SupervisedReport;
    assert.notEqual(second.id, first.id, "a restart is a new isolate");
    // It registered again with the token from its original message.
    assert.equal(second.hello, `hello ${second.id}`);
    const current = Supervisor.root.child(id) as Isolate;
    assert.equal(current.id, second.id);
    assert.equal(current.supervisionId, id);
    const node = Supervisor.root.inspect().children.find((c) => c.id === id);
    assert.equal(node?.restarts, 1);
    assert.equal(node?.restart, "permanent");
    assert.deepEqual(greeted, [first.id, second.id]);

    await Supervisor.root.terminateChild(id);
    Supervisor.root.deleteChild(id);
    assert.equal((await current.exited).kind, "shutdown");
    reports.close();
    await events.return?.();
  }),
});

Deno.test({
  name:
    "Isolate.spawn() with restart transient is not restarted after a normal exit, but is after a crash",
  ...sanitized,
  fn: guarded(async (t) => {
    using _ = mainHandler("test/supervised", (call) => `hi ${call.arguments}`);
    const reports = new ReceivePort("reports");
    const incoming = collect(reports);
    const events = Supervisor.root.events();

    await t.step("a normal exit ends it for good", async () => {
      const isolate = await Isolate.spawn(
        fixture("supervised.ts"),
        { token: rootToken(), report: reports.sendPort },
        { restart: "transient" },
      );
      const report = await incoming.next() as SupervisedReport;
      send(report, { op: "exit" });
      assert.deepEqual(await isolate.exited, { kind: "normal" });
      const exited = await nextEvent(
        events,
        (e) => e.type === "exited" && e.id === isolate.supervisionId,
      );
      assert.deepEqual(exited.type === "exited" && exited.reason, {
        kind: "normal",
      });
      // The next event about it, if any, would be a restart: none is due.
      const node = Supervisor.root.inspect().children.find((c) =>
        c.id === isolate.supervisionId
      );
      assert.ok(node === undefined || node.state === "stopped");
      Supervisor.root.child(isolate.supervisionId) === undefined ||
        Supervisor.root.deleteChild(isolate.supervisionId);
    });

    await t.step("a crash restarts it", async () => {
      const isolate = await Isolate.spawn(
        fixture("supervised.ts"),
        { token: rootToken(), report: reports.sendPort },
        { restart: "transient", onError: () => {} },
      );
      const report = await incoming.next() as SupervisedReport;
      send(report, { op: "crash" });
      await nextEvent(
        events,
        (e) => e.type === "restarted" && e.id === isolate.supervisionId,
      );
      const again = await incoming.next() as SupervisedReport;
      assert.equal(again.hello, `hi ${again.id}`);
      await Supervisor.root.terminateChild(isolate.supervisionId);
      Supervisor.root.deleteChild(isolate.supervisionId);
    });
    reports.close();
    await events.return?.();
  }),
});

Deno.test({
  name:
    "Isolate.spawn() places every isolate under Supervisor.root as temporary, with its mailbox depth",
  ...sanitized,
  fn: guarded(async () => {
    using _ = mainHandler("test/supervised", () => "hi");
    const reports = new ReceivePort("reports");
    const incoming = collect(reports);
    const isolate = await Isolate.spawn(fixture("supervised.ts"), {
      token: rootToken(),
      report: reports.sendPort,
    });
    const report = await incoming.next() as SupervisedReport;
    const node = Supervisor.root.inspect().children.find((c) =>
      c.id === isolate.supervisionId
    );
    assert.ok(node !== undefined, "the isolate is a child of the root");
    assert.equal(node.restart, "temporary");
    assert.equal(node.state, "running");
    assert.equal(node.details.isolate, isolate.id);
    assert.equal(node.details.mailboxDepth, 0);
    send(report, { op: "exit" });
    await isolate.exited;
    reports.close();
  }),
});

Deno.test({
  name:
    "An isolate's mailbox refuses calls past mailboxCapacity with MailboxFullError, and the isolate keeps serving",
  ...sanitized,
  fn: guarded(async () => {
    const held: PromiseWithResolvers<string>[] = [];
    using _ = mainHandler("test/supervised", (call) => {
      if (call.method === "hold") {
        const answer = Promise.withResolvers<string>();
        held.push(answer);
        return answer.promise;
      }
      return `hi ${call.arguments}`;
    });
    const reports = new ReceivePort("reports");
    const incoming = collect(reports);
    const isolate = await Isolate.spawn(
      fixture("supervised.ts"),
      { token: rootToken(), report: reports.sendPort },
      { mailboxCapacity: 2 },
    );
    const report = await incoming.next() as SupervisedReport;
    const replies = new ReceivePort("flood");
    const flood = collect(replies);
    send(report, { op: "flood", calls: 5, reply: replies.sendPort });
    // The three that did not fit are refused at once, while two are held.
    assert.deepEqual(await flood.next(), { refusedSoFar: 3 });
    assert.equal(held.length, 2);
    assert.equal(isolate.describe().mailboxDepth, 2);
    held.forEach((answer, i) => answer.resolve(`held ${i}`));
    const { outcomes } = await flood.next() as {
      outcomes: ({ ok: unknown } | { error: string; code: string })[];
    };
    assert.deepEqual(outcomes.filter((o) => "ok" in o), [
      { ok: "held 0" },
      { ok: "held 1" },
    ]);
    const refused = outcomes.filter((o) => "error" in o);
    assert.equal(refused.length, 3);
    for (const o of refused) {
      assert.deepEqual(o, { error: "MailboxFullError", code: "mailbox_full" });
    }
    assert.equal(isolate.describe().mailboxDepth, 0);
    // The isolate keeps serving.
    const again = new ReceivePort("again");
    send(report, { op: "call", reply: again.sendPort });
    assert.equal(await again.first, "hi again");
    send(report, { op: "exit" });
    await isolate.exited;
    reports.close();
    replies.close();
  }),
});

Deno.test({
  name:
    "Isolate.spawn() with permissions sandboxes the worker: no file access, but SharedPreferences works through the main thread",
  ...sanitized,
  fn: guarded(async () => {
    const dir = await Deno.makeTempDir({ prefix: "isolates_sandbox_" });
    const previous = Deno.env.get("ISOLATES_DATA_DIR");
    Deno.env.set("ISOLATES_DATA_DIR", dir);
    Deno.env.set("ISOLATES_WORKER_OPTIONS", "1");
    try {
      using _ = mainHandler("test/supervised", () => "hi");
      const reports = new ReceivePort("reports");
      const incoming = collect(reports);
      const isolate = await Isolate.spawn(
        fixture("supervised.ts"),
        { token: rootToken(), report: reports.sendPort },
        { permissions: SANDBOX },
      );
      const report = await incoming.next() as SupervisedReport;
      const answer = new ReceivePort("answer");
      send(report, { op: "sandbox", reply: answer.sendPort });
      assert.deepEqual(await answer.first, { read: "NotCapable", stored: 7 });
      const prefs = await SharedPreferences.getInstance();
      await prefs.reload();
      assert.equal(prefs.getInt("sandboxed"), 7);
      send(report, { op: "exit" });
      await isolate.exited;
      reports.close();
    } finally {
      if (previous === undefined) Deno.env.delete("ISOLATES_DATA_DIR");
      else Deno.env.set("ISOLATES_DATA_DIR", previous);
      Deno.env.delete("ISOLATES_WORKER_OPTIONS");
      await Deno.remove(dir, { recursive: true });
    }
  }),
});

Deno.test({
  name:
    "Isolate.spawn() with permissions but without --unstable-worker-options fails with a clear IsolateSpawnError, and the process lives on",
  ...sanitized,
  fn: guarded(async () => {
    const script = fixture("sandbox_probe.ts").pathname;
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-lock", script],
      env: { ISOLATES_WORKER_OPTIONS: "" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(output.stdout);
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    assert.match(stdout, /IsolateSpawnError isolate_spawn/);
    assert.match(stdout, /--unstable-worker-options/);
    assert.match(stdout, /still running/);
  }),
});

Deno.test({
  name:
    "An isolate's mailbox also bounds calls to it: past mailboxCapacity the caller gets MailboxFullError at once",
  ...sanitized,
  fn: guarded(async () => {
    const agent = await spawnAgent({ token: rootToken() }, {
      mailboxCapacity: 2,
    });
    const notified = new ReceivePort("notified");
    const calls = collect(notified);
    okOf(
      await agent.ask({
        op: "serve",
        channel: "test/held",
        behaviour: "hold",
        notify: notified.sendPort,
      }),
    );
    const into = new MethodChannel(
      "test/held",
      undefined,
      ServicesBinding.messengerFor(agent.isolate.id),
    );
    const held = [into.invokeMethod("a"), into.invokeMethod("b")];
    for (const call of held) call.catch(() => {});
    await calls.next();
    await calls.next();
    assert.equal(agent.isolate.describe().mailboxDepth, 2);
    const refused = await into.invokeMethod("c").catch((error) => error);
    assert.ok(refused instanceof MailboxFullError, String(refused));
    assert.equal(refused.code, "mailbox_full");
    assert.match(refused.message, /mailbox is full \(2 calls in flight\)/);
    // The held calls fail with the isolate when it ends; nothing hangs.
    agent.isolate.kill();
    await agent.isolate.exited;
    for (const call of held) {
      await assert.rejects(call, IsolateExitedError);
    }
    notified.close();
  }),
});
