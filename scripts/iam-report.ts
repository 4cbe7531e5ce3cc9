/**
 * `npm run iam-report`: for each function, the IAM actions its role grants (derived by stacks/iam.ts from
 * adapters/calls.ts and runbooks/lib/calls.ts, for config/example.json) against the actions the sandbox
 * authorized while the test suite ran (out/iam-usage/, written by sandbox/aws/iam/usage.ts).
 *
 *   node scripts/iam-report.ts            print the table
 *   node scripts/iam-report.ts --check    also fail on a denied call, or on a grant no test exercised
 *                                         that is not listed in UNEXERCISED with its reason (npm test runs this)
 *   node scripts/iam-report.ts --readme   rewrite the table in README.md between its markers
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../stacks/config.ts";
import { deployedFunctions, type FunctionName } from "../stacks/functions.ts";
import { permissionsFor, REPORTS_LINK_ACTIONS, type IamContext } from "../stacks/iam.ts";
import type { UsageCounts } from "../sandbox/aws/iam/usage.ts";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Why a VPC function's network-interface grants are never exercised by a test. */
const VPC_ENI =
  "Lambda attaches the VPC checker to its subnets with the function's role (the actions of AWSLambdaVPCAccessExecutionRole, https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html); no function code calls it";

/**
 * Grants no sandbox test can exercise, each with why the role needs it. A grant missing from both the
 * usage and this list fails `--check`: remove the grant (drop its adapter call) or explain it here.
 */
export const UNEXERCISED: Record<string, string> = {
  "restore-test-checker:ec2:CreateNetworkInterface": VPC_ENI,
  "restore-test-checker:ec2:DeleteNetworkInterface": VPC_ENI,
  "restore-test-checker:ec2:AssignPrivateIpAddresses": VPC_ENI,
  "restore-test-checker:ec2:UnassignPrivateIpAddresses": VPC_ENI,
  "restore-test-checker:ec2:DescribeNetworkInterfaces": VPC_ENI,
  "restore-test-checker:ec2:DescribeSubnets": VPC_ENI,

  "*:sqs:SendMessage":
    "Lambda sends a failed asynchronous invocation to the on-failure destination (the DLQ) with the function's role; no function code calls it",
  "copy:kms:ReEncryptFrom":
    "EBS re-encrypts a copy under the destination key (kms:ReEncrypt* in the EBS encryption requirements); the sandbox models it, but only copies with an explicit key reach it",
  "failover:rds:DescribeGlobalClusters": "Aurora global database groups only; the sandbox's failover scenarios use an RDS read replica",
  "failover:rds:DescribeDBClusters": "Aurora groups only; the sandbox's failover scenarios use an RDS read replica",
  "backup:s3:ListBucket":
    "granted by the shared Reports link; a claim is read only after its conditional create found it there, so no 404 (which needs ListBucket) reaches the backup",
  "copy:s3:ListBucket":
    "granted by the shared Reports link; a claim is read only after its conditional create found it there, so no 404 (which needs ListBucket) reaches the copy",
  "failover:route53:ListResourceRecordSets":
    "reads the record before and after the change (adapters/route53.ts currentValue); exercised with aws-sdk-client-mock in test/unit/failover/runbook-aws.test.ts, not by the sandbox scenarios",
  "*:sns:Publish":
    "every posting function pages its criticals through the shared handler chain (runbooks/lib/handler.ts); the watchdog's new incident exercises it on the sandbox (test/unit/functions/watchdog-on-sandbox.test.ts), the others' run-failed alerts take the same path",
  "warm:s3:GetObject": "warm leftovers are read through s3.getJson, exercised by the other functions; the warm tests keep leftovers in memory",
  "warm:s3:PutObject": "the run report is saved through s3.putJson, exercised by the other functions; the warm tests replace the report store",
  "warm:s3:ListBucket": "a missing leftovers object answers 404 (not 403) only with s3:ListBucket; exercised by the other functions",
  "cost:s3:GetObject": "alert state is read through s3.getJson, exercised by the other functions; the cost tests keep the state in memory",
  "cost:s3:PutObject": "the run report and alert state are saved through s3.putJson, exercised by the other functions; the cost tests replace the stores",
  "cost:s3:ListBucket": "a missing alert-state object answers 404 (not 403) only with s3:ListBucket; exercised by the other functions",
};

function readUsage(dir: string): UsageCounts {
  const merged: UsageCounts = {};
  if (!existsSync(dir)) return merged;
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
    const part = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as UsageCounts;
    for (const [fn, actions] of Object.entries(part)) {
      const into = (merged[fn] ??= {});
      for (const [action, n] of Object.entries(actions)) {
        const e = (into[action] ??= { allowed: 0, denied: 0 });
        e.allowed += n.allowed;
        e.denied += n.denied;
        e.expected = (e.expected ?? 0) + (n.expected ?? 0);
      }
    }
  }
  return merged;
}

export interface Row {
  fn: FunctionName;
  action: string;
  granted: boolean;
  called: number;
  denied: number;
  note: string;
}

export function buildRows(usage: UsageCounts): Row[] {
  const config = loadConfig("ops-autopilot", "ci", root, { OPS_AUTOPILOT_CONFIG_FILE: "config/example.json" });
  const ctx: IamContext = {
    config,
    account: "123456789012",
    partition: "aws",
    dlqArn: `arn:aws:sqs:${config.primaryRegion}:123456789012:dead-letters`,
    stateBucketArn: "arn:aws:s3:::failover-state",
    reportsBucketArn: "arn:aws:s3:::reports",
  };
  const rows: Row[] = [];
  // Only what the example deploys: a function it does not (restore-test: no policy of the example has a restoreTest
  // block) has no role here to hold its calls against; its sandbox tests enforce the role their own configuration derives.
  for (const spec of deployedFunctions(config)) {
    const granted = new Set(permissionsFor(spec.name, ctx).flatMap((s) => s.actions));
    if (spec.reports) for (const a of REPORTS_LINK_ACTIONS) granted.add(a);
    const used = usage[spec.name] ?? {};
    for (const action of [...new Set([...granted, ...Object.keys(used)])].sort()) {
      const u = used[action] ?? { allowed: 0, denied: 0 };
      const why = UNEXERCISED[`${spec.name}:${action}`] ?? UNEXERCISED[`*:${action}`];
      const isGranted = granted.has(action);
      const note = u.denied > 0 ? "DENIED in tests" : u.allowed > 0 ? "" : isGranted ? (why ?? "NOT EXERCISED by any test") : "";
      rows.push({ fn: spec.name, action, granted: isGranted, called: u.allowed, denied: u.denied, note });
    }
  }
  return rows;
}

export function renderTable(rows: Row[]): string {
  const lines = ["| Function | Action | Granted | Authorized in tests | Note |", "|---|---|---|---|---|"];
  for (const r of rows) {
    lines.push(`| ${r.fn} | \`${r.action}\` | ${r.granted ? "yes" : "**no**"} | ${r.called}${r.denied ? ` (+${r.denied} denied)` : ""} | ${r.note} |`);
  }
  return lines.join("\n");
}

function problems(rows: Row[]): string[] {
  const out: string[] = [];
  for (const r of rows) {
    if (r.denied > 0) out.push(`${r.fn}: ${r.action} was denied ${r.denied} time(s) during the tests`);
    if (r.granted && r.called === 0 && r.note === "NOT EXERCISED by any test")
      out.push(`${r.fn}: ${r.action} is granted but no test exercised it and UNEXERCISED gives no reason`);
    if (!r.granted && r.called > 0) out.push(`${r.fn}: ${r.action} was authorized in tests but the example config's role does not grant it`);
  }
  return out;
}

const START = "<!-- iam-report:start -->";
const END = "<!-- iam-report:end -->";

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const usage = readUsage(path.join(root, "out/iam-usage"));
  const rows = buildRows(usage);
  const table = renderTable(rows);
  console.log(table);
  if (process.argv.includes("--readme")) {
    const file = path.join(root, "README.md");
    const text = readFileSync(file, "utf8");
    const a = text.indexOf(START);
    const b = text.indexOf(END);
    if (a < 0 || b < a) throw new Error(`README.md has no ${START} … ${END} section`);
    writeFileSync(file, `${text.slice(0, a + START.length)}\n${table}\n${text.slice(b)}`);
    console.log("README.md IAM table updated");
  }
  if (process.argv.includes("--check")) {
    if (Object.keys(usage).length === 0) {
      console.error("iam-report: no usage recorded in out/iam-usage (run the tests first)");
      process.exit(1);
    }
    const bad = problems(rows);
    if (bad.length) {
      console.error(`iam-report: ${bad.length} problem(s):\n- ${bad.join("\n- ")}`);
      process.exit(1);
    }
    console.log(`iam-report: every call was allowed; every grant (${rows.filter((r) => r.granted).length}) was exercised or has its reason`);
  }
}
