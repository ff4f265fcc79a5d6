import { isMainThread } from "./_thread.ts";

/**
 * Runs `task` on a later turn of the event loop, after pending I/O such as
 * messages from other isolates, without the 1–4 ms clamp nested timers pay.
 *
 * On the main thread this is `setImmediate` (Deno's global, looked up only
 * when first used). Workers use a MessageChannel instead: their first use of
 * a Node global costs several milliseconds of start-up, and a worker's
 * lifetime is managed by the isolate runtime, so an open port is harmless.
 */
export const nextTurn: (task: () => void) => void = isMainThread
  ? (task) =>
    (globalThis as unknown as { setImmediate(task: () => void): unknown })
      .setImmediate(task)
  : workerTurn();

function workerTurn(): (task: () => void) => void {
  const queue: (() => void)[] = [];
  // Made on first use, not while the worker loads: a worker's first
  // MessageChannel costs it about half a millisecond, and most isolates need
  // none before their entry has run.
  let channel: MessageChannel | null = null;
  return (task) => {
    queue.push(task);
    if (channel === null) {
      channel = new MessageChannel();
      channel.port1.onmessage = () => {
        const next = queue.shift();
        next?.();
      };
    }
    channel.port2.postMessage(null);
  };
}
