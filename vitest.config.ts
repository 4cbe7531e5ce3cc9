import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    setupFiles: ["test/setup.ts"],
    globalSetup: ["test/global-setup.ts"],
    include: ["test/**/*.test.ts"],
    exclude: ["node_modules/**", ".sst/**"],
    // Quiet Powertools logs in tests unless a test captures them on purpose.
    // Sandboxes record which IAM actions each function was authorized for (npm run iam-report).
    env: { POWERTOOLS_LOG_LEVEL: "SILENT", POWERTOOLS_METRICS_DISABLED: "true", OPS_AUTOPILOT_IAM_USAGE_DIR: "out/iam-usage" },
  },
});
