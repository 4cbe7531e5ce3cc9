/**
 * Which of our primary-region snapshots to copy to which DR region now.
 *
 * A copy starts only once its source is `available` (a chained copy started earlier fails or copies nothing),
 * at most `maxInFlight` copies run per destination region (RDS and EBS both cap cross-region copies in flight
 * at 20 per account and region), and sources go oldest first so a run after an outage catches up in order.
 */
import { utcDay } from "./calendar.ts";
import { backupDay, isOurs, newestFirst, retainedByPolicy } from "./retention.ts";
import type { BackupPolicy } from "../schemas/config.ts";
import { TAG } from "./types.ts";
import type { Decision, Owner, Snapshot } from "./types.ts";

export type CopyAction = "copy" | "failed" | "exists" | "wait-source" | "defer-limit" | "skip-policy";

export interface CopyTarget {
  source: Snapshot;
  region: string;
  kmsKeyId: string;
  /** Name of the copy: for RDS the target identifier, for EBS the TAG.name value. */
  name: string;
  tags: Record<string, string>;
  /** For "failed": our copy in the DR region that ended in `error` (prune removes it; the next copy run retries). */
  failedCopy?: Snapshot;
}

export type CopyDecision = Decision<CopyAction, CopyTarget>;

export interface CopyInput {
  /** Our snapshots in the primary region. */
  sources: Snapshot[];
  /** Every snapshot in the DR regions, ours or not. */
  copies: Snapshot[];
  drRegions: { region: string; kmsKeyId: string }[];
  /** Copies already in flight per destination region (as counted by the adapter). */
  inFlight: Record<string, number>;
  maxInFlight: number;
  owner: Owner;
  policies: BackupPolicy[];
  /**
   * When given, a source that retention would already delete (outside the policy's set and the newest-N floor)
   * is not copied: DR would prune the copy at once, and the next copy run would copy it again.
   */
  now?: Date;
}

/** The name a copy of `source` gets in a DR region: the source's deterministic name, so reruns find it. */
export function copyName(source: Snapshot): string {
  return source.tags[TAG.name] ?? source.id;
}

/** Tags of a DR copy: the source's tags plus TAG.copyOf = source id. */
export function copyTags(source: Snapshot): Record<string, string> {
  return { ...source.tags, [TAG.copyOf]: source.id };
}

/**
 * One decision per (source, DR region): "copy" (with the region's KMS key, the name and tags to write),
 * "exists" (a copy is already there or in progress, found by TAG.copyOf or by name), "wait-source" (source not
 * `available` yet), "defer-limit" (the region's in-flight budget `maxInFlight - inFlight[region]` is used up;
 * the next run continues) or "skip-policy" (policy unknown, `copyToDr: false`, or already expired).
 * Decisions are ordered oldest source first. Example: maxInFlight 20, inFlight {"eu-central-1": 19}, two new
 * available sources → the older one "copy", the newer "defer-limit".
 */
export function planCopies(input: CopyInput): CopyDecision[] {
  const { owner } = input;
  const policies = new Map(input.policies.map((p) => [p.name, p]));
  const seen = new Set<string>();
  const sources = input.sources
    .filter((s) => {
      const key = `${s.kind}\u0000${s.region}\u0000${s.id}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => newestFirst(b, a));

  // What retention keeps per resource, so expired sources are not shipped to DR.
  let retained: Set<Snapshot> | undefined;
  if (input.now) {
    retained = new Set();
    const today = utcDay(input.now);
    const byResource = new Map<string, Snapshot[]>();
    for (const s of sources) {
      if (!isOurs(s, owner) || s.automated || !backupDay(s)) continue;
      const key = `${s.kind}\u0000${s.resourceId}`;
      const list = byResource.get(key);
      if (list) list.push(s);
      else byResource.set(key, [s]);
    }
    for (const group of byResource.values()) {
      const newest = [...group].sort(newestFirst)[0]!;
      const policy = policies.get(newest.tags[TAG.policy] ?? "");
      if (!policy) group.forEach((s) => retained!.add(s));
      else retainedByPolicy(group, policy, today).forEach((s) => retained!.add(s));
    }
  }

  const budget = new Map<string, number>();
  for (const dr of input.drRegions) {
    budget.set(dr.region, Math.max(0, input.maxInFlight - (input.inFlight[dr.region] ?? 0)));
  }

  // Existing DR snapshots indexed by the keys a copy is found by; a DR region can hold 100k snapshots.
  const found = new Map<string, Snapshot>();
  const remember = (key: string, c: Snapshot) => {
    if (!found.has(key)) found.set(key, c);
  };
  for (const c of input.copies) {
    const at = `${c.region}\u0000${c.kind}\u0000`;
    if (isOurs(c, owner)) {
      const of = c.tags[TAG.copyOf];
      if (of !== undefined) remember(`${at}of\u0000${of}`, c);
      const nm = c.tags[TAG.name];
      if (nm !== undefined) remember(`${at}name\u0000${nm}`, c);
    }
    // RDS identifiers are unique per region whoever owns them: the copy could not be created anyway.
    if (c.kind !== "ebs-volume") remember(`${at}id\u0000${c.id.toLowerCase()}`, c);
  }

  const out: CopyDecision[] = [];
  for (const source of sources) {
    const name = copyName(source);
    const tags = copyTags(source);
    const policyName = source.tags[TAG.policy];
    const policy = policyName === undefined ? undefined : policies.get(policyName);
    for (const dr of input.drRegions) {
      const target: CopyTarget = { source, region: dr.region, kmsKeyId: dr.kmsKeyId, name, tags };
      const push = (action: CopyAction, reason: string) => out.push({ action, target, reason });
      if (!isOurs(source, owner) || source.automated) {
        push("skip-policy", `${source.id} is not a backup managed by this app and stage`);
        continue;
      }
      if (!policy) {
        push("skip-policy", `unknown policy "${policyName ?? "(none)"}" on ${source.id}`);
        continue;
      }
      if (!policy.copyToDr) {
        push("skip-policy", `policy "${policy.name}" has copyToDr: false`);
        continue;
      }
      const at = `${dr.region}\u0000${source.kind}\u0000`;
      const existing =
        found.get(`${at}of\u0000${source.id}`) ??
        found.get(`${at}name\u0000${name}`) ??
        (source.kind !== "ebs-volume" ? found.get(`${at}id\u0000${name.toLowerCase()}`) : undefined);
      if (existing && isOurs(existing, owner) && existing.status === "error") {
        target.failedCopy = existing;
        push(
          "failed",
          `copy ${existing.id} in ${dr.region} failed${existing.statusMessage ? ` (${existing.statusMessage})` : ""} with KMS key ${dr.kmsKeyId}; the next prune removes it and the copy after that retries`,
        );
        continue;
      }
      if (existing) {
        const owned = isOurs(existing, owner) ? "" : " (name taken by a snapshot not managed by us)";
        push("exists", `copy ${existing.id} in ${dr.region} is ${existing.status}${owned}`);
        continue;
      }
      if (source.status !== "available") {
        push("wait-source", `source ${source.id} is ${source.status}; copies start only from available snapshots`);
        continue;
      }
      if (retained && !retained.has(source)) {
        push("skip-policy", `${source.id} has expired under policy "${policy.name}"; DR would prune the copy at once`);
        continue;
      }
      const left = budget.get(dr.region) ?? 0;
      if (left <= 0) {
        push(
          "defer-limit",
          `${input.maxInFlight} copies in flight to ${dr.region} is the limit (${input.inFlight[dr.region] ?? 0} before this run); next run continues`,
        );
        continue;
      }
      budget.set(dr.region, left - 1);
      push("copy", `copy ${source.id} to ${dr.region} with KMS key ${dr.kmsKeyId}`);
    }
  }
  return out;
}
