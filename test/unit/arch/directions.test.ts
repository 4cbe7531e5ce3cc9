import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { importsIn, root, walk } from "./imports.ts";

/**
 * Which way the layers may depend: core decides and knows nothing of I/O or of who calls it; schemas describe
 * input and need only core's leaf facts; adapters talk to AWS and are called, never call up; scripts run the app
 * and the sandbox, never the benchmarks; the sandbox's fake AWS knows nothing of the app it serves.
 */

interface Rule {
  name: string;
  /** Repository-relative folders the rule applies to. */
  from: string[];
  /** Folders those files must not import from. */
  notTo: string[];
  /** Imports allowed despite `notTo`: target file → the names that may be imported from it (`*`: any). */
  allow?: Record<string, readonly string[]>;
  /** Targets from which type-only imports (erased at runtime) are allowed despite `notTo`. */
  allowTypesFrom?: RegExp[];
}

const RULES: Rule[] = [
  { name: "core ↛ adapters, functions, runbooks", from: ["core"], notTo: ["adapters", "functions", "runbooks"] },
  {
    name: "schemas ↛ core (but its leaf facts)",
    from: ["schemas"],
    notTo: ["core"],
    allow: {
      // The resource kinds' leaf module: the schemas' enums are built from it.
      "core/resource-kinds.ts": ["*"],
      // The name rules the configuration checks app and stage against.
      "core/ownership.ts": ["OWNER_PART", "MAX_NAME_PREFIX"],
      // A schedule's local time that a DST change skips is refused by the configuration.
      "core/calendar.ts": ["skippedLocalTime"],
      // The warm targets' address rules, shared by the configuration check and the run.
      "core/warm/hosts.ts": ["defaultAllowedPorts", "hostAllowed", "urlPort"],
      // The failover trigger's alarm name and tuning rules, shared by the configuration check and stacks/.
      "core/failover-trigger.ts": ["triggerAlarmName", "tuningProblems", "TriggerTuning"],
      // Where a policy's restore tests run: the configuration checks the Availability Zone against it, the plan uses it.
      "core/restore-test.ts": ["restoreTestRegion", "RestoreTestContext", "RestoreTestPolicy"],
    },
  },
  {
    name: "adapters ↛ functions, runbooks",
    from: ["adapters"],
    notTo: ["functions", "runbooks"],
    // A runbook owns the ports it is given (runbooks/<name>/ports.ts); an adapter may implement one, naming its
    // interface in a type-only import, and never calls runbook code.
    allowTypesFrom: [/^runbooks\/[^/]+\/ports\.ts$/],
  },
  { name: "scripts ↛ bench", from: ["scripts"], notTo: ["bench"] },
  {
    // The fake AWS stands for AWS alone; what composes the app (roles, scenarios) is sandbox/index.ts and sandbox/scenarios/.
    name: "sandbox/aws ↛ app code",
    from: ["sandbox/aws"],
    notTo: ["core", "schemas", "adapters", "runbooks", "functions", "stacks", "sandbox/scenarios", "sandbox/index.ts"],
  },
];

const under = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}/`);

/** Every import of `files` that breaks `rule`, as "<file> imports <target> (<names>)". */
function violations(rule: Rule, files: { path: string; source: string }[]): string[] {
  return files
    .filter((f) => rule.from.some((d) => under(f.path, d)))
    .flatMap((f) =>
      importsIn(f.path, f.source).flatMap((imp) => {
        const target = imp.target;
        if (!target || !rule.notTo.some((d) => under(target, d))) return [];
        if (imp.typeOnly && rule.allowTypesFrom?.some((re) => re.test(target))) return [];
        const allowed = rule.allow?.[target];
        const bad = allowed?.includes("*") ? [] : imp.names.filter((n) => !allowed?.includes(n));
        return bad.length ? [`${f.path} imports ${target} (${bad.join(", ")})`] : [];
      }),
    );
}

const tree = (dirs: string[]) => dirs.flatMap((d) => walk(join(root, d)).map((file) => ({ path: relative(root, file), source: readFileSync(file, "utf8") })));

const rule = (name: string): Rule => RULES.find((r) => r.name.startsWith(name))!;

describe("import directions", () => {
  it.each(RULES.map((r) => [r.name, r] as const))("%s", (_, r) => {
    expect(violations(r, tree(r.from))).toEqual([]);
  });

  describe("each rule can fail", () => {
    it("core importing an adapter, a function or a runbook", () => {
      const files = [
        { path: "core/x.ts", source: `import { listDbSnapshots } from "../adapters/rds.ts";` },
        { path: "core/report/y.ts", source: `import type { RunContext } from "../../functions/lib/handler.ts";` },
        { path: "core/z.ts", source: `const m = await import("../runbooks/backup/backup.ts");` },
        { path: "core/ok.ts", source: `import { TAG } from "./types.ts";\nimport * as z from "zod";` },
      ];
      expect(violations(rule("core"), files)).toEqual([
        "core/x.ts imports adapters/rds.ts (listDbSnapshots)",
        "core/report/y.ts imports functions/lib/handler.ts (RunContext)",
        "core/z.ts imports runbooks/backup/backup.ts (*)",
      ]);
    });

    it("schemas importing core beyond the allowed names", () => {
      const files = [
        { path: "schemas/a.ts", source: `import { RESOURCE_KINDS, type ResourceKind } from "../core/resource-kinds.ts";` },
        { path: "schemas/b.ts", source: `import { MAX_NAME_PREFIX, OWNER_PART, snapshotName } from "../core/ownership.ts";` },
        { path: "schemas/c.ts", source: `import type { Snapshot } from "../core/types.ts";` },
      ];
      expect(violations(rule("schemas"), files)).toEqual([
        "schemas/b.ts imports core/ownership.ts (snapshotName)",
        "schemas/c.ts imports core/types.ts (Snapshot)",
      ]);
    });

    it("adapters importing a function or a runbook", () => {
      const files = [
        { path: "adapters/a.ts", source: `export { FUNCTION_CALLS } from "../functions/lib/calls.ts";` },
        { path: "adapters/b.ts", source: `import type { Step } from "../runbooks/engine.ts";` },
        { path: "adapters/c.ts", source: `import { type DbPort, PORT_DEFAULTS } from "../runbooks/failover/ports.ts";` },
        { path: "adapters/ok.ts", source: `import type { Snapshot } from "../core/types.ts";` },
        {
          path: "adapters/port.ts",
          source: `import type { DbPort } from "../runbooks/failover/ports.ts";\nimport { type DnsPort } from "../runbooks/failover/ports.ts";`,
        },
      ];
      expect(violations(rule("adapters"), files)).toEqual([
        "adapters/a.ts imports functions/lib/calls.ts (FUNCTION_CALLS)",
        "adapters/b.ts imports runbooks/engine.ts (Step)",
        "adapters/c.ts imports runbooks/failover/ports.ts (DbPort, PORT_DEFAULTS)",
      ]);
    });

    it("scripts importing a benchmark", () => {
      const files = [
        { path: "scripts/drill.ts", source: `import { startWarmServer } from "../bench/warm-server.ts";` },
        { path: "scripts/ok.ts", source: `import { startWarmServer } from "../sandbox/scenarios/http-origin.ts";` },
      ];
      expect(violations(rule("scripts"), files)).toEqual(["scripts/drill.ts imports bench/warm-server.ts (startWarmServer)"]);
    });

    it("the fake AWS importing app code or the layer above it", () => {
      const files = [
        { path: "sandbox/aws/types.ts", source: `import type { ResourceKind } from "../../core/types.ts";` },
        { path: "sandbox/aws/cloudwatch.ts", source: `import type { AlarmStateChangeEvent } from "../../schemas/events-failover.ts";` },
        { path: "sandbox/aws/iam/enforce.ts", source: `import { functionRoles } from "../../scenarios/roles.ts";` },
        { path: "sandbox/aws/x.ts", source: `import { permissionsFor } from "../../stacks/iam.ts";\nimport { createSandbox } from "../index.ts";` },
        {
          path: "sandbox/aws/iam/ok.ts",
          source: `import { Timeline } from "../clock.ts";\nimport { rdsError } from "../errors.ts";\nimport { mockClient } from "aws-sdk-client-mock";`,
        },
        { path: "sandbox/index.ts", source: `import { functionRoles } from "./scenarios/roles.ts";` },
      ];
      expect(violations(rule("sandbox/aws"), files)).toEqual([
        "sandbox/aws/types.ts imports core/types.ts (ResourceKind)",
        "sandbox/aws/cloudwatch.ts imports schemas/events-failover.ts (AlarmStateChangeEvent)",
        "sandbox/aws/iam/enforce.ts imports sandbox/scenarios/roles.ts (functionRoles)",
        "sandbox/aws/x.ts imports stacks/iam.ts (permissionsFor)",
        "sandbox/aws/x.ts imports sandbox/index.ts (createSandbox)",
      ]);
    });
  });
});
