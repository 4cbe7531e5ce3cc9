/**
 * What the pre-checks observe, through the ports (read-only calls).
 */
import { PRECHECK_OBSERVE_ATTEMPTS, type Observation } from "../../core/failover.ts";
import type { FailoverGroup } from "../../schemas/config-failover.ts";
import type { FailoverDeps } from "./ports.ts";

/** Observe everything the pre-checks need (read-only calls). */
export async function observe(deps: FailoverDeps, group: FailoverGroup): Promise<Observation> {
  return (await observeOnce(deps, group))[0];
}

/**
 * Observe for the pre-checks, looking again (up to {@link PRECHECK_OBSERVE_ATTEMPTS} rounds, 5 s apart) while a
 * read failed without an answer: a throttled describe or GetMetricData must not refuse a failover that the
 * next read would allow. An unreachable primary is an answer (the outage itself) and is not retried.
 */
export async function observeSettled(deps: FailoverDeps, group: FailoverGroup): Promise<Observation> {
  const log = deps.log ?? (() => {});
  for (let attempt = 1; ; attempt++) {
    const [obs, lagFailed] = await observeOnce(deps, group);
    const unsettled = obs.primary.unknown === true || !obs.replica.reachable || lagFailed;
    if (!unsettled || attempt >= PRECHECK_OBSERVE_ATTEMPTS) return obs;
    log("failover observation incomplete; looking again", { attempt, primary: obs.primary.detail, replica: obs.replica.detail, lag: obs.lagDetail });
    await deps.clock.sleep(5_000);
  }
}

async function observeOnce(deps: FailoverDeps, group: FailoverGroup): Promise<[Observation, boolean]> {
  const [primary, replica, lag, probe] = await Promise.all([
    deps.db.describePrimary(group),
    deps.db.describeReplica(group),
    deps.metrics.replicaLag(group, deps.clock.now()),
    group.primaryProbeUrl ? deps.probe.check(group.primaryProbeUrl, group.healthTimeoutMs) : Promise.resolve(undefined),
  ]);
  const obs: Observation = {
    primary,
    replica,
    ...(lag.seconds !== undefined ? { lagSeconds: lag.seconds } : {}),
    lagDetail: lag.detail,
    ...(probe ? { primaryProbe: { ok: probe.ok, detail: probe.detail } } : {}),
  };
  return [obs, lag.failed === true];
}
