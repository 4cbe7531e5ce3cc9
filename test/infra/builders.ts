import { loadConfig } from "../../stacks/config.ts";
import { permissionsFor, managedBy, type IamContext, type Statement } from "../../stacks/iam.ts";
import type { LintRules, PolicyDocument } from "../../stacks/policy-lint.ts";
import type { FunctionName } from "../../stacks/functions.ts";
import { renderPolicyDocument } from "../../scripts/sst-synth.ts";
import type { Config } from "../../schemas/config.ts";

export const ROOT = new URL("../../", import.meta.url).pathname;
export const ACCOUNT = "123456789012";

export function exampleConfig(stage = "ci"): Config {
  return loadConfig("ops-autopilot", stage, ROOT, { OPS_AUTOPILOT_CONFIG_FILE: "config/example.json" });
}

export function iamContext(config: Config = exampleConfig()): IamContext {
  return {
    config,
    account: ACCOUNT,
    partition: "aws",
    dlqArn: `arn:aws:sqs:${config.primaryRegion}:${ACCOUNT}:dead-letters`,
    stateBucketArn: "arn:aws:s3:::failover-state",
    reportsBucketArn: "arn:aws:s3:::reports",
  };
}

/** The policy document a function's statements render to (as SST passes them to iam.getPolicyDocument). */
export function documentFor(statements: Statement[]): PolicyDocument {
  return renderPolicyDocument({ statements: statements.map((s) => ({ ...s })) }) as PolicyDocument;
}

export function policyOf(name: FunctionName, config: Config = exampleConfig()): PolicyDocument {
  return documentFor(permissionsFor(name, iamContext(config)));
}

export function rulesFor(name: FunctionName, config: Config = exampleConfig()): LintRules {
  return {
    managedBy: managedBy(config),
    mayPromote: name === "failover",
    restoreTest: name === "restore-test",
    vpcNetworkInterfaces: name === "restore-test-checker",
    allowedKmsResources: [...config.drRegions.map((d) => d.kmsKeyId), ...config.backup.sourceKmsKeyIds],
  };
}
