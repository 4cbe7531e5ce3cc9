import { describe, expect, it } from "vitest";
import { interleave } from "../../../core/interleave.ts";

describe("interleave", () => {
  it("takes one item of each group in turn, each group in its own order, the groups in order of first appearance", () => {
    const ids = ["db-1", "db-2", "db-3", "vol-1", "vol-2", "cl-1"];
    expect(interleave(ids, (id) => id.split("-")[0]!)).toEqual(["db-1", "vol-1", "cl-1", "db-2", "vol-2", "db-3"]);
  });

  it("keeps a single group, and an empty list, as they are", () => {
    expect(interleave(["a", "b"], () => "x")).toEqual(["a", "b"]);
    expect(interleave([], () => "x")).toEqual([]);
  });
});
