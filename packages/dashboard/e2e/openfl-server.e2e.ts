import { expect, type Page, type TestInfo, test } from "@playwright/test";
import { federation, openDashboard, type ReceivedResults } from "./federation.js";

// The same dashboard, through the same Envoy, against OpenFL 1.9's real
// AggregatorGRPCServer (grpcio) with the fixture's stand-in aggregator: 1 round, task "train".
test.describe.configure({ mode: "serial" });
// Never skipped: a fixture that did not start fails these specs.
test.beforeAll(() => {
  if (!process.env.E2E_OPENFL_FEDERATION) {
    throw new Error(
      "the OpenFL server fixture was not started: the venv is missing (run bash scripts/setup-python.sh) or it failed to start (see test-results/federation-harness-openfl.log)",
    );
  }
});

async function snapshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await page.screenshot({ path: testInfo.outputPath(`${name}.png`), fullPage: true });
}

test("OpenFL server: Ping, Get tasks and the model tensor", async ({ page }, testInfo) => {
  await openDashboard(page, {}, "openfl");
  await page.locator("#ping").click();
  await expect(page.locator("#ping-result")).toHaveText("the aggregator answered");
  await page.locator("#get-tasks").click();
  await expect(page.locator('#tasks-result dd[data-field="round"]')).toHaveText("0");
  await expect(page.locator('#tasks-result dd[data-field="tasks"]')).toHaveText("train");
  await page.locator("#tensor-name").fill("conv.weight");
  await page.locator("#tensor-tags").fill("model");
  await page.locator("#tensor-round").fill("0");
  await page.locator("#get-tensor").click();
  const tensor = page.locator("#tensor-result");
  await expect(tensor.locator('dd[data-field="shape"]')).toHaveText("[3, 4, 5]");
  await expect(tensor.locator('dd[data-field="first values"]')).toHaveText(
    "0.000, 0.1429, 0.2857, 0.4286, 0.5714, 0.7143, 0.8571, 1.000, …",
  );
  await snapshot(page, testInfo, "openfl-tasks-and-tensor");
});

test("OpenFL server: a 6 MiB test result in one gRPC-web message is decoded intact by OpenFL", async ({
  page,
  request,
}, testInfo) => {
  await openDashboard(page, {}, "openfl");
  await page.locator("#upload-mib").fill("6");
  await page.locator("#upload-task").fill("train");
  await page.locator("#upload-round").fill("0");
  await page.locator("#upload-data-size").fill("7");
  await page.locator("#send-results").click();
  await expect(page.locator("#upload-status")).toHaveAttribute("data-state", "done", {
    timeout: 90_000,
  });
  const sha256 = await page.locator('#upload-result dd[data-field="sha256"]').textContent();
  const received = (await (
    await request.get(federation("openfl").resultsUrl)
  ).json()) as ReceivedResults[];
  const upload = received.find((r) => r.taskName === "train");
  expect(upload?.collaborator).toBe("dashboard");
  expect(upload?.tensors[0]?.bytes).toBe(6 * 1024 * 1024);
  expect(upload?.tensors[0]?.sha256).toBe(sha256);
  await snapshot(page, testInfo, "openfl-upload-done");
});

test("OpenFL server: a wrong federation uuid is explained to the user", async ({
  page,
}, testInfo) => {
  await openDashboard(page, { federationUuid: "plan.yaml_deadbeef" }, "openfl");
  await page.locator("#ping").click();
  const error = page.locator("#error");
  await expect(error).toHaveAttribute("data-kind", "aggregator-rejected", { timeout: 30_000 });
  await expect(error).toContainText("Exception calling application");
  await snapshot(page, testInfo, "openfl-wrong-federation");
});
