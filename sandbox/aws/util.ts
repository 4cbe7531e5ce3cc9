/** Small helpers shared by the service simulations: tags, pagination tokens, EC2 filters, ids. */

export type Tags = Record<string, string>;
export interface AwsTag {
  Key?: string | undefined;
  Value?: string | undefined;
}

export function toTagList(tags: Tags): Array<{ Key: string; Value: string }> {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export function fromTagList(list: readonly AwsTag[] | undefined): Tags {
  const out: Tags = {};
  for (const t of list ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? "";
  return out;
}

/**
 * Opaque pagination token over items ordered by a monotonically increasing sequence number.
 * Resuming "after seq N" (not "at offset N") keeps pages correct when items are deleted between
 * pages — which is exactly what a pruner does while it paginates.
 */
export function encodeToken(kind: string, seq: number): string {
  return Buffer.from(`${kind}:${seq}`).toString("base64url");
}

export function decodeToken(kind: string, token: string): number | undefined {
  const text = Buffer.from(token, "base64url").toString("utf8");
  const [k, n] = text.split(":");
  const seq = Number(n);
  return k === kind && Number.isInteger(seq) ? seq : undefined;
}

export function pageAfter<T extends { seq: number }>(sorted: readonly T[], size: number, afterSeq: number | undefined): { page: T[]; lastSeq?: number } {
  let start = 0;
  if (afterSeq !== undefined) {
    while (start < sorted.length && sorted[start]!.seq <= afterSeq) start++;
  }
  const page = sorted.slice(start, start + size);
  const more = start + size < sorted.length;
  return more ? { page, lastSeq: page[page.length - 1]!.seq } : { page };
}

const globCache = new Map<string, RegExp>();
/** EC2 filter values: `*` matches any run of characters, `?` one character, `\` escapes. */
export function ec2Glob(pattern: string): RegExp {
  let re = globCache.get(pattern);
  if (!re) {
    let src = "";
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i]!;
      if (c === "\\" && i + 1 < pattern.length) src += escapeRe(pattern[++i]!);
      else if (c === "*") src += "[\\s\\S]*";
      else if (c === "?") src += "[\\s\\S]";
      else src += escapeRe(c);
    }
    re = new RegExp(`^${src}$`);
    globCache.set(pattern, re);
  }
  return re;
}

function escapeRe(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

/** Deterministic id source, so a drill prints the same ids every run. */
export class IdSource {
  private state: number;
  private readonly used = new Set<string>();

  constructor(seed = 0x5eed) {
    this.state = seed >>> 0;
  }

  private next32(): number {
    // mulberry32
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** `prefix-` + 17 lowercase hex digits, as EC2 ids are today. */
  ec2(prefix: string): string {
    for (;;) {
      let hex = "";
      while (hex.length < 17) hex += this.next32().toString(16).padStart(8, "0");
      const id = `${prefix}-${hex.slice(0, 17)}`;
      if (!this.used.has(id)) {
        this.used.add(id);
        return id;
      }
    }
  }
}

/** A durations option: fixed milliseconds or a function of what is being created. */
export type Duration<I> = number | ((info: I) => number);
export function durationOf<I>(d: Duration<I>, info: I): number {
  const ms = typeof d === "function" ? d(info) : d;
  if (!(ms >= 0)) throw new Error(`sandbox: duration must be >= 0 ms, got ${ms}`);
  return ms;
}

export function utcStamp(ms: number): string {
  // yyyy-mm-dd-hh-mm, the suffix RDS gives automated snapshots.
  return new Date(ms).toISOString().slice(0, 16).replace("T", "-").replace(":", "-");
}
