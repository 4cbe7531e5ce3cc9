/**
 * Installs SST's platform (.sst/platform: SST's component sources, @pulumi/pulumi, @pulumi/aws,
 * config.d.ts) for the offline infra checks, without an AWS account and without touching anyone's
 * ~/.config/sst. Skips the install when .sst/platform already matches the installed sst version.
 *
 *   node scripts/sst-install.ts [--force]
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const root = process.cwd();
const platform = path.join(root, ".sst", "platform");
const sstVersion = (JSON.parse(readFileSync(path.join(root, "node_modules", "sst", "package.json"), "utf8")) as { version: string }).version;

function installed(): boolean {
  const versionFile = path.join(platform, "version");
  return (
    existsSync(versionFile) &&
    readFileSync(versionFile, "utf8").trim() === sstVersion &&
    existsSync(path.join(platform, "node_modules", "@pulumi", "pulumi", "package.json")) &&
    existsSync(path.join(platform, "node_modules", "@pulumi", "aws", "package.json")) &&
    existsSync(path.join(platform, "config.d.ts"))
  );
}

if (installed() && !process.argv.includes("--force")) {
  console.log(`sst platform ${sstVersion} already installed in .sst/platform`);
} else {
  const started = Date.now();
  console.log(
    `Installing SST's platform ${sstVersion} for the offline infrastructure checks (first run only): ` +
      "SST's component sources, @pulumi/pulumi and @pulumi/aws, from the npm registry into .sst/platform (about 320 MB, 1 min)",
  );
  const home = mkdtempSync(path.join(tmpdir(), "sst-config-home-"));
  try {
    execFileSync(path.join(root, "node_modules", ".bin", "sst"), ["install", "--stage", "ci"], {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit"],
      env: {
        ...process.env,
        SST_SKIP_DEPENDENCY_CHECK: "1",
        SST_NO_BUN: "1",
        SST_TELEMETRY_DISABLED: "1",
        XDG_CONFIG_HOME: home,
      },
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  if (!installed()) {
    console.error("sst install finished but .sst/platform is incomplete");
    process.exit(1);
  }
  console.log(`sst platform ${sstVersion} installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
