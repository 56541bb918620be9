// Browser tests of the dashboard: Chromium -> gRPC-web proxy -> reference aggregator over mTLS.
// The proxy is Envoy (deploy/envoy/envoy.yaml adapted for the test, TLS + jwt_authn) when
// E2E_PROXY=envoy or `envoy` is on PATH, else grpcwebproxy (packages/dashboard/e2e/proxy-choice.ts).
// Run them with `bash scripts/test-browser.sh`. The specs and their global setup live in
// packages/dashboard/e2e (where @playwright/test is installed). Only a type and a module using
// Node built-ins are imported here, so the config loads wherever the runner comes from.
import type { PlaywrightTestConfig } from "@playwright/test";
import { chooseProxy } from "./packages/dashboard/e2e/proxy-choice.js";

const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// Envoy's test listener serves TLS with the test PKI's server certificate (made at test time, so
// its fingerprint cannot be given to Chromium here): accept it. grpcwebproxy is plain HTTP.
const proxyUsesTestCertificate = chooseProxy() === "envoy";

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
    ignoreHTTPSErrors: proxyUsesTestCertificate,
    launchOptions: {
      executablePath: chromium,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
};

export default config;
