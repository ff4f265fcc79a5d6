/**
 * The worker side of `csv_import.ts`: a pool task that parses a chunk of CSV
 * lines and inserts them into the database through the SQL plugin (which
 * runs here, in the worker), and draws its progress bar through Terminal
 * (proxied: the main thread draws it). Pool workers get the root token, so
 * both plugins work without `ensureInitialized`.
 */
import { Database, openDatabase, type Placement, Terminal } from "../mod.ts";

/** The table the CSV goes into (created by the main thread). */
export const CREATE_PEOPLE =
  "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, city TEXT NOT NULL, age INTEGER NOT NULL)";

/** The CSV's columns, in order. */
export const COLUMNS = ["id", "name", "email", "city", "age"] as const;

/** Rows inserted per batch (one transaction), and per progress update. */
const BATCH_ROWS = 500;

/** One task: a chunk of the CSV's lines and where to put them. */
export interface ChunkInput {
  /** The SQLite file. */
  dbPath: string;
  /** The chunk's number, from 1, and how many there are. */
  chunk: number;
  chunks: number;
  /** CSV records without the header, one per line. */
  lines: string[];
}

/**
 * Splits one CSV record (RFC 4180: fields may be quoted, with `""` for a
 * quote inside; records here hold no line breaks).
 */
export function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quoted) {
      if (char !== '"') field += char;
      else if (line[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      fields.push(field);
      field = "";
    } else field += char;
  }
  fields.push(field);
  return fields;
}

/** What a task did, and where its plugin calls ran. */
export interface ChunkResult {
  rows: number;
  /** The SQL plugin's batches: `local`, in this worker. */
  sql: Placement;
  /** The Terminal's updates: `proxied` to the main thread. */
  terminal: Placement;
}

/**
 * Imports one chunk: parses its lines and inserts them in batches, drawing
 * a progress bar after each; the bar ends when the chunk is in.
 */
export async function importChunk(
  input: ChunkInput,
  signal: AbortSignal,
): Promise<ChunkResult> {
  const bar = `chunk-${input.chunk}`;
  const label = `chunk ${input.chunk}/${input.chunks}`;
  const total = input.lines.length;
  const db = await openDatabase(input.dbPath, { version: 1 });
  try {
    for (let start = 0; start < total; start += BATCH_ROWS) {
      signal.throwIfAborted();
      const batch = db.batch();
      for (const line of input.lines.slice(start, start + BATCH_ROWS)) {
        const [id, name, email, city, age] = parseCsvLine(line);
        batch.insert("people", {
          id: Number(id),
          name,
          email,
          city,
          age: Number(age),
        });
      }
      await batch.commit({ noResult: true });
      const current = Math.min(start + BATCH_ROWS, total);
      await Terminal.progress(bar, { current, total, label });
    }
  } finally {
    await db.close();
  }
  await Terminal.done(bar);
  return {
    rows: total,
    sql: Database.plugin.placement("batch"),
    terminal: Terminal.plugin.placement("progress"),
  };
}
