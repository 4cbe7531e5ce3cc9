import { rmSync } from "node:fs";
import path from "node:path";

/**
 * Each run starts with no IAM usage recorded (`npm run iam-report` reads what this run's sandboxes record) and no
 * synth results (test/infra/synth-run.ts shares one synth per stage and configuration among the run's test files).
 */
export default function setup(): void {
  rmSync(path.resolve("out/iam-usage"), { recursive: true, force: true });
  rmSync(path.resolve("out/synth-cache"), { recursive: true, force: true });
}
