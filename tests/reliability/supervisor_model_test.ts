// Model-based test of Supervisor: random command sequences run against both
// a small pure reference model of OTP's supervisor rules (erlang/otp
// system/doc/design_principles/sup_princ.md) and a real Supervisor whose
// children are Actor-backed test doubles, and after every command the two
// must agree on the events, the start/stop/kill calls, the children and
// their states, the restart counts, and how the supervisor ended.
//
// The model follows OTP, except where the Supervisor JSDoc documents a
// deliberate deviation, which it models instead:
// - giving up ends the supervisor `crashed` (OTP: `shutdown`);
// - a child stopped by terminateChild(), or a transient child that ended
//   normally, stays stopped when a sibling's crash restarts a group;
// - a restart whose start() fails counts as a restart and is retried (the
//   whole group again, as OTP's try_again_restart does).
//
// The first property runs commands one at a time and waits for the
// supervisor to settle after each; the second makes two children end a few
// microtasks apart, and currently fails (see the note above it).
//
// Reproduce a failure with SUPERVISOR_MODEL_SEED (and, with --filter on
// that test, SUPERVISOR_MODEL_PATH) from fast-check's report;
// SUPERVISOR_MODEL_RUNS sets the number of runs (default 100).
import fc from "fast-check";
import assert from "node:assert/strict";
import {
  ActorExitedError,
  type ChildSpec,
  type ExitReason,
  type RestartType,
  type Shutdown,
  type Strategy,
  Supervisor,
  SupervisorError,
  type SupervisorEvent,
} from "@isolates/isolates";
import {
  ModelChild,
  ModelChildren,
  type ModelSpecOptions,
} from "./_model_children.ts";

const NAME = "model";
/** An id no child ever has: terminating it is the "settled" probe. */
const PROBE = "probe";

interface Config {
  strategy: Strategy;
  intensity: number;
  period: number;
}

type ChildState = "running" | "restarting" | "stopped";
type Ending = "crashed" | "killed" | "normal" | "shutdown";

interface ModelEntry {
  readonly id: string;
  readonly restart: RestartType;
  readonly shutdown: Shutdown;
  /** `restarting` only exists in the middle of a recovery. */
  state: ChildState;
  restarts: number;
}

/** What an operation on the supervisor must do: succeed, or be refused. */
type Outcome = { ok: true } | { ok: false; message: RegExp };
const OK: Outcome = { ok: true };
function refused(message: RegExp): Outcome {
  return { ok: false, message };
}

/** What one command made the system do, in comparable form. */
interface Trace {
  events: string[];
  log: string[];
}

/**
 * The reference model. Each operation updates the state and appends the
 * events and the start/stop/kill calls it implies, in order, to the trace.
 */
class Model {
  readonly config: Config;
  time = 0;
  /** The times of the restarts counted towards the intensity. */
  restartTimes: number[] = [];
  /** The child specs, in start order. */
  entries: ModelEntry[] = [];
  status: "running" | "stopped" = "running";
  exit: ExitReason["kind"] | undefined;
  nextId = 0;
  /** Successful starts per id: the incarnation a call must reach. */
  readonly starts = new Map<string, number>();
  /** Start attempts still to fail, per id. */
  readonly failures = new Map<string, number>();
  /** The commands run so far, ids resolved, for failure messages. */
  readonly history: string[] = [];
  /** Children whose exit calls for a restart not yet made (OTP: the exits in its mailbox). */
  #recoveries: ModelEntry[] = [];
  #trace: Trace = { events: [], log: [] };

  constructor(config: Config) {
    this.config = config;
  }

  find(id: string): ModelEntry | undefined {
    return this.entries.find((entry) => entry.id === id);
  }

  /** One of the ids ever handed out, present or gone. */
  knownId(index: number): string {
    return `c${index % this.nextId}`;
  }

  running(): ModelEntry[] {
    return this.entries.filter((entry) => entry.state === "running");
  }

  /** OTP counts a restart while it is at most `period` old. */
  windowRestarts(): number {
    const threshold = this.time - this.config.period;
    return this.restartTimes.filter((time) => time >= threshold).length;
  }

  takeTrace(): Trace {
    const trace = this.#trace;
    this.#trace = { events: [], log: [] };
    return trace;
  }

  where(): string {
    return `${JSON.stringify(this.config)}: ${this.history.join(" → ")}`;
  }

  /** Supervisor.start() with these children: each started in order. */
  startInitial(initial: readonly ModelSpecOptions[]): void {
    for (const { restart, shutdown } of initial) {
      const outcome = this.startChild(`c${this.nextId++}`, restart, shutdown);
      assert.ok(outcome.ok);
    }
    this.history.push(
      `start([${
        initial.map(({ restart, shutdown }) => `${restart}/${shutdown}`)
      }])`,
    );
  }

  armFailures(id: string, count: number): void {
    this.failures.set(id, (this.failures.get(id) ?? 0) + count);
  }

  startChild(id: string, restart: RestartType, shutdown: Shutdown): Outcome {
    if (this.status !== "running") return refused(/has stopped/);
    if (this.find(id) !== undefined) return refused(/already has a child/);
    if (!this.#attemptStart(id)) return refused(/its start\(\) failed/);
    this.entries.push({ id, restart, shutdown, state: "running", restarts: 0 });
    this.#trace.events.push(`started:${id}:0`);
    return OK;
  }

  /**
   * A running child ended by itself (OTP: an exit signal the supervisor did
   * not cause). A restart it calls for waits for {@linkcode Model.recover}.
   */
  endChild(entry: ModelEntry, how: Ending): void {
    this.#trace.events.push(`exited:${entry.id}:${how}`);
    const abnormal = how === "crashed" || how === "killed";
    if (entry.restart === "temporary") {
      this.#remove(entry);
    } else if (entry.restart === "transient" && !abnormal) {
      entry.state = "stopped";
    } else {
      entry.state = "restarting";
      this.#recoveries.push(entry);
    }
  }

  terminateChild(id: string): Outcome {
    if (this.status !== "running") return refused(/has stopped/);
    const entry = this.find(id);
    if (entry === undefined) return refused(/no such child/);
    if (entry.state === "running") this.#terminate(entry);
    // OTP: terminate_child of a temporary child deletes its spec.
    if (entry.restart === "temporary") this.#remove(entry);
    return OK;
  }

  restartChild(id: string): Outcome {
    if (this.status !== "running") return refused(/has stopped/);
    const entry = this.find(id);
    if (entry === undefined) return refused(/no such child/);
    if (entry.state !== "stopped") return refused(/it is running/);
    if (!this.#attemptStart(id)) return refused(/its start\(\) failed/);
    // Not a restart: neither the intensity nor `restarts` counts it.
    entry.state = "running";
    this.#trace.events.push(`started:${id}:${entry.restarts}`);
    return OK;
  }

  deleteChild(id: string): Outcome {
    // Unlike the other operations, deleteChild() does not refuse once the
    // supervisor has ended (its JSDoc does not say it should; OTP's call
    // would fail on a dead process): every child is stopped then, so any
    // can be deleted.
    const entry = this.find(id);
    if (entry === undefined) return refused(/no such child/);
    if (entry.state !== "stopped") {
      return refused(/call terminateChild\(\) first/);
    }
    this.#remove(entry);
    return OK;
  }

  /** stop() or kill(): every running child ends, in reverse start order. */
  stop(kill: boolean): void {
    if (this.status !== "running") return;
    for (const entry of this.entries.toReversed()) {
      if (entry.state === "running") {
        if (kill) this.#end(entry, "kill", "killed");
        else this.#terminate(entry);
      }
      entry.state = "stopped";
    }
    this.status = "stopped";
    this.exit = kill ? "killed" : "shutdown";
  }

  advance(time: number): void {
    this.time = Math.max(this.time, time);
  }

  #attemptStart(id: string): boolean {
    this.#trace.log.push(`start:${id}`);
    const failures = this.failures.get(id) ?? 0;
    if (failures > 0) {
      this.failures.set(id, failures - 1);
      return false;
    }
    this.starts.set(id, (this.starts.get(id) ?? 0) + 1);
    return true;
  }

  /** The supervisor ends a child according to its shutdown. */
  #terminate(entry: ModelEntry): void {
    if (entry.shutdown === "brutal_kill") this.#end(entry, "kill", "killed");
    else this.#end(entry, "stop", "shutdown");
  }

  #end(entry: ModelEntry, call: string, reason: Ending): void {
    this.#trace.log.push(`${call}:${entry.id}`);
    this.#trace.events.push(`exited:${entry.id}:${reason}`);
    entry.state = "stopped";
  }

  #remove(entry: ModelEntry): void {
    this.entries = this.entries.filter((other) => other !== entry);
  }

  /**
   * Makes the restarts the exits seen so far call for, in order. Each is
   * OTP's restart/2: count the restart (give up past the intensity), stop
   * the group the strategy names but the failed child in reverse order,
   * then start the group in start order. A start that fails makes that
   * child the failed one of a new restart (try_again_restart). A child
   * that a previous restart already started again needs none.
   */
  recover(): void {
    const queue = this.#recoveries;
    while (queue.length > 0) {
      const current = queue.shift()!;
      if (
        this.status !== "running" || current.state !== "restarting" ||
        !this.entries.includes(current)
      ) continue;
      const threshold = this.time - this.config.period;
      this.restartTimes = this.restartTimes.filter((time) => time >= threshold);
      this.restartTimes.push(this.time);
      if (this.restartTimes.length > this.config.intensity) {
        this.#giveUp();
        return;
      }
      const index = this.entries.indexOf(current);
      const group = this.config.strategy === "one_for_one"
        ? [current]
        : this.config.strategy === "rest_for_one"
        ? this.entries.slice(index)
        : [...this.entries];
      for (const entry of group.toReversed()) {
        if (entry === current || entry.state !== "running") continue;
        this.#terminate(entry);
        // OTP: a temporary child stopped by a group restart is not
        // restarted, and its spec goes.
        if (entry.restart === "temporary") this.#remove(entry);
        else entry.state = "restarting";
      }
      for (const entry of group) {
        // Stopped children stay stopped (documented deviation).
        if (entry.state !== "restarting" || !this.entries.includes(entry)) {
          continue;
        }
        if (!this.#attemptStart(entry.id)) {
          queue.push(entry);
          break;
        }
        entry.state = "running";
        entry.restarts++;
        this.#trace.events.push(
          `started:${entry.id}:${entry.restarts}`,
          `restarted:${entry.id}:${entry.restarts}`,
        );
      }
    }
  }

  /** More than `intensity` restarts within `period`: stop all, end crashed. */
  #giveUp(): void {
    const { intensity, period } = this.config;
    this.#trace.events.push(
      `gave_up:${this.restartTimes.length}/${intensity}/${period}`,
    );
    this.#recoveries.length = 0;
    for (const entry of this.entries.toReversed()) {
      if (entry.state === "running") this.#terminate(entry);
      entry.state = "stopped";
    }
    this.status = "stopped";
    this.exit = "crashed"; // documented deviation: OTP ends with shutdown
  }
}

function brief(event: SupervisorEvent): string {
  assert.equal(event.supervisor, NAME);
  switch (event.type) {
    case "started":
    case "restarted":
      return `${event.type}:${event.id}:${event.restarts}`;
    case "exited":
      return `exited:${event.id}:${event.reason.kind}`;
    case "gave_up":
      return `gave_up:${event.restarts}/${event.intensity}/${event.period}`;
  }
}

/** The system under test: a Supervisor, its clock and its children. */
class Real {
  readonly supervisor: Supervisor;
  readonly children: ModelChildren;
  readonly clock: { time: number };
  /** Every event, through onEvent. */
  readonly events: SupervisorEvent[];
  /** What events() yields from its creation on, read to the end once the supervisor has ended. */
  readonly fed: Promise<SupervisorEvent[]>;
  /** How many events came before events() was called. */
  readonly unfed: number;
  #eventMark = 0;
  #logMark = 0;

  private constructor(
    supervisor: Supervisor,
    children: ModelChildren,
    clock: { time: number },
    events: SupervisorEvent[],
  ) {
    this.supervisor = supervisor;
    this.children = children;
    this.clock = clock;
    this.events = events;
    this.unfed = events.length;
    this.fed = Array.fromAsync(supervisor.events());
  }

  /** Starts a supervisor with `initial` children, through Supervisor.start. */
  static async start(
    config: Config,
    initial: readonly ModelSpecOptions[],
  ): Promise<Real> {
    const children = new ModelChildren();
    const clock = { time: 0 };
    const events: SupervisorEvent[] = [];
    const specs: ChildSpec[] = initial.map((options, at) =>
      children.spec(`c${at}`, options)
    );
    const supervisor = await Supervisor.start({
      name: NAME,
      ...config,
      now: () => clock.time,
      onEvent: (event) => events.push(event),
      children: specs,
    });
    return new Real(supervisor, children, clock, events);
  }

  /** The events and start/stop/kill calls since the last call. */
  take(): Trace {
    const events = this.events.slice(this.#eventMark).map(brief);
    const log = this.children.log.slice(this.#logMark);
    this.#eventMark = this.events.length;
    this.#logMark = this.children.log.length;
    return { events, log };
  }

  /**
   * Waits until the supervisor is idle, without sleeping. Operations and
   * restarts run one at a time on one queue, so a probe operation (a
   * terminateChild of an unknown id, which only rejects) settles after
   * everything queued before it. A child's exit queues its restart a couple
   * of microtasks after the child's `exited` resolved, which the caller
   * awaited; a probe takes longer than that. So: probe until two probes in a
   * row saw no event and no start/stop/kill (a failed restart start shows
   * in the log and queues a retry, so it keeps the loop going). A model
   * divergence then shows as a mismatch, never as a hang.
   */
  async settle(): Promise<void> {
    let quiet = 0;
    while (quiet < 2) {
      const before = this.events.length + this.children.log.length;
      await assert.rejects(
        this.supervisor.terminateChild(PROBE),
        SupervisorError,
      );
      const after = this.events.length + this.children.log.length;
      quiet = after === before ? quiet + 1 : 0;
    }
  }
}

/** After every command: the real state is the model's. */
async function checkState(m: Model, r: Real): Promise<void> {
  const where = m.where();
  const tree = r.supervisor.inspect();
  assert.equal(tree.state, m.status, where);
  assert.equal(tree.restarts, m.windowRestarts(), where);
  assert.deepEqual(
    tree.children.map(({ id, state, restart, restarts }) => ({
      id,
      state,
      restart,
      restarts,
    })),
    m.entries.map(({ id, state, restart, restarts }) => ({
      id,
      state,
      restart,
      restarts,
    })),
    where,
  );
  assert.deepEqual(r.supervisor.children, m.entries.map((entry) => entry.id));
  for (let index = 0; index < m.nextId; index++) {
    const id = `c${index}`;
    const incarnations = r.children.incarnations(id);
    assert.equal(incarnations.length, m.starts.get(id) ?? 0, where);
    const running = m.find(id)?.state === "running";
    assert.equal(
      r.supervisor.child(id),
      running ? incarnations.at(-1) : undefined,
      `child("${id}") at ${where}`,
    );
  }
  // No incarnation outlives its turn: exactly the current ones are alive.
  const alive = r.children.all().filter((child) => child.alive)
    .map((child) => `${child.id}#${child.incarnation}`).sort();
  const expected = m.running().map((entry) =>
    `${entry.id}#${m.starts.get(entry.id)}`
  ).sort();
  assert.deepEqual(alive, expected, where);
  if (m.status === "stopped") {
    // tree.state is "stopped" too, so `exited` has resolved.
    const reason = await r.supervisor.exited;
    assert.equal(reason.kind, m.exit, where);
    if (reason.kind === "crashed") {
      const error = reason.error;
      assert.ok(error instanceof SupervisorError, where);
      assert.equal(error.code, "supervisor");
      assert.equal(error.supervisor, NAME);
      assert.match(error.message, new RegExp(`within ${m.config.period} ms`));
      assert.match(
        error.message,
        new RegExp(`intensity of ${m.config.intensity};`),
      );
    }
  }
}

async function expectOutcome<T>(
  outcome: Outcome,
  attempt: () => Promise<T>,
  where: string,
): Promise<T | undefined> {
  if (outcome.ok) return await attempt();
  await assert.rejects(
    attempt(),
    (error: unknown) =>
      error instanceof SupervisorError && outcome.message.test(error.message),
    where,
  );
  return undefined;
}

/** A command: drive model and system, settle, then compare them. */
abstract class ModelCommand implements fc.AsyncCommand<Model, Real> {
  /** Also run once the supervisor has ended, to see it refuse or do nothing. */
  afterEnd = false;

  check(m: Readonly<Model>): boolean {
    return (m.status === "running" || this.afterEnd) && this.applies(m);
  }

  /** Whether the model is in a state the command applies to. */
  protected applies(_m: Readonly<Model>): boolean {
    return true;
  }

  /** Applies the command to the model and the system; returns a label. */
  protected abstract step(m: Model, r: Real): Promise<string>;
  abstract toString(): string;

  async run(m: Model, r: Real): Promise<void> {
    m.history.push(`${this}`);
    m.history[m.history.length - 1] = await this.step(m, r);
    await r.settle();
    const where = m.where();
    assert.deepEqual(r.take(), m.takeTrace(), where);
    await checkState(m, r);
  }
}

interface StartOptions {
  restart: RestartType;
  shutdown: Shutdown;
  asyncStart: boolean;
  /** Its start() fails. */
  fails: boolean;
  /** Reuse the id of an existing child (index into the children). */
  duplicate: number | undefined;
}

class StartChild extends ModelCommand {
  constructor(readonly options: StartOptions) {
    super();
  }

  protected async step(m: Model, r: Real): Promise<string> {
    const { restart, shutdown, asyncStart, fails, duplicate } = this.options;
    const existing = duplicate === undefined || m.entries.length === 0
      ? undefined
      : m.entries[duplicate % m.entries.length];
    const id = existing?.id ?? `c${m.nextId++}`;
    if (fails && existing === undefined) {
      m.armFailures(id, 1);
      r.children.failNextStarts(id, 1);
    }
    const outcome = m.startChild(id, restart, shutdown);
    const spec = r.children.spec(id, { restart, shutdown, asyncStart });
    const child = await expectOutcome(
      outcome,
      () => r.supervisor.startChild(spec),
      m.where(),
    );
    if (outcome.ok) {
      assert.ok(child instanceof ModelChild);
      assert.equal(child, r.children.incarnations(id).at(-1));
    }
    return `startChild(${id}, ${restart}, ${shutdown}${
      asyncStart ? ", async" : ""
    }${fails ? ", fails" : ""}${existing === undefined ? "" : ", duplicate"})`;
  }

  toString(): string {
    return `startChild(${JSON.stringify(this.options)})`;
  }
}

/** A running child ends by itself. */
class EndChild extends ModelCommand {
  constructor(readonly index: number, readonly how: Ending) {
    super();
  }

  protected override applies(m: Readonly<Model>): boolean {
    return m.running().length > 0;
  }

  protected async step(m: Model, r: Real): Promise<string> {
    const running = m.running();
    const entry = running[this.index % running.length];
    const handle = r.supervisor.child(entry.id);
    assert.ok(handle instanceof ModelChild, m.where());
    m.endChild(entry, this.how);
    m.recover();
    switch (this.how) {
      case "crashed": {
        const error = new Error(`${entry.id} crashed`);
        await assert.rejects(handle.crash(error), (thrown) => thrown === error);
        break;
      }
      case "killed":
        handle.killItself();
        break;
      case "shutdown":
        handle.stopItself();
        break;
      case "normal":
        assert.ok(handle.exitNormally());
        break;
    }
    assert.equal((await handle.exited).kind, this.how);
    return `${this.how}(${entry.id})`;
  }

  toString(): string {
    return `end(running[${this.index}], ${this.how})`;
  }
}

/** Moves the clock by `ms`, or to one side of the oldest counted restart's expiry. */
class Advance extends ModelCommand {
  constructor(readonly by: { ms: number } | { edge: -1 | 0 | 1 }) {
    super();
  }

  protected step(m: Model, r: Real): Promise<string> {
    if ("ms" in this.by) {
      m.advance(m.time + this.by.ms);
    } else {
      // The restart at t still counts at t + period, not at t + period + 1.
      const oldest = m.restartTimes.find((time) =>
        time >= m.time - m.config.period
      );
      if (oldest !== undefined) {
        m.advance(oldest + m.config.period + this.by.edge);
      }
    }
    r.clock.time = m.time;
    return Promise.resolve(`clock=${m.time}`);
  }

  toString(): string {
    return `advance(${JSON.stringify(this.by)})`;
  }
}

class TerminateChild extends ModelCommand {
  constructor(readonly index: number) {
    super();
  }

  protected override applies(m: Readonly<Model>): boolean {
    return m.nextId > 0;
  }

  protected async step(m: Model, r: Real): Promise<string> {
    const id = m.knownId(this.index);
    const outcome = m.terminateChild(id);
    await expectOutcome(
      outcome,
      () => r.supervisor.terminateChild(id),
      m.where(),
    );
    return `terminateChild(${id})`;
  }

  toString(): string {
    return `terminateChild(known[${this.index}])`;
  }
}

class RestartChild extends ModelCommand {
  constructor(readonly index: number) {
    super();
  }

  protected override applies(m: Readonly<Model>): boolean {
    return m.nextId > 0;
  }

  protected async step(m: Model, r: Real): Promise<string> {
    const id = m.knownId(this.index);
    const outcome = m.restartChild(id);
    const child = await expectOutcome(
      outcome,
      () => r.supervisor.restartChild(id),
      m.where(),
    );
    if (outcome.ok) assert.equal(child, r.children.incarnations(id).at(-1));
    return `restartChild(${id})`;
  }

  toString(): string {
    return `restartChild(known[${this.index}])`;
  }
}

class DeleteChild extends ModelCommand {
  constructor(readonly index: number) {
    super();
  }

  protected override applies(m: Readonly<Model>): boolean {
    return m.nextId > 0;
  }

  protected step(m: Model, r: Real): Promise<string> {
    const id = m.knownId(this.index);
    const outcome = m.deleteChild(id);
    if (outcome.ok) {
      r.supervisor.deleteChild(id);
    } else {
      assert.throws(
        () => r.supervisor.deleteChild(id),
        (error: unknown) =>
          error instanceof SupervisorError &&
          outcome.message.test(error.message),
        m.where(),
      );
    }
    return Promise.resolve(`deleteChild(${id})`);
  }

  toString(): string {
    return `deleteChild(known[${this.index}])`;
  }
}

/** The next `count` start attempts of a child fail. */
class FailStarts extends ModelCommand {
  constructor(readonly index: number, readonly count: number) {
    super();
  }

  protected override applies(m: Readonly<Model>): boolean {
    return m.nextId > 0;
  }

  protected step(m: Model, r: Real): Promise<string> {
    const id = m.knownId(this.index);
    m.armFailures(id, this.count);
    r.children.failNextStarts(id, this.count);
    return Promise.resolve(`failStarts(${id}, ${this.count})`);
  }

  toString(): string {
    return `failStarts(known[${this.index}], ${this.count})`;
  }
}

/** Calls a child through Actor.ask: it answers iff the model runs it. */
class Call extends ModelCommand {
  constructor(readonly index: number) {
    super();
  }

  protected override applies(m: Readonly<Model>): boolean {
    return m.nextId > 0;
  }

  protected async step(m: Model, r: Real): Promise<string> {
    const id = m.knownId(this.index);
    const where = m.where();
    const incarnations = r.children.incarnations(id);
    const handle = r.supervisor.child(id);
    let stale = incarnations;
    if (m.find(id)?.state === "running") {
      assert.ok(handle instanceof ModelChild, where);
      assert.deepEqual(await handle.call(), {
        id,
        incarnation: m.starts.get(id),
      }, where);
      stale = incarnations.slice(0, -1);
    } else {
      assert.equal(handle, undefined, where);
    }
    const previous = stale.at(-1);
    if (previous !== undefined) {
      await assert.rejects(previous.call(), ActorExitedError, where);
    }
    return `call(${id})`;
  }

  toString(): string {
    return `call(known[${this.index}])`;
  }
}

class Stop extends ModelCommand {
  constructor(readonly kill: boolean) {
    super();
  }

  protected async step(m: Model, r: Real): Promise<string> {
    m.stop(this.kill);
    if (this.kill) r.supervisor.kill();
    else r.supervisor.stop();
    await r.supervisor.exited;
    return this.toString();
  }

  toString(): string {
    return this.kill ? "kill()" : "stop()";
  }
}

const restartArb = fc.constantFrom<RestartType>(
  "permanent",
  "transient",
  "temporary",
);
// A number is a stop() with a timer that is cleared once the child ends,
// which an idle Actor does at once: no timeout ever fires.
const shutdownArb = fc.constantFrom<Shutdown>("brutal_kill", "infinity", 5000);
const specArb = fc.record({ restart: restartArb, shutdown: shutdownArb });

/** The children Supervisor.start() begins with. */
const initialArb: fc.Arbitrary<ModelSpecOptions[]> = fc.array(
  fc.record({
    restart: restartArb,
    shutdown: shutdownArb,
    asyncStart: fc.boolean(),
  }),
  { maxLength: 6 },
);

const configArb: fc.Arbitrary<Config> = fc.record({
  strategy: fc.constantFrom<Strategy>(
    "one_for_one",
    "one_for_all",
    "rest_for_one",
  ),
  intensity: fc.integer({ min: 0, max: 6 }),
  period: fc.integer({ min: 1, max: 1000 }),
});

/** True about one time in ten. */
const rarely = fc.nat(9).map((n) => n === 0);
const index = fc.nat(15);

const startArb = fc.record({
  restart: restartArb,
  shutdown: shutdownArb,
  asyncStart: fc.boolean(),
  fails: rarely,
  duplicate: fc.option(index, { freq: 10 }).map((value) => value ?? undefined),
}).map((options) => new StartChild(options));
const endArb = fc.tuple(
  index,
  fc.constantFrom<Ending>("crashed", "killed", "normal", "shutdown"),
).map(([at, how]) => new EndChild(at, how));
const advanceArb = fc.oneof(
  fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 1500 }))
    .map((ms) => new Advance({ ms })),
  fc.constantFrom<-1 | 0 | 1>(-1, 0, 1).map((edge) => new Advance({ edge })),
);

// One weighted arbitrary rather than a list: fc.commands picks uniformly
// among the arbitraries it is given, and stop()/kill() should stay rare so
// that most runs get far before the supervisor ends.
const commandArb: fc.Arbitrary<ModelCommand> = fc.oneof(
  { arbitrary: startArb, weight: 12 },
  { arbitrary: endArb, weight: 16 },
  { arbitrary: advanceArb, weight: 8 },
  { arbitrary: index.map((at) => new TerminateChild(at)), weight: 4 },
  { arbitrary: index.map((at) => new RestartChild(at)), weight: 4 },
  { arbitrary: index.map((at) => new DeleteChild(at)), weight: 3 },
  {
    arbitrary: fc.tuple(index, fc.integer({ min: 1, max: 2 }))
      .map(([at, count]) => new FailStarts(at, count)),
    weight: 3,
  },
  { arbitrary: index.map((at) => new Call(at)), weight: 6 },
  { arbitrary: fc.boolean().map((kill) => new Stop(kill)), weight: 1 },
);
/** A few commands also run after the supervisor ended. */
const lateArb = fc.tuple(commandArb, rarely).map(([command, late]) => {
  command.afterEnd = late;
  return command;
});
const commandsArb = fc.commands([lateArb], {
  maxCommands: 60,
  size: "max",
});

function setting(name: string): string | undefined {
  const permission = Deno.permissions.querySync({
    name: "env",
    variable: name,
  });
  return permission.state === "granted" ? Deno.env.get(name) : undefined;
}

function parameters<T extends unknown[]>(): fc.Parameters<T> {
  const seed = setting("SUPERVISOR_MODEL_SEED");
  const path = setting("SUPERVISOR_MODEL_PATH");
  const runs = setting("SUPERVISOR_MODEL_RUNS");
  return {
    numRuns: runs === undefined ? 100 : Number(runs),
    ...(seed === undefined ? {} : { seed: Number(seed) }),
    ...(path === undefined ? {} : { path }),
  };
}

Deno.test({
  name:
    "Supervisor agrees with a reference model of OTP's rules over random operation sequences",
  sanitizeOps: true,
  sanitizeResources: true,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(configArb, initialArb, commandsArb, async (
        config,
        initial,
        commands,
      ) => {
        const real = await Real.start(config, initial);
        try {
          await fc.asyncModelRun(() => {
            const model = new Model(config);
            model.startInitial(initial);
            assert.deepEqual(real.take(), model.takeTrace(), model.where());
            return { model, real };
          }, commands);
        } finally {
          // Ends every run, passing or not, so no child outlives it.
          await real.supervisor.close();
        }
        const after = real.take();
        assert.ok(
          after.events.every((event) => event.startsWith("exited:")),
          `close() only stops children: ${after.events}`,
        );
        assert.deepEqual(
          real.children.all().filter((child) => child.alive),
          [],
          "no child outlives its supervisor",
        );
        assert.deepEqual(
          (await real.fed).map(brief),
          real.events.slice(real.unfed).map(brief),
          "events() yields what onEvent saw since",
        );
      }),
      parameters(),
    );
  },
});

// Two children end by themselves a few microtasks apart: `first`
// abnormally, then `second` normally. Unless the supervisor had already
// asked `second` to stop by then (it then ends as asked, and exitNormally()
// reports it did nothing), both are the children's own exits, and the
// documented rules apply to each; in particular, a transient `second` that
// ended normally stays stopped when `first`'s crash restarts its group.
// Which exit the supervisor handles first, and whether it stops a child
// that had just ended, are timing details the model leaves open: events are
// compared as a multiset and the log by its starts; the end state exactly.
//
// FAILS against src/actor/supervisor.ts as it stands (a real bug, not a
// documented deviation). Shrunk counterexample (SUPERVISOR_MODEL_SEED=6):
//   {"strategy":"rest_for_one","specs":[{"restart":"permanent",
//   "shutdown":"brutal_kill"},{"restart":"transient","shutdown":
//   "brutal_kill"}],"first":0,"second":0,"how":"killed","gap":0}
//   i.e. c0 (permanent) is killed, and one microtask later c1 (transient)
//   exits normally. Events: exited:c0:killed, exited:c1:normal,
//   started:c0:1, restarted:c0:1, then also started:c1:1, restarted:c1:1,
//   and c1 ends up running with restarts 1, where the documented rule
//   leaves it stopped. (one_for_all fails the same way; the window is about
//   1 to 3 microtasks, longer while #recover awaits other siblings' exits.)
// Cause: #recover() stops the group's running siblings with #terminate()
// and then sets every non-temporary one to "restarting", whatever it ended
// with. c1's own exit had resolved `exited`, but #onExit had not run yet
// (it runs two reactions later), so entry.current was still set: #recover
// kill()s the already-dead child, #onExit then takes the exit as expected,
// and the normal exit is restarted. Fix: have #terminate() return the
// reason (`return await incarnation.exit`) and, in #recover(), leave a
// transient sibling whose reason is `normal` stopped (a child the
// supervisor stops ends `shutdown` or `killed`, never `normal`). A
// transient child that ends itself with `shutdown` in that window stays
// indistinguishable from one that obeyed; this property only ends
// `second` with `normal`.
Deno.test({
  name:
    "Supervisor applies the restart rules to each of two children that end a few microtasks apart",
  sanitizeOps: true,
  sanitizeResources: true,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          strategy: configArb.map((config) => config.strategy),
          specs: fc.array(specArb, { minLength: 2, maxLength: 5 }),
          first: index,
          second: index,
          how: fc.constantFrom<Ending>("crashed", "killed"),
          gap: fc.integer({ min: 0, max: 6 }),
        }),
        async ({ strategy, specs, first, second, how, gap }) => {
          const config: Config = { strategy, intensity: 10, period: 1000 };
          const m = new Model(config);
          const initial = specs.map((spec) => ({ ...spec, asyncStart: false }));
          m.startInitial(initial);
          const r = await Real.start(config, initial);
          try {
            assert.deepEqual(r.take(), m.takeTrace(), m.where());
            const a = m.entries[first % m.entries.length];
            const others = m.entries.filter((entry) => entry !== a);
            const b = others[second % others.length];
            const endsFirst = r.supervisor.child(a.id);
            const endsSecond = r.supervisor.child(b.id);
            assert.ok(endsFirst instanceof ModelChild);
            assert.ok(endsSecond instanceof ModelChild);
            let crashed = Promise.resolve();
            if (how === "crashed") {
              const error = new Error(`${a.id} crashed`);
              crashed = assert.rejects(
                endsFirst.crash(error),
                (thrown) => thrown === error,
              );
            } else {
              endsFirst.killItself();
            }
            let later = Promise.resolve();
            for (let tick = 0; tick < gap; tick++) later = later.then(() => {});
            const own = await later.then(() => endsSecond.exitNormally());
            await crashed;
            await endsFirst.exited;
            await endsSecond.exited;
            m.history.push(
              `${how}(${a.id}), ${gap} microtasks, normal(${b.id})${
                own ? "" : " too late"
              }`,
            );
            m.endChild(a, how);
            if (own) m.endChild(b, "normal");
            m.recover();
            await r.settle();
            const expected = m.takeTrace();
            const actual = r.take();
            const where = m.where();
            assert.deepEqual(
              actual.events.toSorted(),
              expected.events.toSorted(),
              where,
            );
            const starts = (log: string[]): string[] =>
              log.filter((call) => call.startsWith("start:"));
            assert.deepEqual(starts(actual.log), starts(expected.log), where);
            await checkState(m, r);
          } finally {
            await r.supervisor.close();
          }
        },
      ),
      parameters(),
    );
  },
});
