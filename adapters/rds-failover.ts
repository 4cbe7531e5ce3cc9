import {
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  PromoteReadReplicaCommand,
  SwitchoverGlobalClusterCommand,
  type DBCluster,
  type DBInstance,
  type GlobalCluster,
} from "@aws-sdk/client-rds";
import { rds } from "./clients.ts";
import { classifyError, describeError, errorName } from "./errors.ts";
import type { DbRef, FailoverGroup } from "../schemas/config-failover.ts";
import type { DbObservation, PromotionKind } from "../core/failover.ts";
import type { DbPort } from "../runbooks/failover/ports.ts";

/**
 * RDS side of the failover: describe the primary and the DR replica, promote.
 *
 * - RDS instance: `PromoteReadReplica` on the cross-region replica. Refused while the replica is `backing-up`
 *   (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_PromoteReadReplica.html). The instance is
 *   writable once it is `available` and no longer has a `ReadReplicaSourceDBInstanceIdentifier`.
 * - Aurora global: `SwitchoverGlobalCluster` when the primary cluster is reachable (no data loss),
 *   `FailoverGlobalCluster` with `AllowDataLoss` when it is not. The DR cluster is writable once it is the
 *   global cluster's writer and `available`.
 * A describe that fails is an observation (`reachable: false`), never a crash: an unreachable primary is
 * exactly the case we run for. When RDS answered but refused the describe (throttled, access denied, a bad
 * request), the observation is also `unknown`: it says nothing about the database and is never read as
 * "down" or "not promoted".
 */

/** Throttling names as RDS and the SDK spell them. */
const THROTTLED = /^(Throttling|ThrottlingException|RequestLimitExceeded|TooManyRequestsException|RequestThrottled)$/;

/** RDS answered the request and refused it: a 4xx other than not-found. No answer or a 5xx means unreachable. */
function answeredAndRefused(err: unknown): boolean {
  if (THROTTLED.test(errorName(err))) return true;
  const e = err as { $fault?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.$fault === "client" && (e.$metadata?.httpStatusCode ?? 0) >= 400 && classifyError(err) !== "not-found";
}

/** Identifier RDS expects for global-cluster members: the cluster ARN. */
export function clusterArn(ref: DbRef, account: string): string {
  return `arn:aws:rds:${ref.region}:${account}:cluster:${ref.id}`;
}

function observeInstance(db: DBInstance | undefined, ref: DbRef): DbObservation {
  if (!db) return { reachable: false, detail: `${ref.id} not found in ${ref.region}` };
  const isReplica = Boolean(db.ReadReplicaSourceDBInstanceIdentifier);
  return {
    reachable: true,
    status: db.DBInstanceStatus ?? "unknown",
    isReplica,
    detail: `${ref.id} ${db.DBInstanceStatus ?? "unknown"}${isReplica ? ` (replica of ${db.ReadReplicaSourceDBInstanceIdentifier})` : " (standalone/writer)"}`,
  };
}

function observeCluster(cluster: DBCluster | undefined, global: GlobalCluster | undefined, ref: DbRef): DbObservation {
  if (!cluster) return { reachable: false, detail: `${ref.id} not found in ${ref.region}` };
  const member = global?.GlobalClusterMembers?.find((m) => m.DBClusterArn === cluster.DBClusterArn);
  const isWriter = member?.IsWriter ?? !cluster.ReplicationSourceIdentifier;
  return {
    reachable: true,
    status: cluster.Status ?? "unknown",
    isReplica: !isWriter,
    isWriter,
    detail: `${ref.id} ${cluster.Status ?? "unknown"} (${isWriter ? "writer" : "secondary"}${global?.Status ? `, global ${global.Status}` : ""})`,
  };
}

async function describe(group: FailoverGroup, ref: DbRef): Promise<DbObservation> {
  try {
    if (ref.kind === "rds-instance") {
      const out = await rds(ref.region).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: ref.id }));
      return observeInstance(out.DBInstances?.[0], ref);
    }
    const [clusters, globals] = await Promise.all([
      rds(ref.region).send(new DescribeDBClustersCommand({ DBClusterIdentifier: ref.id })),
      group.globalClusterId
        ? rds(ref.region).send(new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: group.globalClusterId }))
        : Promise.resolve(undefined),
    ]);
    return observeCluster(clusters.DBClusters?.[0], globals?.GlobalClusters?.[0], ref);
  } catch (err) {
    return {
      reachable: false,
      ...(answeredAndRefused(err) ? { unknown: true } : {}),
      detail: `describe ${ref.id} in ${ref.region} failed: ${describeError(err)}`,
    };
  }
}

/**
 * A promotion call that failed. `outcomeUnknown` unless RDS answered with a definite refusal (a 4xx other than
 * throttling: not a replica, wrong state, not found, access denied): a timeout, a network error or a 5xx may
 * come after RDS accepted the call, so the runbook confirms by observation (see DbPort.promote).
 */
export class PromotionError extends Error {
  override name = "PromotionError";
  awsError: string;
  outcomeUnknown: boolean;
  constructor(message: string, awsError: string, outcomeUnknown = false) {
    super(message);
    this.awsError = awsError;
    this.outcomeUnknown = outcomeUnknown;
  }
}

function definiteRefusal(err: unknown): boolean {
  const name = errorName(err);
  if (THROTTLED.test(name)) return false;
  const e = err as { $fault?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  if (e?.$fault === "client" && (e.$metadata?.httpStatusCode ?? 0) >= 400) return true;
  // Modeled RDS faults (`InvalidDBInstanceStateFault`, `DBInstanceNotFoundFault`) only ever come from an answer.
  const cls = classifyError(err);
  return /Fault$/.test(name) || cls === "state" || cls === "not-found";
}

/** A {@link DbPort} on the RDS API. */
export function rdsFailover(): DbPort {
  return {
    describePrimary: (group) => describe(group, group.primary),
    describeReplica: (group) => describe(group, group.replica),
    async promote(group, kind: PromotionKind) {
      const r = group.replica;
      try {
        if (kind === "promote") {
          const out = await rds(r.region).send(new PromoteReadReplicaCommand({ DBInstanceIdentifier: r.id }));
          return { detail: `PromoteReadReplica ${r.id}: ${out.DBInstance?.DBInstanceStatus ?? "accepted"}` };
        }
        // Global cluster calls need the target as an ARN; DescribeDBClusters gives it without guessing the account.
        const cluster = await rds(r.region).send(new DescribeDBClustersCommand({ DBClusterIdentifier: r.id }));
        const arn = cluster.DBClusters?.[0]?.DBClusterArn;
        if (!arn) throw new PromotionError(`cluster ${r.id} not found in ${r.region}`, "DBClusterNotFoundFault");
        if (kind === "switchover") {
          const out = await rds(r.region).send(
            new SwitchoverGlobalClusterCommand({ GlobalClusterIdentifier: group.globalClusterId, TargetDbClusterIdentifier: arn }),
          );
          return { detail: `SwitchoverGlobalCluster ${group.globalClusterId} → ${r.id}: ${out.GlobalCluster?.Status ?? "accepted"}` };
        }
        const out = await rds(r.region).send(
          new FailoverGlobalClusterCommand({ GlobalClusterIdentifier: group.globalClusterId, TargetDbClusterIdentifier: arn, AllowDataLoss: true }),
        );
        return { detail: `FailoverGlobalCluster ${group.globalClusterId} → ${r.id} (AllowDataLoss): ${out.GlobalCluster?.Status ?? "accepted"}` };
      } catch (err) {
        if (err instanceof PromotionError) throw err;
        throw new PromotionError(describeError(err), errorName(err), !definiteRefusal(err));
      }
    },
  };
}
