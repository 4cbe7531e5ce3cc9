/**
 * `npm run bench:iam`: what IAM enforcement costs the sandbox. Evaluates the prune and backup roles (example
 * config) against typical requests, and prints the time per authorization.
 */
import { loadConfig } from "../stacks/config.ts";
import { permissionsFor, reportsLinkStatements, type IamContext } from "../stacks/iam.ts";
import { evaluate, type AuthRequest } from "../sandbox/aws/iam/policy.ts";

const root = new URL("..", import.meta.url).pathname;
const config = loadConfig("ops-autopilot", "ci", root, { OPS_AUTOPILOT_CONFIG_FILE: "config/example.json" });
const ctx: IamContext = { config, account: "123456789012", partition: "aws", dlqArn: "arn:aws:sqs:eu-west-1:123456789012:dlq" };
const roles = {
  prune: [...permissionsFor("prune", ctx), ...reportsLinkStatements("arn:aws:s3:::reports")],
  backup: [...permissionsFor("backup", ctx), ...reportsLinkStatements("arn:aws:s3:::reports")],
};
const requests: Array<[keyof typeof roles, AuthRequest]> = [
  ["prune", { action: "rds:DescribeDBSnapshots", resource: "*", context: { "aws:RequestedRegion": "eu-west-1" } }],
  [
    "prune",
    {
      action: "rds:DeleteDBSnapshot",
      resource: "arn:aws:rds:eu-west-1:123456789012:snapshot:oa-ops-autopilot-ci-app-db-20261121",
      context: {
        "aws:RequestedRegion": "eu-west-1",
        "aws:ResourceTag/ops-autopilot:managed-by": "ops-autopilot:ci",
        "aws:ResourceTag/ops-autopilot:name": "oa-ops-autopilot-ci-app-db-20261121",
      },
    },
  ],
  ["backup", { action: "s3:PutObject", resource: "arn:aws:s3:::reports/reports/backup/x.json", context: { "aws:RequestedRegion": "eu-west-1" } }],
  [
    "backup",
    {
      action: "rds:AddTagsToResource",
      resource: "arn:aws:rds:eu-west-1:123456789012:snapshot:oa-ops-autopilot-ci-app-db-20261121",
      context: {
        "aws:RequestedRegion": "eu-west-1",
        "aws:RequestTag/ops-autopilot:managed-by": "ops-autopilot:ci",
        "aws:TagKeys": ["ops-autopilot:managed-by"],
      },
    },
  ],
];
const N = 200_000;
for (let round = 0; round < 3; round++) {
  const t0 = performance.now();
  let allowed = 0;
  for (let i = 0; i < N; i++) {
    const [role, req] = requests[i % requests.length]!;
    if (evaluate(roles[role], req).allowed) allowed++;
  }
  const ms = performance.now() - t0;
  console.log(`round ${round + 1}: ${N} authorizations in ${ms.toFixed(0)} ms = ${((ms * 1000) / N).toFixed(2)} µs each (${allowed} allowed)`);
}
