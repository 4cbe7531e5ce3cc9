/**
 * Which of our primary-region snapshots to copy to which DR region now.
 *
 * A copy starts only once its source is `available` (a chained copy started earlier fails or copies nothing),
 * at most `maxInFlight` copies run per destination region (RDS and EBS both cap cross-region copies in flight
 * at 20 per account and region), and sources go oldest first so a run after an outage catches up in order.
 */
import { localDay } from "./calendar.ts";
import { backupDay, newestFirst, retainedByPolicy } from "./retention.ts";
import { identityKey, nameAlternatives, nameKey, partitionByOwner } from "./ownership.ts";
import type { BackupPolicy } from "../schemas/config.ts";
import { SNAPSHOT_TAG_KEYS, TAG } from "./types.ts";
import type { Decision, Owner, Snapshot } from "./types.ts";

export type CopyAction = "copy" | "failed" | "exists" | "wait-source" | "defer-limit" | "skip-policy";

export interface CopyTarget {
  source: Snapshot;
  region: string;
  kmsKeyId: string;
  /** Name of the copy: for RDS the target identifier, for EBS the description and TAG.name value. */
  name: string;
  tags: Record<string, string>;
  /** For "failed": our copy in the DR region that ended in `error` (prune removes it; the next copy run retries). */
  failedCopy?: Snapshot;
}

export type CopyDecision = Decision<CopyAction, CopyTarget>;

export interface CopyInput {
  /** Candidate sources in the primary region; only those that are ours (core/ownership.ts) are copied. */
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
  /** The backup schedule's IANA timezone, whose calendar days backup dates are; default "UTC". */
  timeZone?: string;
}

/** The name a copy of `source` gets in a DR region: the source's deterministic name, so reruns find it. */
export function copyName(source: Snapshot): string {
  return source.tags[TAG.name] ?? source.id;
}

const OUR_TAG_KEYS: ReadonlySet<string> = new Set(SNAPSHOT_TAG_KEYS);

/**
 * Tags of a DR copy: the source's tags of ours (TAG keys only: a source can carry others, e.g. its database's
 * tags through CopyTagsToSnapshot, and the copy role may tag with our keys alone) plus TAG.copyOf = source id;
 * TAG.name is the copy's own name, which is the source's unless that name is held in the DR region by a
 * snapshot that is not ours.
 */
export function copyTags(source: Snapshot, name = copyName(source)): Record<string, string> {
  const ours = Object.fromEntries(Object.entries(source.tags).filter(([k]) => OUR_TAG_KEYS.has(k)));
  return { ...ours, [TAG.name]: name, [TAG.copyOf]: source.id };
}

/**
 * One decision per (source, DR region): "copy" (with the region's KMS key, the name and tags to write),
 * "exists" (a copy of ours is already there or in progress, found by TAG.copyOf or by name), "wait-source" (source not
 * `available` yet), "defer-limit" (the region's in-flight budget `maxInFlight - inFlight[region]` is used up;
 * the next run continues) or "skip-policy" (not ours, policy unknown, `copyToDr: false`, or already expired).
 * A copy name held in the DR region by a snapshot that is not ours moves the copy to the next alternative name.
 * Decisions are ordered oldest source first. Example: maxInFlight 20, inFlight {"eu-central-1": 19}, two new
 * available sources → the older one "copy", the newer "defer-limit".
 */
export function planCopies(input: CopyInput): CopyDecision[] {
  const { owner } = input;
  const policies = new Map(input.policies.map((p) => [p.name, p]));
  const sourceVerdict = partitionByOwner(input.sources, owner).verdict;
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
    const today = localDay(input.now, input.timeZone);
    const byResource = new Map<string, Snapshot[]>();
    for (const s of sources) {
      if (!sourceVerdict.get(s)?.ours || !backupDay(s)) continue;
      const key = `${s.kind}\u0000${s.resourceId}`;
      const list = byResource.get(key);
      if (list) list.push(s);
      else byResource.set(key, [s]);
    }
    for (const group of byResource.values()) {
      const newest = [...group].sort(newestFirst)[0]!;
      const policy = policies.get(newest.tags[TAG.policy] ?? "");
      for (const s of policy ? retainedByPolicy(group, policy, today) : group) retained!.add(s);
    }
  }

  const budget = new Map<string, number>();
  for (const dr of input.drRegions) {
    budget.set(dr.region, Math.max(0, input.maxInFlight - (input.inFlight[dr.region] ?? 0)));
  }

  // Existing DR snapshots indexed by the keys a copy is found by; a DR region can hold 100k snapshots.
  const copyVerdict = partitionByOwner(input.copies, owner).verdict;
  const found = new Map<string, Snapshot>();
  const remember = (key: string, c: Snapshot) => {
    if (!found.has(key)) found.set(key, c);
  };
  /** Who holds each identity (RDS identifier, EBS description) in each DR region, ours or not. */
  const holders = new Map<string, Snapshot>();
  for (const c of input.copies) {
    const at = `${c.region}\u0000${c.kind}\u0000`;
    if (copyVerdict.get(c)?.ours) {
      const of = c.tags[TAG.copyOf];
      if (of !== undefined) remember(`${at}of\u0000${of}`, c);
      const nm = c.tags[TAG.name];
      if (nm !== undefined) remember(`${at}name\u0000${nameKey(c.kind, nm)}`, c);
    }
    const id = identityKey(c);
    if (id) {
      const k = `${at}${id}`;
      // Ours first: a name we hold is not "taken".
      if (!holders.has(k) || copyVerdict.get(c)?.ours) holders.set(k, c);
    }
  }

  const out: CopyDecision[] = [];
  for (const source of sources) {
    const sourceName = copyName(source);
    const policyName = source.tags[TAG.policy];
    const policy = policyName === undefined ? undefined : policies.get(policyName);
    const owned = sourceVerdict.get(source);
    for (const dr of input.drRegions) {
      const at = `${dr.region}\u0000${source.kind}\u0000`;
      // The first name not held in the DR region by a snapshot that is not ours.
      const taken: string[] = [];
      let name = sourceName;
      for (const candidate of nameAlternatives(sourceName)) {
        name = candidate;
        const holder = holders.get(`${at}${nameKey(source.kind, candidate)}`);
        if (!holder || copyVerdict.get(holder)?.ours) break;
        const why = copyVerdict.get(holder);
        taken.push(`${candidate} in ${dr.region} is taken by a snapshot that is not ours (${why && !why.ours ? why.reason : "not ours"})`);
      }
      const target: CopyTarget = { source, region: dr.region, kmsKeyId: dr.kmsKeyId, name, tags: copyTags(source, name) };
      const push = (action: CopyAction, reason: string) => out.push({ action, target, reason });
      if (!owned?.ours) {
        push("skip-policy", owned?.reason ?? `${source.id} is not ours`);
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
      const existing = found.get(`${at}of\u0000${source.id}`) ?? found.get(`${at}name\u0000${nameKey(source.kind, sourceName)}`);
      if (existing && existing.status === "error") {
        target.failedCopy = existing;
        push(
          "failed",
          `copy ${existing.id} in ${dr.region} failed${existing.statusMessage ? ` (${existing.statusMessage})` : ""} with KMS key ${dr.kmsKeyId}; the next prune removes it and the copy after that retries`,
        );
        continue;
      }
      if (existing) {
        push("exists", `copy ${existing.id} in ${dr.region} is ${existing.status}`);
        continue;
      }
      if (taken.length === nameAlternatives(sourceName).length) {
        push("skip-policy", `every copy name is held in ${dr.region} by snapshots that are not ours (first: ${taken[0]})`);
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
      push("copy", `copy ${source.id} to ${dr.region} with KMS key ${dr.kmsKeyId}${taken.length ? ` as ${name}; ${taken.join("; ")}` : ""}`);
    }
  }
  return out;
}
