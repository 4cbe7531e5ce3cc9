/**
 * Step 3: Route 53 UPSERT of the record to its DR value, once the database is confirmed writable right now. A
 * change claimed by an earlier attempt is confirmed by reading the record back; it is re-issued only when the
 * record still lacks the DR value two minutes after the last call.
 */
import { describeValue, isWritable, manualDnsSteps, step } from "../../../core/failover.ts";
import type { RecordValue } from "../../../schemas/config-failover.ts";
import { errorText, sameValue, type FailoverCtx, type FailoverEnv, type FailoverStep } from "./shared.ts";

async function upsert({ deps, group }: FailoverEnv): Promise<{ changeId: string; attempts: number } | { error: string }> {
  try {
    return await deps.dns.upsert(group.dns, group.dns.dr);
  } catch (err) {
    return { error: errorText(err) };
  }
}

async function confirmDns(ctx: FailoverCtx): ReturnType<FailoverStep["resume"]> {
  const { deps, cfg, group } = ctx.env;
  const now = ctx.now;
  let current: RecordValue | undefined;
  try {
    current = await deps.dns.currentValue(group.dns);
  } catch (err) {
    // Unreadable is not "not changed": read again rather than UPSERT on a guess, and stop after a bound.
    const since = Date.parse(ctx.step.startedAt ?? now.toISOString());
    if (now.getTime() - since >= cfg.dnsTimeoutMinutes * 60_000) {
      return {
        kind: "fail",
        reason: `DNS change outcome unknown: the record could not be read for ${cfg.dnsTimeoutMinutes} min (${errorText(err)})`,
        manualSteps: manualDnsSteps(group.dns, `the record could not be read back: ${errorText(err)}`),
      };
    }
    return { kind: "wait", seconds: cfg.pollSeconds, reason: `record unreadable (${errorText(err)}): reading again before any UPSERT` };
  }
  if (current && sameValue(current, group.dns.dr)) {
    return { kind: "done", result: "UPSERT confirmed", reason: "record already has the DR value after a restart: not changed again" };
  }
  // Route 53 shows an accepted change in ListResourceRecordSets at once, but the earlier call may still be
  // backing off on throttling in another executor: give it 2 minutes before concluding it never arrived.
  const dnsStep = ctx.step;
  const lastDnsAt = Date.parse(dnsStep.lastAttemptAt ?? dnsStep.startedAt ?? now.toISOString());
  if (now.getTime() - lastDnsAt < 120_000)
    return { kind: "wait", seconds: cfg.pollSeconds, reason: "DNS change started elsewhere and not visible yet: waiting before deciding" };
  await ctx.claimAttempt();
  const r = await upsert(ctx.env);
  if ("error" in r) return { kind: "fail", reason: `Route 53 change failed: ${r.error}`, manualSteps: manualDnsSteps(group.dns, r.error) };
  return {
    kind: "done",
    result: "UPSERT accepted",
    reason: `earlier attempt never applied; change ${r.changeId} after ${r.attempts} attempt(s)`,
    record: { dnsChangeId: r.changeId, dnsAttempts: r.attempts },
  };
}

export const dnsChange: FailoverStep = {
  name: "dns-change",
  describe: ({ group: { dns } }) =>
    `Route 53 UPSERT ${dns.recordName} ${dns.recordType} in ${dns.hostedZoneId}: ${describeValue(dns.primary)} → ${describeValue(dns.dr)}`,

  /** Last guard before DNS: the database must be writable now, not just recorded so. */
  async beforeClaim({ env: { deps, cfg, group }, run, now }) {
    const replica = await deps.db.describeReplica(group);
    if (isWritable(replica)) return { kind: "claim" };
    const writableAt = step(run, "wait-writable").endedAt ?? now.toISOString();
    if (now.getTime() - Date.parse(writableAt) >= cfg.dnsTimeoutMinutes * 60_000) {
      return {
        kind: "fail",
        reason: `DNS held: ${group.replica.id} not confirmed writable for ${cfg.dnsTimeoutMinutes} min (${replica.detail})`,
        manualSteps: [
          `${group.replica.id} was writable at ${writableAt} but could not be confirmed since: check it first (aws rds describe-db-instances / describe-db-clusters in ${group.replica.region}).`,
          ...manualDnsSteps(group.dns, `the database could not be confirmed writable again: ${replica.detail}`),
        ],
      };
    }
    return { kind: "wait", seconds: cfg.pollSeconds, reason: `DNS held: database not confirmed writable (${replica.detail})` };
  },

  async start({ env }) {
    const r = await upsert(env);
    if ("error" in r) return { kind: "fail", reason: `Route 53 change failed: ${r.error}`, manualSteps: manualDnsSteps(env.group.dns, r.error) };
    return {
      kind: "done",
      result: "UPSERT accepted",
      reason: `change ${r.changeId} after ${r.attempts} attempt(s)`,
      record: { dnsChangeId: r.changeId, dnsAttempts: r.attempts },
    };
  },

  resume: confirmDns,
};
