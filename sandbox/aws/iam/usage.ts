/**
 * Which IAM actions each function was authorized for (or denied) across a test run: the "called" side of
 * `npm run iam-report`. Counts accumulate per process; when OPS_AUTOPILOT_IAM_USAGE_DIR is set (vitest
 * sets it, see vitest.config.ts) each process writes its counts there on exit, one file per process.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Per function and action: calls allowed, denied, and denied where a test said it expected the denial. */
export type UsageCounts = Record<string, Record<string, { allowed: number; denied: number; expected?: number }>>;

const usage: UsageCounts = {};
let hooked = false;

export function recordUsage(fn: string, action: string, allowed: boolean, expected = false): void {
  const byAction = (usage[fn] ??= {});
  const entry = (byAction[action] ??= { allowed: 0, denied: 0 });
  if (allowed) entry.allowed += 1;
  else if (expected) entry.expected = (entry.expected ?? 0) + 1;
  else entry.denied += 1;
  if (!hooked && process.env.OPS_AUTOPILOT_IAM_USAGE_DIR) {
    hooked = true;
    process.once("exit", flushUsage);
  }
}

/** This process's counts so far. */
export function usageSoFar(): UsageCounts {
  return usage;
}

export function flushUsage(): void {
  const dir = process.env.OPS_AUTOPILOT_IAM_USAGE_DIR;
  if (!dir || Object.keys(usage).length === 0) return;
  mkdirSync(dir, { recursive: true });
  // Written aside and renamed: a worker stopped mid-write must never leave a truncated file behind.
  const file = path.join(dir, `usage-${process.pid}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(usage));
  renameSync(`${file}.tmp`, file);
}
