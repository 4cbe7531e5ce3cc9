import { makeRestoreTestHandler } from "../runbooks/restore-test/handler.ts";

/** Restore-test runbook: see runbooks/restore-test/handler.ts. Driven by stacks/restore-test.ts; samples in events/restore-test-*.json. */
export const handler = makeRestoreTestHandler();
