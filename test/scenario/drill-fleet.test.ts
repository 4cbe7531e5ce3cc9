import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { runFleetDrill } from "../../sandbox/scenarios/fleet-scenarios.ts";

/**
 * `npm run drill -- fleet`: three workload accounts and the backup account. The fleet summary names the account whose
 * member role is missing (name, id, role) while the others are done; a locked copy in the backup account survives a
 * delete from the workload account, with the refusal AWS gives printed
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LockSnapshot.html: "A locked snapshot can't be deleted").
 */

const root = join(import.meta.dirname, "..", "..");

describe("npm run drill -- fleet", () => {
  let lines: string[];
  beforeAll(async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["scripts/drill.ts", "fleet"], {
      cwd: root,
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: "SILENT" },
    });
    // Only stdout: other drill tests write out/drill-report.json at the same time.
    lines = stdout.split("\n");
  }, 60_000);

  it("runs only the fleet section, within the drill's width", () => {
    expect(lines).toContain("5. Fleet: 3 workload accounts and a backup account; one account's member roles never deployed");
    expect(lines.some((l) => l.startsWith("1. Backups"))).toBe(false);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(100);
  });

  it("the fleet backup's summary names the account without its member role (name, id, role) and the two others done", () => {
    const text = lines.join("\n");
    expect(lines).toContain("  == Fleet backup: 1 of 3 accounts failed (1 of 6 account × regions), 6 created ==");
    expect(lines).toContain("  ❌ *search* (444455556666): failed");
    expect(text.replace(/\n +/g, " ")).toContain(
      "• eu-west-1: search (444455556666) failed: AccessDenied: account 444455556666 (search): AssumeRole on " +
        "arn:aws:iam::444455556666:role/ops-autopilot-prod-member-backup for the backup function was refused (AccessDenied)",
    );
    expect(lines).toContain("  ✅ *analytics* (777788889999): ok, 3 created");
    expect(lines).toContain("  ✅ *payments* (111122223333): ok, 3 created");
    expect(lines).toContain("  • eu-central-1: ok, 0 created");
    expect(text).not.toContain("payments (111122223333) failed");
    expect(text).not.toContain("analytics (777788889999) failed");
  });

  it("sends the backups to the backup account through the copy job's share and the vault's own copy function, which locks the EBS copies", () => {
    const text = lines.join("\n").replace(/\n +/g, " ");
    expect(text).toContain("Copy, 30 min later: 6 DR copies started; failed: search (444455556666) in eu-central-1: AccessDenied.");
    expect(text).toContain("0 denied by the functions' roles");
    expect(text).toContain(
      "Backup account: the copy job shared 6 backups with 555566667777; vault-copy, run there as its own role, copied them with the vault's key (alias/ops-autopilot-vault) and locked the 4 EBS copies (RDS has no snapshot lock).",
    );
    expect(text).toMatch(/payments, its copy member role: ModifySnapshotAttribute snap-[0-9a-f]{17} createVolumePermission add 555566667777/);
    expect(text).toMatch(
      /backup account, vault-copy's role: CopySnapshot snap-[0-9a-f]{17} from eu-west-1, Encrypted true, KmsKeyId alias\/ops-autopilot-vault → snap-[0-9a-f]{17}/,
    );
    expect(text).toMatch(/backup account, vault-copy's role: LockSnapshot snap-[0-9a-f]{17} compliance, CoolOffPeriod 24 h, LockDuration 35 days/);
  });

  it("prints the refusals of the delete of the locked vault copy: from the workload account, then from the vault itself", () => {
    const text = lines.join("\n").replace(/\n +/g, " ");
    expect(text).toMatch(
      /from the administrator of payments \(111122223333\): refused, InvalidSnapshot\.NotFound: The snapshot 'snap-[0-9a-f]{17}' does not exist\./,
    );
    expect(text).toMatch(
      /from the backup account's own administrator \(555566667777\): refused, SnapshotLocked: The snapshot 'snap-[0-9a-f]{17}' is locked and can't be deleted\. Its lock state is compliance-cooloff\./,
    );
    expect(lines).toContain("The copy is still in the backup account: yes.");
  });
});

/**
 * The drill's workload resources are encrypted with each member's customer managed key, alias/ops-autopilot-workload,
 * the configuration's source key: the copy member roles use it by `kms:ResourceAliases` though a copy names it by ARN
 * (https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html), and the vault copies with the key
 * policy statements stacks/key-policy.ts generates (vaultCopyStatements).
 */
describe("the fleet drill on encrypted resources", () => {
  it("copies every encrypted backup of the two member accounts with roles to the DR region and to the vault, no call denied", async () => {
    const r = await runFleetDrill();

    expect(r.resourcesPerAccount).toEqual({ rdsInstances: 1, ebsVolumes: 2, encrypted: true });
    expect(r.copy.results.filter((x) => !x.ok).map((x) => `${x.accountName} ${x.region}`)).toEqual(["search eu-central-1"]);
    expect(r.iamDenials).toBe(0);
    expect(r.vaultCopy.sourceKey).toBe("arn:aws:kms:eu-west-1:111122223333:key/workload-eu-west-1");
    expect(r.vaultCopy.copyKey).toBe("alias/ops-autopilot-vault");
    expect(r.vaultCopy.shared).toBe(6);
    // The summary counts the locks applied as the copies were made, as the sandbox's LockSnapshot calls do.
    expect(r.vaultCopy.summary.split("\n")[0]).toBe(
      "Vault 555566667777: 6 copies started, 0 skipped, 0 not copyable, 4 EBS copies locked (4 as they were made, 0 from earlier runs)",
    );
    expect(r.vaultCopy.locked).toBe(4);
    expect(r.survived).toBe(true);
  }, 60_000);
});
