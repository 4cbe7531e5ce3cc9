/**
 * Items of several groups, taken in turn from each group (each group keeps its order): `a1 b1 a2 b2 a3`.
 *
 * Why: AWS throttles per API bucket (RDS one bucket per account and region, EC2 one per action), and the buckets refill
 * side by side. Work issued group after group (every RDS snapshot, then every EBS one) waits on each bucket in turn, the
 * sum of their times; issued in turn, it waits only on the slowest bucket.
 *
 * @example
 * interleave(["db-1", "db-2", "db-3", "vol-1", "vol-2"], (id) => id.split("-")[0]) // -> ["db-1", "vol-1", "db-2", "vol-2", "db-3"]
 */
export function interleave<T>(items: readonly T[], group: (item: T) => string): T[] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = group(item);
    const list = groups.get(key);
    if (list) list.push(item);
    else groups.set(key, [item]);
  }
  const lists = [...groups.values()];
  const out: T[] = [];
  for (let i = 0; out.length < items.length; i++) {
    for (const list of lists) if (i < list.length) out.push(list[i]!);
  }
  return out;
}
