// Component tests of the lit elements in Debian's Chromium (shared/notes/testing.md §5).
// Run by `make test` inside the private network namespace, like the other browser tests.
import { esbuildPlugin } from "@web/dev-server-esbuild";
import { chromeLauncher } from "@web/test-runner-chrome";

const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-features=WebRtcHideLocalIpsWithMdns",
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
  "--autoplay-policy=no-user-gesture-required",
];

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
