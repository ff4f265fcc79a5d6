/**
 * Why an isolate, an actor or a supervisor ended, in OTP's terms:
 *
 * - `normal`: it finished its work (an isolate's entry returned and nothing
 *   keeps it alive; an `Isolate.run` task returned).
 * - `shutdown`: it was asked to stop (by `stop()`, its supervisor, or a pool
 *   closing) and did.
 * - `killed`: it was ended at once (`kill()`, or a shutdown timeout ran out).
 * - `crashed`: it failed; `error` says how.
 *
 * A supervisor restarts a `transient` child only after `killed` or
 * `crashed`; a `permanent` child after any of them.
 *
 * @example Reading how an isolate ended
 * ```ts
 * import { type ExitReason, Isolate } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const entry = "data:text/javascript,export default () => { throw new Error('boom'); }";
 * const isolate = await Isolate.spawn(entry, null).catch(() => null);
 * assert.equal(isolate, null); // it threw when called: spawn rejected
 *
 * const quiet = await Isolate.spawn("data:text/javascript,export default () => {}", null);
 * const reason: ExitReason = await quiet.exited;
 * assert.equal(reason.kind, "normal");
 * ```
 */
export type ExitReason =
  | { kind: "normal" }
  | { kind: "shutdown" }
  | { kind: "killed" }
  | { kind: "crashed"; error: unknown };

/** Whether a reason is abnormal (OTP: anything but normal or shutdown). */
export function isAbnormal(reason: ExitReason): boolean {
  return reason.kind === "killed" || reason.kind === "crashed";
}
