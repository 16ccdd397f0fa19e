import { defineConfig } from "vitest/config";

// Browser end-to-end tests (headless Chromium via playwright-core). They must run inside the
// private network namespace; see test/harness/README.md:
//   unshare -n scripts/netns-run.sh npx vitest run -c vitest.e2e.config.ts
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.e2e.test.ts"],
    environment: "node",
    // One file at a time: each file launches Chromium, and the machines have 2 cores.
    fileParallelism: false,
    // Browser launch, ICE and media take seconds on a busy 2-core VM.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 60_000,
  },
});
