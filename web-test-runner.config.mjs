// Component tests of the lit elements in Debian's Chromium.
// Run by `make test` inside the private network namespace, like the other browser tests.
import { esbuildPlugin } from "@web/dev-server-esbuild";
import { chromeLauncher } from "@web/test-runner-chrome";
// The same switches as the end-to-end harness (test/harness/browser.ts).
import chromiumFlags from "./test/harness/chromium-flags.json" with { type: "json" };

const CHROMIUM_FLAGS = chromiumFlags;

export default {
  files: ["client-web/**/*.browser.test.ts", "test/engine/**/*.browser.test.ts"],
  nodeResolve: true,
  plugins: [esbuildPlugin({ ts: true, tsconfig: "./tsconfig.json", target: "es2022" })],
  browsers: [
    chromeLauncher({
      launchOptions: { executablePath: process.env.CHROME_PATH || "/usr/bin/chromium", headless: true, args: CHROMIUM_FLAGS },
    }),
  ],
  concurrency: 1,
  browserStartTimeout: 60000,
  testFramework: { config: { timeout: 10000 } },
};
