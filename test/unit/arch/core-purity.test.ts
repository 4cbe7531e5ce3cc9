import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../../..");

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** Module specifiers a file imports (static, dynamic and re-exports). */
export function importsOf(source: string): string[] {
  const specs: string[] = [];
  const re = /(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|import\s+["']([^"']+)["']/g;
  for (const m of source.matchAll(re)) specs.push((m[1] ?? m[2] ?? m[3])!);
  return specs;
}

const FORBIDDEN = [/^@aws-sdk\//, /^sst(\/|$)/, /^@middy\//, /^@pulumi\//, /^node:(http|https|fs|net|dns)/];

describe("architecture", () => {
  it("finds imports in every form", () => {
    const src = `import a from "@aws-sdk/client-rds";\nexport { b } from 'sst';\nconst c = await import("@middy/core");\nimport "node:fs";\nimport type { D } from "../x.ts";`;
    expect(importsOf(src)).toEqual(["@aws-sdk/client-rds", "sst", "node:fs", "../x.ts", "@middy/core"].sort((x, y) => src.indexOf(x) - src.indexOf(y)));
  });

  it("core/ imports no AWS SDK, sst, middy or I/O module", () => {
    const offenders = walk(join(root, "core")).flatMap((file) =>
      importsOf(readFileSync(file, "utf8"))
        .filter((spec) => FORBIDDEN.some((re) => re.test(spec)))
        .map((spec) => `${relative(root, file)} imports ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it("only adapters/ import the AWS SDK (functions, schemas and core do not)", () => {
    const offenders = ["core", "schemas", "functions"].flatMap((dir) =>
      walk(join(root, dir)).flatMap((file) =>
        importsOf(readFileSync(file, "utf8"))
          .filter((spec) => spec.startsWith("@aws-sdk/"))
          .map((spec) => `${relative(root, file)} imports ${spec}`),
      ),
    );
    expect(offenders).toEqual([]);
  });
});
