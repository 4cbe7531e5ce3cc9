import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CostExplorerClient, GetCostAndUsageCommand, GetCostForecastCommand } from "@aws-sdk/client-cost-explorer";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { resetClients, setReadOnly } from "../../../adapters/clients.ts";
import { isAllowedRead } from "../../../adapters/read-only.ts";
import { runBackup } from "../../../runbooks/backup/backup.ts";
import { runCopy } from "../../../runbooks/backup/copy.ts";
import { backupDeps } from "../../../runbooks/backup/deps.ts";
import { createHandler } from "../../../runbooks/lib/handler.ts";
import { createSandbox, FakeClock } from "../../../sandbox/index.ts";
import { lambdaContext, quietRuntime } from "../../../sandbox/scenarios/harness.ts";
import { parseBackupEvent, parseCopyEvent } from "../../../schemas/events-backup.ts";
import { runPlanCli } from "../../../scripts/plan.ts";
import { loadConfig } from "../../../stacks/config.ts";

/**
 * The plan of the example configuration (stage `ci` → config/example.json) on a sandbox seeded from that
 * configuration: its resources, ten nights of backups and copies, its failover groups with a replica lag. Whatever
 * the example holds, every part is planned with reads only. `PLAN_SAMPLE=<file>` keeps the terminal text.
 */

const REPO = path.resolve(new URL("../../..", import.meta.url).pathname);
const REPORTS = "ops-autopilot-ci-reports";
const ce = mockClient(CostExplorerClient);
let root: string | undefined;

afterEach(() => {
  ce.reset();
  setReadOnly(false);
  resetClients();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("npm run plan --stage ci (the example configuration) on the sandbox", () => {
  it("plans every part with reads only", async () => {
    const example = loadConfig("ops-autopilot", "ci", REPO, {});
    const clock = new FakeClock("2026-11-01T02:00:00Z");
    const regions = [example.primaryRegion, ...example.drRegions.map((d) => d.region)];
    const sb = createSandbox({ clock, regions, buckets: [REPORTS] });
    root = mkdtempSync(path.join(tmpdir(), "plan-example-"));
    try {
      resetClients();
      for (const p of example.backup.policies) {
        const tag = "tag" in p.selection ? p.selection.tag : undefined;
        if (tag) sb.rds.addInstance(example.primaryRegion, { id: `${p.name}-db`, tags: { [tag.key]: tag.value ?? p.name } });
        for (const ref of "ids" in p.selection ? (p.selection.ids ?? []) : []) {
          if (ref.kind === "ebs-volume") sb.ec2.addVolume(example.primaryRegion, { id: ref.id, status: "in-use" });
          else if (ref.kind === "rds-instance") sb.rds.addInstance(example.primaryRegion, { id: ref.id });
        }
      }
      for (const g of example.failover.groups) {
        if (g.primary.kind !== "rds-instance") continue;
        sb.rds.addInstance(g.primary.region, { id: g.primary.id });
        sb.rds.addInstance(g.replica.region, { id: g.replica.id, replicaSourceArn: `arn:aws:rds:${g.primary.region}:${sb.accountId}:db:${g.primary.id}` });
      }
      const stateBucket = { bucket: REPORTS, region: example.primaryRegion };
      const runtime = quietRuntime(example, clock);
      const backup = createHandler({ name: "backup", parse: parseBackupEvent, run: (e, c) => runBackup(e, c, backupDeps(c, { stateBucket })) }, runtime);
      const copy = createHandler({ name: "copy", parse: parseCopyEvent, run: (e, c) => runCopy(e, c, backupDeps(c, { stateBucket })) }, runtime);
      for (let d = 1; d <= 10; d++) {
        clock.set(new Date(Date.UTC(2026, 10, d, 2)));
        await backup({ trigger: "schedule" }, lambdaContext(`backup-${d}`));
        clock.set(new Date(Date.UTC(2026, 10, d, 3)));
        await copy({ trigger: "schedule" }, lambdaContext(`copy-${d}`));
      }
      clock.set(new Date(Date.UTC(2026, 10, 11, 1)));
      for (const g of example.failover.groups) sb.cloudwatch.setMetric(g.replica.region, "ReplicaLag", g.replica.id, 3, new Date(clock.nowMs() - 60_000));
      ce.on(GetCostAndUsageCommand).resolves({ $metadata: { attempts: 1 }, ResultsByTime: [] });
      ce.on(GetCostForecastCommand).resolves({ $metadata: { attempts: 1 }, Total: { Amount: "310.25", Unit: "USD" } });

      const mutating: string[] = [];
      for (const service of ["rds", "ec2", "s3", "route53", "cloudwatch"] as const) {
        sb.inject({
          service,
          times: Infinity,
          match: (_i, ctx) => !isAllowedRead(service, ctx.command),
          error: (ctx) => {
            mutating.push(`${ctx.service}:${ctx.command}`);
            return new Error("mutating");
          },
        });
      }
      const from = sb.calls.length;
      let out = "";
      const code = await runPlanCli(["--stage", "ci", "--state-bucket", REPORTS, "--out", path.join(root, "out", "plan", "ci")], {
        root: REPO,
        env: {},
        now: () => clock.now(),
        probe: { check: async () => ({ ok: true, status: 200, ms: 12, detail: "probe answered 200" }) },
        out: (t) => {
          out += t;
        },
        err: () => {},
      });
      expect(mutating).toEqual([]);
      expect(sb.calls.slice(from).filter((c) => !isAllowedRead(c.service as "rds", c.command))).toEqual([]);
      expect(ce.calls().map((c) => c.args[0].constructor.name)).toEqual(["GetCostAndUsageCommand", "GetCostForecastCommand"]);
      expect(out.split("\n").filter((l) => l.startsWith("== "))).toEqual([
        "== backup ==",
        "== copy ==",
        "== prune ==",
        "== watchdog ==",
        "== failover ==",
        "== cost ==",
      ]);
      expect(out).not.toContain("NOT PLANNED");
      expect(code).toBe(0);
      if (process.env.PLAN_SAMPLE) writeFileSync(process.env.PLAN_SAMPLE, out.replaceAll(root, "<tmp>"));
    } finally {
      sb.restore();
    }
  });
});
