// SharedPreferences with Flutter's API and type rules, stored in SQLite in
// ISOLATES_DATA_DIR (issue 4, item 4), from the main thread, from a worker,
// from a new process, and the seed's program.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  Isolate,
  ReceivePort,
  type RemoteError,
  RootIsolateToken,
  SharedPreferences,
} from "@isolates/isolates";
import type { Write } from "./fixtures/shared_preferences_writer.ts";
import { freshPreferences } from "./_prefs.ts";

/** Reads one row of the preferences file directly, bypassing the module. */
function readRow(
  file: string,
  key: string,
): { key: string; type: string; value: string } | undefined {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const row = db.prepare(
      "SELECT key, type, value FROM preferences WHERE key = ?",
    ).get(key);
    return row === undefined
      ? undefined
      : { ...row } as { key: string; type: string; value: string };
  } finally {
    db.close();
  }
}

/** How many rows the preferences file holds. */
function countRows(file: string): number {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return Number(
      db.prepare("SELECT COUNT(*) AS n FROM preferences").get()!.n,
    );
  } finally {
    db.close();
  }
}

/** Asserts that `fn` fails with `type`, whether it throws or rejects. */
async function fails(
  fn: () => unknown,
  type: new (...args: never[]) => Error,
  message?: string,
): Promise<void> {
  await assert.rejects(async () => await fn(), type, message);
}

Deno.test("SharedPreferences.getInstance() returns the same instance each time in an isolate", async () => {
  await using fresh = await freshPreferences();
  assert.equal(await SharedPreferences.getInstance(), fresh.prefs);
});

Deno.test("SharedPreferences.getStoragePath() is shared_preferences.db in ISOLATES_DATA_DIR", async () => {
  await using fresh = await freshPreferences();
  assert.equal(await fresh.prefs.getStoragePath(), fresh.file);
});

Deno.test("SharedPreferences getters return null for a missing key", async () => {
  await using fresh = await freshPreferences();
  const { prefs } = fresh;
  assert.equal(prefs.getInt("missing"), null);
  assert.equal(prefs.getDouble("missing"), null);
  assert.equal(prefs.getString("missing"), null);
  assert.equal(prefs.getBool("missing"), null);
  assert.equal(prefs.getStringList("missing"), null);
  assert.equal(prefs.get("missing"), null);
  assert.equal(prefs.containsKey("missing"), false);
  assert.deepEqual(prefs.getKeys(), new Set());
});

Deno.test("SharedPreferences.setInt() stores integers, as bigint beyond the safe range", async (t) => {
  await using fresh = await freshPreferences();
  const { prefs } = fresh;
  const values: [string, number | bigint][] = [
    ["zero", 0],
    ["negative", -1],
    ["max safe", Number.MAX_SAFE_INTEGER],
    ["min safe", Number.MIN_SAFE_INTEGER],
    ["big", 2n ** 62n],
    ["int64 max", 2n ** 63n - 1n],
    ["int64 min", -(2n ** 63n)],
  ];
  for (const [key, value] of values) {
    assert.equal(await prefs.setInt(key, value), true);
  }
  await t.step("read from the cache", () => {
    for (const [key, value] of values) assert.equal(prefs.getInt(key), value);
  });
  await prefs.reload();
  await t.step("read after reload()", () => {
    for (const [key, value] of values) assert.equal(prefs.getInt(key), value);
  });
});

Deno.test("SharedPreferences.getInt() reads a bigint written in the safe range the same before and after reload()", async () => {
  // Flutter has one int type: what getInt returns must not depend on
  // whether the cache was reloaded (a safe integer reads as a number).
  await using fresh = await freshPreferences();
  const { prefs } = fresh;
  await prefs.setInt("small bigint", 5n);
  const cached = prefs.getInt("small bigint");
  await prefs.reload();
  assert.equal(prefs.getInt("small bigint"), 5);
  assert.equal(cached, prefs.getInt("small bigint"));
});

Deno.test("SharedPreferences.setInt() rejects values that are not int64 integers with TypeError", async () => {
  await using fresh = await freshPreferences();
  const { prefs } = fresh;
  for (
    const value of [1.5, NaN, Infinity, 2 ** 53, 2n ** 63n, -(2n ** 63n) - 1n]
  ) {
    await fails(() => prefs.setInt("k", value), TypeError, String(value));
  }
  await fails(() => prefs.setInt("k", "1" as unknown as number), TypeError);
  assert.equal(prefs.containsKey("k"), false);
  await prefs.reload();
  assert.equal(prefs.containsKey("k"), false);
});

Deno.test("SharedPreferences.setDouble() stores doubles, including integral ones, NaN, -0 and infinities", async (t) => {
  await using fresh = await freshPreferences();
  const { prefs } = fresh;
  const values: [string, number][] = [
    ["half", 1.5],
    ["integral", 3],
    ["nan", NaN],
    ["negative zero", -0],
    ["infinity", Infinity],
    ["negative infinity", -Infinity],
    ["tiny", 5e-324],
    ["huge", 1.7976931348623157e308],
  ];
  for (const [key, value] of values) {
    assert.equal(await prefs.setDouble(key, value), true);
  }
  const check = (): void => {
    for (const [key, value] of values) {
      assert.ok(
        Object.is(prefs.getDouble(key), value),
        `${key}: ${prefs.getDouble(key)} is not ${value}`,
      );
    }
    // An integral double is still a double, not an int.
    assert.throws(() => prefs.getInt("integral"), TypeError);
  };
  await t.step("read from the cache", check);
  await prefs.reload();
  await t.step("read after reload()", check);
  await fails(
    () => prefs.setDouble("k", "1" as unknown as number),
    TypeError,
  );
});

Deno.test("SharedPreferences.setString() stores any string", async (t) => {
  await using fresh = await freshPreferences();
  const { prefs } = fresh;
  const values: [string, string][] = [
    ["empty", ""],
    ["unicode", "héllo 👋 世界"],
    ["nul", "a\0b"],
    ["long", "x".repeat(100_000)],
    ["looks like a number", "42"],
  ];
  for (const [key, value] of values) {
    assert.equal(await prefs.setString(key, value), true);
  }
  const check = (): void => {
    for (const [key, value] of values) {
      assert.equal(prefs.getString(key), value);
    }
  };
  await t.step("read from the cache", check);
  await prefs.reload();
  await t.step("read after reload()", check);
  await fails(() => prefs.setString("k", 1 as unknown as string), TypeError);
});

Deno.test("SharedPreferences.setBool() stores booleans", async () => {
  await using fresh = await freshPreferences();
  const { prefs } = fresh;
  assert.equal(await prefs.setBool("yes", true), true);
  assert.equal(await prefs.setBool("no", false), true);
  assert.equal(prefs.getBool("yes"), true);
  assert.equal(prefs.getBool("no"), false);
  await prefs.reload();
  assert.equal(prefs.getBool("yes"), true);
  assert.equal(prefs.getBool("no"), false);
  await fails(() => prefs.setBool("k", 1 as unknown as boolean), TypeError);
});

Deno.test("SharedPreferences.setStringList() stores lists, and getStringList() returns copies", async (t) => {
  await using fresh = await freshPreferences();
  const { prefs } = fresh;
  const list = ["a", "", "ü", "a"];
  assert.equal(await prefs.setStringList("list", list), true);
  assert.equal(await prefs.setStringList("empty", []), true);
  await t.step("changing the list given does not change the value", () => {
    list.push("added later");
    assert.deepEqual(prefs.getStringList("list"), ["a", "", "ü", "a"]);
  });
  await t.step("changing a list returned does not change the value", () => {
    prefs.getStringList("list")!.push("mutated");
    (prefs.get("list") as string[]).push("mutated");
    assert.deepEqual(prefs.getStringList("list"), ["a", "", "ü", "a"]);
  });
  await t.step("after reload()", async () => {
    await prefs.reload();
    assert.deepEqual(prefs.getStringList("list"), ["a", "", "ü", "a"]);
    assert.deepEqual(prefs.getStringList("empty"), []);
    prefs.getStringList("list")!.length = 0;
    assert.deepEqual(prefs.getStringList("list"), ["a", "", "ü", "a"]);
  });
  await fails(
    () => prefs.setStringList("k", [1] as unknown as string[]),
    TypeError,
  );
  await fails(
    () => prefs.setStringList("k", "ab" as unknown as string[]),
    TypeError,
  );
});

Deno.test("SharedPreferences getters throw TypeError when the value has another type", async (t) => {
  await using fresh = await freshPreferences();
  const { prefs } = fresh;
  await prefs.setString("string", "1");
  await prefs.setDouble("double", 1.5);
  await prefs.setInt("int", 1);
  await prefs.setBool("bool", true);
  await prefs.setStringList("list", ["1"]);
  const check = (): void => {
    assert.throws(() => prefs.getInt("string"), TypeError, "getInt on String");
    assert.throws(() => prefs.getInt("double"), TypeError, "getInt on double");
    assert.throws(() => prefs.getDouble("int"), TypeError, "getDouble on int");
    assert.throws(() => prefs.getString("int"), TypeError, "getString on int");
    assert.throws(() => prefs.getBool("string"), TypeError);
    assert.throws(() => prefs.getStringList("string"), TypeError);
    assert.throws(() => prefs.getString("list"), TypeError);
    assert.throws(() => prefs.getInt("bool"), TypeError);
    assert.throws(() => prefs.getInt("string"), /"string"/, "names the key");
    // get() reads any type.
    assert.equal(prefs.get("string"), "1");
    assert.equal(prefs.get("double"), 1.5);
    assert.equal(prefs.get("int"), 1);
    assert.equal(prefs.get("bool"), true);
    assert.deepEqual(prefs.get("list"), ["1"]);
  };
  await t.step("from the cache", check);
  await prefs.reload();
  await t.step("after reload()", check);
});

Deno.test("SharedPreferences setters replace a value of another type", async () => {
  await using fresh = await freshPreferences();
  const { prefs } = fresh;
  await prefs.setInt("k", 1);
  await prefs.setString("k", "now a string");
  assert.equal(prefs.getString("k"), "now a string");
  assert.throws(() => prefs.getInt("k"), TypeError);
  await prefs.reload();
  assert.equal(prefs.getString("k"), "now a string");
  assert.throws(() => prefs.getInt("k"), TypeError);
  assert.deepEqual(readRow(fresh.file, "k"), {
    key: "k",
    type: "string",
    value: "now a string",
  });
});

Deno.test("SharedPreferences.getKeys() and containsKey() see every stored key", async () => {
  await using fresh = await freshPreferences();
  const { prefs } = fresh;
  await prefs.setInt("a", 1);
  await prefs.setString("b", "");
  await prefs.setStringList("c", []);
  assert.deepEqual(prefs.getKeys(), new Set(["a", "b", "c"]));
  prefs.getKeys().add("not stored");
  assert.deepEqual(prefs.getKeys(), new Set(["a", "b", "c"]));
  assert.equal(prefs.containsKey("b"), true);
  assert.equal(prefs.containsKey("d"), false);
  await prefs.reload();
  assert.deepEqual(prefs.getKeys(), new Set(["a", "b", "c"]));
});

Deno.test("SharedPreferences.remove() removes the key from the cache and from disk", async () => {
  await using fresh = await freshPreferences();
  const { prefs } = fresh;
  await prefs.setInt("gone", 1);
  await prefs.setInt("kept", 2);
  assert.equal(await prefs.remove("gone"), true);
  assert.equal(prefs.containsKey("gone"), false);
  assert.equal(prefs.getInt("gone"), null);
  assert.equal(readRow(fresh.file, "gone"), undefined);
  assert.equal(await prefs.remove("never stored"), true);
  await prefs.reload();
  assert.deepEqual(prefs.getKeys(), new Set(["kept"]));
});

Deno.test("SharedPreferences.clear() removes every key from the cache and from disk", async () => {
  await using fresh = await freshPreferences();
  const { prefs } = fresh;
  await prefs.setInt("a", 1);
  await prefs.setStringList("b", ["x"]);
  assert.equal(await prefs.clear(), true);
  assert.deepEqual(prefs.getKeys(), new Set());
  assert.equal(countRows(fresh.file), 0);
  await prefs.reload();
  assert.deepEqual(prefs.getKeys(), new Set());
});

Deno.test("SharedPreferences.setInt() has written the row to the SQLite file once it resolved", async () => {
  await using fresh = await freshPreferences();
  const { prefs } = fresh;
  await prefs.setInt("counter", 42);
  assert.deepEqual(readRow(fresh.file, "counter"), {
    key: "counter",
    type: "int",
    value: "42",
  });
  await prefs.setInt("counter", 2n ** 63n - 1n);
  assert.equal(readRow(fresh.file, "counter")?.value, "9223372036854775807");
  await prefs.setDouble("ratio", -0);
  assert.deepEqual(readRow(fresh.file, "ratio"), {
    key: "ratio",
    type: "double",
    value: "-0",
  });
  await prefs.setStringList("list", ["a", "b"]);
  assert.equal(readRow(fresh.file, "list")?.type, "stringList");
  assert.deepEqual(JSON.parse(readRow(fresh.file, "list")!.value), ["a", "b"]);
});

Deno.test("SharedPreferences.reload() follows a change of ISOLATES_DATA_DIR", async () => {
  await using fresh = await freshPreferences();
  await fresh.prefs.setInt("here", 1);
  {
    await using other = await freshPreferences();
    assert.equal(other.prefs.containsKey("here"), false);
    await other.prefs.setInt("there", 2);
  }
  Deno.env.set("ISOLATES_DATA_DIR", fresh.dir);
  await fresh.prefs.reload();
  assert.deepEqual(fresh.prefs.getKeys(), new Set(["here"]));
});

Deno.test("SharedPreferences written by a worker are seen on the main thread after reload()", async () => {
  await using fresh = await freshPreferences();
  const { prefs } = fresh;
  await prefs.setString("from main", "m");
  const port = new ReceivePort();
  const writes: Write[] = [
    ["setInt", "int", 7],
    ["setInt", "bigint", -(2n ** 63n)],
    ["setDouble", "double", NaN],
    ["setString", "string", "from the worker"],
    ["setBool", "bool", false],
    ["setStringList", "list", ["x", "y"]],
  ];
  const isolate = await Isolate.spawn(
    new URL("./fixtures/shared_preferences_writer.ts", import.meta.url),
    { token: RootIsolateToken.instance, port: port.sendPort, writes },
    { onError: () => port.close() },
  );
  const workerKeys = await port.first;
  await isolate.exited;
  // The worker loaded every stored value when it got its instance.
  assert.deepEqual(workerKeys, [
    "bigint",
    "bool",
    "double",
    "from main",
    "int",
    "list",
    "string",
  ]);
  // The main thread's cache is refreshed only by reload(), as in Flutter.
  assert.equal(prefs.containsKey("int"), false);
  await prefs.reload();
  assert.equal(prefs.getInt("int"), 7);
  assert.equal(prefs.getInt("bigint"), -(2n ** 63n));
  assert.ok(Number.isNaN(prefs.getDouble("double")));
  assert.equal(prefs.getString("string"), "from the worker");
  assert.equal(prefs.getBool("bool"), false);
  assert.deepEqual(prefs.getStringList("list"), ["x", "y"]);
  assert.equal(prefs.getString("from main"), "m");
});

Deno.test({
  name: "SharedPreferences written by one process are read by a new process",
  // Starting a process needs --allow-run, which the test task does not grant.
  ignore: Deno.permissions.querySync({ name: "run" }).state !== "granted",
  async fn(): Promise<void> {
    await using fresh = await freshPreferences();
    await fresh.prefs.setInt("from the first process", 2n ** 62n + 1n);
    const fixture = new URL(
      "./fixtures/shared_preferences_print_int.ts",
      import.meta.url,
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", fixture.href, "from the first process"],
      env: { ISOLATES_DATA_DIR: fresh.dir },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    assert.equal(
      new TextDecoder().decode(output.stdout).trim(),
      String(2n ** 62n + 1n),
    );
  },
});

Deno.test("SharedPreferences in the seed's program: the isolate computes, stores last_computation, and the main thread reads it after reload()", async () => {
  await using fresh = await freshPreferences();
  const receivePort = new ReceivePort();
  const failures: RemoteError[] = [];
  const isolate = await Isolate.spawn(
    new URL("../../examples/background_service_entry.ts", import.meta.url),
    {
      token: RootIsolateToken.instance,
      sendPort: receivePort.sendPort,
      valueToProcess: 20,
    },
    {
      // Closing the port makes `first` reject instead of waiting forever.
      onError: (error) => {
        failures.push(error);
        receivePort.close();
      },
    },
  );
  const result = await receivePort.first.catch((error) => {
    throw failures[0] ?? error;
  });
  await isolate.exited;
  assert.equal(result, 6765);
  const prefs = await SharedPreferences.getInstance();
  await prefs.reload();
  assert.equal(prefs.getInt("last_computation"), 6765);
  assert.equal(readRow(fresh.file, "last_computation")?.value, "6765");
});

Deno.test("SharedPreferences.getInstance() in the seed's isolate without ensureInitialized fails with MissingPluginException naming the channel and the method", async () => {
  await using fresh = await freshPreferences();
  const receivePort = new ReceivePort();
  const reported: RemoteError[] = [];
  const isolate = await Isolate.spawn(
    new URL(
      "./fixtures/background_service_entry_without_initialization.ts",
      import.meta.url,
    ),
    {
      token: RootIsolateToken.instance,
      sendPort: receivePort.sendPort,
      valueToProcess: 20,
    },
    { onError: (error) => reported.push(error) },
  );
  // The uncaught error ends the isolate; it is reported before the exit.
  await isolate.exited;
  receivePort.close();
  assert.equal(reported.length, 1, "the isolate reports one error");
  const [error] = reported;
  assert.equal(error.remoteName, "MissingPluginException");
  assert.match(error.message, /plugins\.flutter\.io\/shared_preferences/);
  assert.match(error.message, /\bgetAll\b/);
  assert.match(
    error.message,
    /BackgroundIsolateBinaryMessenger\.ensureInitialized/,
  );
  await fresh.prefs.reload();
  assert.equal(fresh.prefs.containsKey("last_computation"), false);
});
