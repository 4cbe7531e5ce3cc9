/**
 * `npm run drill` arguments: sections to run (none: all), `--html`, `--help`. Anything else is refused with exit
 * code 2, so a typo never runs the whole drill silently.
 */

export const DRILL_SECTIONS = {
  backup: "400 simulated days of backups, DR copies, retention and the hourly watchdog, with a 3-day outage",
  failover: "a region outage failed over (promote, DNS, warm, health), then a lagging replica refused",
  cost: "a cost morning on which EC2 spend triples: the Slack digest and alert",
  restore: "restore tests of an RDS instance, an Aurora cluster and an EBS volume, and the janitor",
  fleet: "3 workload accounts (one without its member roles) and a backup account: fan-out, summary, locked copy",
} as const;

export type DrillSection = keyof typeof DRILL_SECTIONS;

const OPTIONS = { "--html": "also write out/drill-report.html", "--help": "this text" } as const;

export type DrillArgs = { help: true } | { help: false; sections: DrillSection[]; html: boolean } | { error: string };

export function parseDrillArgs(argv: readonly string[]): DrillArgs {
  const names = Object.keys(DRILL_SECTIONS);
  const flags = argv.filter((a) => a.startsWith("-"));
  const badFlag = flags.filter((f) => !(f in OPTIONS) && f !== "-h");
  if (badFlag.length) return { error: `drill: unknown option: ${badFlag.join(", ")} (options: ${Object.keys(OPTIONS).join(", ")}; see --help)` };
  if (flags.includes("--help") || flags.includes("-h")) return { help: true };
  const asked = argv.filter((a) => !a.startsWith("-"));
  const unknown = asked.filter((a) => !names.includes(a));
  if (unknown.length) return { error: `drill: unknown section: ${unknown.join(", ")} (sections: ${names.join(", ")}; see --help)` };
  return { help: false, sections: asked as DrillSection[], html: flags.includes("--html") };
}

export function drillHelp(): string {
  const pad = Math.max(...[...Object.keys(DRILL_SECTIONS), ...Object.keys(OPTIONS)].map((k) => k.length)) + 2;
  return [
    "Usage: npm run drill -- [section ...] [--html] [--help]",
    "",
    "Runs ops-autopilot's runbooks on the in-memory sandbox account (no AWS account needed); with no section, all of them.",
    "",
    "Sections:",
    ...Object.entries(DRILL_SECTIONS).map(([k, v]) => `  ${k.padEnd(pad)}${v}`),
    "",
    "Options:",
    ...Object.entries(OPTIONS).map(([k, v]) => `  ${k.padEnd(pad)}${v}`),
    "",
  ].join("\n");
}
