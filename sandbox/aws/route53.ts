/**
 * Route 53 simulation: hosted zones, record sets, changes PENDING → INSYNC over fake time, the 5 requests/s
 * account limit (`Throttling`) and `PriorRequestNotComplete` while an earlier change to a zone is still being
 * applied. Both limits can be switched on per test; faults can also be injected with `sb.inject`.
 *
 * Route 53 is global: calls are recorded with the client's region (us-east-1 in adapters/clients.ts).
 */
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  Route53ServiceException,
  type ResourceRecordSet,
} from "@aws-sdk/client-route-53";
import { isIP } from "node:net";
import type { CommandContext, SandboxCore, ServiceSim } from "./engine.ts";
import type { FaultKind } from "./errors.ts";

export interface Route53SimOptions {
  /** PENDING → INSYNC after this long. Default 30 s (Route 53 documents "within 60 s"). */
  propagationMs?: number;
  /** Enforce 5 requests per second per account. Default false (fake time does not pass inside a call loop). */
  enforceRateLimit?: boolean;
  /** Refuse a change to a zone while its previous change is PENDING (PriorRequestNotComplete). Default false. */
  enforcePriorRequest?: boolean;
}

export interface Route53Sim extends ServiceSim {
  addZone(id: string, name: string): void;
  /** Seed a record without a change (the state before the test). */
  putRecord(zoneId: string, rrset: ResourceRecordSet): void;
  record(zoneId: string, name: string, type: string): ResourceRecordSet | undefined;
  changes(): { id: string; zoneId: string; submittedMs: number; status: "PENDING" | "INSYNC"; changes: unknown[] }[];
  configure(options: Route53SimOptions): void;
}

export function route53Error(code: string, message: string, status = 400): Error {
  return new Route53ServiceException({
    name: code,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status, requestId: "sandbox-r53", attempts: 1, totalRetryDelay: 0 },
    message,
  });
}

const norm = (name: string): string => `${name.toLowerCase().replace(/\.$/, "")}.`;

/** TTL range of a ResourceRecordSet (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecordSet.html). */
export const MAX_TTL = 2_147_483_647;
/**
 * ChangeResourceRecordSets request limits: 1,000 ResourceRecord elements and 32,000 characters in all Value
 * elements, an UPSERT counting twice for both
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html#limits-api-requests-changeresourcerecordsets).
 */
export const MAX_BATCH_RECORDS = 1000;
export const MAX_BATCH_VALUE_CHARS = 32_000;

/** A: "an IPv4 address in dotted decimal notation" (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/ResourceRecordTypes.html). */
export function isDottedIpv4(v: string): boolean {
  const parts = v.split(".");
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

/** AAAA: "an IPv6 address in colon-separated hexadecimal format" (same page). */
export function isIpv6(v: string): boolean {
  return isIP(v) === 6 && !v.includes("%");
}

/** CNAME: "the same format as a domain name": at most 255 characters, dot-separated labels of 1–63 characters. */
export function isDomainName(v: string): boolean {
  const name = v.replace(/\.$/, "");
  return name.length > 0 && name.length <= 253 && name.split(".").every((l) => l.length >= 1 && l.length <= 63 && /^[A-Za-z0-9_*-]+$/.test(l));
}

/** Route 53's own wording for a value its type does not accept (as seen in InvalidChangeBatch responses). */
function invalidRecord(type: string, value: string): Error {
  const problem =
    type === "A"
      ? "ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address)"
      : type === "AAAA"
        ? "AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address)"
        : "DomainLabelEmpty (Domain label is empty)";
  return route53Error("InvalidChangeBatch", `[Invalid Resource Record: 'FATAL problem: ${problem} encountered with '${value}'']`);
}

function checkRecordSet(rr: ResourceRecordSet, action: string): void {
  const name = norm(rr.Name!);
  const hasRecords = rr.TTL !== undefined || rr.ResourceRecords !== undefined;
  if (rr.AliasTarget && hasRecords) {
    throw route53Error(
      "InvalidInput",
      `Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found more than one in Change with [Action=${action}, Name=${name}, Type=${rr.Type}, SetIdentifier=null]`,
    );
  }
  if (rr.AliasTarget) return;
  if (rr.TTL === undefined || !rr.ResourceRecords?.length) {
    throw route53Error(
      "InvalidInput",
      `Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action=${action}, Name=${name}, Type=${rr.Type}, SetIdentifier=null]`,
    );
  }
  if (!Number.isInteger(rr.TTL) || rr.TTL < 0 || rr.TTL > MAX_TTL) {
    throw route53Error(
      "InvalidInput",
      `1 validation error detected: Value '${rr.TTL}' at 'changeBatch.changes.member.resourceRecordSet.tTL' failed to satisfy constraint: Member must have value between 0 and ${MAX_TTL}`,
    );
  }
  const values = rr.ResourceRecords.map((r) => r.Value ?? "");
  if (rr.Type === "CNAME" && values.length > 1) {
    throw route53Error("InvalidChangeBatch", `[RRSet of type CNAME with DNS name ${name} has more than one resource record]`);
  }
  for (const v of values) {
    const ok = rr.Type === "A" ? isDottedIpv4(v) : rr.Type === "AAAA" ? isIpv6(v) : rr.Type === "CNAME" ? isDomainName(v) : v.length > 0;
    if (!ok) throw invalidRecord(rr.Type!, v);
  }
}
const zid = (id: string): string => id.replace(/^\/hostedzone\//, "");

export function createRoute53Sim(core: SandboxCore): Route53Sim {
  const zones = new Map<string, { name: string; records: Map<string, ResourceRecordSet> }>();
  const changes: { id: string; zoneId: string; submittedMs: number; changes: unknown[] }[] = [];
  const opts: Required<Route53SimOptions> = { propagationMs: 30_000, enforceRateLimit: false, enforcePriorRequest: false };
  const requestTimes: number[] = [];
  let seq = 0;

  const statusOf = (c: { submittedMs: number }, now: number): "PENDING" | "INSYNC" => (now >= c.submittedMs + opts.propagationMs ? "INSYNC" : "PENDING");

  function rateLimit(ctx: CommandContext): void {
    requestTimes.push(ctx.nowMs);
    while (requestTimes.length && requestTimes[0]! <= ctx.nowMs - 1000) requestTimes.shift();
    if (opts.enforceRateLimit && requestTimes.length > 5) throw route53Error("Throttling", "Rate exceeded");
  }

  function zone(id: string | undefined) {
    const z = id ? zones.get(zid(id)) : undefined;
    if (!z) throw route53Error("NoSuchHostedZone", `No hosted zone found with ID: ${id ?? ""}`, 404);
    return z;
  }

  const key = (name: string, type: string) => `${norm(name)}|${type}`;
  // What a DELETE must repeat exactly: TTL, values (in any order) or alias target.
  const sameShape = (r: ResourceRecordSet) => ({
    TTL: r.TTL,
    Values: (r.ResourceRecords ?? []).map((x) => x.Value).sort(),
    Alias: r.AliasTarget ? { ...r.AliasTarget, DNSName: norm(r.AliasTarget.DNSName ?? "") } : undefined,
  });

  function change(
    input: { HostedZoneId?: string; ChangeBatch?: { Changes?: { Action?: string; ResourceRecordSet?: ResourceRecordSet }[] } },
    ctx: CommandContext,
  ) {
    rateLimit(ctx);
    const zoneId = zid(input.HostedZoneId ?? "");
    const z = zone(zoneId);
    if (opts.enforcePriorRequest && changes.some((c) => c.zoneId === zoneId && statusOf(c, ctx.nowMs) === "PENDING")) {
      throw route53Error("PriorRequestNotComplete", "The request was rejected because Route 53 was still processing a prior request.");
    }
    const list = input.ChangeBatch?.Changes ?? [];
    if (!list.length)
      throw route53Error(
        "InvalidInput",
        "1 validation error detected: Value '[]' at 'changeBatch.changes' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    let records = 0;
    let chars = 0;
    for (const c of list) {
      const weight = c.Action === "UPSERT" ? 2 : 1;
      for (const r of c.ResourceRecordSet?.ResourceRecords ?? []) {
        records += weight;
        chars += weight * (r.Value ?? "").length;
      }
    }
    if (records > MAX_BATCH_RECORDS) throw route53Error("InvalidChangeBatch", `[Number of records limit of ${MAX_BATCH_RECORDS} exceeded.]`);
    if (chars > MAX_BATCH_VALUE_CHARS) throw route53Error("InvalidChangeBatch", `[Number of characters limit of ${MAX_BATCH_VALUE_CHARS} exceeded.]`);
    // Validate the whole batch first: Route 53 applies a batch atomically.
    const staged = new Map(z.records);
    for (const c of list) {
      const rr = c.ResourceRecordSet;
      if (!rr?.Name || !rr.Type) throw route53Error("InvalidInput", "ResourceRecordSet needs Name and Type");
      const name = norm(rr.Name);
      // In the zone: the apex itself or a name under it (a name that merely ends with the zone's text is not).
      if (name !== z.name && !name.endsWith(`.${z.name}`))
        throw route53Error("InvalidChangeBatch", `[RRSet with DNS name ${name} is not permitted in zone ${z.name}]`);
      if (c.Action !== "UPSERT" && c.Action !== "CREATE" && c.Action !== "DELETE") throw route53Error("InvalidInput", `Unknown action ${c.Action}`);
      checkRecordSet(rr, c.Action);
      const k = key(rr.Name, rr.Type);
      const copy: ResourceRecordSet = JSON.parse(JSON.stringify({ ...rr, Name: name }));
      if (c.Action === "DELETE") {
        const current = staged.get(k);
        if (!current)
          throw route53Error("InvalidChangeBatch", `[Tried to delete resource record set [name='${name}', type='${rr.Type}'] but it was not found]`);
        if (JSON.stringify(sameShape(current)) !== JSON.stringify(sameShape(copy))) {
          throw route53Error(
            "InvalidChangeBatch",
            `[Tried to delete resource record set [name='${name}', type='${rr.Type}'] but the values provided do not match the current values]`,
          );
        }
        staged.delete(k);
        continue;
      }
      if (c.Action === "CREATE" && staged.has(k)) {
        throw route53Error("InvalidChangeBatch", `[Tried to create resource record set [name='${name}', type='${rr.Type}'] but it already exists]`);
      }
      if (name === z.name && rr.Type === "CNAME")
        throw route53Error("InvalidChangeBatch", `[RRSet of type CNAME with DNS name ${name} is not permitted at apex in zone ${z.name}]`);
      // A CNAME cannot share its name with any other record type (RFC 1034 §3.6.2, enforced by Route 53).
      for (const other of staged.values()) {
        if (other.Name !== name || other.Type === rr.Type) continue;
        if (rr.Type === "CNAME" || other.Type === "CNAME") {
          throw route53Error(
            "InvalidChangeBatch",
            `[RRSet of type ${rr.Type} with DNS name ${name} is not permitted because a conflicting RRSet of type ${other.Type} with the same DNS name already exists in zone ${z.name}]`,
          );
        }
      }
      staged.set(k, copy);
    }
    z.records = staged;
    const id = `/change/C${(++seq).toString(36).toUpperCase().padStart(12, "0")}`;
    changes.push({ id, zoneId, submittedMs: ctx.nowMs, changes: JSON.parse(JSON.stringify(list)) });
    return { ChangeInfo: { Id: id, Status: "PENDING", SubmittedAt: new Date(ctx.nowMs) } };
  }

  function getChange(input: { Id?: string }, ctx: CommandContext) {
    rateLimit(ctx);
    const id = (input.Id ?? "").startsWith("/change/") ? input.Id : `/change/${input.Id}`;
    const c = changes.find((x) => x.id === id);
    if (!c) throw route53Error("NoSuchChange", `A change with the specified change ID does not exist: ${input.Id}`, 404);
    return { ChangeInfo: { Id: c.id, Status: statusOf(c, ctx.nowMs), SubmittedAt: new Date(c.submittedMs) } };
  }

  function list(input: { HostedZoneId?: string; StartRecordName?: string; StartRecordType?: string; MaxItems?: number }, ctx: CommandContext) {
    rateLimit(ctx);
    const z = zone(input.HostedZoneId);
    // Route 53 orders by reversed labels; plain name order is close enough for single-record lookups.
    const all = [...z.records.values()].sort((a, b) => (a.Name! + a.Type!).localeCompare(b.Name! + b.Type!));
    let start = 0;
    if (input.StartRecordName) {
      const s = norm(input.StartRecordName) + (input.StartRecordType ?? "");
      start = all.findIndex((r) => (r.Name! + r.Type!).localeCompare(s) >= 0);
      if (start < 0) start = all.length;
    }
    const max = Math.min(input.MaxItems ?? 300, 300);
    const items = all.slice(start, start + max);
    const next = all[start + max];
    return {
      ResourceRecordSets: JSON.parse(JSON.stringify(items)),
      IsTruncated: next !== undefined,
      MaxItems: max,
      ...(next ? { NextRecordName: next.Name, NextRecordType: next.Type } : {}),
    };
  }

  return {
    service: "route53",
    clientClass: Route53Client,
    commands: [
      [ChangeResourceRecordSetsCommand, change],
      [GetChangeCommand, getChange],
      [ListResourceRecordSetsCommand, list],
    ],
    faultFor(kind: FaultKind): Error {
      switch (kind) {
        case "throttling":
          return route53Error("Throttling", "Rate exceeded");
        case "state":
          return route53Error("PriorRequestNotComplete", "The request was rejected because Route 53 was still processing a prior request.");
        case "notFound":
          return route53Error("NoSuchHostedZone", "No hosted zone found", 404);
        case "accessDenied":
          return route53Error("AccessDenied", "User is not authorized to perform: route53:ChangeResourceRecordSets", 403);
        case "internal":
          return route53Error("InternalFailure", "An internal error occurred", 500);
        default:
          return route53Error("InvalidInput", `sandbox: fault ${kind} has no Route 53 equivalent`);
      }
    },
    addZone(id, name) {
      zones.set(zid(id), { name: norm(name), records: new Map() });
    },
    putRecord(zoneId, rrset) {
      const z = zone(zoneId);
      z.records.set(key(rrset.Name!, rrset.Type!), JSON.parse(JSON.stringify({ ...rrset, Name: norm(rrset.Name!) })));
    },
    record(zoneId, name, type) {
      const r = zone(zoneId).records.get(key(name, type));
      return r ? JSON.parse(JSON.stringify(r)) : undefined;
    },
    changes() {
      const now = core.clock.nowMs();
      return changes.map((c) => ({ ...c, status: statusOf(c, now) }));
    },
    configure(o) {
      Object.assign(opts, o);
    },
  };
}
