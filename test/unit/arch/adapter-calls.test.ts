import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ADAPTER_CALLS, actionsOf, bareAction, type AdapterCall } from "../../../adapters/calls.ts";

/**
 * adapters/calls.ts is the one declaration IAM and the sandbox derive from; this test keeps it true to the
 * code by reading every adapter's source: each exported function that sends a command, or calls another
 * adapter function that does, must be declared, and its declaration must cover every action it sends.
 */

const DIR = new URL("../../../adapters/", import.meta.url).pathname;

/** SDK client package → IAM service prefix. */
const SERVICE: Record<string, string> = {
  rds: "rds",
  ec2: "ec2",
  s3: "s3",
  "route-53": "route53",
  cloudwatch: "cloudwatch",
  "cost-explorer": "ce",
  sts: "sts",
  organizations: "organizations",
};
/** Commands whose IAM action is not their own name. */
const ACTION_OF: Record<string, string> = { HeadObject: "GetObject", ListObjectsV2: "ListBucket" };

interface Fn {
  module: string;
  name: string;
  body: string;
}

function exportedFunctions(file: string): { fns: Fn[]; service?: string; imports: Map<string, string> } {
  const text = readFileSync(path.join(DIR, file), "utf8");
  const module = file.replace(/\.ts$/, "");
  const client = /from "@aws-sdk\/client-([a-z0-9-]+)"/.exec(text)?.[1];
  const imports = new Map<string, string>();
  for (const m of text.matchAll(/import \{([^}]+)\} from "\.\/([a-z0-9-]+)\.ts"/g)) {
    for (const name of m[1]!.split(",").map((s) => s.trim().replace(/^type\s+/, ""))) if (name) imports.set(name, m[2]!);
  }
  // Every top-level function or const (typed or not, e.g. a per-kind table); an exported function's body includes
  // the local helpers it calls.
  const starts = [...text.matchAll(/^(export )?(?:async )?function (\w+)|^(export )?const (\w+)(?::[^=\n]+)? =/gm)].map((m) => ({
    name: (m[2] ?? m[4])!,
    exported: Boolean(m[1] ?? m[3]),
    at: m.index!,
  }));
  const own = new Map(starts.map((st, i) => [st.name, text.slice(st.at, starts[i + 1]?.at ?? text.length)]));
  const closure = (name: string, seen = new Set<string>()): string => {
    if (seen.has(name)) return "";
    seen.add(name);
    const body = own.get(name) ?? "";
    const locals = starts.filter((st) => !st.exported && st.name !== name && new RegExp(`\\b${st.name}\\(`).test(body));
    return body + locals.map((l) => closure(l.name, seen)).join("");
  };
  const fns = starts.filter((st) => st.exported).map((st) => ({ module, name: st.name, body: closure(st.name) }));
  return { fns, ...(client ? { service: SERVICE[client] } : {}), imports };
}

const files = readdirSync(DIR).filter((f) => f.endsWith(".ts") && f !== "calls.ts");
const parsed = files.map(exportedFunctions);
const declared = (key: string): string[] | undefined => (key in ADAPTER_CALLS ? actionsOf([key as AdapterCall]).map(bareAction) : undefined);

describe("adapters/calls.ts declares what each adapter sends", () => {
  const cases = parsed.flatMap((p) =>
    p.fns.map((fn) => {
      const direct = p.service
        ? [...fn.body.matchAll(/new (\w+)Command\(|paginate(\w+)\(/g)].map((m) => `${p.service}:${ACTION_OF[m[1] ?? m[2]!] ?? m[1] ?? m[2]}`)
        : [];
      const via = [...p.imports].filter(([name]) => new RegExp(`\\b${name}\\(`).test(fn.body)).map(([name, mod]) => `${mod}.${name}`);
      return { key: `${fn.module}.${fn.name}`, direct: [...new Set(direct)], via: via.filter((v) => declared(v)) };
    }),
  );

  it("finds the adapters' commands (the parser sees them)", () => {
    const all = cases.flatMap((c) => c.direct);
    expect(all).toEqual(
      expect.arrayContaining(["rds:CreateDBSnapshot", "ec2:DescribeImages", "s3:PutObject", "route53:ChangeResourceRecordSets", "ce:GetCostForecast"]),
    );
  });

  it.each(cases.filter((c) => c.direct.length || c.via.length).map((c) => [c.key, c] as const))("%s", (key, c) => {
    const mine = declared(key);
    expect(mine, `${key} sends ${[...c.direct, ...c.via].join(", ")} but has no entry in adapters/calls.ts`).toBeDefined();
    for (const action of c.direct) expect(mine, `${key} sends ${action}`).toContain(action);
    for (const inner of c.via) for (const action of declared(inner)!) expect(mine, `${key} calls ${inner} (${action})`).toContain(action);
  });

  it("has no entry for a function that does not exist", () => {
    const exported = new Set(parsed.flatMap((p) => p.fns.map((f) => `${f.module}.${f.name}`)));
    expect(Object.keys(ADAPTER_CALLS).filter((k) => !exported.has(k))).toEqual([]);
  });
});
