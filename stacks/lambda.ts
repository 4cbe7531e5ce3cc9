/// <reference path="../.sst/platform/config.d.ts" />
import { CONFIG_FILE_NAME, type Config } from "../schemas/config.ts";
import { NODEJS, notifyLinkNames, RUNTIME, type FunctionSpec } from "./functions.ts";
import { writeRuntimeConfig } from "./config.ts";
import { permissionsFor, type IamContext, type Statement } from "./iam.ts";
import type { ReportsLink } from "./storage.ts";
import type { NotifyLinks } from "./notifications.ts";

/** Retries Lambda makes of a failed asynchronous (scheduled) invocation before it goes to the DLQ. */
export const ASYNC_RETRIES = 2;
/** CloudWatch Logs retention of every function. */
export const LOG_RETENTION = "3 months";

export interface FunctionDeps {
  config: Config;
  /** Account and partition, resolved once: IAM ARNs are built from them. */
  identity: $util.Output<{ account: string; partition: string }>;
  reports: ReportsLink;
  secret: sst.Secret;
  /** The message destinations (stacks/notifications.ts); without them a function that posts links `secret` only. */
  notify?: NotifyLinks;
  /** Failed asynchronous invocations land here (same region as the function). */
  dlq?: sst.aws.Queue;
  stateBucketArn?: $util.Output<string>;
  /** The Reports bucket, for a function given scoped grants on it instead of the `Reports` link (the weekly report). */
  reportsBucketArn?: $util.Output<string>;
  extraEnvironment?: Record<string, $util.Input<string>>;
  provider?: aws.Provider;
  /**
   * Run inside these subnets and security groups (SST attaches AWSLambdaVPCAccessExecutionRole, every network-interface
   * action on `*`). With `ownNetworkInterfaceGrants` the function's own statements carry those grants, scoped
   * (stacks/iam.ts vpcNetworkInterfaceStatements), and the managed policy is left off.
   */
  vpc?: { privateSubnets: string[]; securityGroups: string[]; ownNetworkInterfaceGrants?: boolean };
  /** Component name, default the capitalized function name: a function deployed in several regions needs one per region. */
  component?: string;
  /** A fixed deployed name (default SST's generated one), for a grant that names the function before it exists. */
  functionName?: string;
}

const VPC_MANAGED_POLICY = /:policy\/service-role\/AWSLambdaVPCAccessExecutionRole$/;

/**
 * Declare one function from its row in stacks/functions.ts: handler, runtime, memory, timeout, bundling, the
 * configuration (a file at the package root, read once per container by runbooks/lib/handler.ts, so its size is
 * bounded by the package, not by Lambda's 4 KB of environment), its links (the message destinations only for functions that post)
 * and exactly the IAM statements stacks/iam.ts gives it.
 */
export function deployFunction(spec: FunctionSpec, deps: FunctionDeps): sst.aws.Function {
  const configFile = writeRuntimeConfig(deps.config);

  const permissions = $resolve({
    id: deps.identity,
    dlqArn: deps.dlq?.arn ?? "",
    stateBucketArn: deps.stateBucketArn ?? "",
    reportsBucketArn: deps.reportsBucketArn ?? "",
  }).apply(({ id, dlqArn, stateBucketArn, reportsBucketArn }) => {
    const ctx: IamContext = {
      config: deps.config,
      account: id.account,
      partition: id.partition,
      dlqArn,
      ...(stateBucketArn ? { stateBucketArn } : {}),
      ...(reportsBucketArn ? { reportsBucketArn } : {}),
    };
    return permissionsFor(spec.name, ctx).map(toSst);
  });

  const opts = deps.provider ? { provider: deps.provider } : undefined;
  const transform: NonNullable<sst.aws.FunctionArgs["transform"]> = {
    ...(deps.dlq
      ? {
          eventInvokeConfig: (args: aws.lambda.FunctionEventInvokeConfigArgs) => {
            args.destinationConfig = { onFailure: { destination: deps.dlq!.arn } };
          },
        }
      : {}),
    ...(deps.vpc?.ownNetworkInterfaceGrants
      ? {
          role: (args: aws.iam.RoleArgs) => {
            args.managedPolicyArns = $output(args.managedPolicyArns ?? []).apply((arns) => arns.filter((a) => !VPC_MANAGED_POLICY.test(a)));
          },
        }
      : {}),
  };
  return new sst.aws.Function(
    deps.component ?? capitalize(spec.name),
    {
      ...(deps.functionName ? { name: deps.functionName } : {}),
      handler: spec.handler,
      description: spec.description,
      runtime: RUNTIME,
      architecture: "arm64",
      memory: `${spec.memoryMb} MB`,
      timeout: `${spec.timeoutSeconds} seconds`,
      nodejs: { ...NODEJS },
      ...(deps.extraEnvironment ? { environment: deps.extraEnvironment } : {}),
      copyFiles: [{ from: configFile, to: CONFIG_FILE_NAME }],
      link: [...(spec.reports ? [deps.reports] : []), ...notifyLinks(spec, deps)],
      permissions,
      logging: { retention: LOG_RETENTION, format: "json" },
      ...(deps.vpc ? { vpc: { privateSubnets: deps.vpc.privateSubnets, securityGroups: deps.vpc.securityGroups } } : {}),
      ...(deps.dlq ? { retries: ASYNC_RETRIES } : {}),
      ...(Object.keys(transform).length ? { transform } : {}),
    },
    opts,
  );
}

/** The destinations a function links to, in the order of {@link notifyLinkNames}. */
function notifyLinks(spec: FunctionSpec, deps: FunctionDeps): Array<sst.Secret | sst.Linkable<{ arn: $util.Output<string> }>> {
  if (!deps.notify) return spec.posts ? [deps.secret] : [];
  const n = deps.notify;
  const byName: Record<string, sst.Secret | sst.Linkable<{ arn: $util.Output<string> }> | undefined> = {
    SlackWebhookUrl: n.runs,
    SlackAlertsWebhookUrl: n.alerts,
    SlackCostWebhookUrl: n.cost,
    AlertsTopic: n.topic,
  };
  return notifyLinkNames(spec, n.topic !== undefined).map((name) => {
    const link = byName[name];
    if (!link) throw new Error(`no link ${name} for ${spec.name}`);
    return link;
  });
}

function toSst(s: Statement) {
  return {
    ...(s.effect ? { effect: s.effect } : {}),
    actions: s.actions,
    resources: s.resources,
    ...(s.conditions ? { conditions: s.conditions } : {}),
  };
}

export function capitalize(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
