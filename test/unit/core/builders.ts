/** Small fixture builders for the core backup/retention tests. */
import { BackupPolicySchema } from "../../../schemas/config.ts";
import type { BackupPolicy } from "../../../schemas/config.ts";
import { snapshotName } from "../../../core/backup-plan.ts";
import { TAG, managedByValue } from "../../../core/types.ts";
import type { Owner, Resource, ResourceKind, Snapshot, SnapshotStatus } from "../../../core/types.ts";

export const OWNER: Owner = { app: "ops-autopilot", stage: "prod" };
export const PRIMARY = "eu-west-1";
export const DR = "eu-central-1";

/** A policy with the runbook defaults (daily 7 d, Sunday 30 d, 1st 365 d, 25 h, newest 3) plus overrides. */
export function policy(overrides: Record<string, unknown> = {}): BackupPolicy {
  return BackupPolicySchema.parse({ name: "default", selection: { tag: {} }, ...overrides });
}

export function resource(o: Partial<Resource> = {}): Resource {
  return { kind: "rds-instance", id: "app-db", region: PRIMARY, status: "available", tags: {}, ...o };
}

export interface SnapOpts {
  id?: string;
  resourceId?: string;
  kind?: ResourceKind;
  region?: string;
  day: string;
  createdAt?: Date;
  status?: SnapshotStatus;
  /** Managed-by value; `null` for no tag at all. Default: ours. */
  managedBy?: string | null;
  policy?: string | null;
  automated?: boolean;
  usedByImage?: boolean;
  tags?: Record<string, string>;
  copyOf?: string;
  /** Which of the night's names (1, or an alternative 2 … 20) it was made under. */
  attempt?: number;
}

/**
 * A snapshot of ours (unless told otherwise) for `day`, created at 02:00 UTC that day, with the identity backup
 * gives it: RDS id = name tag, EBS description = name tag, source region = its region (a copy: `copyOf`, made by
 * {@link drCopy}).
 */
export function snap(o: SnapOpts): Snapshot {
  const resourceId = o.resourceId ?? "app-db";
  const region = o.region ?? PRIMARY;
  const kind = o.kind ?? "rds-instance";
  const name = snapshotName(OWNER, resourceId, o.day, o.attempt ?? 1);
  const tags: Record<string, string> = {};
  const mb = o.managedBy === undefined ? managedByValue(OWNER) : o.managedBy;
  if (mb !== null) tags[TAG.managedBy] = mb;
  const pol = o.policy === undefined ? "default" : o.policy;
  if (pol !== null) tags[TAG.policy] = pol;
  tags[TAG.backupDate] = o.day;
  tags[TAG.name] = name;
  tags[TAG.source] = resourceId;
  tags[TAG.sourceRegion] = o.copyOf ? PRIMARY : region;
  if (o.copyOf) tags[TAG.copyOf] = o.copyOf;
  Object.assign(tags, o.tags ?? {});
  return {
    kind,
    id: o.id ?? (kind === "ebs-volume" ? `snap-${resourceId.replace(/[^a-z0-9]/g, "")}${o.day.replaceAll("-", "")}` : name),
    region,
    resourceId,
    status: o.status ?? "available",
    createdAt: o.createdAt ?? new Date(`${o.day}T02:00:00Z`),
    tags,
    automated: o.automated ?? false,
    ...(o.usedByImage !== undefined ? { usedByImage: o.usedByImage } : {}),
    ...(kind === "ebs-volume" ? { description: tags[TAG.name] } : {}),
  };
}

/** The DR copy of a primary snapshot, made `lagHours` after the source (named as its source, as copy names it). */
export function drCopy(source: Snapshot, o: { region?: string; status?: SnapshotStatus; lagHours?: number } = {}): Snapshot {
  return {
    ...source,
    id: source.kind === "ebs-volume" ? `${source.id}-copy` : source.id,
    region: o.region ?? DR,
    status: o.status ?? "available",
    createdAt: new Date(source.createdAt.getTime() + (o.lagHours ?? 1) * 3_600_000),
    tags: { ...source.tags, [TAG.copyOf]: source.id },
  };
}

/** Every day from `from` for `n` days, as yyyy-mm-dd. */
export function days(from: string, n: number): string[] {
  const start = Date.parse(`${from}T00:00:00Z`);
  return Array.from({ length: n }, (_, i) => new Date(start + i * 86_400_000).toISOString().slice(0, 10));
}

export const at = (iso: string): Date => new Date(iso);
