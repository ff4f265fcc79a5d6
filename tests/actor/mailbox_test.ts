import assert from "node:assert/strict";
import { Mailbox, MailboxFullError } from "@isolates/isolates";

/** Records the order in which promises resolve. */
function track(
  order: string[],
  label: string,
  promise: Promise<void>,
): Promise<void> {
  return promise.then(() => {
    order.push(label);
  });
}

function takeAll<T>(mailbox: Mailbox<T>): T[] {
  const items: T[] = [];
  while (mailbox.size > 0) items.push(mailbox.take() as T);
  return items;
}

Deno.test("Mailbox() throws RangeError naming an invalid option and its value", () => {
  for (const capacity of [0, -1, 1.5, Number.NaN, Infinity, 2 ** 53]) {
    assert.throws(
      () => new Mailbox("box", { capacity }),
      (error: unknown) => {
        assert.ok(error instanceof RangeError);
        assert.match(error.message, /"capacity"/);
        assert.ok(error.message.includes(String(capacity)), error.message);
        return true;
      },
    );
  }
  assert.throws(
    () =>
      new Mailbox("box", {
        overflow: "drop_everything" as unknown as "reject",
      }),
    (error: unknown) => {
      assert.ok(error instanceof RangeError);
      assert.match(error.message, /"overflow" is "drop_everything"/);
      return true;
    },
  );
});

Deno.test("Mailbox() defaults to a capacity of 1000 and the reject policy", () => {
  const mailbox = new Mailbox<number>("box");
  assert.equal(mailbox.capacity, 1000);
  assert.equal(mailbox.overflow, "reject");
  assert.equal(mailbox.name, "box");
  for (let i = 0; i < 1000; i++) assert.equal(mailbox.post(i), true);
  assert.throws(() => mailbox.post(1000), MailboxFullError);
});

Deno.test("Mailbox.take() returns messages first in, first out across wraps and growth", () => {
  const mailbox = new Mailbox<number>("box", { capacity: 50 });
  const taken: number[] = [];
  let next = 0;
  // Uneven bursts make the ring wrap at many offsets while it grows.
  for (let round = 0; round < 200; round++) {
    const burst = (round * 7) % 50;
    for (let i = 0; i < burst && mailbox.size < 50; i++) {
      assert.equal(mailbox.post(next++), true);
    }
    const drain = (round * 3) % 17;
    for (let i = 0; i < drain && mailbox.size > 0; i++) {
      taken.push(mailbox.take() as number);
    }
  }
  taken.push(...takeAll(mailbox));
  assert.equal(mailbox.take(), undefined);
  assert.deepEqual(taken, Array.from({ length: next }, (_, i) => i));
});

Deno.test('Mailbox.post() throws MailboxFullError under "reject" and keeps what is inside', async () => {
  const mailbox = new Mailbox<string>("counter", { capacity: 2 });
  mailbox.post("a");
  mailbox.post("b");
  assert.throws(
    () => mailbox.post("c"),
    (error: unknown) => {
      assert.ok(error instanceof MailboxFullError);
      assert.equal(error.code, "mailbox_full");
      assert.equal(error.actor, "counter");
      assert.equal(error.capacity, 2);
      assert.equal(
        error.message,
        'Cannot deliver to actor "counter": mailbox is full (2); raise "capacity" or choose another overflow policy',
      );
      return true;
    },
  );
  await assert.rejects(mailbox.put("d"), MailboxFullError);
  assert.equal(mailbox.dropped, 0);
  assert.deepEqual(takeAll(mailbox), ["a", "b"]);
});

Deno.test('Mailbox.post() evicts the oldest message under "drop_oldest"', async () => {
  const evicted: string[] = [];
  const mailbox = new Mailbox<string>(
    "box",
    { capacity: 3, overflow: "drop_oldest" },
    (item) => evicted.push(item),
  );
  for (const item of ["a", "b", "c", "d", "e"]) {
    assert.equal(mailbox.post(item), true);
  }
  await mailbox.put("f");
  assert.deepEqual(evicted, ["a", "b", "c"]);
  assert.equal(mailbox.dropped, 3);
  assert.deepEqual(takeAll(mailbox), ["d", "e", "f"]);
});

Deno.test('Mailbox.post() drops the new message under "drop_newest"', async () => {
  const refused: string[] = [];
  const mailbox = new Mailbox<string>(
    "box",
    { capacity: 2, overflow: "drop_newest" },
    (item) => refused.push(item),
  );
  assert.equal(mailbox.post("a"), true);
  assert.equal(mailbox.post("b"), true);
  assert.equal(mailbox.post("c"), false);
  await mailbox.put("d"); // resolves: the message was dropped, not refused
  assert.deepEqual(refused, ["c", "d"]);
  assert.equal(mailbox.dropped, 2);
  assert.deepEqual(takeAll(mailbox), ["a", "b"]);
});

Deno.test('Mailbox.put() waits for room under "wait", serving senders in order', async (t) => {
  const mailbox = new Mailbox<string>("box", { capacity: 2, overflow: "wait" });
  const order: string[] = [];
  await mailbox.put("a");
  await mailbox.put("b");

  const c = track(order, "c", mailbox.put("c"));
  const d = track(order, "d", mailbox.put("d"));
  const e = track(order, "e", mailbox.put("e"));

  await t.step("post() refuses while full, behind the waiting senders", () => {
    assert.equal(mailbox.post("x"), false);
    assert.equal(mailbox.waiting, 3);
    assert.equal(mailbox.size, 2);
  });

  await t.step("each take() lets the first waiting sender in", async () => {
    assert.equal(mailbox.take(), "a");
    await c;
    assert.deepEqual(order, ["c"]);
    assert.equal(mailbox.waiting, 2);
    assert.equal(mailbox.size, 2);

    assert.equal(mailbox.take(), "b");
    assert.equal(mailbox.take(), "c");
    await Promise.all([d, e]);
    assert.deepEqual(order, ["c", "d", "e"]);
    assert.equal(mailbox.waiting, 0);
  });

  await t.step("no accepted message was reordered", () => {
    assert.deepEqual(takeAll(mailbox), ["d", "e"]);
    assert.equal(mailbox.dropped, 0);
  });
});

Deno.test("Mailbox.put() rejects with the signal's reason and leaves the message out", async (t) => {
  const mailbox = new Mailbox<string>("box", { capacity: 1, overflow: "wait" });
  mailbox.post("a");

  await t.step("when aborted while waiting", async () => {
    const controller = new AbortController();
    const order: string[] = [];
    const b = mailbox.put("b", { signal: controller.signal });
    const c = track(order, "c", mailbox.put("c"));
    const reason = new Error("gave up");
    controller.abort(reason);
    await assert.rejects(b, (error) => error === reason);
    assert.equal(mailbox.waiting, 1);

    assert.equal(mailbox.take(), "a");
    await c;
    assert.deepEqual(takeAll(mailbox), ["c"]);
  });

  await t.step("when the signal is already aborted", async () => {
    const reason = new Error("too late");
    await assert.rejects(
      mailbox.put("d", { signal: AbortSignal.abort(reason) }),
      (error) => error === reason,
    );
    assert.equal(mailbox.size, 0);
  });

  await t.step(
    "admitted senders keep working once their signal aborts",
    async () => {
      const controller = new AbortController();
      await mailbox.put("e", { signal: controller.signal });
      controller.abort(new Error("after the fact"));
      assert.deepEqual(takeAll(mailbox), ["e"]);
    },
  );
});

Deno.test("Mailbox.put() keeps a long queue of senders cheap when many abort", async () => {
  const mailbox = new Mailbox<number>("box", { capacity: 1, overflow: "wait" });
  mailbox.post(-1);
  const aborted: Promise<void>[] = [];
  const kept: Promise<void>[] = [];
  for (let i = 0; i < 2000; i++) {
    const controller = new AbortController();
    const put = mailbox.put(i, { signal: controller.signal });
    if (i % 4 === 0) {
      kept.push(put);
    } else {
      controller.abort(new Error(`abort ${i}`));
      aborted.push(assert.rejects(put, /abort/));
    }
  }
  await Promise.all(aborted);
  assert.equal(mailbox.waiting, 500);
  const taken: number[] = [];
  while (mailbox.size > 0) taken.push(mailbox.take() as number);
  await Promise.all(kept);
  assert.deepEqual(
    taken,
    [-1, ...Array.from({ length: 500 }, (_, i) => i * 4)],
  );
});

Deno.test("Mailbox.remove() takes a message out, keeps order and lets a waiting sender in", async () => {
  const mailbox = new Mailbox<string>("box", { capacity: 3, overflow: "wait" });
  for (const item of ["a", "b", "c"]) mailbox.post(item);
  const d = mailbox.put("d");
  assert.equal(mailbox.remove("b"), true);
  await d;
  assert.equal(mailbox.remove("zzz"), false);
  assert.deepEqual(takeAll(mailbox), ["a", "c", "d"]);
});

Deno.test("Mailbox.close() rejects waiting senders and hands back what is inside", async (t) => {
  const mailbox = new Mailbox<string>("box", { capacity: 2, overflow: "wait" });
  const reason = new Error("closed");
  mailbox.post("a");
  mailbox.post("b");
  const controller = new AbortController();
  const c = mailbox.put("c", { signal: controller.signal });
  const d = mailbox.put("d");

  await t.step("blocked puts reject with the reason", async () => {
    assert.deepEqual(mailbox.close(reason), ["a", "b"]);
    assert.equal(mailbox.closed, true);
    await assert.rejects(c, (error) => error === reason);
    await assert.rejects(d, (error) => error === reason);
    assert.equal(mailbox.size, 0);
    assert.equal(mailbox.waiting, 0);
    controller.abort(); // the listener was removed: nothing happens
  });

  await t.step(
    "later post() throws and put() rejects with the reason",
    async () => {
      assert.throws(() => mailbox.post("e"), (error) => error === reason);
      await assert.rejects(mailbox.put("f"), (error) => error === reason);
      assert.equal(mailbox.take(), undefined);
    },
  );

  await t.step("close() is idempotent", () => {
    assert.deepEqual(mailbox.close(new Error("again")), []);
    assert.throws(() => mailbox.post("g"), (error) => error === reason);
  });
});

Deno.test("Mailbox moves 100,000 messages through a bounded buffer in order", async () => {
  const total = 100_000;
  const mailbox = new Mailbox<number>("flood", {
    capacity: 1000,
    overflow: "wait",
  });
  const puts: Promise<void>[] = [];
  for (let i = 0; i < total; i++) puts.push(mailbox.put(i));
  assert.equal(mailbox.size, 1000);
  assert.equal(mailbox.waiting, total - 1000);
  let expected = 0;
  let largest = 0;
  while (mailbox.size > 0) {
    largest = Math.max(largest, mailbox.size);
    assert.equal(mailbox.take(), expected++);
  }
  await Promise.all(puts);
  assert.equal(expected, total);
  assert.equal(largest, 1000);
  assert.equal(mailbox.waiting, 0);
});
