// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";
import { isIPv4, isIPv6 } from "node:net";
import type { ResourceKind } from "../core/resource-kinds.ts";
import { triggerAlarmName, tuningProblems, type TriggerTuning } from "../core/failover-trigger.ts";
import { ValidationError } from "./validate.ts";

/**
 * Configuration section `failover`: one entry per failover group (a primary database, its DR replica and the
 * DNS record that points the application at one or the other).
 *
 * Safe defaults: a group only plans (`execution: "plan-only"`) until someone opts it into automatic execution,
 * and a replica lagging more than 60 s (the team's RPO) is never promoted without a manual `force`.
 */

const Region = z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, "expected an AWS region such as eu-west-1");

export const DbRefSchema = z
  .object({
    /** `rds-instance`: a cross-region read replica; `aurora-cluster`: a cluster of an Aurora global database. */
    kind: z.enum(["rds-instance", "aurora-cluster"] as const satisfies readonly ResourceKind[]),
    /** DBInstanceIdentifier or DBClusterIdentifier. */
    id: z.string().min(1),
    region: Region,
  })
  .strict();

/** A record value: plain values (CNAME target or A/AAAA addresses) or an alias target. */
export const RecordValueSchema = z.union([
  z.object({ values: z.array(z.string().min(1)).min(1) }).strict(),
  z
    .object({
      alias: z
        .object({
          hostedZoneId: z.string().min(1),
          dnsName: z.string().min(1),
          evaluateTargetHealth: z.boolean().default(false),
        })
        .strict(),
    })
    .strict(),
]);

/**
 * What Route 53 takes as a value of each record type
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/ResourceRecordTypes.html): A an IPv4 address in
 * dotted decimal notation, AAAA an IPv6 address in colon-separated hexadecimal format, CNAME a domain name.
 */
const VALUE_PROBLEM: Record<"A" | "AAAA" | "CNAME", (value: string) => string | undefined> = {
  A: (v) => (isIPv4(v) ? undefined : `an A record takes an IPv4 address in dotted decimal notation, got ${JSON.stringify(v)}`),
  // Node accepts a zone index (fe80::1%eth0), which is no DNS value.
  AAAA: (v) =>
    isIPv6(v) && !v.includes("%") ? undefined : `an AAAA record takes an IPv6 address in colon-separated hexadecimal notation, got ${JSON.stringify(v)}`,
  CNAME: (v) => (isIPv4(v) || isIPv6(v) ? 'a CNAME record takes a domain name, not an IP address: use recordType "A" or "AAAA"' : undefined),
};

export const DnsSchema = z
  .object({
    hostedZoneId: z.string().regex(/^(\/hostedzone\/)?Z[A-Z0-9]+$/, "expected a Route 53 hosted zone id such as Z0123456789ABC"),
    recordName: z.string().min(1),
    recordType: z.enum(["CNAME", "A", "AAAA"]).default("CNAME"),
    /** Ignored for alias records (Route 53 uses the alias target's TTL). */
    ttl: z.number().int().min(0).max(86_400).default(60),
    primary: RecordValueSchema,
    dr: RecordValueSchema,
  })
  .strict()
  .superRefine((dns, ctx) => {
    for (const side of ["primary", "dr"] as const) {
      const v = dns[side];
      if (!("values" in v)) continue;
      if (dns.recordType === "CNAME" && v.values.length !== 1) {
        ctx.addIssue({ code: "custom", path: [side, "values"], message: "a CNAME record takes exactly one value" });
      }
      v.values.forEach((value, i) => {
        const problem = VALUE_PROBLEM[dns.recordType](value);
        if (problem) ctx.addIssue({ code: "custom", path: [side, "values", i], message: problem });
      });
    }
    if (JSON.stringify(dns.primary) === JSON.stringify(dns.dr)) {
      ctx.addIssue({ code: "custom", path: ["dr"], message: "the same as dns.primary: a failover would change nothing" });
    }
  });

/**
 * What the probe checks from the DR region: the application's health URL (GET, a 2xx answer is healthy, redirects
 * not followed), the database endpoint's TCP port (a completed connect is healthy), or both (both must pass).
 */
export const ProbeTargetSchema = z
  .object({
    url: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }).optional(),
    tcp: z
      .object({
        /** The primary database endpoint (e.g. `app-db.abc123.eu-west-1.rds.amazonaws.com`). */
        host: z.string().min(1),
        port: z.number().int().min(1).max(65_535),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((p) => p.url !== undefined || p.tcp !== undefined, { message: "probe the application (url), the database endpoint (tcp), or both" });

/**
 * The trigger kit of a group (core/failover-trigger.ts has the arithmetic): a probe of the primary from the DR
 * region every `periodSeconds`, and an alarm that goes to ALARM when `failuresToAlarm` of the last
 * `evaluationPeriods` periods failed. Its alarm (`<app>-<stage>-failover-<group>-primary-down`) joins the group's
 * `alarms`. Defaults: one probe a minute, 3 failures of 4 minutes, 5 s timeout: an outage is detected in 127 to
 * 247 s, a single failed probe or two apart never alarm, and the config is refused when the worst case exceeds
 * `maxDetectionSeconds`.
 */
export const TriggerSchema = z
  .object({
    probe: ProbeTargetSchema,
    /** Probe interval and alarm period: a multiple of 60 (EventBridge Scheduler's finest rate is one minute). */
    periodSeconds: z.number().int().min(60).max(600).multipleOf(60, "a multiple of 60 seconds").default(60),
    /** Failed periods that raise the alarm (M); at least 2, so one failed probe never does. */
    failuresToAlarm: z.number().int().min(2).max(10).default(3),
    /** The window those failures must fall in (N, default M + 1; at least M + 1). */
    evaluationPeriods: z.number().int().min(3).max(20).optional(),
    /** A probe not answered within this counts as failed. */
    timeoutMs: z.number().int().min(500).max(30_000).default(5000),
    /** Detection budget (part of the RTO): the config is refused when the worst-case detection delay exceeds it. */
    maxDetectionSeconds: z.number().int().min(60).max(3600).default(300),
  })
  .strict()
  .superRefine((t, ctx) => {
    for (const p of tuningProblems(triggerTuning(t), t.maxDetectionSeconds)) ctx.addIssue({ code: "custom", path: [p.field], message: p.message });
  });

/** The tuning a trigger's probe and alarm use, defaults applied (`evaluationPeriods` = `failuresToAlarm` + 1). */
export function triggerTuning(t: Pick<z.output<typeof TriggerSchema>, "periodSeconds" | "failuresToAlarm" | "evaluationPeriods" | "timeoutMs">): TriggerTuning {
  return {
    periodSeconds: t.periodSeconds,
    failuresToAlarm: t.failuresToAlarm,
    evaluationPeriods: t.evaluationPeriods ?? t.failuresToAlarm + 1,
    timeoutMs: t.timeoutMs,
  };
}

export const FailoverGroupSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9-]{0,40}$/, "expected lowercase letters, digits and hyphens, starting with a letter"),
    /**
     * CloudWatch alarms whose transition into ALARM triggers this group: bring your own, or let `trigger` deploy
     * one (its name is added here when the configuration is parsed), or both.
     */
    alarms: z.array(z.string().min(1)).default([]),
    /** A probe of the primary from the DR region and its alarm, deployed by stacks/failover.ts. */
    trigger: TriggerSchema.optional(),
    /** Region the alarms live in (default: the replica's region, which survives a primary-region outage). */
    alarmRegion: Region.optional(),
    primary: DbRefSchema,
    replica: DbRefSchema,
    /** Aurora global database identifier; required when the databases are Aurora clusters. */
    globalClusterId: z.string().min(1).optional(),
    /** RPO: the replica is not promoted when its lag exceeds this (unless a manual execute says force). */
    maxReplicaLagSeconds: z.number().int().min(0).default(60),
    dns: DnsSchema,
    /** Health URL of the application in the DR region, checked after the DNS switch. */
    healthUrl: z.url(),
    healthTimeoutMs: z.number().int().min(100).max(30_000).default(2_000),
    /** Consecutive healthy answers needed. */
    healthChecks: z.number().int().min(1).max(10).default(3),
    /** Optional independent probe of the primary (second signal besides the alarm and RDS status). */
    primaryProbeUrl: z.url().optional(),
    /** Name of a warm-up target set in the `warm` section; no warm-up when absent. */
    warmTargetSet: z.string().min(1).optional(),
    /** `automatic`: an alarm runs the failover; `plan-only`: an alarm only plans and asks for a manual execute. */
    execution: z.enum(["automatic", "plan-only"]).default("plan-only"),
  })
  .strict()
  .superRefine((g, ctx) => {
    if (g.alarms.length === 0 && !g.trigger) {
      ctx.addIssue({ code: "custom", path: ["alarms"], message: "name at least one alarm, or set trigger to deploy a probe and its alarm" });
    }
    if (g.primary.kind !== g.replica.kind) {
      ctx.addIssue({ code: "custom", path: ["replica", "kind"], message: "primary and replica must be the same kind" });
    }
    if (g.primary.region === g.replica.region) {
      ctx.addIssue({ code: "custom", path: ["replica", "region"], message: "the replica must be in another region than the primary" });
    }
    if (g.replica.kind === "aurora-cluster" && !g.globalClusterId) {
      ctx.addIssue({ code: "custom", path: ["globalClusterId"], message: "required for Aurora global databases" });
    }
  });

export const FailoverConfigSchema = z
  .object({
    groups: z.array(FailoverGroupSchema).default([]),
    /** Seconds between polls while waiting for the database to become writable or DNS to be INSYNC. */
    pollSeconds: z.number().int().min(1).max(300).default(15),
    /** Give up waiting for the promoted database to become writable after this long. */
    promotionTimeoutMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(60),
    /** Give up waiting for Route 53 INSYNC after this long (Route 53 documents 60 s). */
    dnsTimeoutMinutes: z.number().int().min(1).max(120).default(10),
    /** Attempts for a throttled ChangeResourceRecordSets before the DNS step fails. */
    dnsMaxAttempts: z.number().int().min(1).max(20).default(8),
    /**
     * Where the probe function runs, when a `trigger.probe.tcp` endpoint is private: subnets and security groups
     * of the DR region with a route to the primary's VPC (peering, Transit Gateway), and a NAT gateway or a
     * CloudWatch (`monitoring`) interface endpoint for publishing. One function probes every group, so one VPC.
     */
    probeVpc: z
      .object({
        subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/, "expected a subnet id such as subnet-0abc123")).min(1),
        securityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]+$/, "expected a security group id such as sg-0abc123")).min(1),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const names = new Set<string>();
    const alarms = new Map<string, string>();
    cfg.groups.forEach((g, i) => {
      if (names.has(g.name)) ctx.addIssue({ code: "custom", path: ["groups", i, "name"], message: `duplicate group name "${g.name}"` });
      names.add(g.name);
      g.alarms.forEach((a, j) => {
        const other = alarms.get(a);
        if (other && other !== g.name) {
          ctx.addIssue({ code: "custom", path: ["groups", i, "alarms", j], message: `alarm "${a}" already triggers group "${other}"` });
        }
        alarms.set(a, g.name);
      });
    });
    // One probe function on one schedule probes every group.
    const firstTriggered = cfg.groups.findIndex((g) => g.trigger);
    cfg.groups.forEach((g, i) => {
      const first = cfg.groups[firstTriggered]?.trigger;
      if (g.trigger && first && i !== firstTriggered && g.trigger.periodSeconds !== first.periodSeconds) {
        ctx.addIssue({
          code: "custom",
          path: ["groups", i, "trigger", "periodSeconds"],
          message: `one probe schedule serves every group: use the periodSeconds of group "${cfg.groups[firstTriggered]!.name}" (${first.periodSeconds})`,
        });
      }
    });
    if (cfg.probeVpc && !cfg.groups.some((g) => g.trigger)) {
      ctx.addIssue({ code: "custom", path: ["probeVpc"], message: "no group has a trigger: there is no probe to place in a VPC" });
    }
  })
  .prefault({});

/**
 * The configuration with each trigger's alarm added to its group's `alarms` (idempotent), so the runbook's rule,
 * its alarm-to-group lookup and IAM see the deployed alarm like a configured one. Called by parseConfig, which
 * knows the app and stage the alarm name carries; throws when another group already names that alarm.
 */
export function withTriggerAlarms<C extends { app: string; stage: string; failover: FailoverConfig }>(config: C): C {
  const prefix = `${config.app}-${config.stage}`;
  const owners = new Map<string, string>();
  for (const g of config.failover.groups) for (const a of g.alarms) owners.set(a, g.name);
  const groups = config.failover.groups.map((g, i) => {
    if (!g.trigger) return g;
    const name = triggerAlarmName(prefix, g.name);
    const owner = owners.get(name);
    if (owner !== undefined && owner !== g.name) {
      throw new ValidationError("config", [{ path: `failover.groups[${i}].trigger`, message: `its alarm "${name}" is already listed by group "${owner}"` }]);
    }
    return g.alarms.includes(name) ? g : { ...g, alarms: [...g.alarms, name] };
  });
  return { ...config, failover: { ...config.failover, groups } };
}

export type FailoverConfig = z.output<typeof FailoverConfigSchema>;
export type FailoverGroup = z.output<typeof FailoverGroupSchema>;
export type DbRef = z.output<typeof DbRefSchema>;
export type FailoverTrigger = z.output<typeof TriggerSchema>;
export type RecordValue = z.output<typeof RecordValueSchema>;
export type DnsConfig = z.output<typeof DnsSchema>;
