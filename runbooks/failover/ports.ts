/**
 * The failover runbook's ports: everything it touches in the world. Real adapters (adapters/*), in-memory fakes
 * (tests) and the sandbox all implement these, so the same runbook runs in Lambda, in unit tests and in the drill.
 */
import type { SlackMessage } from "../../core/report/blocks.ts";
import type { DnsConfig, FailoverGroup, RecordValue } from "../../schemas/config-failover.ts";
import type { DbObservation, FailoverIncident, PromotionKind, RunRecord } from "../../core/failover.ts";
import type { ObserveState } from "../../core/observe.ts";
import type { Severity } from "../../core/notify-routing.ts";
import type { AlertStatePort } from "../../adapters/alert-state.ts";

export interface LatchPort {
  read(group: string): Promise<{ record: RunRecord; etag: string } | undefined>;
  /**
   * Create the latch only if absent (S3 If-None-Match). Undefined when another run holds it (412). Throws on
   * anything else, a 409 ConditionalRequestConflict included: the outcome is unknown and the caller re-reads.
   */
  create(group: string, record: RunRecord): Promise<string | undefined>;
  /** Replace only if unchanged since `etag` (S3 If-Match). Undefined when someone else wrote first (412, 409). */
  replace(group: string, record: RunRecord, etag: string): Promise<string | undefined>;
  /** The run report (timeline, timings, messages) next to the latch. */
  putReport(group: string, runId: string, report: unknown): Promise<void>;
}

export interface DbPort {
  describePrimary(group: FailoverGroup): Promise<DbObservation>;
  describeReplica(group: FailoverGroup): Promise<DbObservation>;
  /**
   * Issue the promotion; throws on refusal (the error message goes into the alert). An error with
   * `outcomeUnknown: true` (timeout, network error, 5xx, throttling) may or may not have reached RDS: the
   * runbook then confirms the outcome by observation instead of failing or calling again.
   */
  promote(group: FailoverGroup, kind: PromotionKind): Promise<{ detail: string }>;
}

export interface MetricsPort {
  /**
   * Conservative replica lag (max of the recent datapoints). `failed` when the read itself failed (throttled,
   * refused): unknown, read again. Without `seconds` and not `failed`: CloudWatch answered with no datapoint.
   */
  replicaLag(group: FailoverGroup, now: Date): Promise<{ seconds?: number; detail: string; failed?: boolean }>;
}

export interface DnsPort {
  /** UPSERT the record to `value`, retrying throttling/PriorRequestNotComplete; throws when out of attempts. */
  upsert(dns: DnsConfig, value: RecordValue): Promise<{ changeId: string; attempts: number }>;
  getChange(changeId: string): Promise<"PENDING" | "INSYNC">;
  /** The record's current value, to confirm a change whose outcome is unknown. */
  currentValue(dns: DnsConfig): Promise<RecordValue | undefined>;
}

export interface ProbePort {
  /** GET `url` with a timeout; ok when 2xx in time. */
  check(url: string, timeoutMs: number): Promise<{ ok: boolean; status?: number; ms: number; detail: string }>;
}

/** The warming engine, injected so failover does not depend on its implementation. */
export interface WarmPort {
  warm(targetSet: string): Promise<{ ok: boolean; summary: string }>;
}

/**
 * Sends a message to the destinations its severity routes it to (core/notify-routing.ts, kind `alert`): a critical
 * pages and goes to the alerts channel, anything else to the alerts channel only. Never throws: a pager or Slack
 * outage must not stop a failover, so a destination that fails is logged and the others are still tried.
 */
export interface NotifyPort {
  notify(message: SlackMessage, severity: Severity): Promise<void>;
}

/** The alert lifecycle of the failover groups: one state document per group next to its latch (failover state bucket). */
export interface FailoverAlertsPort {
  state(group: string): AlertStatePort<FailoverIncident>;
  /** `alerts.remindEveryHours` in ms. */
  remindEveryMs: number;
}

/** Where a run's report is (the failover state bucket), for the message's link. */
export type ReportLocation = (group: string, runId: string) => { bucket: string; region: string; key: string };

export interface ClockPort {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export interface FailoverDeps {
  latch: LatchPort;
  db: DbPort;
  metrics: MetricsPort;
  dns: DnsPort;
  probe: ProbePort;
  warm: WarmPort;
  notify: NotifyPort;
  clock: ClockPort;
  /**
   * The stage's observe mode now (core/observe.ts), asked when an alarm would start a run; `record` lets this run
   * record the window's start if none is recorded yet. Absent: never observing (unit tests, the drill).
   */
  observe?: (record: boolean, runId: string) => Promise<ObserveState>;
  /** The lifecycle of the groups' failover incidents. Absent: every message goes out at its own severity, nothing remembered (unit tests). */
  alerts?: FailoverAlertsPort;
  /** Where run reports are, for the links. Absent: messages say no report link. */
  reportLocation?: ReportLocation;
  log?: (message: string, data?: Record<string, unknown>) => void;
}
