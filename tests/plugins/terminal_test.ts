// Terminal: the main thread's TTY as a plugin with main affinity. Output is
// captured through Terminal.useOutput: ANSI redraws on a TTY (checked on a
// small screen model), plain rate-limited lines elsewhere, the redraw
// throttle on an injected clock, typed errors for bad arguments, and a
// worker's progress drawn by the main thread (proxied).
import assert from "node:assert/strict";
import {
  Isolate,
  PlatformException,
  Plugin,
  type PluginCallTrace,
  ReceivePort,
  StateError,
  Terminal,
  type TerminalOutput,
  type TerminalRestore,
} from "@isolates/isolates";
import {
  firstFrom,
  guarded,
  rootToken,
  sanitized,
} from "../isolate/_helpers.ts";
import type { TerminalReport } from "./fixtures/terminal_worker.ts";

const decoder = new TextDecoder();

/** A captured output: every write, decoded, in order. */
function capture(
  options: Omit<TerminalOutput, "write"> & {
    onWrite?: (count: number) => void;
  },
): Disposable & {
  writes: string[];
  text: () => string;
  restore: TerminalRestore;
} {
  const writes: string[] = [];
  const restore = Terminal.useOutput({
    isTerminal: options.isTerminal,
    columns: options.columns,
    now: options.now,
    write: (bytes) => {
      writes.push(decoder.decode(bytes));
      options.onWrite?.(writes.length);
    },
  });
  return {
    writes,
    text: () => writes.join(""),
    restore,
    [Symbol.dispose]: restore,
  };
}

/**
 * What a terminal shows after `text`: a model of the escapes the renderer
 * may use (cursor up `ESC[nA`, erase below `ESC[J`, erase line `ESC[K`),
 * with `\n` as the TTY's CR LF. Any other escape fails the test. The
 * cursor's own empty line at the end is left out.
 */
function screenOf(text: string): string[] {
  const rows = [""];
  let row = 0;
  let col = 0;
  for (let i = 0; i < text.length;) {
    if (text[i] === "\x1b") {
      // deno-lint-ignore no-control-regex -- the escapes are what is parsed
      const escape = /^\x1b\[(\d*)([AJK])/.exec(text.slice(i));
      assert.ok(
        escape !== null,
        `unexpected escape ${JSON.stringify(text.slice(i, i + 6))}`,
      );
      if (escape[2] === "A") row = Math.max(0, row - Number(escape[1] || 1));
      else {
        rows[row] = rows[row].slice(0, col);
        if (escape[2] === "J") rows.length = row + 1;
      }
      i += escape[0].length;
      continue;
    }
    const char = text[i++];
    if (char === "\n") {
      row++;
      col = 0;
      rows[row] ??= "";
    } else if (char === "\r") {
      col = 0;
    } else {
      const line = rows[row].padEnd(col);
      rows[row] = line.slice(0, col) + char + line.slice(col + 1);
      col++;
    }
  }
  if (rows.at(-1) === "") rows.pop();
  return rows;
}

function bar(filled: number, size = 30): string {
  return `[${"#".repeat(filled)}${"-".repeat(size - filled)}]`;
}

Deno.test("Terminal on a TTY draws bars and the status in place, with logs above", async () => {
  const out = capture({ isTerminal: true, columns: 60, now: () => 0 });
  try {
    await Terminal.progress("rows", { current: 50, total: 200, label: "Rows" });
    assert.deepEqual(screenOf(out.text()), [`Rows ${bar(8)}  25% 50/200`]);
    await Terminal.log("first log");
    await Terminal.progress("files", { current: 1, total: 4 });
    await Terminal.status("importing…");
    await Terminal.log("second log");
    assert.deepEqual(screenOf(out.text()), [
      "first log",
      "second log",
      `Rows ${bar(8)}  25% 50/200`,
      `files ${bar(8)}  25% 1/4`,
      "importing…",
    ]);
    // deno-lint-ignore no-control-regex -- cursor up, then erase below
    assert.match(out.text(), /\x1b\[\d+A\r\x1b\[J/);
    await Terminal.done("rows");
    await Terminal.progress("files", { current: 4, total: 4 });
    out.restore();
    assert.deepEqual(screenOf(out.text()), [
      "first log",
      "second log",
      "Rows: done (50/200)",
      `files ${bar(30)} 100% 4/4`,
      "importing…",
    ]);
  } finally {
    out.restore();
  }
});

Deno.test("Terminal on a TTY cuts lines to the width and strips control characters", async () => {
  using out = capture({ isTerminal: true, columns: 20, now: () => 0 });
  await Terminal.status("a status\nwith a \x1b[31mnewline and more text");
  assert.deepEqual(screenOf(out.text()), ["a status with a  […"]);
  await Terminal.clear();
  await Terminal.progress("b", { current: 1, total: 2, label: "long label" });
  await Terminal.progress("c", { current: 1, total: 2 });
  out.restore();
  assert.deepEqual(screenOf(out.text()), [
    "long label  50% 1/2", // no room for a bar
    `c ${bar(3, 6)}  50% 1/2`,
  ]);
});

Deno.test("Terminal.clear() erases the bars and the status from a TTY", async () => {
  using out = capture({ isTerminal: true, columns: 60, now: () => 0 });
  await Terminal.log("kept");
  await Terminal.progress("rows", { current: 1, total: 2 });
  await Terminal.status("busy");
  await Terminal.clear();
  assert.deepEqual(screenOf(out.text()), ["kept"]);
  await Terminal.done("rows"); // gone already: ignored
  assert.deepEqual(screenOf(out.text()), ["kept"]);
});

Deno.test("Terminal without a TTY prints plain lines, a bar once per whole percent", async () => {
  using out = capture({ isTerminal: false, columns: 40 });
  await Terminal.status("starting");
  await Terminal.status("starting"); // unchanged: not printed again
  for (let current = 1; current <= 1000; current++) {
    await Terminal.progress("rows", { current, total: 1000, label: "Rows" });
  }
  await Terminal.done("rows");
  await Terminal.status("finished");
  await Terminal.clear();
  const text = out.text();
  assert.equal(text.includes("\x1b"), false, "no escapes");
  const lines = text.split("\n");
  assert.equal(lines.pop(), "");
  assert.equal(lines[0], "starting");
  const bars = lines.slice(1, -2);
  assert.equal(bars.length, 101); // 0% (at 1/1000) to 100%
  bars.forEach((line, percent) => {
    assert.match(line, new RegExp(`^Rows: ${percent}% \\(\\d+/1000\\)$`));
  });
  assert.equal(bars.at(-1), "Rows: 100% (1000/1000)");
  assert.deepEqual(lines.slice(-2), ["Rows: done (1000/1000)", "finished"]);
});

Deno.test("Terminal on a TTY redraws at most 30 times a second, and draws the last update on restore", async () => {
  let now = 0;
  const out = capture({ isTerminal: true, columns: 60, now: () => now });
  try {
    for (let i = 1; i <= 100; i++) {
      await Terminal.progress("rows", { current: i, total: 1000 });
    }
    assert.equal(out.writes.length, 1, "the clock did not move: one draw");
    // One simulated second, an update every ms.
    for (let i = 101; i <= 1000; i++) {
      now = i - 100;
      await Terminal.progress("rows", { current: i, total: 1000 });
    }
    assert.ok(
      out.writes.length >= 20 && out.writes.length <= 30,
      `${out.writes.length} draws in 900 ms`,
    );
    const drawn = out.writes.length;
    out.restore(); // the last update was pending: drawn now
    assert.equal(out.writes.length, drawn + 1);
    assert.deepEqual(screenOf(out.text()), [
      `rows ${bar(30)} 100% 1000/1000`,
    ]);
  } finally {
    out.restore();
  }
});

Deno.test({
  name:
    "Terminal on a TTY draws the last update by itself once the interval has passed",
  ...sanitized,
  fn: guarded(async () => {
    const second = Promise.withResolvers<void>();
    using out = capture({
      isTerminal: true,
      columns: 60,
      onWrite: (count) => count === 2 && second.resolve(),
    });
    await Terminal.progress("rows", { current: 1, total: 2 });
    await Terminal.progress("rows", { current: 2, total: 2 });
    await second.promise; // drawn at once, or by the throttle's timer
    assert.deepEqual(screenOf(out.text()), [`rows ${bar(30)} 100% 2/2`]);
  }),
});

Deno.test("Terminal methods reject bad arguments with PlatformException bad_args and draw nothing", async () => {
  using out = capture({ isTerminal: false });
  const bad: [string, () => Promise<void>][] = [
    ["status", () => Terminal.status(42 as unknown as string)],
    ["log", () => Terminal.log(null as unknown as string)],
    ["empty id", () => Terminal.progress("", { current: 1, total: 2 })],
    [
      "id",
      () => Terminal.progress(7 as unknown as string, { current: 1, total: 2 }),
    ],
    ["over", () => Terminal.progress("p", { current: 3, total: 2 })],
    ["negative", () => Terminal.progress("p", { current: -1, total: 2 })],
    ["NaN", () => Terminal.progress("p", { current: NaN, total: 2 })],
    ["total", () => Terminal.progress("p", { current: 0, total: -2 })],
    ["infinite", () => Terminal.progress("p", { current: 0, total: Infinity })],
    ["string", () =>
      Terminal.progress("p", {
        current: "1" as unknown as number,
        total: 2,
      })],
    ["label", () =>
      Terminal.progress("p", {
        current: 1,
        total: 2,
        label: 3 as unknown as string,
      })],
    ["missing", () =>
      Terminal.progress(
        "p",
        undefined as unknown as { current: number; total: number },
      )],
    ["done", () => Terminal.done("")],
    ["raw", () =>
      Terminal.plugin.invoke(
        "progress",
        ["p", 1] as unknown as [string, number, number, null],
      ).then(() => {})],
  ];
  for (const [what, call] of bad) {
    await assert.rejects(
      call(),
      (error: unknown) =>
        error instanceof PlatformException && error.code === "bad_args" &&
        /^Cannot [a-z ]+( "p")?: .+; .+/.test(error.message ?? ""),
      what,
    );
  }
  assert.deepEqual(out.writes, []);
});

Deno.test("Terminal.useOutput() checks the output, and its restore puts the previous one back once", async () => {
  assert.throws(
    () => Terminal.useOutput(null as unknown as TerminalOutput),
    TypeError,
  );
  assert.throws(
    () => Terminal.useOutput({ isTerminal: true } as unknown as TerminalOutput),
    /"write" must be a function/,
  );
  assert.throws(
    () =>
      Terminal.useOutput({
        write: () => {},
        isTerminal: "yes" as unknown as boolean,
      }),
    TypeError,
  );
  assert.throws(
    () => Terminal.useOutput({ write: () => {}, isTerminal: true, columns: 0 }),
    RangeError,
  );
  const outer = capture({ isTerminal: false });
  const inner = capture({ isTerminal: false });
  await Terminal.log("to inner");
  inner.restore();
  inner.restore();
  await Terminal.log("to outer");
  outer.restore();
  assert.deepEqual(inner.writes, ["to inner\n"]);
  assert.deepEqual(outer.writes, ["to outer\n"]);
});

Deno.test("Terminal runs locally on the main thread", async () => {
  using _ = capture({ isTerminal: false });
  const traces: PluginCallTrace[] = [];
  const stop = Plugin.addCallListener((trace) => traces.push(trace));
  await Terminal.log("here");
  stop();
  assert.equal(Terminal.plugin.placement("progress"), "local");
  assert.equal(Terminal.plugin.affinity, "main");
  assert.equal(Terminal.plugin.channel, "isolates/terminal");
  assert.deepEqual(
    traces.map((t) => [t.method, t.placement, t.isolate]),
    [["log", "local", "0"]],
  );
});

Deno.test({
  name:
    "Terminal from a worker is proxied to the main thread, which draws the worker's progress",
  ...sanitized,
  fn: guarded(async () => {
    using out = capture({ isTerminal: false });
    const served: PluginCallTrace[] = [];
    const stop = Plugin.addCallListener((trace) => served.push(trace));
    const port = new ReceivePort("terminal");
    const isolate = await Isolate.spawn(
      new URL("./fixtures/terminal_worker.ts", import.meta.url),
      { token: rootToken(), reply: port.sendPort, steps: 4 },
      { debugName: "terminal-worker" },
    );
    const report = await firstFrom<TerminalReport>(port, isolate);
    assert.equal((await isolate.exited).kind, "normal");
    stop();
    assert.equal(report.id, isolate.id);
    assert.deepEqual(out.text().split("\n"), [
      `worker ${isolate.id} starts`,
      "Worker rows: 25% (1/4)",
      "Worker rows: 50% (2/4)",
      "Worker rows: 75% (3/4)",
      "Worker rows: 100% (4/4)",
      "Worker rows: done (4/4)",
      "",
    ]);
    assert.deepEqual(report.placements, {
      status: "proxied",
      progress: "proxied",
      log: "proxied",
      done: "proxied",
      clear: "proxied",
    });
    const expected = [
      ["log", true],
      ["progress", true],
      ["progress", true],
      ["progress", true],
      ["progress", true],
      ["done", true],
      ["progress", false], // the bad call
    ];
    assert.deepEqual(
      report.traces.map((t) => [t.method, t.ok, t.placement, t.served]),
      expected.map(([method, ok]) => [method, ok, "proxied", false]),
    );
    assert.deepEqual(
      served.filter((t) => t.isolate === isolate.id).map((
        t,
      ) => [t.method, t.ok, t.placement, t.served]),
      expected.map(([method, ok]) => [method, ok, "proxied", true]),
    );
    assert.equal(report.badArgs?.name, "PlatformException");
    assert.equal(report.badArgs?.code, "bad_args");
    assert.equal(report.useOutput?.name, StateError.name);
    assert.equal(report.useOutput?.code, "bad_state");
    assert.match(report.useOutput?.message ?? "", /^Cannot redirect/);
  }),
});
