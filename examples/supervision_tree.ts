/**
 * A supervision tree at work. The root supervisor holds an IsolatePool (every
 * pool joins it by itself) and a "tally" actor that counts finished tasks.
 * The example:
 *
 * 1. prints the root's lifecycle events as they happen (`events()`);
 * 2. runs a batch of fib tasks on the pool, printing the live tree from
 *    `Supervisor.root.inspect()` while it works: ids, state, restarts,
 *    mailbox depth, running/queued tasks and utilization;
 * 3. first runs a task that crashes its worker (an error thrown from a
 *    timer, which nothing can catch): that task fails with
 *    IsolateExitedError, the pool starts a new worker (a new id in the
 *    tree, and its "workers replaced" count) and every other task still
 *    finishes. The pool replaces its own workers: that shows in its tree,
 *    not in the root's events;
 * 4. crashes the actor, which the root restarts (`exited` then
 *    `restarted` events);
 * 5. stops the whole tree, in reverse start order, and exits by itself.
 *
 * Run: `deno run -A examples/supervision_tree.ts`
 */
import {
  Actor,
  IsolateExitedError,
  IsolatePool,
  Supervisor,
  type SupervisorEvent,
  type SupervisorTreeNode,
} from "../mod.ts";

type TallyMessage = { kind: "done" } | { kind: "total" } | { kind: "fail" };

const root = Supervisor.root;
const events = root.events();
const printingEvents = (async () => {
  for await (const event of events) console.log(`  event: ${show(event)}`);
})();

const pool = new IsolatePool({ name: "fib", size: 2 });
await root.startChild({
  id: "tally",
  // Called again on each restart: a restarted actor starts from zero.
  start: () => {
    let done = 0;
    return new Actor<TallyMessage, { total: number }>({
      done: () => {
        done++;
      },
      total: () => done,
      fail: () => {
        throw new Error("the tally crashed on purpose");
      },
    }, { name: "tally" });
  },
});
const tally = (): Actor<TallyMessage, { total: number }> =>
  root.child("tally") as Actor<TallyMessage, { total: number }>;
await pool.ready();
printTree("started");

const fib = (n: number): number => {
  const f = (k: number): number => (k < 2 ? k : f(k - 1) + f(k - 2));
  return f(n);
};
// Returns a promise that never settles; the timer's error ends the worker.
const crash = (): Promise<never> => {
  setTimeout(() => {
    throw new Error("this worker crashed on purpose");
  }, 100);
  return new Promise<never>(() => {});
};

// The crash goes first, so a worker dies while the others still queue.
const crashed = pool.run(crash).catch((error: unknown) => {
  printTree("the crash: a new worker is starting");
  return error;
});
const inputs = [33, 34, 35, 33, 34, 35, 33, 34, 35, 33];
const tasks = inputs.map((n) =>
  pool.run(fib, n).then((value) => {
    tally().tell({ kind: "done" });
    return value;
  })
);
const snapshots = setInterval(() => printTree("working"), 200);
const results = await Promise.allSettled(tasks);
const crashError = await crashed;
clearInterval(snapshots);

if (crashError instanceof IsolateExitedError) {
  console.log(`crash() failed, as meant to: ${crashError.message}`);
}
for (const [i, result] of results.entries()) {
  if (result.status === "fulfilled") {
    console.log(`fib(${inputs[i]}) = ${result.value}`);
  } else console.log(`fib(${inputs[i]}) failed: ${result.reason}`);
}
console.log(`tally: ${await tally().ask({ kind: "total" })} tasks done`);
printTree("batch done");

// Let it crash: the root restarts the actor, with fresh state.
const watch = root.events();
await tally().ask({ kind: "fail" }).catch(() => {});
for await (const event of watch) {
  if (event.type === "restarted" && event.id === "tally") break;
}
console.log(`tally after its restart: ${await tally().ask({ kind: "total" })}`);

await root.close(); // stops the tally, then the pool (draining it)
await printingEvents; // the event stream ends with the root
printTree("closed");

/** Prints the root's tree as indented text. */
function printTree(title: string): void {
  const tree = root.inspect();
  console.log(`\n[${title}]`);
  console.log(
    `${tree.name} (${tree.strategy}, ${tree.state}, ` +
      `${tree.restarts}/${tree.intensity} restarts in ${tree.period} ms)`,
  );
  printNodes(tree.children, "");
  console.log();
}

function printNodes(nodes: SupervisorTreeNode[], indent: string): void {
  for (const [i, node] of nodes.entries()) {
    const last = i === nodes.length - 1;
    const d = node.details;
    const figures = [
      node.state,
      `restarts ${node.restarts}`,
      d.mailboxDepth === undefined ? "" : `mailbox ${d.mailboxDepth}`,
      d.running === undefined ? "" : `running ${d.running}`,
      d.queued === undefined ? "" : `queued ${d.queued}`,
      d.replaced === undefined ? "" : `workers replaced ${d.replaced}`,
      d.utilization === undefined
        ? ""
        : `utilization ${(d.utilization * 100).toFixed(0)}%`,
    ].filter((figure) => figure !== "");
    console.log(
      `${indent}${last ? "└─" : "├─"} ${node.id}  ${figures.join(", ")}`,
    );
    printNodes(d.children ?? [], indent + (last ? "   " : "│  "));
  }
}

function show(event: SupervisorEvent): string {
  switch (event.type) {
    case "started":
    case "restarted":
      return `${event.type} "${event.id}" (restarts: ${event.restarts})`;
    case "exited":
      return `exited "${event.id}" (${event.reason.kind})`;
    case "gave_up":
      return `gave up after ${event.restarts} restarts`;
  }
}
