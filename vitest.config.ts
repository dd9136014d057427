import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Property tests explore many random graphs; give them room on a 2-core machine.
    testTimeout: 30_000,
  },
});
