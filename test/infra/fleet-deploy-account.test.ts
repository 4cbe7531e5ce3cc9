/**
 * The account guard of a stage with a fleet (sst.config.ts, schemas/config-fleet.ts fleetDeployProblem): deployed into
 * one of its own fleet's accounts, the stage's jobs would act there twice (their own runs, and the fleet's items for
 * that account, with state under the account), and prune's daily caps would count in two ledgers.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { SynthResult } from "../../scripts/sst-synth.ts";
import { ACCOUNT, ROOT } from "./builders.ts";
import { runSynth } from "./synth-run.ts";

const PAYMENTS = { id: "111122223333", name: "payments", externalId: "oa-ci-payments-7f3c" };

let asMember: SynthResult;

beforeAll(() => {
  const raw = JSON.parse(readFileSync(path.join(ROOT, "config/example.json"), "utf8"));
  raw.stage = "ci";
  raw.drRegions[0].kmsKeyId = "alias/ops-autopilot-dr";
  raw.backup.sourceKmsKeyIds = [`arn:aws:kms:eu-west-1:${ACCOUNT}:alias/databases`];
  raw.fleet = { accounts: [PAYMENTS] };
  const file = path.join(mkdtempSync(path.join(tmpdir(), "ops-autopilot-fleet-account-")), "fleet.json");
  writeFileSync(file, JSON.stringify(raw, null, 2));
  asMember = runSynth("ci", file, { OPS_AUTOPILOT_SYNTH_ACCOUNT: PAYMENTS.id });
}, 600_000);

describe("a stage with a fleet, deployed into one of its fleet's accounts", () => {
  it("is refused before anything is declared, naming the account", () => {
    expect(asMember.errors.map((e) => e.split("\n")[0])).toEqual([
      `Error: refusing to deploy stage ci into account ${PAYMENTS.id}: it is fleet.accounts[0] (payments). The stage's own jobs act in the account it is deployed in; as a fleet member too, each would run there twice and prune's daily caps would count in two ledgers. Remove it from fleet.accounts`,
    ]);
    expect(asMember.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
  });
});
