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
  const channel = new MessageChannel();
  channel.port1.onmessage = () => {
    const task = queue.shift();
    task?.();
  };
  return (task) => {
    queue.push(task);
    channel.port2.postMessage(null);
  };
}
