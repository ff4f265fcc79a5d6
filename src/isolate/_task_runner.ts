import { serializeError, type WireMessage } from "./protocol.ts";
import { encodeRefs, reviveRefs } from "./_message_refs.ts";
import type { TaskOrder } from "./_runtime.ts";

type TaskFunction = (input: unknown, signal: AbortSignal) => unknown;
type Task = Extract<WireMessage, { kind: "task" }>;
type Definition = TaskFunction | Promise<TaskFunction> | { error: unknown };

/**
 * The pool worker's side of an `IsolatePool`: it runs the tasks its parent
 * sends, one at a time, in the order they arrive, each with an AbortSignal
 * of its own, and answers each with `done` or `failed`.
 *
 * Each answer is posted before the next task starts. The parent reads "the
 * oldest unanswered task is the one running" from that, and only because
 * of it can it terminate a worker stuck in an aborted task without losing
 * the answer of a task that had finished.
 */
export class TaskRunner {
  readonly #definitions = new Map<number, Definition>();
  #queue: Task[] = [];
  #head = 0;
  #running:
    | { id: number; controller: AbortController | null; aborted: boolean }
    | null = null;
  readonly #send: (message: WireMessage, transfer: Transferable[]) => void;
  readonly #load: (url: string, exportName: string) => Promise<TaskFunction>;
  readonly #compile: (source: string) => TaskFunction;

  /**
   * @param send Posts to the parent at once, after what is batched; throws
   * when the message cannot be copied.
   * @param load Loads a module task's export.
   * @param compile Compiles a function task's source.
   */
  constructor(
    send: (message: WireMessage, transfer: Transferable[]) => void,
    load: (url: string, exportName: string) => Promise<TaskFunction>,
    compile: (source: string) => TaskFunction,
  ) {
    this.#send = send;
    this.#load = load;
    this.#compile = compile;
  }

  /** Handles one order from the parent. */
  handle(message: TaskOrder): void {
    switch (message.kind) {
      case "define":
        this.#define(message);
        return;
      case "task":
        this.#queue.push(message);
        if (this.#running === null && this.#queue.length - this.#head === 1) {
          this.#pump();
        }
        return;
      case "abort":
        this.#abort(message.id);
        return;
    }
  }

  #define(message: Extract<WireMessage, { kind: "define" }>): void {
    try {
      if (message.source !== null) {
        this.#definitions.set(message.task, this.#compile(message.source));
        return;
      }
      const loading = this.#load(message.entry ?? "", message.exportName);
      this.#definitions.set(message.task, loading);
      loading.then(
        (fn) => this.#definitions.set(message.task, fn),
        (error) => this.#definitions.set(message.task, { error }),
      );
    } catch (error) {
      this.#definitions.set(message.task, { error });
    }
  }

  #abort(id: number): void {
    const running = this.#running;
    if (running !== null && running.id === id) {
      running.aborted = true;
      running.controller?.abort(
        new DOMException("The task was aborted by its caller", "AbortError"),
      );
      return;
    }
    for (let i = this.#head; i < this.#queue.length; i++) {
      if (this.#queue[i].id === id) {
        this.#queue.splice(i, 1);
        this.#fail(id, new DOMException("The task was aborted", "AbortError"));
        return;
      }
    }
  }

  /** Runs queued tasks until one is asynchronous or the queue is empty. */
  #pump(): void {
    while (this.#head < this.#queue.length) {
      const task = this.#queue[this.#head++];
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      const definition = this.#definitions.get(task.task);
      if (definition === undefined) {
        this.#fail(
          task.id,
          new Error(`task ${task.task} was never defined in this worker`),
        );
        continue;
      }
      if (definition instanceof Promise) {
        // Its module is still loading: run it (and what follows) once loaded.
        this.#running = { id: task.id, controller: null, aborted: false };
        definition.then(
          () => this.#resume(task),
          () => this.#resume(task),
        );
        return;
      }
      if (typeof definition !== "function") {
        this.#fail(task.id, definition.error);
        continue;
      }
      if (this.#start(task, definition)) return;
    }
    this.#queue.length = 0;
    this.#head = 0;
  }

  #resume(task: Task): void {
    const aborted = this.#running?.aborted ?? false;
    this.#running = null;
    if (aborted) {
      this.#fail(
        task.id,
        new DOMException("The task was aborted", "AbortError"),
      );
      this.#pump();
      return;
    }
    this.#head--;
    this.#queue[this.#head] = task;
    this.#pump();
  }

  /** Starts a task. Returns whether it went asynchronous. */
  #start(task: Task, fn: TaskFunction): boolean {
    const controller = new AbortController();
    this.#running = { id: task.id, controller, aborted: false };
    let value: unknown;
    try {
      const input = task.refs ? reviveRefs(task.payload) : task.payload;
      value = fn(input, controller.signal);
    } catch (error) {
      this.#running = null;
      this.#fail(task.id, error);
      return false;
    }
    if (
      value !== null && typeof value === "object" &&
      typeof (value as { then?: unknown }).then === "function"
    ) {
      (value as PromiseLike<unknown>).then(
        (result) => this.#settled(task.id, result, null),
        (error) => this.#settled(task.id, undefined, { error }),
      );
      return true;
    }
    this.#running = null;
    this.#done(task.id, value);
    return false;
  }

  #settled(
    id: number,
    value: unknown,
    failure: { error: unknown } | null,
  ): void {
    this.#running = null;
    if (failure === null) this.#done(id, value);
    else this.#fail(id, failure.error);
    this.#pump();
  }

  #done(id: number, value: unknown): void {
    let message: WireMessage;
    let transfer: Transferable[];
    try {
      const encoded = encodeRefs(value);
      message = {
        kind: "done",
        id,
        payload: encoded.payload,
        refs: encoded.refs,
      };
      transfer = encoded.transfer;
    } catch (error) {
      this.#fail(id, error);
      return;
    }
    try {
      this.#send(message, transfer);
    } catch (error) {
      this.#fail(
        id,
        new TypeError(
          `the task's result cannot be copied back to the caller (${
            error instanceof Error ? error.message : String(error)
          }); return only structured-cloneable values`,
        ),
      );
    }
  }

  #fail(id: number, error: unknown): void {
    this.#send({ kind: "failed", id, error: serializeError(error) }, []);
  }
}
