import type { ItemFailure } from "../../core/types.ts";
import type { FailoverGroup } from "../../schemas/config-failover.ts";
import type { ProbeEvent } from "../../schemas/events-probe.ts";
import type { RunContext, RunOutcome } from "../lib/handler.ts";

/**
 * The failover trigger kit's probe (core/failover-trigger.ts has the arithmetic and the alarm model): every
 * period, from the DR region, probe the primary of each group with a `trigger` (its application health URL and/or
 * its database endpoint's TCP port, in parallel, each with the group's timeout) and publish one datapoint per
 * group, 1 when a target failed. The alarm on that metric, not this function, decides that the primary is down.
 *
 * A primary that fails its probe is a result, not a failure of the run. The run fails (Lambda errors alarm, Slack)
 * only when the results could not be published: then the alarm sees missing data, which never starts a promotion.
 * It keeps no report objects (it runs every minute): each group's result is logged as a decision with its reason.
 */

export interface ProbeCheck {
  ok: boolean;
  detail: string;
}

export interface ProbeDeps {
  http: (url: string, timeoutMs: number) => Promise<ProbeCheck>;
  tcp: (host: string, port: number, timeoutMs: number) => Promise<ProbeCheck>;
  /** Publish the results of groups whose alarms live in `region` (the replica's region, where the alarm is). */
  publish: (region: string, results: { group: string; failed: boolean }[]) => Promise<void>;
}

export interface GroupProbe {
  group: string;
  failed: boolean;
  checks: string[];
}

async function probeGroup(g: FailoverGroup, d: ProbeDeps): Promise<GroupProbe> {
  const t = g.trigger!;
  const checks = await Promise.all([
    ...(t.probe.url ? [d.http(t.probe.url, t.timeoutMs)] : []),
    ...(t.probe.tcp ? [d.tcp(t.probe.tcp.host, t.probe.tcp.port, t.timeoutMs)] : []),
  ]);
  return { group: g.name, failed: checks.some((c) => !c.ok), checks: checks.map((c) => `${c.ok ? "ok" : "FAILED"}: ${c.detail}`) };
}

export async function runProbe(event: ProbeEvent, ctx: RunContext, d: ProbeDeps): Promise<RunOutcome> {
  const triggered = ctx.config.failover.groups.filter((g) => g.trigger);
  const groups = event.group ? triggered.filter((g) => g.name === event.group) : triggered;
  const base = { trigger: event.trigger, dryRun: event.dryRun, ...(event.note ? { note: event.note } : {}) };
  if (event.group && groups.length === 0) {
    const message = `no failover group "${event.group}" with a trigger (groups with one: ${triggered.map((g) => g.name).join(", ") || "none"})`;
    return { report: { ...base, groups: [] }, message: null, failures: [{ item: event.group, kind: "fatal", message }] };
  }

  const results = await Promise.all(groups.map((g) => probeGroup(g, d)));
  for (const r of results) {
    ctx.logger.info("decision", { action: r.failed ? "report-primary-down" : "report-primary-up", target: r.group, reason: r.checks.join("; ") });
  }

  const failures: ItemFailure[] = [];
  if (event.dryRun) {
    ctx.logger.info("dry-run: probe results not published", { groups: results.map((r) => r.group) });
  } else {
    const byRegion = new Map<string, { group: string; failed: boolean }[]>();
    for (const g of groups) {
      const r = results.find((x) => x.group === g.name)!;
      byRegion.set(g.replica.region, [...(byRegion.get(g.replica.region) ?? []), { group: r.group, failed: r.failed }]);
    }
    for (const [region, batch] of byRegion) {
      try {
        await d.publish(region, batch);
      } catch (err) {
        failures.push({ item: "probe results", region, kind: "retryable", message: `not published (the alarm sees missing data): ${(err as Error).message}` });
      }
    }
  }

  const down = results.filter((r) => r.failed).map((r) => r.group);
  return {
    report: { ...base, groups: results, down },
    message: null,
    failures,
    nothingToReport: "the probe's record is its metric and the decision logged per group",
  };
}
