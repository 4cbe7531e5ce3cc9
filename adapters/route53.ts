import { ChangeResourceRecordSetsCommand, GetChangeCommand, ListResourceRecordSetsCommand, type ResourceRecordSet } from "@aws-sdk/client-route-53";
import { route53 } from "./clients.ts";
import { describeError, errorName } from "./errors.ts";
import type { DnsConfig, RecordValue } from "../schemas/config-failover.ts";
import type { DnsPort } from "../runbooks/failover/ports.ts";

/**
 * Route 53 for the failover runbook: UPSERT one record, poll GetChange, read the record back.
 *
 * Route 53 allows 5 API requests per second per account (console and every tool included) and answers
 * `PriorRequestNotComplete` while an earlier change to the same zone is still being applied
 * (https://repost.aws/knowledge-center/route-53-avoid-throttling-errors). Both are retried here with
 * exponential backoff and full jitter; the client itself makes one attempt per call so retries do not multiply.
 */

export const ROUTE53_RETRYABLE = new Set(["Throttling", "ThrottlingException", "PriorRequestNotComplete", "ServiceUnavailable", "InternalFailure"]);

export interface Route53Options {
  /** Attempts for ChangeResourceRecordSets, first included. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** 0..1; injected in tests for deterministic delays. */
  random?: () => number;
}

const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function zoneId(id: string): string {
  return id.replace(/^\/hostedzone\//, "");
}

/** Route 53 answers names with a trailing dot and in lower case; compare names the same way. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

/** The ResourceRecordSet for `value` (plain values with TTL, or an alias without TTL). */
export function recordSetFor(dns: DnsConfig, value: RecordValue): ResourceRecordSet {
  if ("values" in value) {
    return { Name: dns.recordName, Type: dns.recordType, TTL: dns.ttl, ResourceRecords: value.values.map((v) => ({ Value: v })) };
  }
  return {
    Name: dns.recordName,
    Type: dns.recordType,
    AliasTarget: { HostedZoneId: zoneId(value.alias.hostedZoneId), DNSName: value.alias.dnsName, EvaluateTargetHealth: value.alias.evaluateTargetHealth },
  };
}

export class Route53ChangeError extends Error {
  override name = "Route53ChangeError";
  attempts: number;
  constructor(message: string, attempts: number) {
    super(message);
    this.attempts = attempts;
  }
}

/** A {@link DnsPort} on the real Route 53 API. */
export function route53Dns(options: Route53Options = {}): DnsPort {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 8);
  const base = options.baseDelayMs ?? 400;
  const cap = options.maxDelayMs ?? 10_000;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;

  async function withBackoff<T>(what: string, attempts: number, call: () => Promise<T>): Promise<{ value: T; attempts: number }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return { value: await call(), attempts: attempt };
      } catch (err) {
        const name = errorName(err);
        if (!ROUTE53_RETRYABLE.has(name) || attempt >= attempts) {
          throw new Route53ChangeError(`${what} failed after ${attempt} attempt(s): ${describeError(err)}`, attempt);
        }
        // Full jitter keeps concurrent callers (and other tools in the account) from retrying in lockstep.
        await sleep(Math.round(random() * Math.min(cap, base * 2 ** (attempt - 1))) + 200);
      }
    }
  }

  return {
    async upsert(dns, value) {
      const out = await withBackoff("ChangeResourceRecordSets", maxAttempts, () =>
        route53().send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: zoneId(dns.hostedZoneId),
            ChangeBatch: {
              Comment: "ops-autopilot failover: switch to DR",
              Changes: [{ Action: "UPSERT", ResourceRecordSet: recordSetFor(dns, value) }],
            },
          }),
        ),
      );
      const id = out.value.ChangeInfo?.Id;
      if (!id) throw new Route53ChangeError("ChangeResourceRecordSets returned no ChangeInfo.Id", out.attempts);
      return { changeId: id, attempts: out.attempts };
    },

    async getChange(changeId) {
      const out = await withBackoff("GetChange", 4, () => route53().send(new GetChangeCommand({ Id: changeId })));
      return out.value.ChangeInfo?.Status === "INSYNC" ? "INSYNC" : "PENDING";
    },

    async currentValue(dns) {
      // Starting the listing at the record itself returns it first; one page is all we need.
      const out = await withBackoff("ListResourceRecordSets", 4, () =>
        route53().send(
          new ListResourceRecordSetsCommand({
            HostedZoneId: zoneId(dns.hostedZoneId),
            StartRecordName: dns.recordName,
            StartRecordType: dns.recordType,
            MaxItems: 1,
          }),
        ),
      );
      const rr = out.value.ResourceRecordSets?.[0];
      if (!rr || normalizeName(rr.Name ?? "") !== normalizeName(dns.recordName) || rr.Type !== dns.recordType) return undefined;
      if (rr.AliasTarget?.DNSName) {
        return {
          alias: {
            hostedZoneId: rr.AliasTarget.HostedZoneId ?? "",
            dnsName: rr.AliasTarget.DNSName,
            evaluateTargetHealth: rr.AliasTarget.EvaluateTargetHealth ?? false,
          },
        };
      }
      const values = (rr.ResourceRecords ?? []).map((r) => r.Value ?? "").filter(Boolean);
      return values.length ? { values } : undefined;
    },
  };
}
