/**
 * The restore-test runbook's schedules and component ids as data (no SST globals, so tests import it): one EventBridge Scheduler
 * schedule per distinct `restoreTest.schedule` expression, its input naming the policies on that expression
 * (schemas/events-restore-test.ts ScheduledStartSchema), in the configuration's `timezone`.
 */
import type { Config } from "../schemas/config.ts";

export interface RestoreTestSchedule {
  /** `RestoreTest` for the first expression (the durable-runbook construct's own schedule), then `RestoreTest2`, ... */
  name: string;
  expression: string;
  timezone: string;
  input: { trigger: "schedule"; policies: string[] };
}

/** In the order the policies first name each expression. */
export function restoreTestSchedules(config: Config): RestoreTestSchedule[] {
  const byExpression = new Map<string, string[]>();
  for (const p of config.backup.policies) {
    if (!p.restoreTest) continue;
    const names = byExpression.get(p.restoreTest.schedule) ?? [];
    names.push(p.name);
    byExpression.set(p.restoreTest.schedule, names);
  }
  return [...byExpression].map(([expression, policies], i) => ({
    name: i === 0 ? "RestoreTest" : `RestoreTest${i + 1}`,
    expression,
    timezone: config.timezone,
    input: { trigger: "schedule", policies },
  }));
}

/** Where the restore-test function and its state machine run: the first DR region, else the primary. */
export function restoreTestControlRegion(config: Pick<Config, "primaryRegion" | "drRegions">): string {
  return config.drRegions[0]?.region ?? config.primaryRegion;
}

/** The SST component id of a restore region's checker function (its resources are `<id>Function`, `<id>Role`, …). */
export const checkerComponent = (region: string): string => `RestoreTestChecker-${region}`;
