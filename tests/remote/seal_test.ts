// The remote layer's seals, without a server: what a node holds lets it
// check the hub's tasks, never make them; a seal is bound to its subject.
import assert from "node:assert/strict";
import {
  hmacKey,
  holderKey,
  issue,
  mac,
  sessionKey,
  sign,
  splitToken,
  taskKeys,
  taskVerifier,
  verify,
} from "../../src/remote/_token.ts";
import {
  encodeRemote,
  INSTANCE_HEADER,
  isSealed,
  sealed,
  TOKEN_HEADER,
} from "../../src/remote/_wire.ts";

const secret = hmacKey("the hub's secret");
const otherSecret = hmacKey("another hub's secret");
const tasks = taskKeys(mac(secret, "tasks:isolates.jobs"));
const verifier = taskVerifier(tasks.public)!;

Deno.test("seals: tasks carry the hub's signature; a node's keys cannot make one", () => {
  const bytes = encodeRemote({ kind: "cancel", id: "a.1", reason: "x" });
  const h = sealed(tasks.signer, bytes, { bound: "_INBOX.hub" });
  assert.equal(isSealed(verifier, bytes, h, "_INBOX.hub"), true);
  // Moved to another reply subject, or with other bytes: refused.
  assert.equal(isSealed(verifier, bytes, h, "_INBOX.thief"), false);
  const other = encodeRemote({ kind: "cancel", id: "a.2", reason: "x" });
  assert.equal(isSealed(verifier, other, h, "_INBOX.hub"), false);
  // What a node holds: its session key. A seal made with it is no signature.
  const token = splitToken(issue(secret, "jobs", "n1", Date.now() + 1000))!;
  const session = sessionKey(holderKey(token.signature), "instance-1");
  const byNode = sealed(session, bytes, { bound: "_INBOX.hub" });
  assert.equal(isSealed(verifier, bytes, byNode, "_INBOX.hub"), false);
  // Another hub's signature: refused.
  const otherTasks = taskKeys(mac(otherSecret, "tasks:isolates.jobs"));
  const byOther = sealed(otherTasks.signer, bytes, { bound: "_INBOX.hub" });
  assert.equal(isSealed(verifier, bytes, byOther, "_INBOX.hub"), false);
  assert.equal(taskVerifier(new Uint8Array([1, 2, 3])), null);
});

Deno.test("seals: a node's messages name it, and only its session key opens them", () => {
  const token = splitToken(issue(secret, "jobs", "n1", Date.now() + 1000))!;
  const holder = holderKey(token.signature);
  const session = sessionKey(holder, "i1");
  const bytes = encodeRemote({
    kind: "alive",
    beat: 1,
    capacity: 4,
    running: 0,
  });
  const h = sealed(session, bytes, {
    from: { instance: "i1", body: token.body.text },
  });
  assert.equal(h.get(INSTANCE_HEADER), "i1");
  assert.equal(h.get(TOKEN_HEADER), token.body.text);
  assert.equal(isSealed(session, bytes, h), true);
  // The hub derives the same key from the body alone.
  const derived = sessionKey(holderKey(sign(secret, token.body.text)), "i1");
  assert.equal(isSealed(derived, bytes, h), true);
  // Another instance of the same token has another key.
  assert.equal(isSealed(sessionKey(holder, "i2"), bytes, h), false);
  // A join proof: made with the signature, checked by re-signing the body.
  const proof = sign(holder, "join.i1.1000");
  const hubHolder = holderKey(sign(secret, token.body.text));
  assert.equal(verify(hubHolder, "join.i1.1000", proof), true);
  const forgedHolder = holderKey(sign(otherSecret, token.body.text));
  assert.equal(verify(forgedHolder, "join.i1.1000", proof), false);
  assert.equal(verify(holder, "join.i1.1001", proof), false);
});
