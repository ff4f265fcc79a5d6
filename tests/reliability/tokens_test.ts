// Tokens at the plugin boundary. tests/isolate/root_isolate_token_test.ts
// shows that a forged, altered, foreign or revoked token never reaches a
// plain MethodChannel handler; here the same tokens go through plugins: a
// Plugin method that runs in the calling worker, one proxied to the main
// thread, SharedPreferences and the SQL plugin, from a worker with file
// access (plugins run locally) and from a sandboxed one (proxied). Each must
// fail with RootIsolateTokenError, and write nothing. Then a sandboxed
// worker tries to widen its permissions through the SQL plugin.
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Database, RootIsolateToken, type TokenRejection } from "../../mod.ts";
import { tokenToData } from "../../src/isolate/root_isolate_token.ts";
import type { ErrorReport, Outcome } from "../isolate/fixtures/_report.ts";
import { errorOf, guarded, mentions, sanitized } from "../isolate/_helpers.ts";
import {
  type Faulty,
  freshDataDir,
  okOf,
  SANDBOX,
  setEnv,
  spawnFaulty,
} from "./_faults.ts";
import type { ProbeReport } from "./fixtures/faulty.ts";
// Registers the faulty plugin's main-thread side, which workers' proxied
// calls reach.
import "./fixtures/faulty_plugin.ts";

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

function rootToken(): RootIsolateToken {
  const token = RootIsolateToken.instance;
  assert.ok(token !== null);
  return token;
}

/** The token data another `deno` process prints for its own root token. */
async function foreignTokenData(): Promise<
  { process: string; secret: string }
> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      new URL("../isolate/fixtures/print_token.ts", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

/** Why `outcome` is not a RootIsolateTokenError `code` for `isolate`. */
function notRefused(
  outcome: Outcome,
  code: TokenRejection,
  isolate: string,
): string | null {
  if (!("error" in outcome)) {
    return `reached the plugin (answered ${JSON.stringify(outcome.ok)})`;
  }
  const error: ErrorReport = outcome.error;
  if (!error.classes.includes("RootIsolateTokenError")) {
    return `failed otherwise: ${error.text}`;
  }
  if (error.code !== code || error.isolate !== isolate) {
    return `was refused with ${error.code} for ${error.isolate}`;
  }
  return null;
}

/** Checks that every probe of a worker was refused with `code`. */
function allRefused(
  report: ProbeReport,
  code: TokenRejection,
  worker: Faulty,
): void {
  const what: Record<keyof ProbeReport, string> = {
    pluginProxied: "a Plugin method proxied to the main thread",
    pluginLocal: "a thread-safe Plugin method (run in the worker)",
    preferences: "SharedPreferences.setInt()",
    sql: "openDatabase() and an insert",
  };
  const failures = (Object.keys(what) as (keyof ProbeReport)[]).flatMap(
    (probe) => {
      const why = notRefused(report[probe], code, worker.id);
      return why === null ? [] : [`${what[probe]} ${why}`];
    },
  );
  assert.deepEqual(
    failures,
    [],
    `with a ${code} token, from isolate ${worker.id}:\n${failures.join("\n")}`,
  );
}

/** Checks that nothing was written under `key` in `dir`. */
function nothingWritten(dir: string, key: string): void {
  const prefsFile = join(dir, "shared_preferences.db");
  let stored: unknown[] = [];
  try {
    Deno.statSync(prefsFile);
    const db = new DatabaseSync(prefsFile, { readOnly: true });
    try {
      stored = db.prepare("SELECT key FROM preferences WHERE key = ?").all(
        key,
      );
    } finally {
      db.close();
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  assert.deepEqual(stored, [], `SharedPreferences stored "${key}"`);
  assert.throws(
    () => Deno.statSync(join(dir, "databases", `${key}.db`)),
    Deno.errors.NotFound,
    `openDatabase() created "${key}.db"`,
  );
}

const KINDS = ["forged", "altered", "foreign"] as const;

Deno.test(
  "RootIsolateToken forged, altered or from another process reaches no plugin, local or proxied: Plugin.invoke(), SharedPreferences and openDatabase() fail with RootIsolateTokenError and write nothing",
  {
    ...sanitized,
    // Printing another process's token needs --allow-run.
    ignore: Deno.permissions.querySync({ name: "run" }).state !== "granted",
  },
  guarded(async (t) => {
    await using data = await freshDataDir("isolates_tokens_");
    using _options = setEnv("ISOLATES_WORKER_OPTIONS", "1");
    const real = tokenToData(rootToken());
    const foreign = await foreignTokenData();
    assert.notEqual(foreign.process, real.process);
    const tokens: Record<typeof KINDS[number], [unknown, TokenRejection]> = {
      forged: [tokenRecord(real.process, randomHex(32)), "token_forged"],
      altered: [
        tokenRecord(
          real.process,
          real.secret.slice(0, -1) + (real.secret.endsWith("0") ? "1" : "0"),
        ),
        "token_forged",
      ],
      foreign: [tokenRecord(foreign.process, foreign.secret), "token_foreign"],
    };
    for (const kind of KINDS) {
      for (const sandboxed of [true, false]) {
        const where = sandboxed
          ? "a sandboxed worker (plugins needing files proxied)"
          : "a worker with file access (thread-safe plugins run in it)";
        await t.step(`${kind}: ${where}`, async () => {
          const [token, code] = tokens[kind];
          await using worker = await spawnFaulty({
            token,
            ...(sandboxed ? { permissions: SANDBOX } : {}),
          });
          const key = `${kind}_${sandboxed ? "sandboxed" : "local"}`;
          const report = okOf(
            await worker.ask({ op: "probe", key }),
          ) as ProbeReport;
          allRefused(report, code, worker);
          nothingWritten(data.dir, key);
        });
      }
    }
  }),
);

Deno.test(
  "RootIsolateToken.revoke() cuts a registered worker off every plugin, local or proxied: the next Plugin.invoke(), SharedPreferences write and openDatabase() fail with token_revoked",
  sanitized,
  guarded(async (t) => {
    await using data = await freshDataDir("isolates_tokens_revoked_");
    using _options = setEnv("ISOLATES_WORKER_OPTIONS", "1");
    for (const sandboxed of [true, false]) {
      const where = sandboxed
        ? "a sandboxed worker (plugins needing files proxied)"
        : "a worker with file access (thread-safe plugins run in it)";
      await t.step(where, async () => {
        const token = rootToken();
        await using worker = await spawnFaulty({
          token,
          ...(sandboxed ? { permissions: SANDBOX } : {}),
        });
        const before = okOf(
          await worker.ask({ op: "probe", key: `before_${sandboxed}` }),
        ) as ProbeReport;
        for (const [what, outcome] of Object.entries(before)) {
          assert.ok("ok" in outcome, `${what}: ${JSON.stringify(outcome)}`);
        }
        token.revoke();
        assert.notEqual(rootToken(), token);
        const key = `after_${sandboxed}`;
        const after = okOf(
          await worker.ask({ op: "probe", key }),
        ) as ProbeReport;
        allRefused(after, "token_revoked", worker);
        nothingWritten(data.dir, key);
      });
    }
  }),
);

Deno.test(
  "Database plugin called from a sandboxed worker cannot widen its permissions: a raw open outside the allowed directories fails with path_not_allowed, and the main thread's connection handles are unknown to it",
  sanitized,
  guarded(async (t) => {
    await using data = await freshDataDir("isolates_tokens_sql_");
    using _options = setEnv("ISOLATES_WORKER_OPTIONS", "1");
    // The temp directory is allowed to sandboxes: point it away from
    // `outside`, which must be outside every allowed directory.
    const base = await Deno.makeTempDir({ prefix: "isolates_widen_" });
    const outside = join(base, "outside");
    await Deno.mkdir(outside);
    await Deno.mkdir(join(base, "tmp"));
    using _tmp = setEnv("TMPDIR", join(base, "tmp"));
    const secret = join(outside, "secret.db");
    // The main thread is not limited: it opens a file outside on its own
    // connection, and keeps it open while the worker tries to use it.
    const [handle] = await Database.plugin.invoke("open", [
      secret,
      false,
      5000,
    ]);
    try {
      await Database.plugin.invoke("execute", [
        handle,
        "CREATE TABLE secret (value TEXT)",
        [],
      ]);
      await Database.plugin.invoke("insert", [
        handle,
        "INSERT INTO secret VALUES (?)",
        ["for the main thread only"],
      ]);
      await using worker = await spawnFaulty({ permissions: SANDBOX });
      const raw = (method: string, args: unknown): Promise<Outcome> =>
        worker.ask({
          op: "invoke",
          channel: "isolates/sql_database",
          method,
          args,
        });

      await t.step(
        "a raw open outside is refused, the file untouched",
        async () => {
          for (
            const path of [
              secret,
              join(outside, "new.db"),
              `${data.dir}/../../${base.split("/").at(-1)}/outside/new.db`,
              "../../outside/new.db",
            ]
          ) {
            const error = errorOf(await raw("open", [path, false, 5000]));
            assert.ok(error.classes.includes("PlatformException"), error.text);
            assert.equal(error.code, "path_not_allowed", error.text);
            mentions(error.message, "sandboxed isolate", worker.id);
          }
          assert.deepEqual(
            [...Deno.readDirSync(outside)].map((entry) => entry.name).filter(
              (name) => name.startsWith("new"),
            ),
            [],
          );
        },
      );
      await t.step(
        "the main thread's handle, and every other, is unknown to it",
        async () => {
          for (let guess = 1; guess <= handle + 5; guess++) {
            for (
              const [method, args] of [
                ["query", [guess, "SELECT value FROM secret", []]],
                ["insert", [guess, "INSERT INTO secret VALUES ('x')", []]],
                ["close", guess],
              ] as const
            ) {
              const error = errorOf(await raw(method, args));
              assert.equal(error.code, "closed", `${method} ${guess}`);
            }
          }
          const [, rows] = await Database.plugin.invoke("query", [
            handle,
            "SELECT value FROM secret",
            [],
          ]);
          assert.deepEqual(rows, [["for the main thread only"]]);
        },
      );
      await t.step("inside its directories it still works", async () => {
        const [own] = okOf(await raw("open", ["own.db", false, 5000])) as [
          number,
          string,
        ];
        okOf(await raw("execute", [own, "CREATE TABLE t (x)", []]));
        okOf(await raw("close", own));
      });
    } finally {
      await Database.plugin.invoke("close", handle);
      await Deno.remove(base, { recursive: true });
    }
  }),
);
