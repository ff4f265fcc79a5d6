import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import {
  PreferencesStore,
  type PreferenceValue,
} from "../../src/plugins/_preferences_store.ts";
import { PreferencesStoreError } from "../../src/plugins/preferences_store_error.ts";
import { IsolatesError } from "../../src/errors/isolates_error.ts";

/** A fresh temporary directory, removed with everything in it on dispose. */
async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "isolates_prefs_" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

/** Checks a PreferencesStoreError whose message mentions every `parts`. */
function storeError(
  ...parts: string[]
): (error: unknown) => true {
  return (error) => {
    assert.ok(error instanceof PreferencesStoreError, String(error));
    assert.ok(error instanceof IsolatesError);
    assert.equal(error.code, "preferences_store");
    assert.equal(error.name, "PreferencesStoreError");
    assert.match(error.message, /^Cannot [^:]+: .+; .+/);
    for (const part of parts) {
      assert.ok(
        error.message.includes(part),
        `${JSON.stringify(error.message)} should mention ${
          JSON.stringify(part)
        }`,
      );
    }
    return true;
  };
}

/** Writes a row directly, bypassing the store's checks. */
function insertRaw(path: string, key: string, type: string, sql: string): void {
  const db = new DatabaseSync(path);
  try {
    db.prepare(
      `INSERT INTO preferences (key, type, value) VALUES (?, ?, ${sql})`,
    ).run(key, type);
  } finally {
    db.close();
  }
}

/** Values of every type, including the edge cases each encoding must keep. */
const SAMPLES: ReadonlyArray<readonly [string, PreferenceValue]> = [
  ["bool.true", { type: "bool", value: true }],
  ["bool.false", { type: "bool", value: false }],
  ["int.zero", { type: "int", value: 0 }],
  ["int.negative", { type: "int", value: -42 }],
  ["int.maxSafe", { type: "int", value: Number.MAX_SAFE_INTEGER }],
  ["int.minSafe", { type: "int", value: Number.MIN_SAFE_INTEGER }],
  ["int.max64", { type: "int", value: 2n ** 63n - 1n }],
  ["int.min64", { type: "int", value: -(2n ** 63n) }],
  ["double.fraction", { type: "double", value: 0.1 }],
  ["double.integral", { type: "double", value: 2 }],
  ["double.negZero", { type: "double", value: -0 }],
  ["double.nan", { type: "double", value: NaN }],
  ["double.inf", { type: "double", value: Infinity }],
  ["double.negInf", { type: "double", value: -Infinity }],
  ["double.min", { type: "double", value: Number.MIN_VALUE }],
  ["double.max", { type: "double", value: Number.MAX_VALUE }],
  ["double.exponent", { type: "double", value: 1.5e-7 }],
  ["double.large", { type: "double", value: 1e21 }],
  ["string.empty", { type: "string", value: "" }],
  ["string.unicode", { type: "string", value: "héllo 🌍 \u2028 \ufeff" }],
  ["string.nul", { type: "string", value: "a\0b\0" }],
  ["string.json", { type: "string", value: '["not", "a", "list"]' }],
  ["list.empty", { type: "stringList", value: [] }],
  ["list.mixed", {
    type: "stringList",
    value: ["a", "", "\0", "🌍", '"quoted"', "[", "\\"],
  }],
  ["", { type: "string", value: "the empty key" }],
  ["key\0with nul", { type: "string", value: "distinct from 'key'" }],
  ["key", { type: "string", value: "distinct from 'key\\0with nul'" }],
];

/** Asserts `actual` equals `expected`, telling -0 from 0 and NaN from NaN. */
function assertSameValue(
  actual: PreferenceValue | undefined,
  expected: PreferenceValue,
  key: string,
): void {
  assert.ok(actual !== undefined, `"${key}" is missing`);
  assert.equal(actual.type, expected.type, key);
  if (expected.type === "double") {
    assert.ok(
      Object.is(actual.value, expected.value),
      `"${key}": ${String(actual.value)} is not ${String(expected.value)}`,
    );
  } else {
    assert.deepStrictEqual(actual.value, expected.value, key);
  }
}

Deno.test("PreferencesStore.open() creates parent directories, the table and a WAL file", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "a", "b", "prefs.db");
  PreferencesStore.open(path).close();

  assert.ok(Deno.statSync(path).isFile);
  const db = new DatabaseSync(path);
  try {
    assert.deepEqual(
      { ...db.prepare("PRAGMA journal_mode").get() },
      { journal_mode: "wal" },
    );
    const columns = db.prepare("PRAGMA table_info(preferences)").all()
      .map((c) => [c.name, c.type, c.notnull, c.pk]);
    assert.deepEqual(columns, [
      ["key", "TEXT", 0, 1],
      ["type", "TEXT", 1, 0],
      ["value", "TEXT", 1, 0],
    ]);
  } finally {
    db.close();
  }
});

Deno.test("PreferencesStore.open() keeps the rows of an existing file", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "prefs.db");
  using first = PreferencesStore.open(path);
  first.set("kept", { type: "int", value: 7 });
  first.close();
  using second = PreferencesStore.open(path);
  assert.deepEqual(second.get("kept"), { type: "int", value: 7 });
});

Deno.test("PreferencesStore round-trips every type, through get(), getAll() and a reopen", async (t) => {
  await using dir = await tempDir();
  const path = join(dir.path, "prefs.db");
  {
    using store = PreferencesStore.open(path);
    for (const [key, value] of SAMPLES) store.set(key, value);

    await t.step("get()", () => {
      for (const [key, value] of SAMPLES) {
        assertSameValue(store.get(key), value, key);
      }
    });
    await t.step("getAll()", () => {
      const all = store.getAll();
      assert.equal(all.size, SAMPLES.length);
      for (const [key, value] of SAMPLES) {
        assertSameValue(all.get(key), value, key);
      }
    });
  }
  await t.step("a new store on the same file", () => {
    using reopened = PreferencesStore.open(path);
    for (const [key, value] of SAMPLES) {
      assertSameValue(reopened.get(key), value, key);
    }
  });
});

Deno.test("PreferencesStore.get() returns ints as numbers when safe and as bigints otherwise", async () => {
  await using dir = await tempDir();
  using store = PreferencesStore.open(join(dir.path, "prefs.db"));
  store.set("small", { type: "int", value: 5n });
  store.set("unsafe", { type: "int", value: 2 ** 53 });
  store.set("huge", { type: "int", value: 1e18 });
  store.set("negZero", { type: "int", value: -0 });
  assert.deepStrictEqual(store.get("small"), { type: "int", value: 5 });
  assert.deepStrictEqual(store.get("unsafe"), {
    type: "int",
    value: 2n ** 53n,
  });
  assert.deepStrictEqual(store.get("huge"), { type: "int", value: 10n ** 18n });
  assert.ok(Object.is(store.get("negZero")?.value, 0));
});

Deno.test("PreferencesStore.set() replaces both the value and the type", async () => {
  await using dir = await tempDir();
  using store = PreferencesStore.open(join(dir.path, "prefs.db"));
  store.set("k", { type: "int", value: 1 });
  store.set("k", { type: "stringList", value: ["x"] });
  assert.deepEqual(store.get("k"), { type: "stringList", value: ["x"] });
  assert.equal(store.getAll().size, 1);
});

Deno.test("PreferencesStore.get() returns undefined for a key that is not set", async () => {
  await using dir = await tempDir();
  using store = PreferencesStore.open(join(dir.path, "prefs.db"));
  store.set("present", { type: "bool", value: false });
  assert.equal(store.get("absent"), undefined);
  assert.equal(store.get("Present"), undefined);
});

Deno.test("PreferencesStore.remove() deletes a key and reports whether it existed", async () => {
  await using dir = await tempDir();
  using store = PreferencesStore.open(join(dir.path, "prefs.db"));
  store.set("a", { type: "string", value: "1" });
  store.set("b", { type: "string", value: "2" });
  assert.equal(store.remove("a"), true);
  assert.equal(store.remove("a"), false);
  assert.equal(store.remove("never"), false);
  assert.equal(store.get("a"), undefined);
  assert.deepEqual([...store.getAll().keys()], ["b"]);
});

Deno.test("PreferencesStore.clear() removes every preference", async () => {
  await using dir = await tempDir();
  using store = PreferencesStore.open(join(dir.path, "prefs.db"));
  for (const [key, value] of SAMPLES) store.set(key, value);
  store.clear();
  assert.equal(store.getAll().size, 0);
  assert.equal(store.get("bool.true"), undefined);
  store.set("after", { type: "bool", value: true });
  assert.equal(store.getAll().size, 1);
});

Deno.test("PreferencesStore.close() is idempotent, and later calls throw PreferencesStoreError", async () => {
  await using dir = await tempDir();
  const store = PreferencesStore.open(join(dir.path, "prefs.db"));
  store.close();
  store.close();
  store[Symbol.dispose]();
  const closed = storeError("closed");
  assert.throws(() => store.get("k"), closed);
  assert.throws(() => store.getAll(), closed);
  assert.throws(() => store.set("k", { type: "bool", value: true }), closed);
  assert.throws(() => store.remove("k"), closed);
  assert.throws(() => store.clear(), closed);
});

Deno.test("PreferencesStore.set() rejects values that do not fit their type", async () => {
  await using dir = await tempDir();
  using store = PreferencesStore.open(join(dir.path, "prefs.db"));
  const bad = (value: unknown): PreferenceValue => value as PreferenceValue;
  const typeErrors = [
    bad({ type: "bool", value: "true" }),
    bad({ type: "bool", value: 1 }),
    bad({ type: "int", value: "1" }),
    bad({ type: "double", value: 1n }),
    bad({ type: "double", value: "1.5" }),
    bad({ type: "string", value: 1 }),
    bad({ type: "stringList", value: "a" }),
    bad({ type: "stringList", value: ["a", 1] }),
    bad({ type: "stringList", value: [null] }),
    bad({ type: "map", value: {} }),
  ];
  for (const value of typeErrors) {
    assert.throws(
      () => store.set("k", value),
      (error: unknown) =>
        error instanceof TypeError &&
        error.message.startsWith(`Cannot write preference "k": `),
      `${(value as { type: unknown }).type} ${String(value.value)}`,
    );
  }
  const rangeErrors: PreferenceValue[] = [
    { type: "int", value: 1.5 },
    { type: "int", value: NaN },
    { type: "int", value: Infinity },
    { type: "int", value: 2n ** 63n },
    { type: "int", value: -(2n ** 63n) - 1n },
    { type: "int", value: 2 ** 63 },
  ];
  for (const value of rangeErrors) {
    assert.throws(
      () => store.set("k", value),
      (error: unknown) =>
        error instanceof RangeError &&
        error.message.startsWith(`Cannot write preference "k": `),
      String(value.value),
    );
  }
  assert.equal(store.getAll().size, 0);
});

Deno.test("PreferencesStore.open() throws PreferencesStoreError when the parent directory cannot be created", async () => {
  await using dir = await tempDir();
  const file = join(dir.path, "file");
  Deno.writeTextFileSync(file, "not a directory");
  const path = join(file, "sub", "prefs.db");
  assert.throws(
    () => PreferencesStore.open(path),
    storeError(`"${path}"`, "ISOLATES_DATA_DIR"),
  );
});

Deno.test("PreferencesStore.open() throws PreferencesStoreError with SQLite's message when the path is a directory", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "a-directory");
  Deno.mkdirSync(path);
  assert.throws(
    () => PreferencesStore.open(path),
    storeError(`"${path}"`, "unable to open database file"),
  );
});

Deno.test("PreferencesStore.open() throws PreferencesStoreError and leaves a file that is not a database alone", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "prefs.db");
  const junk = "this is not a SQLite database ".repeat(200);
  Deno.writeTextFileSync(path, junk);
  assert.throws(
    () => PreferencesStore.open(path),
    (error: unknown) =>
      storeError(`"${path}"`, "file is not a database")(error) &&
      (error as PreferencesStoreError).cause instanceof Error,
  );
  assert.equal(Deno.readTextFileSync(path), junk);
});

Deno.test("PreferencesStore reads throw PreferencesStoreError naming the key of a row with an unknown type", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "prefs.db");
  using store = PreferencesStore.open(path);
  store.set("fine", { type: "bool", value: true });
  insertRaw(path, "theme", "color", "'#ff0000'");
  const unknownType = storeError('"theme"', '"color"', "unknown");
  assert.throws(() => store.get("theme"), unknownType);
  assert.throws(() => store.getAll(), unknownType);
  assert.deepEqual(store.get("fine"), { type: "bool", value: true });
});

Deno.test("PreferencesStore reads throw PreferencesStoreError naming the key of a corrupt value", async (t) => {
  await using dir = await tempDir();
  const path = join(dir.path, "prefs.db");
  using store = PreferencesStore.open(path);
  const corrupt: ReadonlyArray<readonly [string, string]> = [
    ["bool", "'yes'"],
    ["bool", "'TRUE'"],
    ["bool", "''"],
    ["int", "'1.0'"],
    ["int", "'01'"],
    ["int", "' 1'"],
    ["int", "'-'"],
    ["int", "'1e3'"],
    ["int", "'9223372036854775808'"],
    ["int", "'-9223372036854775809'"],
    ["double", "'abc'"],
    ["double", "''"],
    ["double", "'0x10'"],
    ["double", "' 1'"],
    ["double", "'infinity'"],
    ["stringList", "'not json'"],
    ["stringList", "'[1]'"],
    ["stringList", "'{\"a\":1}'"],
    ["stringList", "'\"a\"'"],
    ["string", "X'FF'"],
  ];
  for (const [index, [type, sql]] of corrupt.entries()) {
    await t.step(`${type} ${sql}`, () => {
      const key = `corrupt.${index}`;
      insertRaw(path, key, type, sql);
      const named = storeError(`"${key}"`);
      assert.throws(() => store.get(key), named);
      assert.throws(() => store.getAll(), named);
      assert.equal(store.remove(key), true);
    });
  }
});

Deno.test("Two PreferencesStore instances on one file see each other's writes immediately", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "prefs.db");
  using a = PreferencesStore.open(path);
  using b = PreferencesStore.open(path);
  // Read first, so a statement that kept an old snapshot would show up.
  assert.equal(b.get("k"), undefined);
  assert.equal(b.getAll().size, 0);

  a.set("k", { type: "string", value: "from a" });
  assert.deepEqual(b.get("k"), { type: "string", value: "from a" });
  assert.equal(b.getAll().size, 1);

  b.set("k", { type: "double", value: 1.25 });
  assert.deepEqual(a.get("k"), { type: "double", value: 1.25 });

  assert.equal(b.remove("k"), true);
  assert.equal(a.get("k"), undefined);
  assert.equal(a.remove("k"), false);

  a.set("x", { type: "bool", value: true });
  a.set("y", { type: "bool", value: false });
  assert.equal(b.getAll().size, 2);
  b.clear();
  assert.equal(a.getAll().size, 0);
});

Deno.test("PreferencesStore sees writes made from a Web Worker on the same file", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "prefs.db");
  using store = PreferencesStore.open(path);
  store.set("fromMain", { type: "stringList", value: ["hello", "worker"] });
  assert.equal(store.get("fromWorker"), undefined);

  const worker = new Worker(
    new URL("./fixtures/preferences_worker.ts", import.meta.url),
    { type: "module" },
  );
  try {
    const reply = Promise.withResolvers<unknown>();
    worker.onmessage = (event: MessageEvent<unknown>): void =>
      reply.resolve(event.data);
    worker.onerror = (event: ErrorEvent): void => {
      event.preventDefault();
      reply.reject(new Error(`Worker failed: ${event.message}`));
    };
    worker.postMessage({
      path,
      readKey: "fromMain",
      writeKey: "fromWorker",
      writeValue: "hello main",
    });
    assert.deepEqual(await reply.promise, {
      read: { type: "stringList", value: ["hello", "worker"] },
    });
  } finally {
    worker.terminate();
  }
  assert.deepEqual(store.get("fromWorker"), {
    type: "string",
    value: "hello main",
  });
  assert.deepEqual([...store.getAll().keys()], ["fromMain", "fromWorker"]);
});
