import { expect, type Page, type TestInfo, test } from "@playwright/test";
import { federation, openDashboard, type ReceivedResults } from "./federation.js";

// The tests share one aggregator whose state moves on (an upload marks "train" done).
test.describe.configure({ mode: "serial" });

async function snapshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await page.screenshot({ path: testInfo.outputPath(`${name}.png`), fullPage: true });
}

test("Ping and Get tasks reach the aggregator through the proxy", async ({ page }, testInfo) => {
  await openDashboard(page);
  await page.locator("#ping").click();
  await expect(page.locator("#ping-result")).toHaveText("the aggregator answered");
  await page.locator("#get-tasks").click();
  const tasks = page.locator("#tasks-result");
  await expect(tasks.locator('dd[data-field="round"]')).toHaveText("0");
  await expect(tasks.locator('dd[data-field="tasks"]')).toHaveText(
    "aggregated_model_validation, train, locally_tuned_model_validation",
  );
  await expect(tasks.locator('dd[data-field="quit"]')).toHaveText("false");
  await expect(page.locator('#log li[data-call="GetTasks"][data-outcome="ok"]')).toHaveCount(1);
  await expect(page.locator("#error")).toBeHidden();
  await snapshot(page, testInfo, "ping-and-tasks");
});

test("settings survive a reload (localStorage)", async ({ page }) => {
  await openDashboard(page);
  await page.reload();
  await expect(page.locator("#federationUuid")).toHaveValue(federation().federationUuid);
  await expect(page.locator("#proxyUrl")).toHaveText(federation().proxyUrl);
});

test("fetches an aggregated tensor and shows its shape and first values", async ({
  page,
}, testInfo) => {
  await openDashboard(page);
  await page.locator("#tensor-name").fill("dense.weight");
  await page.locator("#tensor-tags").fill("model");
  await page.locator("#tensor-round").fill("0");
  await page.locator("#get-tensor").click();
  const result = page.locator("#tensor-result");
  await expect(result.locator('dd[data-field="shape"]')).toHaveText("[4, 2]");
  await expect(result.locator('dd[data-field="first values"]')).toHaveText(
    "0.1000, -0.1000, 0.2000, -0.2000, 0.3000, -0.3000, 0.4000, -0.4000",
  );
  await expect(result.locator('dd[data-field="tags"]')).toHaveText("model");
  await snapshot(page, testInfo, "tensor");
});

test("sends a 6 MiB test result that arrives intact at the aggregator", async ({
  page,
  request,
}, testInfo) => {
  await openDashboard(page);
  await page.locator("#get-tasks").click();
  await expect(page.locator('#tasks-result dd[data-field="round"]')).toHaveText("0");
  // Record every upload state the page shows.
  await page.evaluate(() => {
    const status = document.getElementById("upload-status");
    const seen: string[] = [];
    (window as unknown as { uploadStates: string[] }).uploadStates = seen;
    if (status) {
      new MutationObserver(() => {
        const state = status.dataset.state ?? "";
        if (seen.at(-1) !== state) seen.push(state);
      }).observe(status, { attributes: true, childList: true, characterData: true, subtree: true });
    }
  });
  await page.locator("#upload-mib").fill("6");
  await page.locator("#upload-task").fill("train");
  await page.locator("#upload-data-size").fill("42");
  await page.locator("#send-results").click();
  await expect(page.locator("#upload-status")).toHaveAttribute("data-state", "done", {
    timeout: 90_000,
  });
  await expect(page.locator("#upload-status")).toContainText("6.0 MiB");
  const states = await page.evaluate(
    () => (window as unknown as { uploadStates: string[] }).uploadStates,
  );
  expect(states[0]).toBe("preparing");
  expect(states.at(-1)).toBe("done");
  expect(states.some((s) => s === "uploading" || s === "waiting")).toBe(true);

  const sha256 = await page.locator('#upload-result dd[data-field="sha256"]').textContent();
  expect(sha256).toMatch(/^[0-9a-f]{64}$/);
  const received = (await (await request.get(federation().resultsUrl)).json()) as ReceivedResults[];
  const upload = received.find((r) => r.taskName === "train");
  expect(upload?.collaborator).toBe(federation().collaboratorName);
  expect(upload?.round).toBe(0);
  expect(upload?.tensors).toHaveLength(1);
  expect(upload?.tensors[0]?.bytes).toBe(6 * 1024 * 1024);
  expect(upload?.tensors[0]?.shape).toEqual([(6 * 1024 * 1024) / 4]);
  expect(upload?.tensors[0]?.sha256).toBe(sha256);
  await snapshot(page, testInfo, "upload-done");

  // The aggregator now has "train" for round 0 from this collaborator.
  await page.locator("#get-tasks").click();
  await expect(page.locator('#tasks-result dd[data-field="tasks"]')).toHaveText(
    "aggregated_model_validation, locally_tuned_model_validation",
  );
});

test("a wrong federation uuid is explained to the user", async ({ page }, testInfo) => {
  await openDashboard(page, { federationUuid: "plan.yaml_deadbeef" });
  await page.locator("#ping").click();
  const error = page.locator("#error");
  await expect(error).toBeVisible({ timeout: 30_000 });
  await expect(error).toHaveAttribute("data-kind", "aggregator-rejected");
  await expect(error).toContainText("federation uuid");
  await expect(page.locator('#log li[data-call="Ping"][data-outcome="failed"]')).toHaveCount(1);
  await snapshot(page, testInfo, "wrong-federation");
});

test("a collaborator name that differs from the proxy certificate's CN reads as UNAUTHENTICATED", async ({
  page,
}, testInfo) => {
  await openDashboard(page, { collaboratorName: "someone-else" });
  await page.locator("#ping").click();
  const error = page.locator("#error");
  await expect(error).toHaveAttribute("data-kind", "unauthenticated", { timeout: 30_000 });
  await expect(error).toContainText("certificate CN must equal the collaborator name");
  await snapshot(page, testInfo, "unauthenticated");
});

test("an unreachable proxy is reported as a proxy or CORS problem", async ({ page }, testInfo) => {
  // A page whose own configuration names a proxy that does not run.
  await openDashboard(page, { dashboardUrl: federation().unreachableProxyDashboardUrl });
  await page.locator("#ping").click();
  const error = page.locator("#error");
  await expect(error).toHaveAttribute("data-kind", "proxy-unreachable", { timeout: 30_000 });
  await expect(error).toContainText("allowed origins include");
  await snapshot(page, testInfo, "proxy-unreachable");
});
