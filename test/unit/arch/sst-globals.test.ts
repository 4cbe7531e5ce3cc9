import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { importsOf, root, walk } from "./imports.ts";

/**
 * Modules that declare SST components reference SST's platform types (`/// <reference path="../.sst/platform/config.d.ts" />`),
 * which bring their own, older @types/node. A module of the app's program (tsconfig.json: core, runbooks, adapters, schemas,
 * functions, sandbox, test, bench, scripts) that imports one pulls them in, and `tsc` then fails on two different
 * `http.IncomingMessage` types, far from the import that caused it. Pure infra (names, policies, definitions) lives in
 * modules without the reference (stacks/patterns.ts, stacks/iam.ts, ...); tests reach a component through a computed
 * specifier, and tsconfig.infra.json type-checks it.
 */
const PROGRAM = ["core", "runbooks", "adapters", "schemas", "functions", "sandbox", "test", "bench", "scripts"];
const SST_REFERENCE = /^\/\/\/\s*<reference path="[^"]*\.sst\/platform\/config\.d\.ts"\s*\/>/m;

function isTs(file: string): boolean {
  return file.endsWith(".ts");
}

/** Every module `file` reaches through relative static imports, itself included. */
function reachable(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const spec of importsOf(readFileSync(file, "utf8"))) {
    if (!spec.startsWith(".")) continue;
    const target = resolve(dirname(file), spec);
    // A specifier inside a test fixture's string names no file: only modules that exist are followed.
    if (isTs(target) && existsSync(target)) reachable(target, seen);
  }
  return seen;
}

describe("SST's platform types stay out of the app's program", () => {
  const referencing = new Set(
    walk(join(root, "stacks"))
      .filter(isTs)
      .filter((f) => SST_REFERENCE.test(readFileSync(f, "utf8"))),
  );

  it("finds the component modules (the rule is not vacuous)", () => {
    expect([...referencing].map((f) => relative(root, f))).toEqual(expect.arrayContaining(["stacks/notifications.ts", "stacks/lambda.ts"]));
  });

  it("no module of tsconfig.json's program imports, even indirectly, a module that references them", () => {
    const offending: string[] = [];
    for (const dir of PROGRAM) {
      for (const file of walk(join(root, dir)).filter(isTs)) {
        for (const reached of reachable(file)) {
          if (referencing.has(reached)) offending.push(`${relative(root, file)} -> ${relative(root, reached)}`);
        }
      }
    }
    expect(offending).toEqual([]);
  });
});
