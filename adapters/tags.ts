/** AWS tag lists (`[{ Key, Value }]`, the same shape in RDS and EC2) to and from plain records. */
export interface AwsTag {
  Key?: string | undefined;
  Value?: string | undefined;
}

export function tagsToRecord(tags: readonly AwsTag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key) out[t.Key] = t.Value ?? "";
  return out;
}

export function recordToTags(tags: Record<string, string>): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}
