/**
 * Shared bench plumbing. On a shared 2-core machine background GC and JIT
 * work skew short timings, so each measured sample runs a batch of
 * operations after a short pause that lets that work settle.
 */

/** Waits `ms` milliseconds. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Wraps a synchronous operation as a bench function that pauses, then times
 * `batch` runs of it.
 */
export function batched(
  operation: () => void,
  batch: number,
  pauseMs = 5,
): (b: Deno.BenchContext) => Promise<void> {
  return async (b) => {
    await pause(pauseMs);
    b.start();
    for (let i = 0; i < batch; i++) operation();
    b.end();
  };
}
