// Durability: a process writing SharedPreferences and SQL from its main
// thread and two workers at once is killed with SIGKILL in the middle of
// the writes. Every write it acknowledged (printed after the write's
// promise resolved) is in the files afterwards, and both files pass
// PRAGMA integrity_check. (tests/plugins/shared_preferences_isolates_test.ts
// has the single-isolate, preferences-only version.)
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { guarded, sanitized } from "../isolate/_helpers.ts";
import { fixture, freshDataDir } from "./_faults.ts";

const WRITERS = ["main", "worker1", "worker2"];
const STORES = ["prefs", "sql"];
/** Acknowledged writes per writer and store before the kill. */
const BEFORE_KILL = 40;

/** Opens a SQLite file (recovering its WAL) and checks its integrity. */
function checked(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  assert.deepEqual(
    db.prepare("PRAGMA integrity_check").all().map((row) => ({ ...row })),
    [{ integrity_check: "ok" }],
    path,
  );
  return db;
}

Deno.test({
  name:
    "SharedPreferences and SQL writes acknowledged by the main thread and two workers of a process killed with SIGKILL are all in the files, which pass integrity_check",
  // Starting a process needs --allow-run.
  ignore: Deno.permissions.querySync({ name: "run" }).state !== "granted",
  ...sanitized,
  fn: guarded(async () => {
    await using data = await freshDataDir("isolates_durability_");
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", fixture("durability_writer.ts").href],
      env: { ISOLATES_DATA_DIR: data.dir },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    // Acknowledged writes, by "<store> <writer>".
    const acked = new Map<string, number[]>();
    for (const store of STORES) {
      for (const who of WRITERS) acked.set(`${store} ${who}`, []);
    }
    const enough = (): boolean =>
      [...acked.values()].every((list) => list.length >= BEFORE_KILL);
    let killed = false;
    let pending = "";
    // Lines that arrive after the kill were acknowledged before it too.
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        const [store, who, n] = line.split(" ");
        acked.get(`${store} ${who}`)?.push(Number(n));
      }
      if (!killed && enough()) {
        child.kill("SIGKILL");
        killed = true;
      }
    }
    const status = await child.status;
    assert.ok(killed, `the writer ended before the kill: ${await stderr}`);
    assert.equal(status.signal, "SIGKILL", await stderr);
    await stderr;
    console.log(
      `acknowledged before the kill: ${
        [...acked].map(([stream, list]) => `${stream} ${list.length}`).join(
          ", ",
        )
      }`,
    );

    // Each writer acknowledges its writes in order, one at a time.
    for (const [stream, list] of acked) {
      assert.deepEqual(list, list.map((_, i) => i), stream);
    }
    const prefs = checked(join(data.dir, "shared_preferences.db"));
    try {
      const select = prefs.prepare(
        "SELECT type, value FROM preferences WHERE key = ?",
      );
      for (const who of WRITERS) {
        for (const i of acked.get(`prefs ${who}`)!) {
          assert.deepEqual(
            { ...select.get(`${who}/${i}`) },
            { type: "int", value: String(i * 7) },
            `${who}/${i}`,
          );
        }
      }
    } finally {
      prefs.close();
    }
    const sql = checked(join(data.dir, "databases", "durability.db"));
    try {
      const count = sql.prepare(
        "SELECT COUNT(*) AS n FROM entry WHERE who = ? AND n = ?",
      );
      for (const who of WRITERS) {
        for (const i of acked.get(`sql ${who}`)!) {
          assert.deepEqual({ ...count.get(who, i) }, { n: 1 }, `${who} ${i}`);
        }
      }
      // Nothing was written twice.
      assert.deepEqual(
        sql.prepare(
          "SELECT COUNT(*) AS n FROM (SELECT who, n FROM entry GROUP BY who, n HAVING COUNT(*) > 1)",
        ).all().map((row) => ({ ...row })),
        [{ n: 0 }],
      );
    } finally {
      sql.close();
    }
  }),
});
