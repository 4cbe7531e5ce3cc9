/**
 * The restore-test Lambda handler: a start (scheduled or manual) plans which resources to test now
 * (core/restore-test.ts planRestoreTests, from what the policies select and the proven-RTO trend), starts one durable
 * run per resource due, and hands the runs that wait back to the state machine as its next `advance` input; an
 * `advance` resumes them. Waits are the state machine's, never slept in Lambda.
 *
 * The runbook posts its own Slack summary per run (summary.ts), so the chain's summary post is off.
 */
import { jsonDocuments } from "../../adapters/json-document.ts";
import { listCandidateResources } from "../../adapters/inventory.ts";
import type { BucketRef } from "../../adapters/s3.ts";
import { postToSlack } from "../../adapters/slack.ts";
import { listRestoreTestLeftovers } from "../../adapters/restore.ts";
import type { RestoreTestHistoryEntry, RestoreTestInFlight, RestoreTestTarget } from "../../core/restore-test.ts";
import { inFlightRestoreTests, janitorLimits, planRestoreTests, restoreTestRegion } from "../../core/restore-test.ts";
import { restoreTestTrendKey, type RestoreTestTrend } from "../../core/restore-test-trend.ts";
import { selectResources } from "../../core/selection.ts";
import type { ItemFailure } from "../../core/types.ts";
import type { Resource } from "../../core/types.ts";
import type { Config } from "../../schemas/config.ts";
import { parseRestoreTestEvent, type ParsedRestoreTestEvent, type RestoreTestQueued, type RestoreTestRunRef } from "../../schemas/events-restore-test.ts";
import { createHandler, type RunContext, type RunOutcome, type Runtime } from "../lib/handler.ts";
import { linkedBucket, linkedSlackUrl } from "../lib/resources.ts";
import { checkerSqlPort, realRestoreTestDeps } from "./deps.ts";
import { advanceRestoreTest, startRestoreTest, type RestoreTestDeps, type RestoreTestRequest } from "./index.ts";

/** Keep this much of the invocation for the checkpoint writes and the answer to the state machine. */
const DEADLINE_MARGIN_MS = 20_000;

/** The state machine of stacks/restore-test.ts. */
export const RESTORE_TEST_STATE_MACHINE = "RestoreTestStateMachine";

/** What planning reads: the resources the policies select, each resource's past tests, and the tests in flight. */
export interface RestoreTestPlanPort {
  listResources(region: string, policies: Config["backup"]["policies"]): Promise<Resource[]>;
  history(targets: readonly RestoreTestTarget[]): Promise<RestoreTestHistoryEntry[]>;
  /** Restore tests in flight in these regions, whichever execution started them (their live throwaways). */
  inFlight(regions: readonly string[], now: Date): Promise<RestoreTestInFlight[]>;
}

export interface RestoreTestHandlerOptions {
  /** The runbook's ports for run `runId`. */
  deps?: (ctx: RunContext, runId: string) => RestoreTestDeps;
  plan?: (ctx: RunContext) => RestoreTestPlanPort;
  runtime?: Runtime;
}

/** The trend documents (`restore-test/trend/<kind>/<id>.json`) as history: one entry per past run. */
export function trendHistory(bucket: BucketRef): RestoreTestPlanPort["history"] {
  const docs = jsonDocuments(bucket);
  return async (targets) => {
    const trends = await Promise.all(targets.map((t) => docs.get<RestoreTestTrend>(restoreTestTrendKey(t.kind, t.resourceId))));
    return trends.flatMap((d, i) =>
      (d?.body.entries ?? []).map((e) => ({
        kind: targets[i]!.kind,
        resourceId: targets[i]!.resourceId,
        runId: e.runId,
        startedAt: new Date(e.at),
        verdict: e.verdict,
      })),
    );
  };
}

/** In-flight tests from the throwaways listed in each region (core/restore-test.ts inFlightRestoreTests). */
export function throwawaysInFlight(config: Config): RestoreTestPlanPort["inFlight"] {
  const owner = { app: config.app, stage: config.stage };
  return async (regions, now) => {
    const listing = (await Promise.all(regions.map((r) => listRestoreTestLeftovers(r)))).flat();
    return inFlightRestoreTests(listing, { owner, limits: janitorLimits(config), now });
  };
}

export function realPlanPort(config: Config): RestoreTestPlanPort {
  return { listResources: listCandidateResources, history: trendHistory(linkedBucket(config)), inFlight: throwawaysInFlight(config) };
}

/** How long an execution whose queue waits on another execution's tests waits before it looks again. */
const QUEUE_RECHECK_SECONDS = 60;

export function realDeps(ctx: RunContext, runId: string): RestoreTestDeps {
  const deps = realRestoreTestDeps({
    bucket: linkedBucket(ctx.config),
    runId,
    owner: { app: ctx.config.app, stage: ctx.config.stage },
    // Each restore region's checker function (stacks/restore-test.ts names it in the environment); a region without one
    // gives a failed smoke check naming why (alerted critically), never a silent pass.
    sql: checkerSqlPort(process.env, (message, data) => ctx.logger.info(message, data ?? {})),
    notify: async (message) => void (await postToSlack(linkedSlackUrl(), message)),
  });
  deps.log = (message, data) => ctx.logger.info(message, data ?? {});
  return deps;
}

/** `<kind>-<id>-<yyyymmddThhmmZ>`: a start redelivered within the minute follows the run already checkpointed. */
export function restoreTestRunId(target: { kind: string; resourceId: string }, at: Date): string {
  const stamp = `${at.toISOString().slice(0, 16).replace(/[-:]/g, "")}Z`;
  return `${target.kind}-${target.resourceId}-${stamp}`;
}

interface RunResult extends RestoreTestRunRef {
  next: "wait" | "done" | "failed" | "ignored";
  reason: string;
  step?: string;
  waitSeconds?: number;
}

export function makeRestoreTestHandler(options: RestoreTestHandlerOptions = {}) {
  const run = async (parsed: ParsedRestoreTestEvent, ctx: RunContext): Promise<RunOutcome> => {
    const { event } = parsed;
    const depsOf = (runId: string) => options.deps?.(ctx, runId) ?? realDeps(ctx, runId);
    const owner = { app: ctx.config.app, stage: ctx.config.stage };
    const left = ctx.remainingMs();
    const opts = Number.isFinite(left) ? { deadlineMs: ctx.now().getTime() + left - DEADLINE_MARGIN_MS } : {};
    const request = (ref: RestoreTestRunRef): RestoreTestRequest => ({
      runId: ref.runId,
      owner,
      target: { policy: ref.policy, kind: ref.kind, resourceId: ref.resourceId, region: ref.region },
      config: ctx.config,
    });
    const failures: ItemFailure[] = [];
    let refs: RestoreTestRunRef[];
    let starting: boolean;
    let plan: { action: string; kind: string; resourceId: string; policy: string; region: string; reason: string }[] | undefined;
    let failedBefore: string[] = [];
    let queue: RestoreTestQueued[] = [];
    const port = options.plan?.(ctx) ?? realPlanPort(ctx.config);
    /** The start's listing of tests in flight, reused when its queue drains in the same invocation. */
    let listed: RestoreTestInFlight[] | undefined;

    if ("mode" in event && event.mode === "advance") {
      if (!parsed.viaStateMachine) {
        const reason = `an advance resumes runs of the ${RESTORE_TEST_STATE_MACHINE} execution: only the state machine sends it`;
        return {
          report: { next: "failed", action: "refuse", reason, viaStateMachine: false },
          message: null,
          failures: [{ item: "restore-test", kind: "fatal", message: reason }],
        };
      }
      refs = event.runs;
      queue = [...event.queue];
      starting = false;
      failedBefore = event.failed;
    } else {
      const withBlock = ctx.config.backup.policies.filter((p) => p.restoreTest);
      const named = "trigger" in event ? event.policies : undefined;
      for (const name of named ?? []) {
        if (!withBlock.some((p) => p.name === name)) failures.push({ item: name, kind: "fatal", message: `policy ${name} has no restoreTest block` });
      }
      const chosen = named ? withBlock.filter((p) => named.includes(p.name)) : withBlock;
      // Selection over every policy, so a resource two policies claim is refused as the backup job refuses it.
      const resources = chosen.length ? await port.listResources(ctx.config.primaryRegion, ctx.config.backup.policies) : [];
      const selected = selectResources(resources, ctx.config.backup.policies).selected.filter((s) => chosen.includes(s.policy));
      const targets: RestoreTestTarget[] = selected.map((s) => ({ policy: s.policy.name, kind: s.resource.kind, resourceId: s.resource.id }));
      const requested = "resources" in event ? event.resources.map((r) => `${r.kind} ${r.id}`) : undefined;
      for (const r of "resources" in event ? event.resources : []) {
        if (!targets.some((t) => t.kind === r.kind && t.resourceId === r.id))
          failures.push({ item: `${r.kind} ${r.id}`, kind: "fatal", message: "not selected by any policy with a restoreTest block" });
      }
      const considered = requested ? targets.filter((t) => requested.includes(`${t.kind} ${t.resourceId}`)) : targets;
      const regions = [...new Set(chosen.map((p) => restoreTestRegion(p, ctx.config).region))];
      const decisions = planRestoreTests({
        config: ctx.config,
        targets: considered,
        history: await port.history(considered),
        inFlight: considered.length ? (listed = await port.inFlight(regions, ctx.now())) : [],
        now: ctx.now(),
        ...(requested ? { requested } : {}),
      });
      plan = decisions.map((d) => ({
        action: d.action,
        policy: d.target.policy,
        kind: d.target.kind,
        resourceId: d.target.resourceId,
        region: d.target.region,
        reason: d.reason,
      }));
      refs = decisions
        .filter((d) => d.action === "start")
        .map((d) => ({
          runId: restoreTestRunId(d.target, ctx.now()),
          policy: d.target.policy,
          kind: d.target.kind,
          resourceId: d.target.resourceId,
          region: d.target.region,
        }));
      queue = decisions
        .filter((d) => d.action === "capped")
        .map(({ target: t }) => ({ policy: t.policy, kind: t.kind, resourceId: t.resourceId, region: t.region }));
      starting = true;
      if (!parsed.viaStateMachine) {
        // One invocation cannot wait out a restore, and nothing would resume it: a direct invoke only plans.
        const reason = `planned only: start the ${RESTORE_TEST_STATE_MACHINE} state machine with this event to run it (aws stepfunctions start-execution --state-machine-arn <RestoreTestStateMachine> --input '<event>')`;
        return { report: { next: "planned", reason, viaStateMachine: false, plan }, message: null, failures };
      }
      // A policy or resource the start names wrongly ends the execution failed once the runs that did start end.
      failedBefore = failures.map((f) => f.item);
    }

    const results: RunResult[] = [];
    for (const ref of refs) {
      const deps = depsOf(ref.runId);
      const r = starting ? await startRestoreTest(deps, request(ref), opts) : await advanceRestoreTest(deps, request(ref), opts);
      results.push({ ...ref, ...r });
    }
    // Queued resources start as slots free up: the region's waiting runs of this execution and the tests other
    // executions have in flight there count against the policy's maxConcurrentRestores.
    const dequeued: { kind: string; resourceId: string; reason: string }[] = [];
    if (queue.length) {
      const known = new Set(results.map((r) => r.runId));
      // The queue is of the start's regions, so its listing covers them; the runs it started are in `known`.
      const others = (listed ?? (await port.inFlight([...new Set(queue.map((q) => q.region))], ctx.now()))).filter((f) => !known.has(f.runId));
      const capOf = (policy: string) => ctx.config.backup.policies.find((p) => p.name === policy)?.restoreTest?.maxConcurrentRestores ?? 1;
      const busy = (region: string) =>
        results.filter((r) => r.next === "wait" && r.region === region).length + others.filter((o) => o.region === region).length;
      while (queue.length && ctx.remainingMs() > 2 * DEADLINE_MARGIN_MS) {
        const i = queue.findIndex((q) => busy(q.region) < capOf(q.policy));
        if (i < 0) break;
        const [q] = queue.splice(i, 1) as [RestoreTestQueued];
        const elsewhere = others.find((o) => o.kind === q.kind && o.resourceId === q.resourceId);
        if (elsewhere) {
          dequeued.push({ kind: q.kind, resourceId: q.resourceId, reason: `in flight: run ${elsewhere.runId} of another execution tests it` });
          continue;
        }
        const ref = { runId: restoreTestRunId(q, ctx.now()), ...q };
        results.push({ ...ref, ...(await startRestoreTest(depsOf(ref.runId), request(ref), opts)) });
      }
    }
    const waiting = results.filter((r) => r.next === "wait");
    const failed = [...failedBefore, ...results.filter((r) => r.next === "failed").map((r) => r.runId)];

    const next = waiting.length || queue.length ? "wait" : failed.length ? "failed" : "done";
    const report: Record<string, unknown> = {
      next,
      reason:
        next === "wait"
          ? `${waiting.length} run(s) waiting${queue.length ? `, ${queue.length} queued for a free slot` : ""}`
          : next === "failed"
            ? `restore-test run(s) failed: ${failed.join(", ")} (see restore-test/runs/<runId>.json)`
            : results.length
              ? `${results.length} run(s) ended`
              : "no resource due",
      viaStateMachine: parsed.viaStateMachine,
      runs: results,
      ...(plan ? { plan } : {}),
      ...(dequeued.length ? { dequeued } : {}),
      ...(failures.length ? { refused: failures } : {}),
    };
    if (next === "wait") {
      report.waitSeconds = waiting.length ? Math.max(1, Math.min(...waiting.map((r) => r.waitSeconds ?? 1))) : QUEUE_RECHECK_SECONDS;
      report.advance = {
        mode: "advance",
        runs: waiting.map(({ runId, policy, kind, resourceId, region }) => ({ runId, policy, kind, resourceId, region })),
        queue,
        failed,
      };
    }
    // A failed run ends the execution in its Fail state (which alarms) rather than throwing, so Task retries do not
    // repeat it; the run's own summary has alerted already.
    return { report, message: null, failures: [] };
  };
  return createHandler({ name: "restore-test", parse: parseRestoreTestEvent, run, posts: false }, options.runtime);
}
