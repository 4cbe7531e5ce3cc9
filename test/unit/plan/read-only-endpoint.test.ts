import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DeleteDBSnapshotCommand } from "@aws-sdk/client-rds";
import { ListResourceRecordSetsCommand } from "@aws-sdk/client-route-53";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ADAPTER_CALLS, type AdapterCall, actionsOf, bareAction } from "../../../adapters/calls.ts";
import {
  cloudwatch,
  costExplorer,
  ec2,
  isReadOnly,
  lambda,
  organizations,
  rds,
  rdsData,
  resetClients,
  route53,
  s3,
  secretsManager,
  sns,
  setReadOnly,
  sts,
} from "../../../adapters/clients.ts";
import {
  isAllowedRead,
  isReadName,
  READ_ONLY_MIDDLEWARE_NAME,
  READ_ONLY_OPERATIONS,
  READ_VERBS,
  type ReadOnlyService,
  ReadOnlyViolation,
} from "../../../adapters/read-only.ts";
import { runPlanCli } from "../../../scripts/plan.ts";
import { type FakeEndpoint, startFakeEndpoint } from "./aws-endpoint.ts";

/**
 * The plan against any AWS-compatible endpoint, with the real SDK clients (no client mock): the SDK reads
 * AWS_ENDPOINT_URL itself (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html), the requests
 * arrive at a local server, and the read-only middleware refuses every mutating command before any request is sent.
 */

const REPO = path.resolve(new URL("../../..", import.meta.url).pathname);
const STAGE = "endpoint";
const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const CONFIG = {
  primaryRegion: PRIMARY,
  drRegions: [{ region: DR, kmsKeyId: "alias/dr" }],
  backup: { policies: [{ name: "db", selection: { tag: { key: "ops-autopilot:backup", value: "db" } } }] },
  failover: {
    groups: [
      {
        name: "app-db",
        alarms: ["app-db-primary-down"],
        primary: { kind: "rds-instance", id: "app-db", region: PRIMARY },
        replica: { kind: "rds-instance", id: "app-db-dr", region: DR },
        dns: {
          hostedZoneId: "Z0123456789ABC",
          recordName: "db.example.com",
          recordType: "CNAME",
          ttl: 60,
          primary: { values: ["a.example.com"] },
          dr: { values: ["b.example.com"] },
        },
        healthUrl: "https://dr.example.com/health",
      },
    ],
  },
};

/** IAM service prefix → the client factory of adapters/clients.ts and the SDK package of its commands. */
const CLIENTS: Record<string, { service: ReadOnlyService; client: () => { send(c: unknown): Promise<unknown> }; pkg: string }> = {
  rds: { service: "rds", client: () => rds(PRIMARY), pkg: "@aws-sdk/client-rds" },
  ec2: { service: "ec2", client: () => ec2(PRIMARY), pkg: "@aws-sdk/client-ec2" },
  s3: { service: "s3", client: () => s3(PRIMARY), pkg: "@aws-sdk/client-s3" },
  route53: { service: "route53", client: () => route53(), pkg: "@aws-sdk/client-route-53" },
  cloudwatch: { service: "cloudwatch", client: () => cloudwatch(PRIMARY), pkg: "@aws-sdk/client-cloudwatch" },
  ce: { service: "ce", client: () => costExplorer(), pkg: "@aws-sdk/client-cost-explorer" },
  "rds-data": { service: "rds-data", client: () => rdsData(PRIMARY), pkg: "@aws-sdk/client-rds-data" },
  secretsmanager: { service: "secretsmanager", client: () => secretsManager(PRIMARY), pkg: "@aws-sdk/client-secrets-manager" },
  lambda: { service: "lambda", client: () => lambda(PRIMARY), pkg: "@aws-sdk/client-lambda" },
  sns: { service: "sns", client: () => sns(PRIMARY), pkg: "@aws-sdk/client-sns" },
  sts: { service: "sts", client: () => sts(PRIMARY), pkg: "@aws-sdk/client-sts" },
  organizations: { service: "organizations", client: () => organizations(), pkg: "@aws-sdk/client-organizations" },
};

/** Every IAM action the functions' adapters declare (adapters/calls.ts), KMS excepted: KMS is checked by RDS and EC2 on our behalf, never sent. */
const DECLARED = [...new Set(actionsOf(Object.keys(ADAPTER_CALLS) as AdapterCall[]).map(bareAction))].filter((a) => !a.startsWith("kms:"));
const MUTATING = DECLARED.filter((a) => !isReadName(a.split(":")[1]!));

let endpoint: FakeEndpoint;
let root: string;
const saved: Record<string, string | undefined> = {};
const ENV = [
  "AWS_ENDPOINT_URL",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_PROFILE",
  "AWS_EC2_METADATA_DISABLED",
  "AWS_REGION",
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_CONFIG_FILE",
];

beforeAll(async () => {
  endpoint = await startFakeEndpoint();
  for (const k of ENV) saved[k] = process.env[k];
  for (const k of ENV) delete process.env[k];
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint.url,
    AWS_ACCESS_KEY_ID: "AKIDPLANTEST",
    AWS_SECRET_ACCESS_KEY: "plan-test-secret",
    AWS_EC2_METADATA_DISABLED: "true",
  });
});

afterAll(async () => {
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  await endpoint.close();
});

beforeEach(() => {
  endpoint.seen.length = 0;
  root = mkdtempSync(path.join(tmpdir(), "plan-endpoint-"));
  copyFileSync(path.join(REPO, "sst.config.ts"), path.join(root, "sst.config.ts"));
  mkdirSync(path.join(root, "config"));
  writeFileSync(path.join(root, "config", `${STAGE}.json`), JSON.stringify(CONFIG));
  setReadOnly(true);
});

afterEach(() => {
  setReadOnly(false);
  resetClients();
  rmSync(root, { recursive: true, force: true });
});

describe("npm run plan against AWS_ENDPOINT_URL (real SDK clients)", () => {
  it("sends every read to the endpoint, in each service's protocol, and plans from the answers", async () => {
    let out = "";
    const code = await runPlanCli(["--stage", STAGE, "--state-bucket", "reports-bucket"], {
      root,
      env: {},
      now: () => new Date("2026-11-30T01:00:00Z"),
      probe: { check: async () => ({ ok: false, ms: 0, detail: "not probed" }) },
      out: (t) => {
        out += t;
      },
      err: () => {},
    });
    expect(code).toBe(0);
    expect([...new Set(endpoint.seen.map((r) => r.accessKeyId))]).toEqual(["AKIDPLANTEST"]);
    const ops = [...new Set(endpoint.seen.map((r) => `${r.service} ${r.region} ${r.protocol} ${r.operation}`))].sort();
    expect(ops).toEqual([
      "ce us-east-1 json GetCostAndUsage",
      "ce us-east-1 json GetCostForecast",
      `ec2 ${DR} query DescribeImages`,
      `ec2 ${DR} query DescribeSnapshots`,
      `ec2 ${PRIMARY} query DescribeImages`,
      `ec2 ${PRIMARY} query DescribeSnapshots`,
      `ec2 ${PRIMARY} query DescribeVolumes`,
      `monitoring ${DR} json GetMetricData`,
      `rds ${DR} query DescribeDBClusterSnapshots`,
      `rds ${DR} query DescribeDBInstances`,
      `rds ${DR} query DescribeDBSnapshots`,
      `rds ${PRIMARY} query DescribeDBClusterSnapshots`,
      `rds ${PRIMARY} query DescribeDBClusters`,
      `rds ${PRIMARY} query DescribeDBInstances`,
      `rds ${PRIMARY} query DescribeDBSnapshots`,
      `s3 ${PRIMARY} rest-xml GetObject`,
    ]);
    // RDS over the query protocol: a form-encoded POST naming the action and the API version.
    const describe = endpoint.seen.find((r) => r.service === "rds" && r.operation === "DescribeDBInstances")!;
    expect(describe.method).toBe("POST");
    expect(describe.contentType).toBe("application/x-www-form-urlencoded");
    expect(new URLSearchParams(describe.body).get("Version")).toBe("2014-10-31");
    // S3 path-style on a custom endpoint. Nothing to prune, so the day's ledger is not read; prune's observe-mode start
    // is, and the watchdog's alert state.
    expect(endpoint.seen.filter((r) => r.service === "s3").map((r) => `${r.method} ${r.path.split("?")[0]}`)).toEqual([
      "GET /reports-bucket/state/observe.json",
      "GET /reports-bucket/state/alerts/watchdog.json",
    ]);
    expect(endpoint.seen.every((r) => isReadName(r.operation))).toBe(true);
    // Planned from the endpoint's answers: app-db is due a backup, the replica's lag read 2 s.
    expect(out).toContain("  create rds-instance app-db → oa-ops-autopilot-endpoint-app-db-20261130 [daily] — no backup for 2026-11-30 yet; tiers daily");
    expect(out).toContain("    ok   replica-lag — replica lag 2 s ≤ RPO 60 s");
    expect(JSON.parse(readFileSync(path.join(root, "out", "plan", STAGE, "backup.json"), "utf8")).dryRun).toBe(true);
  });

  it("--profile picks the profile's credentials from the shared files (AWS_PROFILE for the default chain)", async () => {
    writeFileSync(path.join(root, "credentials"), "[plan-reader]\naws_access_key_id = AKIDPROFILEREADER\naws_secret_access_key = profile-secret\n");
    writeFileSync(path.join(root, "aws-config"), "[profile plan-reader]\nregion = eu-west-1\n");
    const keys = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    Object.assign(process.env, { AWS_SHARED_CREDENTIALS_FILE: path.join(root, "credentials"), AWS_CONFIG_FILE: path.join(root, "aws-config") });
    try {
      let err = "";
      const code = await runPlanCli(["--stage", STAGE, "--profile", "plan-reader", "--only", "backup"], {
        root,
        env: process.env,
        now: () => new Date("2026-11-30T01:00:00Z"),
        out: () => {},
        err: (t) => {
          err += t;
        },
      });
      expect(code).toBe(0);
      expect(err).toBe(`planning ops-autopilot ${STAGE} (backup), read-only, endpoint ${endpoint.url}, profile plan-reader`);
      expect(process.env.AWS_PROFILE).toBe("plan-reader");
      expect([...new Set(endpoint.seen.map((r) => r.accessKeyId))]).toEqual(["AKIDPROFILEREADER"]);
    } finally {
      delete process.env.AWS_PROFILE;
      delete process.env.AWS_SHARED_CREDENTIALS_FILE;
      delete process.env.AWS_CONFIG_FILE;
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: keys.id, AWS_SECRET_ACCESS_KEY: keys.secret });
    }
  });

  it("refuses a mutating command through the read-only clients before any request reaches the endpoint (and the same command does reach it when read-only is off)", async () => {
    expect(isReadOnly()).toBe(true);
    const err = await rds(PRIMARY)
      .send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: "oa-ops-autopilot-endpoint-app-db-20261101" }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReadOnlyViolation);
    expect((err as Error).message).toBe(
      "read-only mode: rds:DeleteDBSnapshot refused before sending (the plan sends only Describe/List/Get/Head* reads on its allow-list)",
    );
    expect(endpoint.seen).toEqual([]);

    setReadOnly(false);
    await rds(PRIMARY)
      .send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: "oa-ops-autopilot-endpoint-app-db-20261101" }))
      .catch(() => undefined);
    expect(endpoint.seen.map((r) => `${r.service} ${r.operation}`)).toEqual(["rds DeleteDBSnapshot"]);
  });
});

describe("the read-only allow-list", () => {
  it("holds reads only (Describe/List/Get/Head), each one an action the adapters declare in adapters/calls.ts", () => {
    const prefix: Record<ReadOnlyService, string> = {
      rds: "rds",
      ec2: "ec2",
      s3: "s3",
      cloudwatch: "cloudwatch",
      route53: "route53",
      ce: "ce",
      "rds-data": "rds-data",
      secretsmanager: "secretsmanager",
      lambda: "lambda",
      sns: "sns",
      sts: "sts",
      organizations: "organizations",
    };
    const listed = Object.entries(READ_ONLY_OPERATIONS).flatMap(([svc, ops]) => ops.map((op) => `${prefix[svc as ReadOnlyService]}:${op}`));
    expect(READ_VERBS).toEqual(["Describe", "List", "Get", "Head"]);
    for (const a of listed) {
      expect(isReadName(a.split(":")[1]!), a).toBe(true);
      expect(DECLARED, a).toContain(a);
    }
    expect(isReadName("Getaway")).toBe(false);
    expect(isAllowedRead("rds", "DeleteDBSnapshot")).toBe(false);
  });

  it("refuses every mutating command the functions send (adapters/calls.ts), through each read-only client, nothing sent", async () => {
    // At least these; whatever an adapter declares next is tried too.
    expect(MUTATING).toEqual(
      expect.arrayContaining([
        "rds:CreateDBSnapshot",
        "rds:CreateDBClusterSnapshot",
        "rds:AddTagsToResource",
        "rds:CopyDBSnapshot",
        "rds:CopyDBClusterSnapshot",
        "rds:DeleteDBSnapshot",
        "rds:DeleteDBClusterSnapshot",
        "rds:PromoteReadReplica",
        "rds:PromoteReadReplicaDBCluster",
        "rds:FailoverGlobalCluster",
        "rds:SwitchoverGlobalCluster",
        "ec2:CreateSnapshot",
        "ec2:CreateTags",
        "ec2:CopySnapshot",
        "ec2:DeleteSnapshot",
        "s3:PutObject",
        "route53:ChangeResourceRecordSets",
        "sns:Publish",
      ]),
    );
    for (const action of MUTATING) {
      const [prefix, actionName] = action.split(":") as [string, string];
      // The IAM action of Lambda's Invoke API is lambda:InvokeFunction (list_awslambda.html).
      const name = action === "lambda:InvokeFunction" ? "Invoke" : actionName;
      const c = CLIENTS[prefix]!;
      const Command = ((await import(c.pkg)) as Record<string, new (input: object) => unknown>)[`${name}Command`];
      expect(Command, `${c.pkg} has no ${name}Command`).toBeDefined();
      const err = await c
        .client()
        .send(new Command!({}))
        .catch((e: unknown) => e);
      expect(err, action).toBeInstanceOf(ReadOnlyViolation);
      expect((err as ReadOnlyViolation).operation).toBe(name);
      expect((err as Error).message).toContain(`${c.service}:${name} refused before sending`);
    }
    expect(endpoint.seen).toEqual([]);
  });

  it("the Organizations client is read-only too: CreateAccount is refused before sending, ListAccountsForParent (fleet-targets' read) reaches the endpoint", async () => {
    const { CreateAccountCommand, ListAccountsForParentCommand } = await import("@aws-sdk/client-organizations");
    const err = await organizations()
      .send(new CreateAccountCommand({ AccountName: "x", Email: "x@example.com" }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReadOnlyViolation);
    expect((err as Error).message).toContain("organizations:CreateAccount refused before sending");
    expect(endpoint.seen).toEqual([]);
    const read = await organizations()
      .send(new ListAccountsForParentCommand({ ParentId: "ou-ab12-cd34ef56", MaxResults: 20 }))
      .catch((e: unknown) => e);
    expect(read).not.toBeInstanceOf(ReadOnlyViolation);
    expect(endpoint.seen).toHaveLength(1);
  });

  it("denies by default: a read the plan does not make (Route 53 ListResourceRecordSets) is refused too", async () => {
    const err = await route53()
      .send(new ListResourceRecordSetsCommand({ HostedZoneId: "Z0123456789ABC" }))
      .catch((e: unknown) => e);
    expect((err as Error).message).toContain("route53:ListResourceRecordSets refused before sending");
    expect(endpoint.seen).toEqual([]);
  });

  it("sits first in the initialize step of every client made after setReadOnly(true), and on none after setReadOnly(false)", () => {
    for (const c of Object.values(CLIENTS)) {
      const stack = (c.client() as unknown as { middlewareStack: { identify(): string[] } }).middlewareStack.identify();
      expect(stack[0]).toBe(`${READ_ONLY_MIDDLEWARE_NAME} - initialize`);
    }
    setReadOnly(false);
    for (const c of Object.values(CLIENTS)) {
      const stack = (c.client() as unknown as { middlewareStack: { identify(): string[] } }).middlewareStack.identify();
      expect(stack.some((s) => s.startsWith(READ_ONLY_MIDDLEWARE_NAME))).toBe(false);
    }
  });
});
