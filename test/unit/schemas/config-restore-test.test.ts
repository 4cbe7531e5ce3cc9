import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../schemas/config.ts";

const RDS = { dbSubnetGroupName: "private-db", vpcSecurityGroupIds: ["sg-0123456789abcdef0"] };
const CHECKER = { subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"], securityGroupIds: ["sg-0fedcba9876543210"] };
const RDS_PG = { ...RDS, checker: CHECKER };
const base = { stage: "prod", primaryRegion: "eu-west-1", drRegions: [{ region: "eu-central-1", kmsKeyId: "k" }] };

/** A config whose one policy `db` has `restoreTest` (and `policy` overrides). */
function withRestoreTest(restoreTest: unknown, policy: Record<string, unknown> = {}, top: Record<string, unknown> = {}) {
  return { ...base, ...top, backup: { policies: [{ name: "db", selection: { tag: {} }, restoreTest, ...policy }] } };
}

describe("restoreTest configuration", () => {
  it("fills the runbook's defaults: monthly, 15 min target, one at a time, janitor after 6 h, the available check", () => {
    const t = parseConfig(withRestoreTest({ rds: RDS })).backup.policies[0]!.restoreTest;
    expect(t).toEqual({
      schedule: "cron(0 6 1 * ? *)",
      rtoTargetMinutes: 15,
      maxConcurrentRestores: 1,
      maxAgeHours: 6,
      rds: RDS,
      smoke: { available: true, sql: [], timeoutSeconds: 30 },
    });
  });

  it("is absent unless written: a policy without it is never restore-tested", () => {
    expect(parseConfig(withRestoreTest(undefined)).backup.policies[0]!.restoreTest).toBeUndefined();
  });

  it("keeps the three expectation forms as written", () => {
    const sql = [
      { name: "orders", query: "select count(*) from orders", expect: { atLeast: 1000 } },
      { name: "schema", query: "select current_setting('server_version_num')::int / 10000", expect: { equals: 16 } },
      { name: "fresh", query: "-- newest order\nselect max(created_at) from orders;", expect: { withinSecondsOf: "snapshotTime", seconds: 3600 } },
    ];
    const t = parseConfig(withRestoreTest({ rds: RDS_PG, smoke: { sql, database: "shop" } })).backup.policies[0]!.restoreTest!;
    expect(t.smoke.sql.map((c) => c.expect)).toEqual([{ atLeast: 1000 }, { equals: 16 }, { withinSecondsOf: "snapshotTime", seconds: 3600 }]);
    expect(t.smoke.database).toBe("shop");
  });

  it("accepts the primary region by keyword or name, a DR region, and an Availability Zone of the restore region", () => {
    for (const region of ["primary", "eu-west-1"]) {
      expect(() => parseConfig(withRestoreTest({ region, ebs: { availabilityZone: "eu-west-1b" } }))).not.toThrow();
    }
    expect(() => parseConfig(withRestoreTest({ region: "eu-central-1", ebs: { availabilityZone: "eu-central-1a" } }))).not.toThrow();
    // copyToDr false: the default region is the primary, where the snapshots are.
    expect(() => parseConfig(withRestoreTest({ ebs: { availabilityZone: "eu-west-1a" } }, { copyToDr: false }))).not.toThrow();
  });

  const sql = (expect: unknown, query = "select count(*) from orders") => ({ rds: RDS_PG, smoke: { sql: [{ name: "orders", query, expect }] } });
  const ebsOnly = { selection: { ids: [{ kind: "ebs-volume", id: "vol-0123456789abcdef0" }] } };

  it.each([
    [
      "a region that is neither the primary nor a DR region",
      withRestoreTest({ region: "us-east-1", rds: RDS }),
      "backup.policies[0].restoreTest.region: us-east-1 is neither primaryRegion (eu-west-1) nor a DR region (eu-central-1): no snapshot of ours is there to restore",
    ],
    [
      "a region that is not a region",
      withRestoreTest({ region: "dr", rds: RDS }),
      'backup.policies[0].restoreTest.region: expected "primary" or an AWS region such as eu-central-1',
    ],
    [
      "a DR region for a policy without DR copies",
      withRestoreTest({ region: "eu-central-1", rds: RDS }, { copyToDr: false }),
      `backup.policies[0].restoreTest.region: copyToDr is false: this policy's snapshots stay in eu-west-1, so eu-central-1 has none to restore; use "primary"`,
    ],
    [
      "an Availability Zone outside the restore region",
      withRestoreTest({ ebs: { availabilityZone: "eu-west-1a" } }),
      "backup.policies[0].restoreTest.ebs.availabilityZone: eu-west-1a is not in the restore region eu-central-1",
    ],
    [
      "neither rds nor ebs",
      withRestoreTest({}),
      "backup.policies[0].restoreTest: configure rds (dbSubnetGroupName, vpcSecurityGroupIds), ebs (availabilityZone), or both: where would the throwaway go?",
    ],
    [
      "sql checks on a policy that selects only EBS volumes",
      withRestoreTest({ ebs: { availabilityZone: "eu-central-1a" }, smoke: { sql: [{ name: "n", query: "select 1", expect: { atLeast: 1 } }] } }, ebsOnly),
      "backup.policies[0].restoreTest.smoke.sql: the policy selects only EBS volumes: a volume has no database to query (its smoke check is available with the expected size)",
    ],
    [
      "an rds block on an EBS-only policy",
      withRestoreTest({ rds: RDS, ebs: { availabilityZone: "eu-central-1a" } }, ebsOnly),
      "backup.policies[0].restoreTest.rds: the policy selects only EBS volumes: rds changes nothing",
    ],
    [
      "an RDS instance selected by id without the rds block",
      withRestoreTest({ ebs: { availabilityZone: "eu-central-1a" } }, { selection: { ids: [{ kind: "rds-instance", id: "orders-db" }] } }),
      "backup.policies[0].restoreTest.rds: the policy selects RDS or Aurora resources by id: their throwaways need dbSubnetGroupName and vpcSecurityGroupIds",
    ],
    [
      "a one-time schedule",
      withRestoreTest({ schedule: "at(2026-12-01T06:00:00)", rds: RDS }),
      "backup.policies[0].restoreTest.schedule: a restore test repeats: use cron(...) or rate(...); run a one-off test with a manual event",
    ],
    [
      "a schedule EventBridge Scheduler refuses",
      withRestoreTest({ schedule: "rate(1 days)", rds: RDS }),
      "backup.policies[0].restoreTest.schedule: a value of 1 takes a singular unit: rate(1 day)",
    ],
    [
      "a janitor quicker than the RTO target",
      withRestoreTest({ rds: RDS, rtoTargetMinutes: 60, maxAgeHours: 1 }),
      "backup.policies[0].restoreTest.maxAgeHours: 1 h is not above rtoTargetMinutes (60 min): the janitor would delete a throwaway before a restore within target is done",
    ],
    [
      "a query that writes",
      withRestoreTest(sql({ atLeast: 1 }, "delete from orders")),
      "backup.policies[0].restoreTest.smoke.sql[0].query: expected one read-only query starting with SELECT, WITH, VALUES or TABLE",
    ],
    [
      "two statements",
      withRestoreTest(sql({ atLeast: 1 }, "select 1; drop table orders")),
      "backup.policies[0].restoreTest.smoke.sql[0].query: expected one statement: a smoke check runs a single query",
    ],
    [
      "two expectations",
      withRestoreTest(sql({ atLeast: 1, equals: 2 })),
      "backup.policies[0].restoreTest.smoke.sql[0].expect: expected exactly one of atLeast, equals or withinSecondsOf, got atLeast and equals",
    ],
    [
      "no expectation",
      withRestoreTest(sql({})),
      "backup.policies[0].restoreTest.smoke.sql[0].expect: expected exactly one of atLeast, equals or withinSecondsOf, got none",
    ],
    [
      "withinSecondsOf without seconds",
      withRestoreTest(sql({ withinSecondsOf: "snapshotTime" })),
      'backup.policies[0].restoreTest.smoke.sql[0].expect.seconds: withinSecondsOf "snapshotTime" needs seconds (the RPO the data must be within)',
    ],
    [
      "sql checks on RDS instances with no checker to run them",
      withRestoreTest({ rds: RDS, smoke: { sql: [{ name: "n", query: "select 1", expect: { atLeast: 1 } }] } }),
      "backup.policies[0].restoreTest.rds.checker: sql checks on an RDS instance run from the checker function in the VPC: give its subnetIds and securityGroupIds",
    ],
    [
      "a checker with no sql check",
      withRestoreTest({ rds: RDS_PG }),
      "backup.policies[0].restoreTest.rds.checker: there are no sql checks: checker changes nothing",
    ],
    [
      "a checker for a policy of Aurora clusters only (the Data API needs none)",
      withRestoreTest(
        { rds: RDS_PG, smoke: { sql: [{ name: "n", query: "select 1", expect: { atLeast: 1 } }] } },
        { selection: { ids: [{ kind: "aurora-cluster", id: "orders-aurora" }] } },
      ),
      "backup.policies[0].restoreTest.rds.checker: the policy selects no RDS instance (Aurora's sql checks use the Data API): checker changes nothing",
    ],
    [
      "a T class for Aurora sql checks (the Data API isn't supported on T classes: https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.limitations.html)",
      withRestoreTest(
        { rds: { ...RDS, instanceClass: "db.t4g.medium" }, smoke: { sql: [{ name: "n", query: "select 1", expect: { atLeast: 1 } }] } },
        { selection: { ids: [{ kind: "aurora-cluster", id: "orders-aurora" }] } },
      ),
      "backup.policies[0].restoreTest.rds.instanceClass: db.t4g.medium is a T class, and the RDS Data API that runs Aurora's sql checks isn't supported on T classes: use db.r6g.large or larger",
    ],
    [
      "a checker in more than 16 subnets",
      withRestoreTest({
        rds: { ...RDS, checker: { ...CHECKER, subnetIds: Array.from({ length: 17 }, (_, i) => `subnet-${String(i).padStart(17, "0")}`) } },
        smoke: { sql: [{ name: "n", query: "select 1", expect: { atLeast: 1 } }] },
      }),
      "backup.policies[0].restoreTest.rds.checker.subnetIds: Lambda takes at most 16 subnets",
    ],
    [
      "two policies restoring in one region with different checkers",
      {
        ...base,
        backup: {
          policies: [
            { name: "a", selection: { tag: { tier: "a" } }, restoreTest: sql({ atLeast: 1 }) },
            {
              name: "b",
              selection: { tag: { tier: "b" } },
              restoreTest: { ...sql({ atLeast: 1 }), rds: { ...RDS, checker: { ...CHECKER, securityGroupIds: ["sg-0aaaaaaaaaaaaaaaa"] } } },
            },
          ],
        },
      },
      "backup.policies[1].restoreTest.rds.checker: policies a and b restore in eu-central-1 with different checkers: one checker runs per region, give them the same subnetIds and securityGroupIds",
    ],
    [
      "sql checks that together could outlast one invocation",
      withRestoreTest({
        ...sql({ atLeast: 1 }),
        smoke: { timeoutSeconds: 301, sql: [1, 2].map((n) => ({ name: `q${n}`, query: "select 1", expect: { atLeast: 1 } })) },
      }),
      "backup.policies[0].restoreTest.smoke.timeoutSeconds: 2 sql checks × 301 s = 602 s: the checks run in one invocation, keep sql checks × timeoutSeconds at most 600 s",
    ],
    [
      "a secret with no sql check",
      withRestoreTest({ rds: RDS, smoke: { secretArn: "arn:aws:secretsmanager:eu-central-1:123456789012:secret:db-AbCdEf" } }),
      "backup.policies[0].restoreTest.smoke.secretArn: secretArn is used by sql checks only, and there are none: it changes nothing",
    ],
    [
      "a smoke check that checks nothing",
      withRestoreTest({ rds: RDS, smoke: { available: false } }),
      "backup.policies[0].restoreTest.smoke.available: a smoke check that checks nothing: keep available or add sql checks",
    ],
    [
      "a security group that is not one",
      withRestoreTest({ rds: { ...RDS, vpcSecurityGroupIds: ["default"] } }),
      "backup.policies[0].restoreTest.rds.vpcSecurityGroupIds[0]: expected a security group id such as sg-0123456789abcdef0",
    ],
    ["a misspelt field", withRestoreTest({ rds: RDS, maxConcurrentRestore: 2 }), 'backup.policies[0].restoreTest: Unrecognized key: "maxConcurrentRestore"'],
  ])("refuses %s, naming the field", (_what, input, message) => {
    expect(() => parseConfig(input)).toThrow(message);
  });
});
