import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // The lab's namespaces and daemons are real: lab test files run one at a time.
    fileParallelism: true,
    pool: "forks",
  },
});
