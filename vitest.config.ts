import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Property tests explore many random graphs; give them room on a 2-core machine.
    testTimeout: 30_000,
    projects: [
      {
        extends: true,
        // Type tests (`*.test-d.ts`) are checked by the compiler as part of the suite.
        test: {
          name: "volley",
          include: ["src/**/*.test.ts", "test/**/*.test.ts"],
          typecheck: { enabled: true, include: ["src/**/*.test-d.ts"] },
        },
      },
      {
        // The executor's suites again with the batch fast path off: both paths must agree on every test.
        extends: true,
        test: {
          name: "batch path off",
          include: [
            "src/executor/**/*.test.ts",
            "src/scheduler/**/*.test.ts",
            "test/scheduler.property.test.ts",
            "test/hostile.fuzz.test.ts",
          ],
          env: { VOLLEY_BATCH_PATH: "off" },
        },
      },
    ],
  },
});
