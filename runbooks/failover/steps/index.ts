/** The failover runbook's steps, in the order of STEP_NAMES (the run record is built from it; a test checks both agree). */
import { dnsChange } from "./dns-change.ts";
import { dnsInsync } from "./dns-insync.ts";
import { promote } from "./promote.ts";
import type { FailoverStep } from "./shared.ts";
import { verifyHealth } from "./verify-health.ts";
import { waitWritable } from "./wait-writable.ts";
import { warm } from "./warm.ts";

export const FAILOVER_STEPS = [promote, waitWritable, dnsChange, dnsInsync, warm, verifyHealth] satisfies readonly FailoverStep[];
