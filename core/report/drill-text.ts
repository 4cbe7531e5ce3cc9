import { plainLinks, vsTarget, wrap, wrapItems, wrappedTable } from "./text.ts";

/**
 * The drill's failover section as people read it in a terminal: reasons wrapped (never cut), throttled attempts
 * apart from the changes made, RTO and RPO next to their targets.
 */

/** Width of the drill's terminal text. */
export const DRILL_WIDTH = 100;

export interface FailoverDrillRun {
  result: string;
  reason: string;
  timeline: { step: string; start?: string; end?: string; result: string; reason?: string }[];
  rtoSeconds?: number;
  rpoSeconds?: number;
  writableSeconds?: number;
  dnsInsyncSeconds?: number;
  /** Slack messages as plain text. */
  messages: string[];
  /** Where each message went: the pager topic, the alerts channel (absent: messages only, not counted by destination). */
  deliveries?: { destination: string }[];
  mutatingCalls: { command: string; at: string; error?: string }[];
}

export interface FailoverTargets {
  rtoSeconds: number;
  /** The group's `maxReplicaLagSeconds`. */
  rpoSeconds: number;
}

/**
 * Error codes that mean "asked too fast, nothing changed": Route 53 answers `Throttling` over its rate and
 * `PriorRequestNotComplete` while the zone's previous change is still processing
 * (https://repost.aws/knowledge-center/route-53-avoid-throttling-errors); RDS and the SDK use the others.
 */
const THROTTLE = /^(Throttling|ThrottlingException|ThrottledException|PriorRequestNotComplete|TooManyRequestsException|RequestLimitExceeded)$/;

export function isThrottle(error: string): boolean {
  return THROTTLE.test(error);
}

const sec = (n: number | undefined) => (n === undefined ? "—" : `${Math.round(n)} s`);
const time = (iso: string) => iso.slice(11, 19);

/** The lines the drill prints for one failover run. */
export function failoverLines(r: FailoverDrillRun, targets: FailoverTargets, width = DRILL_WIDTH): string[] {
  const out = [...wrap(`Result: ${r.result} — ${r.reason}`, width, 2)];
  if (r.rtoSeconds !== undefined) {
    out.push(
      ...wrap(
        `RTO ${vsTarget(Math.round(r.rtoSeconds), targets.rtoSeconds, sec)}: alarm → healthy; writable after ${sec(r.writableSeconds)}, DNS INSYNC after ${sec(r.dnsInsyncSeconds)}.`,
        width,
        2,
      ),
    );
  }
  if (r.rpoSeconds !== undefined) {
    out.push(
      ...wrap(
        `RPO ${vsTarget(Math.round(r.rpoSeconds), targets.rpoSeconds, sec)}: replica lag at promotion, against the group's maxReplicaLagSeconds.`,
        width,
        2,
      ),
    );
  }
  const rows: string[][] = [["step", "start", "end", "result", "reason"]];
  // A run of checks ("✓ a; ✓ b; ✗ c") reads one check per line.
  for (const t of r.timeline)
    rows.push([t.step, t.start ? time(t.start) : "", t.end ? time(t.end) : "", t.result, (t.reason ?? "").replace(/; (?=[✓✗?] )/g, "\n")]);
  out.push(wrappedTable(rows, width));
  const made = r.mutatingCalls.filter((c) => !c.error);
  const throttled = r.mutatingCalls.filter((c) => c.error && isThrottle(c.error));
  const failed = r.mutatingCalls.filter((c) => c.error && !isThrottle(c.error));
  const call = (c: { command: string; at: string; error?: string }) => `${c.command} at ${time(c.at)}${c.error ? ` (${c.error})` : ""}`;
  out.push(...(made.length ? wrapItems("Changes made:", made.map(call), width) : ["Changes made: none"]));
  if (throttled.length) out.push(...wrapItems("Throttled attempts (no change made; retried):", throttled.map(call), width));
  if (failed.length) out.push(...wrapItems("Failed attempts (no change made):", failed.map(call), width));
  const first = r.messages[0]?.split("\n")[0];
  const paged = r.deliveries?.filter((d) => d.destination === "pager").length;
  const sent = paged === undefined ? `Slack messages: ${r.messages.length}` : `Pages: ${paged}; Slack messages: ${r.messages.length}`;
  out.push(...wrap(`${sent}${first ? `; first: ${plainLinks(first, "label")}` : ""}`, width, 2));
  return out;
}
