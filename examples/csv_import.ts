/**
 * A CSV import spread over a worker pool. The main thread writes a CSV of
 * people, creates the database, and hands chunks of lines to an
 * `IsolatePool`; each worker parses its chunk and inserts it through the SQL
 * plugin (running in the worker), drawing a progress bar through Terminal
 * (the main thread draws every bar on its TTY). At the end the main thread
 * counts the rows in the database. The program ends by itself.
 *
 * Files go to `ISOLATES_DATA_DIR` (the CSV under its `cache/`, the database
 * in it), or to a temporary directory removed at the end.
 *
 * Run: `deno run -A examples/csv_import.ts [rows] [workers]`.
 */
import { join } from "node:path";
import {
  getApplicationCacheDirectory,
  getApplicationSupportDirectory,
  IsolatePool,
  openDatabase,
  Terminal,
} from "../mod.ts";
import {
  type ChunkInput,
  COLUMNS,
  CREATE_PEOPLE,
  type importChunk,
} from "./csv_import_tasks.ts";

const rows = Number(Deno.args[0] ?? 20_000);
const workers = Number(
  Deno.args[1] ?? Math.min(4, navigator.hardwareConcurrency || 1),
);
const CHUNK_ROWS = 2_000;

/** A CSV of `count` people, with quoted fields, from a fixed seed. */
function peopleCsv(count: number): string {
  const first = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Dennis"];
  const last = ["Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov"];
  const cities = ["London", "Paris", 'Springfield, "the" original', "Oslo"];
  let seed = 42;
  const next = (n: number): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed % n;
  };
  const quote = (field: string): string =>
    /[",]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
  const lines = [COLUMNS.join(",")];
  for (let id = 1; id <= count; id++) {
    const name = `${last[next(last.length)]}, ${first[next(first.length)]}`;
    const email = `user${id}@example.com`;
    const city = cities[next(cities.length)];
    lines.push(
      [id, quote(name), email, quote(city), 18 + next(60)].join(","),
    );
  }
  return lines.join("\n") + "\n";
}

const ownDir = Deno.env.get("ISOLATES_DATA_DIR")
  ? null
  : await Deno.makeTempDir({ prefix: "isolates_csv_import_" });
if (ownDir !== null) Deno.env.set("ISOLATES_DATA_DIR", ownDir);
try {
  const csvPath = join(await getApplicationCacheDirectory(), "people.csv");
  const dbPath = join(await getApplicationSupportDirectory(), "csv_import.db");
  await Terminal.status(`writing ${rows} rows to ${csvPath}`);
  await Deno.writeTextFile(csvPath, peopleCsv(rows));

  // The main thread creates the table; the workers open the file after.
  const db = await openDatabase(dbPath, {
    version: 1,
    onCreate: async (db) => {
      await db.execute(CREATE_PEOPLE);
    },
  });
  await db.execute("DELETE FROM people"); // a re-run starts empty

  const lines = (await Deno.readTextFile(csvPath)).split("\n").slice(1, -1);
  const chunks: string[][] = [];
  for (let i = 0; i < lines.length; i += CHUNK_ROWS) {
    chunks.push(lines.slice(i, i + CHUNK_ROWS));
  }
  await Terminal.status(
    `importing ${lines.length} rows in ${chunks.length} chunks on ${workers} workers`,
  );
  const started = performance.now();
  let imported = 0;
  const placements = new Set<string>();
  {
    await using pool = new IsolatePool({ name: "csv-import", size: workers });
    const task = {
      module: new URL("./csv_import_tasks.ts", import.meta.url),
      exportName: "importChunk",
    };
    await Promise.all(chunks.map(async (chunk, i) => {
      const input: ChunkInput = {
        dbPath,
        chunk: i + 1,
        chunks: chunks.length,
        lines: chunk,
      };
      const done = await pool.run<typeof importChunk>(task, input);
      imported += done.rows;
      placements.add(`SQL ${done.sql}, Terminal ${done.terminal}`);
      await Terminal.progress("total", {
        current: imported,
        total: lines.length,
        label: "imported",
      });
    }));
  }
  await Terminal.done("total");
  await Terminal.clear();
  const [{ count }] = await db.rawQuery(
    "SELECT COUNT(*) AS count FROM people",
  );
  await db.close();
  console.log(
    `${count} rows in ${
      ownDir === null ? dbPath : "the database"
    }, imported by ${workers} workers in ${
      (performance.now() - started).toFixed(0)
    } ms`,
  );
  console.log(`in the workers: ${[...placements].join("; ")}`);
} finally {
  if (ownDir !== null) {
    Deno.env.delete("ISOLATES_DATA_DIR");
    await Deno.remove(ownDir, { recursive: true });
  }
}
