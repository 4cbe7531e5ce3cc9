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

  function change(input: { HostedZoneId?: string; ChangeBatch?: { Changes?: { Action?: string; ResourceRecordSet?: ResourceRecordSet }[] } }, ctx: CommandContext) {
    rateLimit(ctx);
    const zoneId = zid(input.HostedZoneId ?? "");
    const z = zone(zoneId);
    if (opts.enforcePriorRequest && changes.some((c) => c.zoneId === zoneId && statusOf(c, ctx.nowMs) === "PENDING")) {
      throw route53Error("PriorRequestNotComplete", "The request was rejected because Route 53 was still processing a prior request.");
    }
    const list = input.ChangeBatch?.Changes ?? [];
    if (!list.length || list.length > 1000) throw route53Error("InvalidChangeBatch", "A change batch needs 1 to 1000 changes");
    // Validate the whole batch first: Route 53 applies a batch atomically.
    const staged = new Map(z.records);
    for (const c of list) {
      const rr = c.ResourceRecordSet;
      if (!rr?.Name || !rr.Type) throw route53Error("InvalidInput", "ResourceRecordSet needs Name and Type");
      if (!norm(rr.Name).endsWith(norm(z.name))) throw route53Error("InvalidChangeBatch", `RRSet with DNS name ${rr.Name} is not permitted in zone ${z.name}`);
      if (!rr.AliasTarget && (rr.TTL === undefined || !rr.ResourceRecords?.length)) throw route53Error("InvalidInput", "Non-alias records need TTL and ResourceRecords");
      const k = key(rr.Name, rr.Type);
      const copy: ResourceRecordSet = JSON.parse(JSON.stringify({ ...rr, Name: norm(rr.Name) }));
      if (c.Action === "UPSERT") staged.set(k, copy);
      else if (c.Action === "CREATE") {
        if (staged.has(k)) throw route53Error("InvalidChangeBatch", `Tried to create resource record set [name='${norm(rr.Name)}', type='${rr.Type}'] but it already exists`);
        staged.set(k, copy);
      } else if (c.Action === "DELETE") {
        if (!staged.delete(k)) throw route53Error("InvalidChangeBatch", `Tried to delete resource record set [name='${norm(rr.Name)}', type='${rr.Type}'] but it was not found`);
      } else throw route53Error("InvalidInput", `Unknown action ${c.Action}`);
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
