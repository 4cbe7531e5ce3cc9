import { describe, expect, it } from "vitest";
import {
  advanceDurable,
  type AdvanceOptions,
  type DurableRecord,
  type DurableRunbook,
  type StepModule,
  type StepOutcome,
} from "../../../runbooks/lib/durable.ts";

type Name = "reserve" | "charge" | "ship";
const NAMES: Name[] = ["reserve", "charge", "ship"];

interface OrderRun extends DurableRecord<Name> {
  orderId: string;
  chargeId?: string;
}

/** An in-memory latch with the S3 semantics the engine relies on: replace only if the etag still matches. */
class MemoryLatch {
  body: string | undefined;
  etag = 0;
  writes = 0;
  /** Fail the next N replaces as if another executor had written first (S3 412). */
  loseNext = 0;
  /** Called before each replace, to let a test interleave another write. */
  beforeReplace: (() => void) | undefined;

  constructor(run: OrderRun) {
    this.body = JSON.stringify(run);
  }
  record(): OrderRun {
    return JSON.parse(this.body!) as OrderRun;
  }
  async read(): Promise<{ record: OrderRun; etag: string } | undefined> {
    await Promise.resolve();
    return this.body ? { record: this.record(), etag: `e${this.etag}` } : undefined;
  }
  async replace(record: OrderRun, etag: string): Promise<string | undefined> {
    await Promise.resolve();
    this.beforeReplace?.();
    if (this.loseNext > 0) {
      this.loseNext--;
      this.etag++; // someone else wrote
      return undefined;
    }
    if (etag !== `e${this.etag}`) return undefined;
    this.etag++;
    this.writes++;
    this.body = JSON.stringify(record);
    return `e${this.etag}`;
  }
}

class World {
  nowMs = Date.parse("2026-01-01T00:00:00Z");
  latch = new MemoryLatch(newRun());
  calls: string[] = [];
  ended: string[] = [];
  charged = 0;
  /** Step whose `start` throws right after acting (a crash before the outcome is recorded). */
  crashAfter: Name | undefined;
  /** Seconds `ship` waits on each attempt before it is done, counted down. */
  shipWaits = 0;
  /** Lets a test hold `reserve` in its pre-claim look until released. */
  gate: Promise<void> | undefined;

  clock = { now: () => new Date(this.nowMs), sleep: async (ms: number) => void (this.nowMs += ms) };

  step(name: Name, extra: Partial<StepModule<OrderRun, Name, World>> = {}): StepModule<OrderRun, Name, World> {
    const act = async (how: "start" | "resume"): Promise<StepOutcome<OrderRun>> => {
      this.calls.push(`${name}:${how}`);
      if (name === "charge" && how === "start") this.charged++;
      if (how === "start" && this.crashAfter === name) {
        this.crashAfter = undefined;
        throw new Error(`simulated crash in ${name}`);
      }
      if (name === "charge" && how === "resume") return { kind: "done", result: "charge confirmed", reason: "found the charge: not charged again" };
      if (name === "ship" && this.shipWaits > 0) {
        this.shipWaits--;
        return { kind: "wait", seconds: 30, reason: "carrier has not picked up yet" };
      }
      return { kind: "done", result: `${name}d`, reason: `${name} ${how}`, ...(name === "charge" ? { record: { chargeId: "ch_1" } } : {}) };
    };
    return {
      name,
      describe: () => `${name} the order`,
      beforeClaim: async () => {
        if (name === "reserve" && this.gate) await this.gate;
        return { kind: "claim" };
      },
      start: () => act("start"),
      resume: () => act("resume"),
      ...extra,
    };
  }

  runbook(steps?: StepModule<OrderRun, Name, World>[]): DurableRunbook<OrderRun, Name, World> {
    return {
      scope: "orders",
      runId: "run-1",
      steps: steps ?? NAMES.map((n) => this.step(n)),
      env: this,
      store: this.latch,
      clock: this.clock,
      pollSeconds: 15,
      completeReason: "order complete",
      onEnd: async (run) => void this.ended.push(run.state),
    };
  }

  advance(rb = this.runbook(), opts: AdvanceOptions = {}) {
    return advanceDurable(rb, opts);
  }
}

function newRun(): OrderRun {
  return { runId: "run-1", state: "running", orderId: "o-1", steps: NAMES.map((name) => ({ name, status: "pending" })) };
}

describe("durable-runbook engine", () => {
  it("runs every step once, in order, and records each outcome and the end", async () => {
    const w = new World();
    const r = await w.advance();

    expect(r).toEqual({ next: "done", reason: "order complete" });
    expect(w.calls).toEqual(["reserve:start", "charge:start", "ship:start"]);
    const run = w.latch.record();
    expect(run.state).toBe("done");
    expect(run.endedAt).toBe("2026-01-01T00:00:00.000Z");
    expect(run.chargeId).toBe("ch_1");
    expect(run.steps).toEqual(
      NAMES.map((name) => ({
        name,
        status: "done",
        startedAt: "2026-01-01T00:00:00.000Z",
        endedAt: "2026-01-01T00:00:00.000Z",
        attempts: 1,
        result: `${name}d`,
        reason: `${name} start`,
      })),
    );
    expect(w.ended).toEqual(["done"]);
    // Per step a claim and an outcome, plus the end: every one a conditional write.
    expect(w.latch.writes).toBe(7);
  });

  it("claims: two advances racing on one pending step run its start once; the loser resumes from the claim", async () => {
    const w = new World();
    let open!: () => void;
    w.gate = new Promise((resolve) => (open = resolve));
    const both = Promise.all([w.advance(), w.advance()]);
    // Both have read `reserve` pending and wait before their claim; only one claim can match the etag.
    await new Promise((resolve) => setTimeout(resolve, 10));
    open();
    const [a, b] = await both;

    expect([a.next, b.next]).toEqual(["done", "done"]);
    expect(w.calls.filter((c) => c.endsWith(":start"))).toEqual(["reserve:start", "charge:start", "ship:start"]);
    expect(w.charged).toBe(1);
  });

  it("claims: an advance that finds a step claimed by a running executor resumes it (observes), never starts it again", async () => {
    const w = new World();
    const run = newRun();
    run.steps[0] = { name: "reserve", status: "done", startedAt: "2026-01-01T00:00:00.000Z", endedAt: "2026-01-01T00:00:00.000Z", result: "reserved" };
    run.steps[1] = { name: "charge", status: "started", startedAt: "2026-01-01T00:00:00.000Z", attempts: 1 };
    w.latch = new MemoryLatch(run);

    const r = await w.advance();

    expect(r.next).toBe("done");
    expect(w.calls).toEqual(["charge:resume", "ship:start"]);
    expect(w.charged).toBe(0);
    expect(w.latch.record().steps[1]).toMatchObject({ status: "done", result: "charge confirmed", startedAt: "2026-01-01T00:00:00.000Z" });
  });

  for (const name of NAMES) {
    it(`resume after a crash in ${name}: the next advance calls resume, not start, and the run completes`, async () => {
      const w = new World();
      w.crashAfter = name;
      await expect(w.advance()).rejects.toThrow(`simulated crash in ${name}`);
      expect(w.latch.record().steps.find((s) => s.name === name)).toMatchObject({ status: "started", attempts: 1 });

      w.nowMs += 5_000;
      const r = await w.advance();

      expect(r).toEqual({ next: "done", reason: "order complete" });
      expect(w.calls.filter((c) => c.startsWith(`${name}:`))).toEqual([`${name}:start`, `${name}:resume`]);
      expect(w.charged).toBe(1);
      expect(w.latch.record().steps.map((s) => s.status)).toEqual(["done", "done", "done"]);
    });
  }

  it("waits: a wait outcome is handed back as next: wait with its seconds and the step; the step stays claimed", async () => {
    const w = new World();
    w.shipWaits = 2;

    const r1 = await w.advance();
    expect(r1).toEqual({ next: "wait", reason: "carrier has not picked up yet", step: "ship", waitSeconds: 30 });
    expect(w.latch.record().steps[2]).toMatchObject({ status: "started" });

    w.nowMs += 30_000;
    expect(await w.advance()).toEqual({ next: "wait", reason: "carrier has not picked up yet", step: "ship", waitSeconds: 30 });
    w.nowMs += 30_000;
    expect(await w.advance()).toEqual({ next: "done", reason: "order complete" });
    expect(w.calls.filter((c) => c.startsWith("ship:"))).toEqual(["ship:start", "ship:resume", "ship:resume"]);
    expect(w.latch.record().steps[2]).toMatchObject({ startedAt: "2026-01-01T00:00:00.000Z", endedAt: "2026-01-01T00:01:00.000Z" });
  });

  it("waits: with inlineWaits the engine sleeps the wait itself while the deadline allows", async () => {
    const w = new World();
    w.shipWaits = 2;
    const r = await w.advance(undefined, { inlineWaits: true, deadlineMs: w.nowMs + 45_000 });
    // One 30 s sleep fits before the deadline; the second would end past it and is handed back.
    expect(r).toEqual({ next: "wait", reason: "carrier has not picked up yet", step: "ship", waitSeconds: 30 });
    expect(w.nowMs - Date.parse("2026-01-01T00:00:00Z")).toBe(30_000);
  });

  it("timeouts: a step past its timeout fails the run with the step's manual steps, without calling it again", async () => {
    const w = new World();
    w.shipWaits = 100;
    const steps = NAMES.map((n) =>
      n === "ship"
        ? w.step(n, {
            timeoutSeconds: () => 60,
            timedOut: (_env, seconds) => ({ reason: `not picked up after ${seconds} s`, manualSteps: ["Call the carrier.", "Then reset the run."] }),
          })
        : w.step(n),
    );
    const rb = w.runbook(steps);
    expect((await w.advance(rb)).next).toBe("wait");
    w.nowMs += 60_000;
    expect((await w.advance(rb)).next).toBe("wait"); // exactly at the timeout: not over it yet
    const shipCalls = w.calls.filter((c) => c.startsWith("ship:")).length;
    w.nowMs += 1_000;

    const r = await w.advance(rb);

    expect(r).toEqual({ next: "failed", reason: "ship: not picked up after 60 s", step: "ship" });
    expect(w.calls.filter((c) => c.startsWith("ship:")).length).toBe(shipCalls);
    const run = w.latch.record();
    expect(run.state).toBe("failed");
    expect(run.failure).toEqual({ step: "ship", message: "not picked up after 60 s", manualSteps: ["Call the carrier.", "Then reset the run."] });
    expect(run.steps[2]).toMatchObject({
      status: "failed",
      result: "failed",
      reason: "not picked up after 60 s",
      startedAt: "2026-01-01T00:00:00.000Z",
      endedAt: "2026-01-01T00:01:01.000Z",
    });
    expect(w.ended).toEqual(["failed"]);
    // A failed run stays failed.
    expect(await w.advance(rb)).toEqual({ next: "failed", reason: "run is failed" });
  });

  it("fail outcomes before the claim fail the run without starting the step", async () => {
    const w = new World();
    const steps = NAMES.map((n) =>
      n === "charge" ? w.step(n, { beforeClaim: async () => ({ kind: "fail", reason: "card declined", manualSteps: ["Ask for another card."] }) }) : w.step(n),
    );
    const r = await w.advance(w.runbook(steps));
    expect(r).toEqual({ next: "failed", reason: "charge: card declined", step: "charge" });
    expect(w.calls).toEqual(["reserve:start"]);
    expect(w.latch.record().failure).toEqual({ step: "charge", message: "card declined", manualSteps: ["Ask for another card."] });
  });

  it("conflicts: a lost outcome write is not retried blindly; the engine re-reads and resumes the claimed step", async () => {
    const w = new World();
    let replaces = 0;
    w.latch.beforeReplace = () => {
      // The 4th write is charge's outcome (claim, outcome, claim, outcome): another executor wrote first.
      if (++replaces === 4) w.latch.loseNext = 1;
    };
    const r = await w.advance();
    expect(r.next).toBe("done");
    expect(w.calls).toEqual(["reserve:start", "charge:start", "charge:resume", "ship:start"]);
    expect(w.charged).toBe(1);
  });

  it("conflicts: a lost claim means another executor owns the step; this one re-reads and never starts it", async () => {
    const w = new World();
    w.latch.beforeReplace = () => {
      // Another executor claims `reserve` between our read and our claim.
      w.latch.beforeReplace = undefined;
      const run = w.latch.record();
      run.steps[0] = { name: "reserve", status: "started", startedAt: "2026-01-01T00:00:00.000Z", attempts: 1 };
      w.latch.body = JSON.stringify(run);
      w.latch.etag++;
    };
    const r = await w.advance();
    expect(r.next).toBe("done");
    expect(w.calls).toEqual(["reserve:resume", "charge:start", "ship:start"]);
  });

  it("conflicts: claimAttempt that loses the race throws, and the engine re-reads instead of re-issuing", async () => {
    const w = new World();
    let reissues = 0;
    let tries = 0;
    const steps = NAMES.map((n) =>
      n === "reserve"
        ? w.step(n, {
            start: async () => ({ kind: "wait", seconds: 10, reason: "not visible yet" }),
            resume: async (ctx) => {
              tries++;
              if (tries === 1) w.latch.loseNext = 1;
              await ctx.claimAttempt();
              reissues++;
              return { kind: "done", reason: "re-issued" };
            },
          })
        : w.step(n),
    );
    const rb = w.runbook(steps);
    expect((await w.advance(rb)).next).toBe("wait");
    const r = await w.advance(rb);
    expect(r.next).toBe("done");
    expect(tries).toBe(2);
    expect(reissues).toBe(1);
    expect(w.latch.record().steps[0]).toMatchObject({ status: "done", attempts: 2, lastAttemptAt: "2026-01-01T00:00:00.000Z" });
  });

  it("conflicts: a failure that cannot be recorded comes back as a 1 s wait, to re-read the record", async () => {
    const w = new World();
    const steps = NAMES.map((n) =>
      n === "reserve"
        ? w.step(n, {
            start: async () => {
              w.latch.loseNext = 1;
              return { kind: "fail", reason: "out of stock", manualSteps: [] };
            },
          })
        : w.step(n),
    );
    expect(await w.advance(w.runbook(steps))).toEqual({ next: "wait", reason: "record changed while failing; re-reading", step: "reserve", waitSeconds: 1 });
    expect(w.latch.record().state).toBe("running");
  });

  it("ignores an advance for a run that is not the current one, and hands back at the deadline", async () => {
    const w = new World();
    const rb = { ...w.runbook(), runId: "run-0" };
    expect(await w.advance(rb)).toEqual({ next: "ignored", reason: "run run-0 is not the current run of orders (current: run-1, running)" });
    expect(await w.advance(undefined, { deadlineMs: w.nowMs })).toEqual({
      next: "wait",
      reason: "invocation deadline reached: continue in the next invocation",
      step: "reserve",
      waitSeconds: 1,
    });
    expect(w.calls).toEqual([]);
  });

  it("skipped outcomes are recorded and the run goes on", async () => {
    const w = new World();
    const steps = NAMES.map((n) => (n === "charge" ? w.step(n, { beforeClaim: async () => ({ kind: "skipped", reason: "free order" }) }) : w.step(n)));
    expect((await w.advance(w.runbook(steps))).next).toBe("done");
    expect(w.latch.record().steps[1]).toEqual({ name: "charge", status: "skipped", reason: "free order" });
    expect(w.calls).toEqual(["reserve:start", "ship:start"]);
  });
});
