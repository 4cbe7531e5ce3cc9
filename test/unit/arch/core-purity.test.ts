import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { importsOf, root, walk } from "./imports.ts";

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
