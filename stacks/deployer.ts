/**
 * What the identity that runs `sst deploy` needs, derived from what the stage actually declares.
 *
 * Plain data, no SST globals: `npm run deployer-policy` synthesizes the stage offline (scripts/sst-synth.ts)
 * and renders {@link deployerPolicy} from the resource types it finds. A resource type the stacks start to
 * declare without a row in {@link RESOURCE_ACTIONS} fails the policy (and its test), so the README's
 * deployer policy cannot fall behind the infrastructure.
 *
 * Actions per type are what the Pulumi AWS provider calls to create, read (refresh, diff), update, tag and
 * delete it (the provider is built on the Terraform AWS provider: its resource pages list the API calls).
 * Every action is checked against the Service Authorization Reference
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html)
 * by test/infra/deployer.test.ts.
 */

export interface DeployerStatement {
  Sid: string;
  Effect: "Allow";
  Action: string[];
  Resource: string[];
}

export interface DeployerPolicy {
  Version: "2012-10-17";
  Statement: DeployerStatement[];
}

interface TypeRow {
  /** IAM actions the provider calls for this resource type. */
  actions: readonly string[];
  /** What the actions act on; `{prefix}` is the stage's name prefix, `{account}`, `{partition}` the target. */
  resources: readonly string[];
  /** Statement id: types sharing a service and scope are merged into one statement. */
  sid: string;
}

const ANY = ["*"] as const;
const ROLES = ["arn:{partition}:iam::{account}:role/*"] as const;
const STAGE_BUCKETS = ["arn:{partition}:s3:::{prefix}*"] as const;

/**
 * Pulumi resource type → what deploying it takes. Types not from the AWS provider (sst:*, pulumi:*, random:*)
 * make no AWS call of their own and are not listed.
 */
export const RESOURCE_ACTIONS: Readonly<Record<string, TypeRow>> = {
  "aws:iam/role:Role": {
    sid: "Roles",
    actions: [
      "iam:CreateRole",
      "iam:GetRole",
      "iam:UpdateRole",
      "iam:DeleteRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:ListRolePolicies",
      "iam:GetRolePolicy",
      "iam:PutRolePolicy",
      "iam:DeleteRolePolicy",
      "iam:ListAttachedRolePolicies",
      "iam:AttachRolePolicy",
      "iam:DetachRolePolicy",
      "iam:ListInstanceProfilesForRole",
      // Lambda, EventBridge Scheduler, EventBridge rules and Step Functions are given their roles at create time.
      "iam:PassRole",
    ],
    resources: ROLES,
  },
  "aws:lambda/function:Function": {
    sid: "Functions",
    actions: [
      "lambda:CreateFunction",
      "lambda:GetFunction",
      "lambda:GetFunctionConfiguration",
      "lambda:GetFunctionCodeSigningConfig",
      "lambda:ListVersionsByFunction",
      "lambda:UpdateFunctionCode",
      "lambda:UpdateFunctionConfiguration",
      "lambda:DeleteFunction",
      "lambda:TagResource",
      "lambda:UntagResource",
      "lambda:ListTags",
      "lambda:GetPolicy",
    ],
    resources: ["arn:{partition}:lambda:*:{account}:function:{prefix}*"],
  },
  "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": {
    sid: "Functions",
    actions: [
      "lambda:PutFunctionEventInvokeConfig",
      "lambda:GetFunctionEventInvokeConfig",
      "lambda:UpdateFunctionEventInvokeConfig",
      "lambda:DeleteFunctionEventInvokeConfig",
    ],
    resources: ["arn:{partition}:lambda:*:{account}:function:{prefix}*"],
  },
  "aws:cloudwatch/logGroup:LogGroup": {
    sid: "LogGroups",
    actions: [
      "logs:CreateLogGroup",
      "logs:DeleteLogGroup",
      "logs:DescribeLogGroups",
      "logs:PutRetentionPolicy",
      "logs:DeleteRetentionPolicy",
      "logs:TagResource",
      "logs:UntagResource",
      "logs:ListTagsForResource",
      "logs:ListTagsLogGroup",
    ],
    resources: ANY,
  },
  "aws:cloudwatch/metricAlarm:MetricAlarm": {
    sid: "Alarms",
    actions: [
      "cloudwatch:PutMetricAlarm",
      "cloudwatch:DescribeAlarms",
      "cloudwatch:DeleteAlarms",
      "cloudwatch:TagResource",
      "cloudwatch:UntagResource",
      "cloudwatch:ListTagsForResource",
    ],
    resources: ["arn:{partition}:cloudwatch:*:{account}:alarm:{prefix}*"],
  },
  "aws:cloudwatch/dashboard:Dashboard": {
    sid: "Dashboards",
    actions: ["cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards"],
    // Dashboards are global to the account: their ARN has no region.
    resources: ["arn:{partition}:cloudwatch::{account}:dashboard/{prefix}*"],
  },
  "aws:cloudwatch/eventRule:EventRule": {
    sid: "EventBridge",
    actions: [
      "events:PutRule",
      "events:DescribeRule",
      "events:DeleteRule",
      "events:EnableRule",
      "events:DisableRule",
      "events:TagResource",
      "events:UntagResource",
      "events:ListTagsForResource",
    ],
    resources: ANY,
  },
  "aws:cloudwatch/eventTarget:EventTarget": {
    sid: "EventBridge",
    actions: ["events:PutTargets", "events:RemoveTargets", "events:ListTargetsByRule"],
    resources: ANY,
  },
  "aws:cloudwatch/eventConnection:EventConnection": {
    sid: "EventBridge",
    actions: ["events:CreateConnection", "events:DescribeConnection", "events:UpdateConnection", "events:DeleteConnection"],
    resources: ANY,
  },
  "aws:cloudwatch/eventApiDestination:EventApiDestination": {
    sid: "EventBridge",
    actions: ["events:CreateApiDestination", "events:DescribeApiDestination", "events:UpdateApiDestination", "events:DeleteApiDestination"],
    resources: ANY,
  },
  "aws:scheduler/schedule:Schedule": {
    sid: "Schedules",
    actions: ["scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"],
    resources: ["arn:{partition}:scheduler:*:{account}:schedule/default/{prefix}*"],
  },
  "aws:sfn/stateMachine:StateMachine": {
    sid: "StateMachines",
    actions: [
      "states:CreateStateMachine",
      "states:DescribeStateMachine",
      "states:UpdateStateMachine",
      "states:DeleteStateMachine",
      "states:ListStateMachineVersions",
      "states:TagResource",
      "states:UntagResource",
      "states:ListTagsForResource",
      // Execution logging to CloudWatch Logs is a vended log delivery the caller sets up
      // (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html).
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
    ],
    resources: ANY,
  },
  // The pager topic (stacks/notifications.ts); the provider reads its attributes and tags on refresh
  // (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/sns_topic).
  "aws:sns/topic:Topic": {
    sid: "Topics",
    actions: [
      "sns:CreateTopic",
      "sns:GetTopicAttributes",
      "sns:SetTopicAttributes",
      "sns:DeleteTopic",
      "sns:TagResource",
      "sns:UntagResource",
      "sns:ListTagsForResource",
    ],
    resources: ["arn:{partition}:sns:*:{account}:{prefix}*"],
  },
  "aws:sqs/queue:Queue": {
    sid: "Queues",
    actions: [
      "sqs:CreateQueue",
      "sqs:GetQueueUrl",
      "sqs:GetQueueAttributes",
      "sqs:SetQueueAttributes",
      "sqs:DeleteQueue",
      "sqs:TagQueue",
      "sqs:UntagQueue",
      "sqs:ListQueueTags",
    ],
    resources: ["arn:{partition}:sqs:*:{account}:{prefix}*"],
  },
  "aws:sqs/queuePolicy:QueuePolicy": {
    sid: "Queues",
    actions: ["sqs:SetQueueAttributes", "sqs:GetQueueAttributes"],
    resources: ["arn:{partition}:sqs:*:{account}:{prefix}*"],
  },
  "aws:s3/bucket:Bucket": {
    sid: "Buckets",
    actions: [
      "s3:CreateBucket",
      "s3:DeleteBucket",
      "s3:ListBucket",
      "s3:GetBucketAcl",
      "s3:GetBucketCORS",
      "s3:GetBucketWebsite",
      "s3:GetBucketLogging",
      "s3:GetBucketRequestPayment",
      "s3:GetAccelerateConfiguration",
      "s3:GetReplicationConfiguration",
      "s3:GetBucketObjectLockConfiguration",
      "s3:GetBucketOwnershipControls",
      "s3:GetBucketTagging",
      "s3:PutBucketTagging",
    ],
    resources: STAGE_BUCKETS,
  },
  "aws:s3/bucketVersioning:BucketVersioning": {
    sid: "Buckets",
    actions: ["s3:GetBucketVersioning", "s3:PutBucketVersioning"],
    resources: STAGE_BUCKETS,
  },
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {
    sid: "Buckets",
    actions: ["s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"],
    resources: STAGE_BUCKETS,
  },
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": {
    sid: "Buckets",
    actions: ["s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration"],
    resources: STAGE_BUCKETS,
  },
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": {
    sid: "Buckets",
    actions: ["s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration"],
    resources: STAGE_BUCKETS,
  },
  "aws:s3/bucketPolicy:BucketPolicy": {
    sid: "Buckets",
    actions: ["s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"],
    resources: STAGE_BUCKETS,
  },
  "aws:schemas/schema:Schema": {
    // The Lambda console's shareable test events are schemas named `_<function name>-schema` in the `lambda-testevent-schemas` registry (stacks/test-events.ts).
    sid: "TestEvents",
    actions: [
      "schemas:CreateSchema",
      "schemas:DescribeSchema",
      "schemas:UpdateSchema",
      "schemas:DeleteSchema",
      "schemas:TagResource",
      "schemas:UntagResource",
      "schemas:ListTagsForResource",
    ],
    resources: ["arn:{partition}:schemas:*:{account}:schema/lambda-testevent-schemas/_{prefix}*"],
  },
  "aws:schemas/registry:Registry": {
    sid: "TestEvents",
    actions: [
      "schemas:CreateRegistry",
      "schemas:DescribeRegistry",
      "schemas:UpdateRegistry",
      "schemas:DeleteRegistry",
      "schemas:TagResource",
      "schemas:UntagResource",
      "schemas:ListTagsForResource",
    ],
    resources: ["arn:{partition}:schemas:*:{account}:registry/lambda-testevent-schemas"],
  },
  "aws:s3/bucketObjectv2:BucketObjectv2": {
    // The functions' code zips in SST's asset bucket, and the observe window's start in the stage's buckets.
    sid: "Objects",
    actions: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:GetObjectTagging", "s3:PutObjectTagging"],
    resources: ["arn:{partition}:s3:::sst-asset-*/*", "arn:{partition}:s3:::{prefix}*/*"],
  },
};

/**
 * What SST itself needs whatever the app declares: its per-region bootstrap (state and asset buckets, the
 * bootstrap and passphrase parameters), the app's secrets in SSM, and the account lookup
 * (https://sst.dev/docs/iam-credentials, "IAM permissions"; https://sst.dev/docs/state).
 */
export const SST_STATEMENTS: readonly DeployerStatement[] = [
  {
    Sid: "SstBootstrap",
    Effect: "Allow",
    Action: [
      "s3:CreateBucket",
      "s3:PutBucketVersioning",
      "s3:PutBucketNotification",
      "s3:PutBucketPolicy",
      "s3:ListBucket",
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
    ],
    Resource: [
      "arn:{partition}:s3:::sst-state-*",
      "arn:{partition}:s3:::sst-state-*/*",
      "arn:{partition}:s3:::sst-asset-*",
      "arn:{partition}:s3:::sst-asset-*/*",
    ],
  },
  {
    Sid: "SstParameters",
    Effect: "Allow",
    Action: ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:PutParameter", "ssm:DeleteParameter"],
    Resource: ["arn:{partition}:ssm:*:{account}:parameter/sst/*"],
  },
  { Sid: "Identity", Effect: "Allow", Action: ["sts:GetCallerIdentity"], Resource: ["*"] },
  // Creating or updating a function in a VPC (the restore-test checker): Lambda checks the subnets and security groups
  // with the deployer's permissions (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html, "User
  // permissions"); these EC2 reads take no resource-level permission.
  { Sid: "VpcFunctions", Effect: "Allow", Action: ["ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"], Resource: ["*"] },
];

export interface DeployerTarget {
  account: string;
  partition: string;
  /** The stage's resource name prefix, e.g. `ops-autopilot-prod-`. */
  prefix: string;
}

/** Pulumi types in `types` the table has no row for (AWS provider types only). */
export function undeclaredTypes(types: Iterable<string>): string[] {
  return [...new Set(types)].filter((t) => t.startsWith("aws:") && !(t in RESOURCE_ACTIONS)).sort();
}

/**
 * The deployer policy for the resource types a stage declares. Throws naming any AWS resource type without a
 * row, rather than render a policy that would fail the deploy half-way.
 */
export function deployerPolicy(types: Iterable<string>, target: DeployerTarget): DeployerPolicy {
  const list = [...new Set(types)];
  const missing = undeclaredTypes(list);
  if (missing.length) {
    throw new Error(`stacks/deployer.ts has no actions for ${missing.join(", ")}: add a row to RESOURCE_ACTIONS`);
  }
  const bySid = new Map<string, DeployerStatement>();
  const add = (s: DeployerStatement) => {
    const prev = bySid.get(s.Sid);
    if (!prev) {
      bySid.set(s.Sid, { ...s, Action: [...s.Action], Resource: [...s.Resource] });
      return;
    }
    for (const a of s.Action) if (!prev.Action.includes(a)) prev.Action.push(a);
    for (const r of s.Resource) if (!prev.Resource.includes(r)) prev.Resource.push(r);
  };
  for (const s of SST_STATEMENTS) add(s);
  for (const type of list.filter((t) => t.startsWith("aws:")).sort()) {
    const row = RESOURCE_ACTIONS[type]!;
    add({ Sid: row.sid, Effect: "Allow", Action: [...row.actions], Resource: [...row.resources] });
  }
  const fill = (s: string) => s.replaceAll("{account}", target.account).replaceAll("{partition}", target.partition).replaceAll("{prefix}", target.prefix);
  return {
    Version: "2012-10-17",
    Statement: [...bySid.values()].map((s) => ({ ...s, Action: [...s.Action].sort(), Resource: s.Resource.map(fill) })),
  };
}
