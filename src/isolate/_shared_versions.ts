/**
 * Version counters shared by every isolate of the process, in one
 * SharedArrayBuffer the root creates and hands to each worker at start. A
 * plugin that caches what it read from shared storage bumps its counter
 * after each write and checks it before serving from cache: a read that
 * follows a write (in any isolate) always sees it, and a cache hit costs an
 * atomic load instead of a database query.
 *
 * Names share 256 slots by hash: two names on one slot only invalidate each
 * other's caches more often.
 */
const SLOTS = 256;

let shared: Int32Array | null = typeof (globalThis as {
    WorkerGlobalScope?: unknown;
  }).WorkerGlobalScope === "undefined"
  ? new Int32Array(new SharedArrayBuffer(SLOTS * 4))
  : null;

/** The buffer to hand to a new worker (`null` when this isolate has none). */
export function sharedVersionsBuffer(): SharedArrayBuffer | null {
  return shared === null ? null : shared.buffer as SharedArrayBuffer;
}

/** Installs the buffer a worker was started with. */
export function useSharedVersions(buffer: SharedArrayBuffer | null): void {
  shared = buffer === null ? null : new Int32Array(buffer);
}

function slot(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  }
  return (hash >>> 0) % SLOTS;
}

/**
 * The current version of `name`, or `null` when this isolate shares no
 * memory with the others (a worker not started by `Isolate`): then nothing
 * may be served from a cache.
 */
export function readVersion(name: string): number | null {
  return shared === null ? null : Atomics.load(shared, slot(name));
}

/** Marks `name` changed, for every isolate. */
export function bumpVersion(name: string): void {
  if (shared !== null) Atomics.add(shared, slot(name), 1);
}
