import { rmSync } from "node:fs";
import path from "node:path";

/** Each run starts with no IAM usage recorded; `npm run iam-report` reads what this run's sandboxes record. */
export default function setup(): void {
  rmSync(path.resolve("out/iam-usage"), { recursive: true, force: true });
}
