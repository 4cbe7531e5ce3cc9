import { httpProbe } from "../../adapters/health.ts";
import { putProbeResults } from "../../adapters/probe-metrics.ts";
import { tcpProbe } from "../../adapters/tcp-probe.ts";
import { PROBE_DIMENSION, PROBE_METRIC, probeNamespace } from "../../core/failover-trigger.ts";
import type { RunContext } from "../lib/handler.ts";
import type { ProbeDeps } from "./probe.ts";

/** Real dependencies of the probe (used by functions/probe.ts). */
export function probeDeps(ctx: RunContext): ProbeDeps {
  const http = httpProbe();
  const tcp = tcpProbe();
  const namespace = probeNamespace(`${ctx.config.app}-${ctx.config.stage}`);
  return {
    http: (url, timeoutMs) => http.check(url, timeoutMs),
    tcp: (host, port, timeoutMs) => tcp.check(host, port, timeoutMs),
    publish: (region, results) => putProbeResults(region, namespace, PROBE_METRIC, PROBE_DIMENSION, results),
  };
}
