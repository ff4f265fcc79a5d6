/**
 * Whether this code runs on the main thread (the root isolate) rather than
 * in a Web Worker. Deno defines `WorkerGlobalScope` only inside workers.
 */
export const isMainThread: boolean =
  typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope ===
    "undefined";
