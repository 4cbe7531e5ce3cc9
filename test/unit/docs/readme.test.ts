import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { costBlock, exampleConfig, functionsBlock, readBlock, replaceBlock } from "../../../scripts/readme.ts";

/** The README's generated tables are the code's (scripts/readme.ts; `npm run readme` rewrites them). */
const ROOT = new URL("../../../", import.meta.url).pathname;
const readme = readFileSync(`${ROOT}README.md`, "utf8");
const config = exampleConfig(ROOT);

describe("README tables written from the code", () => {
  it("places every function where stacks/functions.ts deploys it", () => {
    expect(readBlock(readme, "functions"), "README.md functions table is stale: run npm run readme").toBe(functionsBlock(config));
    expect(functionsBlock(config)).toContain("| `failover` | DR: the replicas' region (`failover.groups[].replica.region`) |");
  });

  it("gives the example's monthly cost as npm run cost-to-run computes it", () => {
    expect(readBlock(readme, "cost"), "README.md cost table is stale: run npm run readme").toBe(costBlock(config));
  });

  it("replaces only the named block, and names a missing one", () => {
    const text = "a\n<!-- readme:x:start -->\nold\n<!-- readme:x:end -->\nb";
    expect(replaceBlock(text, "x", "new")).toBe("a\n<!-- readme:x:start -->\nnew\n<!-- readme:x:end -->\nb");
    expect(() => replaceBlock(text, "y", "new")).toThrow("README.md has no <!-- readme:y:start --> … <!-- readme:y:end --> block");
  });
});
