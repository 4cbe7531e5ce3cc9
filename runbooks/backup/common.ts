import { scheduleTimezone, type Config, type BackupPolicy } from "../../schemas/config.ts";
import type { JobEvent } from "../../schemas/events-backup.ts";
import { fleetTargetRegions, memberRoleName, type FleetFunction } from "../../schemas/config-fleet.ts";
import type { FleetCounts, FleetTargetEvent } from "../../schemas/events-fleet.ts";
import { TAG, type ItemFailure, type Owner, type ResourceKind, type Snapshot } from "../../core/types.ts";
import { judgeClaim, type ClaimRecord } from "../../core/claims.ts";
import { describeError } from "../../adapters/errors.ts";
import type { ClaimPort } from "../../adapters/claims.ts";
import { AlreadyDone, type ItemResult } from "../lib/execute.ts";
import type { RunContext } from "../lib/handler.ts";
import type { BackupDeps } from "./ports.ts";

/**
 * What the four backup runbooks (backup → copy → prune, and the freshness watchdog) share. Each one lists what
 * is there, lets `core/` decide (every decision with its reason), carries the decisions out unless dry-run, and
 * returns the report, the Slack summary and the per-item failures for the shared handler.
 */

export const owner = (config: Config): Owner => ({ app: config.app, stage: config.stage });

/** Backup dates are days of the backup schedule's timezone: every job reads them in that zone. */
export const backupTimeZone = (config: Config): string => scheduleTimezone(config, "backup");

export function policiesFor(config: Config, event: JobEvent): BackupPolicy[] {
  const all = config.backup.policies;
  if (!event.policy) return all;
  const found = all.filter((p) => p.name === event.policy);
  if (found.length === 0) throw new Error(`policy "${event.policy}" is not in the configuration (known: ${all.map((p) => p.name).join(", ") || "none"})`);
  return found;
}

/**
 * The fleet item's target, checked against the configuration: its account must be one of `fleet.accounts` (or the
 * fleet must name an OU, whose accounts are discovered at run time), named as there, never the backup account nor the
 * stage's own, and its region one the account's jobs run in.
 * Undefined for a run of the central account.
 */
export function fleetTargetOf(config: Config, event: JobEvent): FleetTargetEvent | undefined {
  const t = event.target;
  if (!t) return undefined;
  const fleet = config.fleet;
  if (!fleet) throw new Error(`account ${t.account} (${t.accountName}) is not a fleet member: the ${config.stage} configuration has no fleet section`);
  // An OU admits any account by id; these two never are members, whatever the OU holds.
  if (t.account === config.vault?.accountId) {
    throw new Error(
      `account ${t.account} (${t.accountName}) is the backup account (vault.accountId): no fleet job acts there; the vault stage's own functions do`,
    );
  }
  if (t.account === config.vault?.centralAccountId) {
    throw new Error(
      `account ${t.account} (${t.accountName}) is the account the ${config.stage} stage runs in (vault.centralAccountId): its own jobs act there, not the fleet's`,
    );
  }
  const listed = fleet.accounts.find((a) => a.id === t.account);
  const entry = listed ?? fleet.organizationalUnit;
  if (!entry) {
    throw new Error(
      `account ${t.account} (${t.accountName}) is not in fleet.accounts of the ${config.stage} configuration (${fleet.accounts.map((a) => `${a.id} ${a.name}`).join(", ")}) and the fleet names no organizationalUnit`,
    );
  }
  // Reports, Slack and the fleet summary name the account by it: an item naming another account's is refused.
  if (listed && t.accountName !== listed.name) {
    throw new Error(`account ${t.account} is "${listed.name}" in fleet.accounts of the ${config.stage} configuration, not "${t.accountName}"`);
  }
  const namesake = listed ? -1 : fleet.accounts.findIndex((a) => a.name === t.accountName);
  if (namesake >= 0) {
    throw new Error(
      `account ${t.account} goes by "${t.accountName}", the name of fleet.accounts[${namesake}] (${fleet.accounts[namesake]!.id}): reports would mix the two`,
    );
  }
  const allowed = fleetTargetRegions(config, entry);
  if (!allowed.includes(t.region)) {
    throw new Error(`region ${t.region} is not one of account ${t.account} (${t.accountName})'s fleet regions (${allowed.join(", ")})`);
  }
  return t;
}

/**
 * {@link fleetTargetOf}, and the item's role must be `fn`'s own member role in the account (stacks/member-roles.ts
 * memberRoleArn): the fan-out sends each job its own, so another is a forged or misrouted item, refused before any call
 * rather than left to IAM and the member role's trust, whose refusal STS cannot tell from a missing role.
 */
export function fleetJobTargetOf(config: Config, event: JobEvent, fn: FleetFunction): FleetTargetEvent | undefined {
  const t = fleetTargetOf(config, event);
  if (!t) return undefined;
  const entry = config.fleet?.accounts.find((a) => a.id === t.account) ?? config.fleet?.organizationalUnit;
  const name = memberRoleName(config, fn, entry);
  if (t.roleArn.slice(t.roleArn.indexOf(":role/") + ":role/".length) !== name) {
    throw new Error(`account ${t.account} (${t.accountName}): the ${fn} job acts as its own member role ${name}, not ${t.roleArn}`);
  }
  return t;
}

/** The stage's regions a fleet member's jobs run in (primary first): its own list, else every region of the stage. */
export function memberRegions(config: Config, target: FleetTargetEvent): string[] {
  const entry = config.fleet?.accounts.find((a) => a.id === target.account) ?? config.fleet?.organizationalUnit;
  return entry ? fleetTargetRegions(config, entry) : regions(config);
}

/** What a fleet item's run report records of its target, and what its response carries for the fan-out. */
export function fleetReport(
  target: FleetTargetEvent | undefined,
  counts: FleetCounts,
): { report: Record<string, unknown>; response?: Record<string, unknown> } {
  if (!target) return { report: {} };
  const where = { account: target.account, accountName: target.accountName, region: target.region };
  return { report: { ...where, fleetCounts: counts }, response: { ...where, counts } };
}

export function matchesResource(event: JobEvent, kind: string, id: string): boolean {
  return !event.resource || (event.resource.kind === kind && event.resource.id === id);
}

export function regions(config: Config): string[] {
  return [config.primaryRegion, ...config.drRegions.map((d) => d.region)];
}

export function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}

/**
 * Per-item failures, plus one retryable failure when work was left for later because the deadline was near:
 * failing the invocation makes the scheduler retry at once, and the retry (idempotent) does the rest.
 */
export function failuresOf<T>(results: ItemResult<T>[]): ItemFailure[] {
  const failures = results.flatMap((r) => (r.failure ? [r.failure] : []));
  const deferred = results.filter((r) => r.status === "deferred").length;
  if (deferred > 0) {
    failures.push({
      item: `${deferred} item(s)`,
      kind: "retryable",
      message: `${deferred} item(s) not started: the Lambda deadline was near; the retry or the next run picks them up`,
    });
  }
  return failures;
}

export function logDecisions(ctx: RunContext, decisions: { action: string; reason: string }[], describe: (i: number) => string): void {
  decisions.forEach((d, i) => {
    ctx.logger.info("decision", { action: d.action, target: describe(i), reason: d.reason });
  });
}

/** Our snapshot of `kind` in `region` that `match` picks, looked up again right before a claimed create or copy. */
export async function findOurSnapshot(
  deps: BackupDeps,
  kind: ResourceKind,
  region: string,
  managedBy: string,
  match: (s: Snapshot) => boolean,
): Promise<string | undefined> {
  const all = await deps.snapshots[kind].listSnapshots(region, managedBy, { amis: false });
  return all.find((s) => s.kind === kind && s.tags[TAG.managedBy] === managedBy && match(s))?.id;
}

interface ClaimedAction {
  /** `claims/<function>/<region>/<name>.json`. */
  key: string;
  /** What is claimed, written into the claim for people reading the bucket. */
  what: string;
  /** The id of the snapshot if it was made after all (a listing that lagged, a crashed run that got that far). */
  look: () => Promise<string | undefined>;
  act: () => Promise<string | undefined>;
}

export interface Claims {
  underClaim(action: ClaimedAction): Promise<string | undefined | AlreadyDone>;
}

/**
 * Run an action only while holding its claim (core/claims.ts): create the claim, or judge the one there. A claim
 * of another run that is fresh leaves the work to that run; this run's own claim (Lambda reuses the request id on
 * async retries), a released or a stale one is used after looking for the snapshot again. A claimant whose call
 * fails releases the claim, so the next run need not wait for it to go stale.
 */
export function claimsFor(deps: BackupDeps, ctx: RunContext): Claims {
  let port: ClaimPort | undefined;
  const claims = () => (port ??= deps.claims());
  return {
    async underClaim({ key, what, look, act }) {
      const record = (): ClaimRecord => ({ runId: ctx.runId, claimedAt: ctx.now().toISOString(), what });
      let etag = await claims().create(key, record());
      if (etag === undefined) {
        const current = await claims().read(key);
        if (!current) return new AlreadyDone(`claim ${key} changed while it was read; the next run decides`);
        let decision = judgeClaim({ claim: current.record, runId: ctx.runId, now: ctx.now() });
        if (decision.action === "look") decision = judgeClaim({ claim: current.record, runId: ctx.runId, now: ctx.now(), found: (await look()) ?? null });
        ctx.logger.info("claim", { key, action: decision.action, reason: decision.reason });
        if (decision.action === "skip" || decision.action === "exists" || decision.action === "look") return new AlreadyDone(decision.reason);
        etag = decision.action === "proceed" ? current.etag : await claims().replace(key, record(), current.etag);
        if (etag === undefined) return new AlreadyDone(`claim ${key} was taken over by another run first`);
      }
      try {
        return await act();
      } catch (err) {
        const released: ClaimRecord = { ...record(), releasedAt: ctx.now().toISOString(), releaseReason: describeError(err).slice(0, 300) };
        await claims()
          .replace(key, released, etag)
          .catch((e: unknown) => ctx.logger.warn("claim not released; it goes stale in an hour", { key, error: describeError(e) }));
        throw err;
      }
    },
  };
}
