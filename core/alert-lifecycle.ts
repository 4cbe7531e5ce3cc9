/**
 * Alert lifecycle: a condition alerts once when it starts, reminds at most once per interval while it lasts,
 * and says "resolved" once when it ends. Without it a watchdog that runs hourly posts a critical on every run
 * for as long as the condition lasts (72 for a three-day backup outage).
 *
 * Generic over what a condition carries (`D`, JSON data the messages are rendered from), so stale backups,
 * failed runs, cost findings and failover states can share it: each source keeps its own state document and
 * names its conditions with stable keys (`stale:<policy>:<region>`, ...). The state is plain JSON (times as
 * ISO strings) because it is stored in S3 between runs.
 */

/** A condition that holds now, under a key that stays the same for as long as it lasts. */
export interface Condition<D> {
  key: string;
  detail: D;
}

/** An incident: a condition seen holding and not seen ending since. */
export interface OpenIncident<D> {
  /** The run that first saw the condition (ISO time). */
  openedAt: string;
  /** The last started or reminder message (ISO time). */
  lastNotifiedAt: string;
  reminders: number;
  /** What the condition carried the last time it was seen. */
  detail: D;
}

/** Everything the lifecycle remembers between runs: the open incidents by key. */
export interface AlertLifecycleState<D> {
  incidents: Record<string, OpenIncident<D>>;
}

export type AlertMessageKind = "started" | "reminder" | "resolved";

/** One decision per key: a message to send (`started`, `reminder`, `resolved`) or `hold` (nothing due). */
export interface AlertDecision<D> {
  kind: AlertMessageKind | "hold";
  key: string;
  /** The incident as it is after this run (for `resolved`: as it was last seen). */
  incident: OpenIncident<D>;
  /** For `resolved`: from the run that first saw it to the run that saw it end. */
  durationMs?: number;
  reason: string;
}

export interface AlertLifecycleInput<D> {
  state: AlertLifecycleState<D>;
  /** The conditions that hold now (keys unique). */
  conditions: readonly Condition<D>[];
  now: Date;
  /** Least time between two messages of one incident while it lasts. */
  remindEveryMs: number;
}

export interface AlertLifecycleResult<D> {
  /** Sorted by key; `hold` decisions included so a run can log why it sent nothing. */
  decisions: AlertDecision<D>[];
  state: AlertLifecycleState<D>;
}

export const HOUR_MS = 3_600_000;

/** The empty state: what a source without a stored document starts from. */
export function emptyAlertState<D>(): AlertLifecycleState<D> {
  return { incidents: {} };
}

/** "3 d 2 h", "5 h", "40 min": how long an incident lasted, to the minute, largest units first. */
export function formatDuration(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const parts = [d ? `${d} d` : "", h ? `${h} h` : "", m && !d ? `${m} min` : ""].filter(Boolean);
  return parts.length ? parts.join(" ") : "0 min";
}

/**
 * The messages due now and the state to store. A key that holds and has no incident starts one (`started`);
 * an open incident whose last message is at least `remindEveryMs` old gets a `reminder`; an open incident
 * whose key no longer holds is `resolved` and dropped. Reminders are counted from the last message, so an
 * incident that lasts `t` gets at most `floor(t / remindEveryMs)` of them whatever the run cadence.
 *
 * @example
 *   decideAlerts({ state: emptyAlertState(), conditions: [{ key: "stale:db:eu-west-1", detail }], now, remindEveryMs: 6 * HOUR_MS })
 *   // → decisions [{ kind: "started", key: "stale:db:eu-west-1", reason: "stale:db:eu-west-1 holds and no incident is open" }]
 */
export function decideAlerts<D>(input: AlertLifecycleInput<D>): AlertLifecycleResult<D> {
  const { now, remindEveryMs } = input;
  if (!(remindEveryMs > 0)) throw new Error(`remindEveryMs must be positive, got ${remindEveryMs}`);
  const at = now.toISOString();
  const holding = new Map<string, D>();
  for (const c of input.conditions) {
    if (holding.has(c.key)) throw new Error(`condition key ${c.key} given twice`);
    holding.set(c.key, c.detail);
  }
  const decisions: AlertDecision<D>[] = [];
  const incidents: Record<string, OpenIncident<D>> = {};
  for (const [key, detail] of holding) {
    const open = input.state.incidents[key];
    if (!open) {
      const incident = { openedAt: at, lastNotifiedAt: at, reminders: 0, detail };
      incidents[key] = incident;
      decisions.push({ kind: "started", key, incident, reason: `${key} holds and no incident is open` });
      continue;
    }
    const since = now.getTime() - Date.parse(open.lastNotifiedAt);
    if (since >= remindEveryMs) {
      const incident = { ...open, lastNotifiedAt: at, reminders: open.reminders + 1, detail };
      incidents[key] = incident;
      decisions.push({
        kind: "reminder",
        key,
        incident,
        reason: `${key} still holds, open since ${open.openedAt}; last message ${formatDuration(since)} ago (remind every ${formatDuration(remindEveryMs)})`,
      });
      continue;
    }
    const incident = { ...open, detail };
    incidents[key] = incident;
    decisions.push({
      kind: "hold",
      key,
      incident,
      reason: `${key} still holds; next reminder due at ${new Date(Date.parse(open.lastNotifiedAt) + remindEveryMs).toISOString()}`,
    });
  }
  for (const [key, open] of Object.entries(input.state.incidents)) {
    if (holding.has(key)) continue;
    const durationMs = now.getTime() - Date.parse(open.openedAt);
    decisions.push({ kind: "resolved", key, incident: open, durationMs, reason: `${key} no longer holds; it lasted ${formatDuration(durationMs)}` });
  }
  decisions.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { decisions, state: { incidents: Object.fromEntries(Object.entries(incidents).sort(([a], [b]) => (a < b ? -1 : 1))) } };
}

/** The decisions that are messages, in order. */
export function messagesOf<D>(decisions: readonly AlertDecision<D>[]): (AlertDecision<D> & { kind: AlertMessageKind })[] {
  return decisions.filter((d): d is AlertDecision<D> & { kind: AlertMessageKind } => d.kind !== "hold");
}

/**
 * The state after some messages of a run were not delivered: each undelivered key goes back to what `before`
 * held for it (no incident for an undelivered `started`, the open incident for an undelivered `resolved`,
 * the earlier reminder time for an undelivered `reminder`), so the next run decides to send it again.
 */
export function withUndelivered<D>(
  current: AlertLifecycleState<D>,
  before: AlertLifecycleState<D>,
  undeliveredKeys: readonly string[],
): AlertLifecycleState<D> {
  const incidents = { ...current.incidents };
  for (const key of undeliveredKeys) {
    const prev = before.incidents[key];
    if (prev) incidents[key] = prev;
    else delete incidents[key];
  }
  return { incidents };
}
