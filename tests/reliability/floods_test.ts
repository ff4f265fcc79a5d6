// Floods: 100,000 messages at a bounded Actor mailbox (policies "wait" and
// "reject") and at a MethodChannel whose main-thread handler is slower than
// the worker calling it (the isolate's mailbox refuses calls past its
// capacity, or the caller awaits in windows). Senders get backpressure or
// typed rejections; every accepted message is handled exactly once, in
// order; the main thread's heap stays bounded.
//
// Memory is measured with Deno.memoryUsage().heapUsed on the main thread,
// sampled every 1,000 handled messages and after each batch of calls (no
// timers): the peak growth over the value before the flood must stay under
// FLOOD_HEAP_BOUND_MIB = 64 MiB. Why that bound: a bounded flood keeps at
// most a mailbox (1,000 messages) and one batch of calls (2,000 calls of a
// few hundred bytes as they arrive: about 1 MiB) alive; the rest is garbage
// the collector reclaims, and these floods measured a peak growth of 4-25
// MiB (actors) and 4-24 MiB (method channel) on the 2-core development
// machine, idle or loaded. Without a bound, the same 100,000 calls all in flight at once
// (mailboxCapacity 200,000, one batch) measured +158 MiB, and one batch of
// 100,000 calls refused past a capacity of 1,000 still measured +70 MiB:
// 64 MiB leaves room for garbage not yet collected on a noisy machine, and
// fails a flood that holds everything at once.
import assert from "node:assert/strict";
import { Actor, MailboxFullError, MethodChannel } from "../../mod.ts";
import { guarded, sanitized } from "../isolate/_helpers.ts";
import { HeapSampler, laterTurn, okOf, spawnFaulty } from "./_faults.ts";
import {
  FLOOD_OK,
  FLOOD_REFUSED,
  type FloodReport,
} from "./fixtures/faulty.ts";

const TOTAL = 100_000;
const FLOOD_HEAP_BOUND_MIB = 64;

type Numbered = { kind: "n"; producer: number; i: number };

/**
 * The handler side of an actor flood: checks each producer's messages come
 * exactly once and in order, and samples the heap.
 */
function floodChecker(producers: number, heap: HeapSampler): {
  handle: (message: Numbered) => void;
  handled: () => number;
  outOfOrder: () => number;
  done: Promise<void>;
} {
  const last = new Int32Array(producers).fill(-1);
  let handled = 0;
  let outOfOrder = 0;
  const done = Promise.withResolvers<void>();
  return {
    handle: ({ producer, i }) => {
      if (i !== last[producer] + 1) outOfOrder++;
      last[producer] = i;
      if (++handled % 1000 === 0) heap.sample();
      if (handled === TOTAL) done.resolve();
    },
    handled: () => handled,
    outOfOrder: () => outOfOrder,
    done: done.promise,
  };
}

Deno.test(
  'Actor flooded with 100,000 tells by 4 producers under "wait": senders are held back, each message is handled once and in order, and the heap stays bounded',
  sanitized,
  guarded(async () => {
    const producers = 4;
    const capacity = 1000;
    const heap = new HeapSampler();
    const check = floodChecker(producers, heap);
    let deepest = 0;
    const actor: Actor<Numbered> = new Actor<Numbered>({
      n: async (message) => {
        check.handle(message);
        deepest = Math.max(deepest, actor.mailboxDepth);
        await null; // a handler slower than a synchronous one
      },
    }, { name: "flood-wait", mailbox: { capacity, overflow: "wait" } });
    let heldBack = 0;
    const produce = async (producer: number): Promise<void> => {
      for (let i = 0; i < TOTAL / producers; i++) {
        const full = actor.mailboxDepth >= capacity;
        await actor.tell({ kind: "n", producer, i });
        if (full) heldBack++;
      }
    };
    await Promise.all(Array.from({ length: producers }, (_, p) => produce(p)));
    await check.done;
    await actor.close();
    console.log(heap.report('Actor "wait" flood'));
    assert.equal(check.handled(), TOTAL);
    assert.equal(check.outOfOrder(), 0);
    assert.equal(deepest, capacity, "the mailbox filled, and never overflowed");
    assert.ok(heldBack > 0, "no sender was held back");
    assert.equal(actor.dropped, 0);
    assert.ok(
      heap.peakGrowthMiB < FLOOD_HEAP_BOUND_MIB,
      `heap grew by ${heap.peakGrowthMiB.toFixed(1)} MiB`,
    );
  }),
);

Deno.test(
  'Actor flooded with 100,000 tells by 4 producers under "reject": refused senders get MailboxFullError and retry, each message is handled once and in order, and the heap stays bounded',
  sanitized,
  guarded(async () => {
    const producers = 4;
    const capacity = 1000;
    const heap = new HeapSampler();
    const check = floodChecker(producers, heap);
    // Resolved each time the actor takes a message: room for one more.
    let room = Promise.withResolvers<void>();
    const actor = new Actor<Numbered>({
      n: async (message) => {
        check.handle(message);
        room.resolve();
        room = Promise.withResolvers();
        await null;
      },
    }, { name: "flood-reject", mailbox: { capacity, overflow: "reject" } });
    let refused = 0;
    const produce = async (producer: number): Promise<void> => {
      for (let i = 0; i < TOTAL / producers; i++) {
        for (;;) {
          try {
            await actor.tell({ kind: "n", producer, i });
            break;
          } catch (error) {
            assert.ok(error instanceof MailboxFullError, String(error));
            assert.equal(error.code, "mailbox_full");
            refused++;
            await room.promise;
          }
        }
        // Pushes without waiting for the actor, a stretch at a time.
        if (i % 2500 === 2499) await laterTurn();
      }
    };
    await Promise.all(Array.from({ length: producers }, (_, p) => produce(p)));
    await check.done;
    await actor.close();
    console.log(heap.report('Actor "reject" flood') + `, ${refused} refusals`);
    assert.equal(check.handled(), TOTAL);
    assert.equal(check.outOfOrder(), 0);
    assert.ok(refused > 0, "no sender was refused");
    assert.equal(actor.dropped, 0);
    assert.ok(
      heap.peakGrowthMiB < FLOOD_HEAP_BOUND_MIB,
      `heap grew by ${heap.peakGrowthMiB.toFixed(1)} MiB`,
    );
  }),
);

/**
 * Serves `n` calls on the main thread slowly: every call of a batch is held
 * until the batch has been handled, and answered on a later turn. Checks that
 * each index arrives once and in order, and samples the heap.
 */
function slowHandler(channel: string, heap: HeapSampler): Disposable & {
  processed: Uint8Array;
  count: () => number;
  outOfOrder: () => number;
  duplicates: () => number;
} {
  const processed = new Uint8Array(TOTAL);
  let last = -1;
  let count = 0;
  let outOfOrder = 0;
  let duplicates = 0;
  let batch: (() => void)[] = [];
  const method = new MethodChannel(channel);
  method.setMethodCallHandler((call) => {
    if (call.method === "ping") return "pong";
    const i = call.arguments as number;
    if (processed[i] === 1) duplicates++;
    processed[i] = 1;
    if (i <= last) outOfOrder++;
    last = i;
    if (++count % 1000 === 0) heap.sample();
    const answer = Promise.withResolvers<number>();
    if (batch.length === 0) {
      laterTurn().then(() => {
        heap.sample();
        const due = batch;
        batch = [];
        for (const release of due) release();
      });
    }
    batch.push(() => answer.resolve(i));
    return answer.promise;
  });
  return {
    processed,
    count: () => count,
    outOfOrder: () => outOfOrder,
    duplicates: () => duplicates,
    [Symbol.dispose]: () => method.setMethodCallHandler(null),
  };
}

/** Counts a flood report's statuses and checks them against the handler. */
function tally(
  report: FloodReport,
  processed: Uint8Array,
): { ok: number; refused: number; mismatched: number } {
  let ok = 0;
  let refused = 0;
  let mismatched = 0;
  for (let i = 0; i < TOTAL; i++) {
    if (report.statuses[i] === FLOOD_OK) ok++;
    else if (report.statuses[i] === FLOOD_REFUSED) refused++;
    // Handled on the main thread exactly when the caller saw it succeed.
    if ((report.statuses[i] === FLOOD_OK) !== (processed[i] === 1)) {
      mismatched++;
    }
  }
  return { ok, refused, mismatched };
}

Deno.test(
  "MethodChannel flooded with 100,000 calls from a worker into a slow main-thread handler: past mailboxCapacity calls fail at once with MailboxFullError, every accepted call is handled once and in order, and the heap stays bounded",
  sanitized,
  guarded(async () => {
    const capacity = 1000;
    const heap = new HeapSampler();
    using handler = slowHandler("floods/refused", heap);
    await using worker = await spawnFaulty({ mailboxCapacity: capacity });
    const report = okOf(
      await worker.ask({
        op: "flood",
        channel: "floods/refused",
        count: TOTAL,
        burst: 2000,
        window: 0,
      }),
    ) as FloodReport;
    const { ok, refused, mismatched } = tally(report, handler.processed);
    console.log(
      heap.report("MethodChannel flood past mailboxCapacity") +
        `, ${ok} handled, ${refused} refused`,
    );
    assert.deepEqual(report.wrong, []);
    assert.equal(ok + refused, TOTAL);
    assert.ok(refused > 0, "nothing was refused");
    assert.ok(ok >= capacity, `only ${ok} calls were handled`);
    assert.equal(mismatched, 0);
    assert.equal(handler.count(), ok);
    assert.equal(handler.duplicates(), 0);
    assert.equal(handler.outOfOrder(), 0);
    assert.equal(worker.isolate.describe().mailboxDepth, 0);
    assert.equal(
      okOf(
        await worker.ask({
          op: "invoke",
          channel: "floods/refused",
          method: "ping",
        }),
      ),
      "pong",
    );
    assert.ok(
      heap.peakGrowthMiB < FLOOD_HEAP_BOUND_MIB,
      `heap grew by ${heap.peakGrowthMiB.toFixed(1)} MiB`,
    );
  }),
);

Deno.test(
  "MethodChannel flooded with 100,000 calls from a worker that awaits them in windows: nothing is refused, every call is handled once and in order, and the heap stays bounded",
  sanitized,
  guarded(async () => {
    const capacity = 1000;
    const heap = new HeapSampler();
    using handler = slowHandler("floods/windows", heap);
    await using worker = await spawnFaulty({ mailboxCapacity: capacity });
    const report = okOf(
      await worker.ask({
        op: "flood",
        channel: "floods/windows",
        count: TOTAL,
        burst: TOTAL,
        window: capacity,
      }),
    ) as FloodReport;
    const { ok, refused, mismatched } = tally(report, handler.processed);
    console.log(heap.report("MethodChannel flood in windows of 1,000"));
    assert.deepEqual(report.wrong, []);
    assert.equal(ok, TOTAL);
    assert.equal(refused, 0);
    assert.equal(mismatched, 0);
    assert.equal(handler.count(), TOTAL);
    assert.equal(handler.duplicates(), 0);
    assert.equal(handler.outOfOrder(), 0);
    assert.ok(
      heap.peakGrowthMiB < FLOOD_HEAP_BOUND_MIB,
      `heap grew by ${heap.peakGrowthMiB.toFixed(1)} MiB`,
    );
  }),
);
