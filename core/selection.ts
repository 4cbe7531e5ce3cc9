import type { BackupPolicy } from "../schemas/config.ts";
import type { Resource } from "./types.ts";

/** A resource and the one policy that selected it. */
export interface Selected {
  resource: Resource;
  policy: BackupPolicy;
  reason: string;
}

export interface SelectionResult {
  selected: Selected[];
  /** Resources two policies claim: backed up by neither until the configuration says which. */
  conflicts: { resource: Resource; policies: string[]; reason: string }[];
  /** Explicitly configured ids that do not exist in the region. */
  missing: { kind: Resource["kind"]; id: string; policy: string; reason: string }[];
}

/**
 * Match resources to backup policies by tag (`<key>=<value>`, value defaulting to the policy name)
 * and by explicit id. A resource claimed by two policies is refused rather than guessed.
 *
 * @example
 * selectResources([{ kind: "rds-instance", id: "app-db", region: "eu-west-1", status: "available",
 *   tags: { "ops-autopilot:backup": "db" } }], [dbPolicy]).selected[0].policy.name // "db"
 */
export function selectResources(resources: Resource[], policies: BackupPolicy[]): SelectionResult {
  const claims = new Map<string, { resource: Resource; matches: { policy: BackupPolicy; reason: string }[] }>();
  const key = (r: { kind: string; id: string }) => `${r.kind}/${r.id}`;
  for (const resource of resources) claims.set(key(resource), { resource, matches: [] });

  const missing: SelectionResult["missing"] = [];
  for (const policy of policies) {
    const tag = policy.selection.tag;
    if (tag) {
      const value = tag.value ?? policy.name;
      for (const claim of claims.values()) {
        if (claim.resource.tags[tag.key] === value) claim.matches.push({ policy, reason: `tag ${tag.key}=${value}` });
      }
    }
    for (const ref of policy.selection.ids) {
      const claim = claims.get(key(ref));
      if (!claim) {
        missing.push({ ...ref, policy: policy.name, reason: `configured in policy "${policy.name}" but not found` });
        continue;
      }
      if (!claim.matches.some((m) => m.policy === policy)) claim.matches.push({ policy, reason: `listed by id` });
    }
  }

  const selected: Selected[] = [];
  const conflicts: SelectionResult["conflicts"] = [];
  for (const { resource, matches } of claims.values()) {
    if (matches.length === 1) selected.push({ resource, policy: matches[0]!.policy, reason: `policy "${matches[0]!.policy.name}": ${matches[0]!.reason}` });
    else if (matches.length > 1) {
      const names = matches.map((m) => m.policy.name);
      conflicts.push({ resource, policies: names, reason: `selected by ${names.length} policies (${names.join(", ")}): refusing to guess` });
    }
  }
  return { selected, conflicts, missing };
}
