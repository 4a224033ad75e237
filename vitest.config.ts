import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Test files run side by side: each lab and namespace host a file makes has its own
    // names (r6-<name>-*), so they do not collide. The tests inside a file run in order.
    fileParallelism: true,
    pool: "forks",
  },
});
