/**
 * What the failover steps share: their environment (ports, configuration, the group) and the error helpers.
 */
import type { StepContext, StepModule } from "../../lib/durable.ts";
import type { FailoverConfig, FailoverGroup, RecordValue } from "../../../schemas/config-failover.ts";
import type { PromotionKind, RunRecord, StepName } from "../../../core/failover.ts";
import type { FailoverDeps } from "../ports.ts";

export interface FailoverEnv {
  deps: FailoverDeps;
  cfg: FailoverConfig;
  group: FailoverGroup;
  /** The promotion a plan would issue (from the primary as observed), before any run recorded one. */
  plannedKind?: PromotionKind;
}

export type FailoverStep = StepModule<RunRecord, StepName, FailoverEnv>;
export type FailoverCtx = StepContext<RunRecord, StepName, FailoverEnv>;

/** Whether a thrown promotion error may have reached RDS (see DbPort.promote). */
export function outcomeUnknown(err: unknown): boolean {
  return (err as { outcomeUnknown?: unknown } | undefined)?.outcomeUnknown === true;
}

export function promoteCallName(kind: PromotionKind): string {
  return kind === "promote" ? "PromoteReadReplica" : kind === "switchover" ? "SwitchoverGlobalCluster" : "FailoverGlobalCluster";
}

export function errorText(err: unknown): string {
  // Adapter errors already lead with the AWS error name (`Throttling: Rate exceeded`); do not prefix twice.
  if (err instanceof Error) return err.name === "Error" || /^\w+: /.test(err.message) ? err.message : `${err.name}: ${err.message}`;
  return String(err);
}

export function sameValue(a: RecordValue, b: RecordValue): boolean {
  const norm = (s: string): string => s.toLowerCase().replace(/\.$/, "");
  if ("values" in a && "values" in b) {
    const x = a.values.map(norm).sort();
    const y = b.values.map(norm).sort();
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  if ("alias" in a && "alias" in b) {
    return (
      norm(a.alias.dnsName) === norm(b.alias.dnsName) &&
      a.alias.hostedZoneId.replace(/^\/hostedzone\//, "") === b.alias.hostedZoneId.replace(/^\/hostedzone\//, "")
    );
  }
  return false;
}

export function log(env: FailoverEnv): (message: string, data?: Record<string, unknown>) => void {
  return env.deps.log ?? (() => {});
}
