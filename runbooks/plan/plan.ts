/**
 * `npm run plan`: each function's deciding path, run read-only against an account under a stage's configuration.
 *
 * Backup, copy, prune, watchdog and cost run their own runbooks as a manual dry-run (the decisions are core's,
 * the listings the adapters'); failover runs its `plan` mode per group (pre-checks on live observations). What a
 * dry-run would still write (run reports to S3, the prune ledger, claims, latches, metrics, Slack posts) goes to
 * files under `out/plan/<stage>/` and to the terminal instead. The AWS clients must already be read-only
 * (adapters/clients.ts setReadOnly, which scripts/plan.ts turns on first): this module writes nothing to AWS in its
 * ports either, so a mistake in one layer is caught by the other.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import type { BucketRef } from "../../adapters/s3.ts";
import type { SlackMessage } from "../../core/report/blocks.ts";
import type { Config } from "../../schemas/config.ts";
import type { JobEvent } from "../../schemas/events-backup.ts";
import { runBackup } from "../backup/backup.ts";
import { runCopy } from "../backup/copy.ts";
import { runPrune } from "../backup/prune.ts";
import { runWatchdog } from "../backup/watchdog.ts";
import { runCost } from "../cost/cost.ts";
import { type ProbePort, planFailover } from "../failover/index.ts";
import type { MetricPoint, RunContext, RunOutcome } from "../lib/handler.ts";
import { planBackupDeps, planCostDeps, planFailoverDeps } from "./ports.ts";

export const PLAN_PARTS = ["backup", "copy", "prune", "watchdog", "failover", "cost"] as const;
export type PlanPart = (typeof PLAN_PARTS)[number];

/** `"backup,prune"` → ["backup", "prune"]; an unknown name is refused by name. */
export function parseOnly(value: string | undefined): PlanPart[] {
  if (value === undefined) return [...PLAN_PARTS];
  const names = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.filter((n) => !(PLAN_PARTS as readonly string[]).includes(n));
  if (bad.length || names.length === 0) throw new Error(`--only: unknown part(s) ${bad.join(", ") || "(none given)"}; known: ${PLAN_PARTS.join(", ")}`);
  return PLAN_PARTS.filter((p) => names.includes(p));
}

export interface PlanOptions {
  config: Config;
  only?: readonly PlanPart[];
  now?: () => Date;
  /** The Reports bucket (prune's day ledger lives there); without it the ledger is not read. */
  stateBucket?: BucketRef;
  /** The failover state bucket (the latches); without it every latch reads as free. */
  failoverBucket?: BucketRef;
  /** The failover probe of the primary (default: HTTP GET). */
  probe?: ProbePort;
  /** Log lines of the runbooks (default: silent). */
  logger?: Logger;
}

/** One function's plan: its run report, the Slack messages it would post, the metrics it would publish. */
export interface PlanSection {
  part: PlanPart;
  /** The report the function would save to S3 (with the header the handler adds). */
  report: Record<string, unknown>;
  messages: SlackMessage[];
  metrics: MetricPoint[];
  failures: { item: string; kind: string; message: string; region?: string }[];
  /** Set when the part could not be planned (a read refused by IAM, a configuration problem). */
  error?: string;
}

export interface PlanResult {
  app: string;
  stage: string;
  runId: string;
  at: string;
  sections: PlanSection[];
  /** Limits of this plan worth knowing (a ledger or latch not read). */
  notes: string[];
}

const FUNCTION_OF: Record<
  Exclude<PlanPart, "failover">,
  (event: JobEvent, ctx: RunContext, opts: { config: Config; notes: string[]; state?: BucketRef }) => Promise<RunOutcome>
> = {
  backup: (e, c, o) => runBackup(e, c, planBackupDeps(o.state, o.notes)),
  copy: (e, c, o) => runCopy(e, c, planBackupDeps(o.state, o.notes)),
  prune: (e, c, o) => runPrune(e, c, planBackupDeps(o.state, o.notes)),
  watchdog: (e, c, o) => runWatchdog(e, c, planBackupDeps(o.state, o.notes)),
  cost: (e, c) => runCost(e, c, planCostDeps()),
};

export async function runPlan(options: PlanOptions): Promise<PlanResult> {
  const { config } = options;
  const now = options.now ?? (() => new Date());
  const logger = options.logger ?? new Logger({ serviceName: "ops-autopilot-plan", logLevel: "SILENT" });
  const at = now();
  const runId = `plan-${at.toISOString().replace(/[:.]/g, "-")}`;
  const notes: string[] = [];
  const sections: PlanSection[] = [];

  for (const part of options.only ?? PLAN_PARTS) {
    const started = now();
    const header = () => {
      const finished = now();
      return {
        function: part,
        app: config.app,
        stage: config.stage,
        runId,
        plan: true,
        startedAt: started.toISOString(),
        finishedAt: finished.toISOString(),
        durationMs: finished.getTime() - started.getTime(),
      };
    };
    try {
      if (part === "failover") {
        sections.push(await planGroups(options, now, logger, header));
        continue;
      }
      const metrics: MetricPoint[] = [];
      const ctx: RunContext = {
        config,
        now,
        remainingMs: () => Number.POSITIVE_INFINITY,
        nearDeadline: () => false,
        logger,
        runId,
        functionName: part,
        emitMetrics: (points) => void metrics.push(...points),
      };
      const event: JobEvent = { trigger: "manual", dryRun: true, note: "npm run plan (read-only)" };
      const outcome = await FUNCTION_OF[part](event, ctx, { config, notes, ...(options.stateBucket ? { state: options.stateBucket } : {}) });
      sections.push({
        part,
        report: { ...header(), ...outcome.report, failures: outcome.failures },
        messages: outcome.message ? [outcome.message] : [],
        metrics,
        failures: outcome.failures,
      });
    } catch (err) {
      const message = `${(err as Error).name ?? "Error"}: ${(err as Error).message ?? String(err)}`;
      sections.push({ part, report: { ...header(), status: "failed", error: message }, messages: [], metrics: [], failures: [], error: message });
    }
  }
  if ((options.only ?? PLAN_PARTS).includes("failover") && !options.failoverBucket && config.failover.groups.length) {
    notes.push("failover: latches not read (no --failover-bucket): each group's latch is taken as free");
  }
  return { app: config.app, stage: config.stage, runId, at: at.toISOString(), sections, notes: [...new Set(notes)] };
}

/** The failover `plan` mode for every configured group: pre-checks, the decision, the steps; one message per group. */
async function planGroups(options: PlanOptions, now: () => Date, logger: Logger, header: () => Record<string, unknown>): Promise<PlanSection> {
  const cfg = options.config.failover;
  const posted: SlackMessage[] = [];
  const deps = planFailoverDeps({
    latchBucket: options.failoverBucket,
    posted,
    now,
    ...(options.probe ? { probe: options.probe } : {}),
    log: (message, data) => logger.info(message, data ?? {}),
  });
  const groups: Record<string, unknown>[] = [];
  for (const g of cfg.groups) {
    try {
      const r = await planFailover(deps, cfg, g.name);
      groups.push({ group: g.name, execution: g.execution, reason: r.reason, checks: r.checks ?? [] });
    } catch (err) {
      groups.push({ group: g.name, error: `${(err as Error).name}: ${(err as Error).message}` });
    }
  }
  const failures = groups.filter((g) => g.error).map((g) => ({ item: String(g.group), kind: "fatal", message: String(g.error) }));
  return { part: "failover", report: { ...header(), dryRun: true, groups, failures }, messages: posted, metrics: [], failures };
}
