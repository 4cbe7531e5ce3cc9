import { parseBackupEvent, parseCopyEvent, parsePruneEvent, parseWatchdogEvent } from "./events-backup.ts";
import { parseCostEvent } from "./events-cost.ts";
import { parseFailoverEvent } from "./events-failover.ts";
import { parseWarmEvent } from "./events-warm.ts";
import { parseProbeEvent } from "./events-probe.ts";
import { parseRestoreTestEvent } from "./events-restore-test.ts";
import { parseCheckerEvent } from "./events-restore-test-checker.ts";
import { parseWeeklyReportEvent } from "./events-weekly-report.ts";
import { parseFleetSummaryEvent } from "./events-fleet.ts";
import { parseFleetTargetsEvent } from "./events-fleet-targets.ts";
import { parseVaultCopyEvent, parseVaultPruneEvent } from "./events-vault.ts";

/**
 * The event parser of every function, by function name. A sample in `events/` is named
 * `<function>-<mode>.json` and must parse with its function's parser.
 */
export const EVENT_PARSERS: Record<string, (raw: unknown) => unknown> = {
  backup: parseBackupEvent,
  copy: parseCopyEvent,
  prune: parsePruneEvent,
  watchdog: parseWatchdogEvent,
  cost: parseCostEvent,
  failover: parseFailoverEvent,
  warm: parseWarmEvent,
  probe: parseProbeEvent,
  "restore-test": parseRestoreTestEvent,
  "restore-test-checker": parseCheckerEvent,
  "weekly-report": parseWeeklyReportEvent,
  "fleet-summary": parseFleetSummaryEvent,
  "fleet-targets": parseFleetTargetsEvent,
  "vault-copy": parseVaultCopyEvent,
  "vault-prune": parseVaultPruneEvent,
};
