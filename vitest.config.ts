import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Property tests explore many random graphs; give them room on a 2-core machine.
    testTimeout: 30_000,
    projects: [
      { extends: true, test: { name: "volley", include: ["src/**/*.test.ts", "test/**/*.test.ts"] } },
      {
        // The executor's suites again with the batch fast path off: both paths must agree on every test.
        extends: true,
        test: {
          name: "batch path off",
          include: ["src/executor/**/*.test.ts", "src/scheduler/**/*.test.ts", "test/scheduler.property.test.ts", "test/hostile.fuzz.test.ts"],
          env: { VOLLEY_BATCH_PATH: "off" },
        },
      },
    ],
  },
});
