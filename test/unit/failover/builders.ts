import { FailoverConfigSchema, type FailoverConfig } from "../../../schemas/config-failover.ts";
import type { AlarmStateChangeEvent } from "../../../schemas/events-failover.ts";
import type { DbObservation, RunRecord } from "../../../core/failover.ts";
import type { FailoverDeps } from "../../../runbooks/failover/index.ts";
import type { SlackMessage } from "../../../core/report/blocks.ts";
import type { RecordValue } from "../../../schemas/config-failover.ts";

export const T0 = new Date("2025-03-04T10:15:02.101Z");

export function groupInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "orders-db",
    alarms: ["orders-db-primary-down"],
    primary: { kind: "rds-instance", id: "orders-primary", region: "eu-west-1" },
    replica: { kind: "rds-instance", id: "orders-dr", region: "eu-central-1" },
    dns: {
      hostedZoneId: "Z0123456789ABC",
      recordName: "db.example.com",
      recordType: "CNAME",
      ttl: 60,
      primary: { values: ["orders-primary.abc.eu-west-1.rds.amazonaws.com"] },
      dr: { values: ["orders-dr.abc.eu-central-1.rds.amazonaws.com"] },
    },
    healthUrl: "https://dr.example.com/health",
    warmTargetSet: "orders-dr",
    execution: "automatic",
    ...overrides,
  };
}

export function failoverConfig(groupOverrides: Record<string, unknown> = {}, top: Record<string, unknown> = {}): FailoverConfig {
  return FailoverConfigSchema.parse({ groups: [groupInput(groupOverrides)], ...top });
}

export function alarmEvent(
  value: "ALARM" | "OK" | "INSUFFICIENT_DATA" = "ALARM",
  opts: { alarmName?: string; id?: string; at?: Date } = {},
): AlarmStateChangeEvent {
  const at = (opts.at ?? T0).toISOString().replace("Z", "+0000");
  return {
    version: "0",
    id: opts.id ?? "evt-1",
    "detail-type": "CloudWatch Alarm State Change",
    source: "aws.cloudwatch",
    account: "123456789012",
    time: `${at.slice(0, 19)}Z`,
    region: "eu-central-1",
    resources: [],
    detail: {
      alarmName: opts.alarmName ?? "orders-db-primary-down",
      state: { value, reason: `went to ${value}`, timestamp: at },
      previousState: { value: value === "ALARM" ? "OK" : "ALARM", reason: "", timestamp: at },
    },
  };
}

/**
 * An in-memory world behind the runbook's ports: a latch store with real compare-and-set semantics, a replica
 * that becomes writable some time after promotion, a DNS record with PENDING → INSYNC, a health endpoint.
 * Counts the mutating calls so invariants can be checked.
 */
export class FakeWorld {
  nowMs = T0.getTime() + 30_000;
  store = new Map<string, { body: string; etag: string }>();
  reports = new Map<string, unknown>();
  etagSeq = 0;
  primaryDown = true;
  replica: { status: string; isReplica: boolean; promotedAt?: number } = { status: "available", isReplica: true };
  promotionMs = 120_000;
  lagSeconds: number | undefined = 4;
  promoteError: Error | undefined;
  dnsValue: RecordValue = { values: ["orders-primary.abc.eu-west-1.rds.amazonaws.com"] };
  dnsChanges: { id: string; at: number }[] = [];
  dnsError: Error | undefined;
  insyncAfterMs = 40_000;
  healthy = true;
  promotions = 0;
  upserts = 0;
  warms = 0;
  messages: SlackMessage[] = [];
  /** Throws after the next successful promotion call (simulated crash). */
  crashAfterPromote = false;
  crashAfterUpsert = false;
  /** The next checkpoint write throws, as if the process died right before it. */
  failNextReplace = false;
  /** Every PromoteReadReplica call, accepted or not. */
  promoteCalls = 0;
  /** The next N replica describes fail the way a throttled or refused DescribeDBInstances does. */
  replicaDescribeFailures = 0;
  /** The next N lag reads fail (GetMetricData throttled), as opposed to "no datapoints". */
  lagFailures = 0;
  /** The promotion is accepted by RDS but the call times out before the answer arrives. */
  promoteTimesOutAfterAccept = false;
  /** The next N record reads (ListResourceRecordSets) and change polls (GetChange) throw. */
  currentValueFailures = 0;
  getChangeFailures = 0;
  /** The latch create fails with this error (e.g. S3's 409 ConditionalRequestConflict). */
  createError: Error | undefined;

  deps(): FailoverDeps {
    const w = this;
    const obsReplica = (): DbObservation => {
      if (w.replicaDescribeFailures > 0) {
        w.replicaDescribeFailures--;
        return { reachable: false, unknown: true, detail: "describe orders-dr in eu-central-1 failed: Throttling: Rate exceeded" };
      }
      if (w.replica.promotedAt !== undefined && w.nowMs >= w.replica.promotedAt + w.promotionMs) {
        w.replica = { status: "available", isReplica: false, promotedAt: w.replica.promotedAt };
      }
      return { reachable: true, status: w.replica.status, isReplica: w.replica.isReplica, detail: `orders-dr ${w.replica.status}` };
    };
    return {
      latch: {
        async read(group) {
          const v = w.store.get(group);
          return v ? { record: JSON.parse(v.body) as RunRecord, etag: v.etag } : undefined;
        },
        async create(group, record) {
          if (w.createError) throw w.createError;
          if (w.store.has(group)) return undefined;
          const etag = `"e${++w.etagSeq}"`;
          w.store.set(group, { body: JSON.stringify(record), etag });
          return etag;
        },
        async replace(group, record, etag) {
          if (w.failNextReplace) {
            w.failNextReplace = false;
            throw new Error("simulated crash before checkpoint");
          }
          const v = w.store.get(group);
          if (!v || v.etag !== etag) return undefined;
          const next = `"e${++w.etagSeq}"`;
          w.store.set(group, { body: JSON.stringify(record), etag: next });
          return next;
        },
        async putReport(group, runId, report) {
          w.reports.set(`${group}/${runId}`, report);
        },
      },
      db: {
        async describePrimary() {
          return w.primaryDown
            ? { reachable: false, detail: "orders-primary: connection timed out" }
            : { reachable: true, status: "available", isReplica: false, detail: "orders-primary available" };
        },
        async describeReplica() {
          return obsReplica();
        },
        async promote() {
          w.promoteCalls++;
          if (w.promoteError) throw w.promoteError;
          if (w.replica.promotedAt !== undefined) throw Object.assign(new Error("not a read replica"), { name: "InvalidDBInstanceStateFault" });
          w.promotions++;
          w.replica = { status: "modifying", isReplica: true, promotedAt: w.nowMs };
          if (w.crashAfterPromote) {
            w.crashAfterPromote = false;
            w.failNextReplace = true;
          }
          if (w.promoteTimesOutAfterAccept) {
            w.promoteTimesOutAfterAccept = false;
            throw Object.assign(new Error("PromoteReadReplica orders-dr: TimeoutError: socket timed out"), { name: "PromotionError", outcomeUnknown: true });
          }
          return { detail: "PromoteReadReplica orders-dr: modifying" };
        },
      },
      metrics: {
        async replicaLag() {
          if (w.lagFailures > 0) {
            w.lagFailures--;
            return { failed: true, detail: "GetMetricData failed: Throttling: Rate exceeded" };
          }
          return w.lagSeconds === undefined ? { detail: "no datapoints" } : { seconds: w.lagSeconds, detail: `lag ${w.lagSeconds}` };
        },
      },
      dns: {
        async upsert(_dns, value) {
          if (w.dnsError) throw w.dnsError;
          w.upserts++;
          w.dnsValue = value;
          const id = `/change/C${w.upserts}`;
          w.dnsChanges.push({ id, at: w.nowMs });
          if (w.crashAfterUpsert) {
            w.crashAfterUpsert = false;
            w.failNextReplace = true;
          }
          return { changeId: id, attempts: 1 };
        },
        async getChange(id) {
          if (w.getChangeFailures > 0) {
            w.getChangeFailures--;
            throw Object.assign(new Error("GetChange failed after 4 attempt(s): Throttling: Rate exceeded"), { name: "Route53ChangeError" });
          }
          const c = w.dnsChanges.find((x) => x.id === id);
          return c && w.nowMs >= c.at + w.insyncAfterMs ? "INSYNC" : "PENDING";
        },
        async currentValue() {
          if (w.currentValueFailures > 0) {
            w.currentValueFailures--;
            throw Object.assign(new Error("ListResourceRecordSets failed after 4 attempt(s): Throttling: Rate exceeded"), { name: "Route53ChangeError" });
          }
          return w.dnsValue;
        },
      },
      probe: {
        async check() {
          return { ok: w.healthy, status: w.healthy ? 200 : 503, ms: 12, detail: `HTTP ${w.healthy ? 200 : 503}` };
        },
      },
      warm: {
        async warm() {
          w.warms++;
          return { ok: true, summary: "10/10 URLs warmed" };
        },
      },
      notify: {
        async notify(m) {
          w.messages.push(m);
        },
      },
      clock: {
        now: () => new Date(w.nowMs),
        sleep: async (ms) => {
          w.nowMs += ms;
        },
      },
    };
  }

  record(group = "orders-db"): RunRecord | undefined {
    const v = this.store.get(group);
    return v ? (JSON.parse(v.body) as RunRecord) : undefined;
  }
}
