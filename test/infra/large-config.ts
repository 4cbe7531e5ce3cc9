import type { ConfigInput } from "../../schemas/config.ts";

/** How many of each repeated section {@link largeConfigInput} writes. */
export interface LargeConfigSize {
  policies: number;
  groups: number;
  targets: number;
}

/**
 * A stage configuration far past what Lambda's 4 KB of environment could carry: `policies` backup policies, `groups`
 * failover groups (each with its own databases, DNS record and DR warm-up) and `targets` warm target sets, every
 * field a real deployment would set. Without `app` and `stage`, as a user writes config/<stage>.json.
 */
export function largeConfigInput(size: LargeConfigSize = { policies: 20, groups: 20, targets: 20 }): Omit<ConfigInput, "app" | "stage"> {
  const range = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1).padStart(2, "0"));
  return {
    primaryRegion: "eu-west-1",
    drRegions: [{ region: "eu-central-1", kmsKeyId: "arn:aws:kms:eu-central-1:123456789012:key/0c7f2b3a-5d1e-4b8a-9f00-1234567890ab" }],
    timezone: "UTC",
    schedules: { warm: "cron(0 6 * * ? *)", timezones: { cost: "Europe/Paris" } },
    backup: {
      sourceKmsKeyIds: ["arn:aws:kms:eu-west-1:123456789012:key/5a6b7c8d-1e2f-4a3b-8c9d-0e1f2a3b4c5d"],
      policies: range(size.policies).map((n) => ({
        name: `policy-${n}`,
        tiers: { daily: { keep: { days: 7 } }, weekly: { weekday: 0, keep: { days: 35 } }, monthly: { dayOfMonth: 1, keep: { count: 12 } } },
        freshnessHours: 25,
        keepNewest: 3,
        maxDeletesPerRun: 50,
        maxDeletePercent: 50,
        copyToDr: true,
        selection: { tag: { key: "ops-autopilot:backup", value: `policy-${n}` }, ids: [{ kind: "rds-instance", id: `db-${n}` }] },
      })),
    },
    failover: {
      groups: range(size.groups).map((n) => ({
        name: `db-${n}`,
        alarms: [`db-${n}-primary-down`],
        alarmRegion: "eu-central-1",
        primary: { kind: "rds-instance", id: `db-${n}`, region: "eu-west-1" },
        replica: { kind: "rds-instance", id: `db-${n}-dr`, region: "eu-central-1" },
        maxReplicaLagSeconds: 60,
        dns: {
          hostedZoneId: "Z0123456789ABCDEFGHIJ",
          recordName: `db-${n}.example.com`,
          recordType: "CNAME",
          ttl: 60,
          primary: { values: [`db-${n}.abcdefghijkl.eu-west-1.rds.amazonaws.com`] },
          dr: { values: [`db-${n}-dr.abcdefghijkl.eu-central-1.rds.amazonaws.com`] },
        },
        healthUrl: `https://dr-${n}.example.com/health`,
        ...(Number(n) <= size.targets ? { warmTargetSet: `site-${n}` } : {}),
        execution: "plan-only",
      })),
    },
    warm: {
      targets: range(size.targets).map((n) => ({
        name: `site-${n}`,
        urls: [`https://site-${n}.example.com/`, { url: `https://site-${n}.example.com/pricing`, priority: 0.8 }],
        sitemaps: [`https://site-${n}.example.com/sitemap.xml`],
        exclude: ["/admin/", "\\?preview="],
        limit: 500,
        headers: { "Accept-Encoding": "br, gzip" },
        concurrency: 4,
        ratePerSecond: 10,
      })),
    },
  };
}
