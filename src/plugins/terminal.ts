import { PlatformException } from "../codec/platform_exception.ts";
import { ServicesBinding } from "../isolate/services_binding.ts";
import { StateError } from "../isolate/state_error.ts";
import { isMainThread } from "../isolate/_thread.ts";
import { Plugin } from "./plugin.ts";

/** The channel of the Terminal plugin. */
const CHANNEL = "isolates/terminal";

/** At most this many redraws a second on a TTY. */
const REDRAWS_PER_SECOND = 30;
const REDRAW_INTERVAL_MS = 1000 / REDRAWS_PER_SECOND;
/** Control characters, which would break the layout of a one-line field. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const encoder = new TextEncoder();

/**
 * The methods of the Terminal channel. Progress travels as
 * `[id, current, total, label]`; every method answers `null`.
 *
 * @example
 * ```ts
 * import type { TerminalMethods } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const args: TerminalMethods["progress"]["args"] = ["rows", 5, 10, "Rows"];
 * assert.equal(args[0], "rows");
 * ```
 */
export type TerminalMethods = {
  status: { args: string; result: null };
  progress: { args: [string, number, number, string | null]; result: null };
  log: { args: string; result: null };
  done: { args: string; result: null };
  clear: { args: null; result: null };
};

/**
 * The state of one progress bar, for {@linkcode Terminal.progress}.
 *
 * @example
 * ```ts
 * import type { TerminalProgress } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const progress: TerminalProgress = { current: 250, total: 1000, label: "Rows" };
 * assert.equal(progress.current / progress.total, 0.25);
 * ```
 */
export interface TerminalProgress {
  /** Work done so far: a finite number from 0 to `total`. */
  current: number;
  /** All the work: a finite number, at least 0 (0 reads as complete). */
  total: number;
  /**
   * The text before the bar.
   *
   * @default {the bar's id, or the label it had}
   */
  label?: string;
}

/**
 * Where the main thread draws, for {@linkcode Terminal.useOutput}: tests
 * and embedders capture the output with it.
 *
 * @example
 * ```ts
 * import type { TerminalOutput } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const chunks: Uint8Array[] = [];
 * const output: TerminalOutput = {
 *   write: (bytes) => void chunks.push(bytes),
 *   isTerminal: false,
 * };
 * output.write(new TextEncoder().encode("hi\n"));
 * assert.equal(chunks.length, 1);
 * ```
 */
export interface TerminalOutput {
  /** Writes bytes, all of them, synchronously. */
  write(bytes: Uint8Array): void;
  /**
   * Whether it is a TTY: bars are redrawn in place with ANSI escapes;
   * otherwise plain lines are printed, without escapes.
   */
  isTerminal: boolean;
  /**
   * Its width in columns: longer bar and status lines are cut to fit.
   *
   * @default {80}
   */
  columns?: number;
  /**
   * The clock of the redraw throttle, in ms (inject one to test it).
   *
   * @default {performance.now}
   */
  now?: () => number;
}

/**
 * What {@linkcode Terminal.useOutput} returns: a function that puts the
 * previous output back (after a last draw). It is idempotent, and
 * disposable, for `using`.
 *
 * @example
 * ```ts
 * import { Terminal, type TerminalRestore } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const restore: TerminalRestore = Terminal.useOutput({
 *   write: () => {},
 *   isTerminal: false,
 * });
 * restore();
 * restore(); // no effect
 * assert.equal(typeof restore[Symbol.dispose], "function");
 * ```
 */
export type TerminalRestore = (() => void) & Disposable;

/** An output with its defaults filled in. */
interface Output {
  write(bytes: Uint8Array): void;
  isTerminal: boolean;
  columns(): number;
  now(): number;
}

interface Bar {
  label: string;
  current: number;
  total: number;
  /** The percentage last printed (plain output), or -1. */
  printed: number;
}

/**
 * The main thread's drawing of the terminal: bars (one line per id, in the
 * order they appeared) with the status line under them, and log lines
 * printed above. On a TTY the region is redrawn in place, at most
 * {@linkcode REDRAWS_PER_SECOND} times a second; otherwise lines are
 * printed, a bar once per whole percent.
 */
class Screen {
  readonly #output: Output;
  readonly #bars = new Map<string, Bar>();
  #status: string | null = null;
  #printedStatus: string | null = null;
  /** Lines of the region on screen, under the cursor's line. */
  #drawn = 0;
  #lastDraw = -Infinity;
  #dirty = false;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(output: Output) {
    this.#output = output;
  }

  log(text: string): void {
    if (this.#output.isTerminal) this.#draw([text]);
    else this.#write(`${text}\n`);
  }

  status(text: string): void {
    const line = text.replace(CONTROL, " ");
    if (this.#output.isTerminal) {
      this.#status = line;
      this.#request();
    } else if (line !== this.#printedStatus) {
      this.#printedStatus = line;
      this.#write(`${line}\n`);
    }
  }

  progress(
    id: string,
    current: number,
    total: number,
    label: string | null,
  ): void {
    let bar = this.#bars.get(id);
    if (bar === undefined) {
      bar = { label: id.replace(CONTROL, " "), current, total, printed: -1 };
      this.#bars.set(id, bar);
    }
    bar.current = current;
    bar.total = total;
    if (label !== null) bar.label = label.replace(CONTROL, " ");
    if (this.#output.isTerminal) {
      this.#request();
      return;
    }
    const percent = percentOf(bar);
    if (percent !== bar.printed) {
      bar.printed = percent;
      this.#write(`${bar.label}: ${percent}% (${current}/${total})\n`);
    }
  }

  done(id: string): void {
    const bar = this.#bars.get(id);
    if (bar === undefined) return;
    this.#bars.delete(id);
    const line = `${bar.label}: done (${bar.current}/${bar.total})`;
    if (this.#output.isTerminal) this.#draw([line]);
    else this.#write(`${line}\n`);
  }

  clear(): void {
    this.#bars.clear();
    this.#status = null;
    this.#printedStatus = null;
    if (this.#output.isTerminal) this.#draw([]);
  }

  /** Draws what is pending now, and stops the throttle's timer. */
  flush(): void {
    if (this.#dirty) this.#draw([]);
    else this.#cancel();
  }

  /** Marks the region changed: drawn now, or once the interval has passed. */
  #request(): void {
    this.#dirty = true;
    const wait = REDRAW_INTERVAL_MS - (this.#output.now() - this.#lastDraw);
    if (wait <= 0) this.#draw([]);
    else this.#timer ??= setTimeout(() => this.#tick(), wait);
  }

  #tick(): void {
    this.#timer = null;
    if (!this.#dirty) return;
    // The injected clock decides, not the timer: a test's frozen clock
    // keeps the draw pending until it moves or someone flushes.
    const wait = REDRAW_INTERVAL_MS - (this.#output.now() - this.#lastDraw);
    if (wait <= 0) this.#draw([]);
    else this.#timer = setTimeout(() => this.#tick(), wait);
  }

  #cancel(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  /** Erases the region, prints `logs` above it and draws it again. */
  #draw(logs: string[]): void {
    this.#cancel();
    this.#dirty = false;
    this.#lastDraw = this.#output.now();
    const width = Math.max(this.#output.columns() - 1, 1);
    const lines: string[] = [];
    for (const bar of this.#bars.values()) lines.push(barLine(bar, width));
    if (this.#status !== null) lines.push(fit(this.#status, width));
    if (this.#drawn === 0 && logs.length === 0 && lines.length === 0) return;
    // Back to the region's first line, then erase to the end of the screen.
    let text = this.#drawn > 0 ? `\x1b[${this.#drawn}A\r\x1b[J` : "";
    for (const log of logs) text += `${log}\n`;
    for (const line of lines) text += `${line}\n`;
    this.#drawn = lines.length;
    this.#write(text);
  }

  #write(text: string): void {
    this.#output.write(encoder.encode(text));
  }
}

function percentOf(bar: Bar): number {
  return bar.total === 0 ? 100 : Math.floor((bar.current / bar.total) * 100);
}

/** `label [####------]  40% 4/10`, cut to `width`. */
function barLine(bar: Bar, width: number): string {
  const percent = percentOf(bar);
  const suffix = ` ${String(percent).padStart(3)}% ${bar.current}/${bar.total}`;
  const room = width - [...bar.label].length - suffix.length - 3;
  const size = Math.min(30, room);
  if (size < 5) return fit(`${bar.label}${suffix}`, width);
  const filled = Math.round((size * percent) / 100);
  return fit(
    `${bar.label} [${"#".repeat(filled)}${"-".repeat(size - filled)}]${suffix}`,
    width,
  );
}

/** `text`, cut to `width` code points with an ellipsis. */
function fit(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width
    ? text
    : `${chars.slice(0, width - 1).join("")}…`;
}

function stdout(): Output {
  let dumb = false;
  try {
    dumb = Deno.permissions.querySync({ name: "env", variable: "TERM" })
          .state === "granted" && Deno.env.get("TERM") === "dumb";
  } catch {
    // No way to tell: assume a capable terminal.
  }
  return {
    write: (bytes) => {
      // Synchronous, so lines keep their order with console output.
      let written = 0;
      while (written < bytes.length) {
        written += Deno.stdout.writeSync(bytes.subarray(written));
      }
    },
    isTerminal: Deno.stdout.isTerminal() && !dumb,
    columns: () => {
      try {
        // A pseudo-terminal that never had a size set reports 0 columns.
        const { columns } = Deno.consoleSize();
        return columns > 0 ? columns : 80;
      } catch {
        return 80;
      }
    },
    now: () => performance.now(),
  };
}

let screen: Screen | null = null;

/** The main thread's screen (on stdout until an output is injected). */
function current(): Screen {
  return screen ??= new Screen(stdout());
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "a list" : "an object";
}

function badArgs(action: string, problem: string): PlatformException {
  return new PlatformException({
    code: "bad_args",
    message: `Cannot ${action}: ${problem}`,
  });
}

function text(action: string, value: unknown, what: string): string {
  if (typeof value !== "string") {
    throw badArgs(
      action,
      `the ${what} must be a string, got ${describe(value)}; pass a string`,
    );
  }
  return value;
}

function id(action: string, value: unknown): string {
  if (typeof value !== "string" || value === "") {
    throw badArgs(
      action,
      `the id must be a non-empty string, got ${
        describe(value)
      }; name the bar with a string`,
    );
  }
  return value;
}

function progressArgs(
  args: unknown,
): [string, number, number, string | null] {
  if (!Array.isArray(args) || args.length !== 4) {
    throw badArgs(
      "draw progress",
      `the arguments must be [id, current, total, label], got ${
        describe(args)
      }; call Terminal.progress(id, { current, total })`,
    );
  }
  const bar = id("draw progress", args[0]);
  const action = `draw progress "${bar}"`;
  const [, current, total, label] = args as unknown[];
  if (typeof total !== "number" || !Number.isFinite(total) || total < 0) {
    throw badArgs(
      action,
      `"total" must be a finite number >= 0, got ${
        describe(total)
      }; pass the amount of work`,
    );
  }
  if (
    typeof current !== "number" || !Number.isFinite(current) || current < 0 ||
    current > total
  ) {
    throw badArgs(
      action,
      `"current" must be a finite number from 0 to "total" (${total}), got ${
        describe(current)
      }; pass the work done so far`,
    );
  }
  if (label !== null && typeof label !== "string") {
    throw badArgs(
      action,
      `"label" must be a string, got ${describe(label)}; pass text or omit it`,
    );
  }
  return [bar, current, total, label];
}

/**
 * The plugin: `main` affinity, since only the main thread may draw on its
 * TTY. A worker's calls are proxied to it, so bars from every isolate share
 * one screen.
 */
const terminalPlugin = new Plugin<TerminalMethods>({
  channel: CHANNEL,
  affinity: "main",
  methods: {
    status: {
      run: (value) => {
        current().status(text("show the status", value, "status text"));
        return null;
      },
    },
    progress: {
      run: (args) => {
        current().progress(...progressArgs(args));
        return null;
      },
    },
    log: {
      run: (value) => {
        current().log(text("log a line", value, "line"));
        return null;
      },
    },
    done: {
      run: (value) => {
        current().done(id("end a progress bar", value));
        return null;
      },
    },
    clear: {
      run: () => {
        current().clear();
        return null;
      },
    },
  },
});

function resolveOutput(output: TerminalOutput): Output {
  if (typeof output !== "object" || output === null) {
    throw new TypeError(
      `Cannot use the terminal output: it must be an object, got ${
        describe(output)
      }; pass { write, isTerminal }`,
    );
  }
  const { write, isTerminal, columns = 80, now = () => performance.now() } =
    output;
  if (typeof write !== "function") {
    throw new TypeError(
      `Cannot use the terminal output: "write" must be a function, got ${
        describe(write)
      }; pass write(bytes)`,
    );
  }
  if (typeof isTerminal !== "boolean") {
    throw new TypeError(
      `Cannot use the terminal output: "isTerminal" must be a boolean, got ${
        describe(isTerminal)
      }; say whether it is a TTY`,
    );
  }
  if (!Number.isSafeInteger(columns) || columns < 1) {
    throw new RangeError(
      `Cannot use the terminal output: "columns" must be a positive integer, got ${
        describe(columns)
      }; pass the width in columns`,
    );
  }
  if (typeof now !== "function") {
    throw new TypeError(
      `Cannot use the terminal output: "now" must be a function, got ${
        describe(now)
      }; pass a clock in ms`,
    );
  }
  return {
    write: (bytes) => write.call(output, bytes),
    isTerminal,
    columns: () => columns,
    now: () => now.call(output),
  };
}

/**
 * The main thread's terminal, as a plugin any isolate can draw on: a status
 * line, one progress bar per id, and log lines printed above them.
 *
 * It is a plugin with `main` affinity (channel `isolates/terminal`): only
 * the main thread draws on its TTY, and a worker's calls are proxied to it
 * (after `BackgroundIsolateBinaryMessenger.ensureInitialized(token)`; pool
 * workers are initialized for you), so bars from many workers share one
 * screen. Every method resolves once the main thread has taken the update.
 *
 * On a TTY the bars and the status are redrawn in place (ANSI cursor-up and
 * erase), at most 30 times a second; the last update is always drawn, at
 * the latest one interval later. When stdout is not a TTY (a pipe, a file,
 * `TERM=dumb`), plain lines are printed instead, without escapes: a bar
 * each time its whole percentage changes, a status when its text changes.
 * Write through {@linkcode Terminal.log} rather than `console.log` while
 * bars are shown, so lines land above them.
 *
 * Arguments are checked where they are drawn: a bad one rejects with
 * `PlatformException` code `"bad_args"`, from any isolate.
 *
 * @example Bars from the main thread, captured
 * ```ts
 * import { Terminal } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * let text = "";
 * using _ = Terminal.useOutput({
 *   write: (bytes) => void (text += new TextDecoder().decode(bytes)),
 *   isTerminal: false,
 * });
 * await Terminal.log("importing");
 * await Terminal.progress("rows", { current: 50, total: 200, label: "Rows" });
 * await Terminal.progress("rows", { current: 51, total: 200 }); // same percent
 * await Terminal.done("rows");
 * assert.equal(text, "importing\nRows: 25% (50/200)\nRows: done (51/200)\n");
 * ```
 *
 * @example A worker's progress is drawn by the main thread
 * ```ts
 * import { IsolatePool, Terminal } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * using _ = Terminal.useOutput({
 *   write: (bytes) => void lines.push(new TextDecoder().decode(bytes)),
 *   isTerminal: false,
 * });
 * await using pool = new IsolatePool({ size: 1 });
 * const placement = await pool.run(async () => {
 *   const { Terminal } = await import("@isolates/isolates");
 *   await Terminal.progress("job", { current: 1, total: 2 });
 *   return Terminal.plugin.placement("progress");
 * });
 * assert.equal(placement, "proxied");
 * assert.deepEqual(lines, ["job: 50% (1/2)\n"]);
 * ```
 */
export class Terminal {
  private constructor() {}

  /**
   * The plugin behind the methods (channel `isolates/terminal`, `main`
   * affinity), for tracing and placement checks.
   */
  static get plugin(): Plugin<TerminalMethods> {
    return terminalPlugin;
  }

  /**
   * Shows a status line under the bars (replacing the previous one).
   * Control characters become spaces.
   *
   * @param text The status.
   * @returns Once the main thread has taken it.
   * @throws {PlatformException} Code `"bad_args"` when `text` is not a
   * string.
   */
  static async status(text: string): Promise<void> {
    await terminalPlugin.invoke("status", text);
  }

  /**
   * Draws or updates the progress bar `id` (new ids add a line under the
   * others).
   *
   * @param id The bar's id: a non-empty string.
   * @param progress How far it is, and its label.
   * @returns Once the main thread has taken it.
   * @throws {PlatformException} Code `"bad_args"` when the id is empty or
   * `current` and `total` are not finite with `0 <= current <= total`.
   */
  static async progress(id: string, progress: TerminalProgress): Promise<void> {
    await terminalPlugin.invoke("progress", [
      id,
      progress?.current,
      progress?.total,
      progress?.label ?? null,
    ]);
  }

  /**
   * Prints a line above the bars (it stays when they are redrawn).
   *
   * @param line The text.
   * @returns Once the main thread has printed it.
   * @throws {PlatformException} Code `"bad_args"` when `line` is not a
   * string.
   */
  static async log(line: string): Promise<void> {
    await terminalPlugin.invoke("log", line);
  }

  /**
   * Ends the bar `id`: it leaves the bars, and a final line
   * `label: done (current/total)` is printed above them. An unknown id is
   * ignored.
   *
   * @param id The bar's id.
   * @returns Once the main thread has drawn it.
   * @throws {PlatformException} Code `"bad_args"` when `id` is not a
   * non-empty string.
   */
  static async done(id: string): Promise<void> {
    await terminalPlugin.invoke("done", id);
  }

  /**
   * Removes every bar and the status line (erased from a TTY).
   *
   * @returns Once the main thread has erased them.
   */
  static async clear(): Promise<void> {
    await terminalPlugin.invoke("clear");
  }

  /**
   * Draws on `output` instead of stdout until the returned function is
   * called (the bars and status start empty there); for tests and
   * embedders. Main thread only.
   *
   * @param output Where to write, whether it is a TTY, its width and clock.
   * @returns A function (also disposable) that draws what is pending and
   * puts the previous output back.
   * @throws {StateError} In a worker: only the main thread draws.
   * @throws {TypeError} When `write`, `isTerminal` or `now` has the wrong
   * type.
   * @throws {RangeError} When `columns` is not a positive integer.
   */
  static useOutput(output: TerminalOutput): TerminalRestore {
    if (!isMainThread) {
      throw new StateError(
        `Cannot redirect the terminal output in isolate "${ServicesBinding.isolateId}": only the main thread draws on the terminal; call Terminal.useOutput() on the main thread`,
      );
    }
    const previous = screen;
    const mine = new Screen(resolveOutput(output));
    screen = mine;
    let restored = false;
    const restore = (): void => {
      if (restored) return;
      restored = true;
      mine.flush();
      if (screen === mine) screen = previous;
    };
    return Object.assign(restore, { [Symbol.dispose]: restore });
  }
}
