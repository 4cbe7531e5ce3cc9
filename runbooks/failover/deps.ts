import type { Logger } from "@aws-lambda-powertools/logger";
import type { Config } from "../../schemas/config.ts";
import type { FailoverDeps, WarmPort } from "./index.ts";
import { rdsFailover } from "../../adapters/rds-failover.ts";
import { cloudwatchMetrics } from "../../adapters/cloudwatch.ts";
import { route53Dns } from "../../adapters/route53.ts";
import { httpProbe } from "../../adapters/health.ts";
import { reportKey, s3Latch } from "../../adapters/latch.ts";
import { s3AlertState } from "../../adapters/alert-state.ts";
import { publishToTopic } from "../../adapters/sns.ts";
import { HOUR_MS } from "../../core/alert-lifecycle.ts";
import type { FailoverIncident } from "../../core/failover.ts";
import type { BucketRef } from "../../adapters/s3.ts";
import { postToSlack } from "../../adapters/slack.ts";
import { linkedSlackUrlFor, linkedTopic } from "../lib/resources.ts";
import { resolveObserve } from "../lib/observe.ts";
import { FAILOVER_OBSERVE_KEY, s3ObserveMarker } from "../../adapters/observe-marker.ts";
import type { ClockPort, FailoverAlertsPort, ReportLocation } from "./ports.ts";
import { routedNotify } from "./notify.ts";

/**
 * Real dependencies of the failover runbook (not a Lambda entry; used by functions/failover.ts).
 *
 * The state bucket (latch, checkpoints, run reports) is the failover stack's own bucket in the DR/control
 * region, passed as FAILOVER_STATE_BUCKET / FAILOVER_STATE_REGION: the primary region's Reports bucket may be
 * unreachable during exactly the outage we are handling.
 */
export function failoverStateBucket(env: Record<string, string | undefined> = process.env): BucketRef {
  const bucket = env.FAILOVER_STATE_BUCKET;
  const region = env.FAILOVER_STATE_REGION;
  if (!bucket || !region) throw new Error("FAILOVER_STATE_BUCKET and FAILOVER_STATE_REGION must be set (stacks/failover.ts)");
  return { bucket, region };
}

/**
 * The warming engine behind the runbook's warm port.
 *
 * Imported on the warm step only: the engine and undici are ~0.8 MB of the bundle (with `splitting`, a
 * chunk of their own) that every other step's cold start (plan, promote, DNS, verify, status) would
 * otherwise parse and never run.
 */
export function warmPort(config: Config, deadline: () => number): WarmPort {
  return {
    async warm(name) {
      const targets = config.warm.targets.find((t) => t.name === name);
      if (!targets) return { ok: false, summary: `warm target set "${name}" is not configured` };
      const { runWarm } = await import("../warm/engine.ts");
      const r = await runWarm({ targets, now: Date.now, deadline });
      const ok = r.errors.length === 0 && r.failed.length === 0;
      const hit = r.verify?.cache.hitRatio ?? r.first?.cache.hitRatio;
      return {
        ok,
        summary: `${r.first?.completed ?? 0}/${r.planned} URLs warmed, ${r.failed.length} failed${hit !== null && hit !== undefined ? `, cache hit ratio ${Math.round(hit * 100)}%` : ""}${r.errors.length ? `; ${r.errors.join("; ")}` : ""}`,
      };
    },
  };
}

/**
 * The observe port: the stage's `observe` setting against the marker in the failover state bucket
 * (`failover/observe.json`, in the DR region with the latch: readable while the primary region is down).
 */
export function failoverObserve(config: Config, bucket: BucketRef, clock: ClockPort): NonNullable<FailoverDeps["observe"]> {
  return (record, runId) =>
    resolveObserve({
      setting: config.observe,
      timeZone: config.timezone,
      now: clock.now(),
      marker: () => s3ObserveMarker(bucket, FAILOVER_OBSERVE_KEY),
      record,
      by: "failover",
      runId,
    });
}

/** A group's alert state: next to its latch (`failover/<group>/alerts.json`), inside what the failover role may write. */
export function failoverAlertKey(group: string): string {
  return `failover/${group}/alerts.json`;
}

/** The failover incidents' lifecycle on the state bucket. */
export function failoverAlerts(config: Config, bucket: BucketRef): FailoverAlertsPort {
  return {
    state: (group) => s3AlertState<FailoverIncident>(bucket, `failover-${group}`, failoverAlertKey(group)),
    remindEveryMs: config.alerts.remindEveryHours * HOUR_MS,
  };
}

/** Where the latch adapter writes a run's report (adapters/latch.ts reportKey). */
export function failoverReportLocation(bucket: BucketRef): ReportLocation {
  return (group, runId) => ({ bucket: bucket.bucket, region: bucket.region, key: reportKey(group, runId) });
}

export function realFailoverDeps(config: Config, logger: Logger, remainingMs: () => number): FailoverDeps {
  const cfg = config.failover;
  const clock: ClockPort = { now: () => new Date(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
  return {
    latch: s3Latch(failoverStateBucket()),
    db: rdsFailover(),
    metrics: cloudwatchMetrics(),
    dns: route53Dns({ maxAttempts: cfg.dnsMaxAttempts }),
    probe: httpProbe(),
    warm: warmPort(config, remainingMs),
    // The pager topic is in this function's region (the control region, stacks/patterns.ts pagerTopicRegion), so
    // a primary-region outage does not take the page with it.
    notify: routedNotify({
      routing: config.notifications,
      page: async (message) => {
        const topic = linkedTopic(config);
        if (!topic) throw new Error("the pager topic is not linked to the failover function");
        await publishToTopic(topic, message);
      },
      postAlerts: async (message) => void (await postToSlack(linkedSlackUrlFor("alerts-slack"), message)),
      log: (message, data) => logger.info(message, data),
      error: (message, data) => logger.error(message, data),
    }),
    clock,
    observe: failoverObserve(config, failoverStateBucket(), clock),
    alerts: failoverAlerts(config, failoverStateBucket()),
    reportLocation: failoverReportLocation(failoverStateBucket()),
    log: (message, data) => logger.info(message, data ?? {}),
  };
}
