import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Docker-backed suites share one daemon; files run in parallel but each bounds its own work.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
