import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // A worker that does not wind down after its files is ended instead of waited for.
    teardownTimeout: 10_000,
    // Integration tests open real sockets on port 0; two workers suit this 2-core machine.
    maxWorkers: 2,
  },
});
