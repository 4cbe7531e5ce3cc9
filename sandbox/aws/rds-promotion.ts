/**
 * The RDS promotion path, added to the RDS simulation: `PromoteReadReplica` on a cross-region read replica.
 *
 * The replica goes `available` → `modifying` at once (as the real API's response shows), stays there for the
 * promotion duration, then turns `available` without `ReadReplicaSourceDBInstanceIdentifier`: a standalone,
 * writable instance. RDS's refusals are kept: not a replica, or `backing-up`, or already promoting →
 * `InvalidDBInstanceState`. Wraps the RDS sim (same client class), so `sb.rds` gains the promotion API.
 */
import { DescribeDBInstancesCommand, PromoteReadReplicaCommand } from "@aws-sdk/client-rds";
import type { CommandContext, CommandHandler } from "./engine.ts";
import { rdsError } from "./errors.ts";
import type { RdsSim } from "./rds.ts";

export interface RdsPromotionApi {
  /** How long promotions take from now on. Default 5 min. */
  setPromotionDuration(ms: number): void;
  /** Promotions issued so far (each accepted PromoteReadReplica call). */
  promotions(): { region: string; id: string; startedMs: number; readyMs: number }[];
}

export type RdsSimWithPromotion = RdsSim & RdsPromotionApi;

export function withRdsPromotion(rds: RdsSim): RdsSimWithPromotion {
  let durationMs = 5 * 60_000;
  const promoted: { region: string; id: string; startedMs: number; readyMs: number }[] = [];
  const find = (region: string, id: string) => promoted.find((p) => p.region === region && p.id === id.toLowerCase());
  const describe = rds.commands.find(([cls]) => cls === DescribeDBInstancesCommand)![1];

  const describeWithPromotion: CommandHandler = async (input, ctx: CommandContext) => {
    const out = (await describe(input, ctx)) as { DBInstances?: Record<string, unknown>[] };
    for (const db of out.DBInstances ?? []) {
      const p = find(ctx.region, String(db.DBInstanceIdentifier));
      if (p && ctx.nowMs >= p.readyMs) delete db.ReadReplicaSourceDBInstanceIdentifier;
    }
    return out;
  };

  const promote: CommandHandler = async (input: { DBInstanceIdentifier?: string }, ctx: CommandContext) => {
    const id = String(input.DBInstanceIdentifier ?? "");
    const out = (await describe({ DBInstanceIdentifier: id }, ctx)) as { DBInstances?: Record<string, unknown>[] };
    const db = out.DBInstances?.[0];
    if (!db) throw rdsError("DBInstanceNotFound", `DBInstance ${id} not found.`);
    const status = String(db.DBInstanceStatus);
    if (find(ctx.region, id) || !db.ReadReplicaSourceDBInstanceIdentifier) {
      throw rdsError("InvalidDBInstanceState", `DB Instance ${id} is not a read replica.`);
    }
    if (status !== "available") {
      throw rdsError("InvalidDBInstanceState", `DB Instance ${id} is not in available state (it is ${status}).`);
    }
    const readyMs = ctx.nowMs + durationMs;
    promoted.push({ region: ctx.region, id: id.toLowerCase(), startedMs: ctx.nowMs, readyMs });
    rds.setStatus(ctx.region, id, "modifying", { kind: "instance" });
    rds.setStatus(ctx.region, id, "available", { kind: "instance", at: new Date(readyMs) });
    return { DBInstance: { ...db, DBInstanceStatus: "modifying" } };
  };

  const commands = [
    ...rds.commands.map(([cls, h]) => [cls, cls === DescribeDBInstancesCommand ? describeWithPromotion : h] as const),
    [PromoteReadReplicaCommand, promote] as const,
  ];
  return Object.assign(rds, {
    commands,
    setPromotionDuration(ms: number) {
      durationMs = ms;
    },
    promotions: () => promoted.map((p) => ({ ...p })),
  }) as RdsSimWithPromotion;
}
