// Browser tests of the dashboard: Chromium -> Envoy (the generator's config, as in
// deploy/envoy/envoy.yaml, for a test input: TLS + jwt_authn + RBAC) -> the reference aggregator or OpenFL's real server, over mTLS.
// Run them with `bash scripts/test-browser.sh`. The specs and their global setup live in
// packages/dashboard/e2e (where @playwright/test is installed). Only a type and test-support's
// plain constants are imported here, so the config loads wherever the runner comes from.
import type { PlaywrightTestConfig } from "@playwright/test";
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from "./packages/test-support/src/chromium.ts";

const config: PlaywrightTestConfig = {
  testDir: "./packages/dashboard/e2e",
  testMatch: "**/*.e2e.ts",
  outputDir: "./test-results/e2e",
  globalSetup: "./packages/dashboard/e2e/global-setup.ts",
  timeout: 120_000,
  expect: { timeout: 15_000 },
  workers: 1,
  fullyParallel: false,
  // A focused spec (test.only) would silently skip the rest: refused everywhere, not only on CI.
  forbidOnly: true,
  reporter: [["list"], ["html", { outputFolder: "playwright-report", open: "never" }]],
  use: {
    browserName: "chromium",
    headless: true,
    screenshot: "on",
    trace: "retain-on-failure",
    // Envoy's test listener serves TLS with the test PKI's server certificate (made at test
    // time, so its fingerprint cannot be given to Chromium here): accept it.
    ignoreHTTPSErrors: true,
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_FLAGS],
    },
  },
};

export default config;
