import { defineConfig } from "vitest/config";

// Unit and integration tests in Node: common/, server/, and the relay over real loopback sockets.
// Browser end-to-end tests have their own config (vitest.e2e.config.ts): they need a network
// namespace and Chromium.
export default defineConfig({
  test: {
    include: ["common/**/*.test.ts", "server/**/*.test.ts", "test/relay/**/*.test.ts", "test/tooling/**/*.test.ts", "test/engine/**/*.test.ts", "client-web/**/*.test.ts", "test/jellyfin/**/*.test.ts"],
    // *.browser.test.ts run in Chromium under web-test-runner, not here.
    exclude: ["**/node_modules/**", "**/*.browser.test.ts"],
    environment: "node",
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
