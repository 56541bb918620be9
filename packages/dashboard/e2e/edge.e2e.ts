import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, type Page, test } from "@playwright/test";
import { federation, openDashboard, type ReceivedResults } from "./federation.js";

// What the browser and the page add to Envoy's own checks: the proxy comes from the page's own
// configuration (not a link), the page may connect to that proxy only (CSP), a copy of the page
// on another origin cannot use the proxy (CORS), and uploads need the upload permission.
test.describe.configure({ mode: "serial" });

/** A server that counts every request it gets: where a stolen token would go. */
let trap: Server;
let trapHits = 0;
let trapUrl = "";
test.beforeAll(async () => {
  trap = createServer((_req, res) => {
    trapHits++;
    res.writeHead(204, { "access-control-allow-origin": "*" }).end();
  });
  await new Promise<void>((resolve) => trap.listen(0, "127.0.0.1", resolve));
  trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
});
test.afterAll(async () => {
  await new Promise((resolve) => trap.close(resolve));
});

async function ping(page: Page) {
  await page.locator("#ping").click();
}

test("a ?proxyUrl= link cannot send the token elsewhere: the page uses its configured proxy", async ({
  page,
}) => {
  const f = federation();
  const link = `${f.dashboardUrl}/?proxyUrl=${encodeURIComponent(trapUrl)}`;
  await openDashboard(page, { dashboardUrl: link });
  await expect(page.locator("#proxyUrl")).toHaveText(f.proxyUrl);
  await ping(page);
  await expect(page.locator("#ping-result")).toHaveText("the aggregator answered");
  expect(trapHits).toBe(0);
});

test("the page's Content-Security-Policy lets it connect to the proxy only", async ({ page }) => {
  const f = federation();
  const response = await page.goto(f.dashboardUrl);
  const csp = response?.headers()["content-security-policy"] ?? "";
  expect(csp).toContain(`connect-src ${f.proxyUrl}`);
  const outcome = await page.evaluate(async (url) => {
    const violations: string[] = [];
    document.addEventListener("securitypolicyviolation", (e) =>
      violations.push(e.effectiveDirective),
    );
    const fetched = await fetch(url, { method: "POST", body: "x" }).then(
      () => "sent",
      () => "blocked",
    );
    await new Promise((r) => setTimeout(r, 0));
    return { fetched, violations };
  }, `${trapUrl}/steal`);
  expect(outcome).toEqual({ fetched: "blocked", violations: ["connect-src"] });
  expect(trapHits).toBe(0);
});

test("a copy of the page on another origin cannot call the proxy (CORS in Chromium)", async ({
  page,
}) => {
  const f = federation();
  await openDashboard(page, { dashboardUrl: f.foreignOriginDashboardUrl });
  await expect(page.locator("#proxyUrl")).toHaveText(f.proxyUrl);
  await ping(page);
  await expect(page.locator("#error")).toHaveAttribute("data-kind", "proxy-unreachable", {
    timeout: 30_000,
  });
});

for (const kind of ["reference", "openfl"] as const) {
  test(`an upload with a read-only token is refused at the proxy and never reaches the aggregator (${kind})`, async ({
    page,
    request,
  }) => {
    const f = federation(kind);
    const before = (await (await request.get(f.resultsUrl)).json()) as ReceivedResults[];
    await openDashboard(page, { accessToken: f.readOnlyAccessToken }, kind);
    // Reading still works with the read-only token.
    await ping(page);
    await expect(page.locator("#ping-result")).toHaveText("the aggregator answered");
    await page.locator("#upload-mib").fill("0.01");
    await page.locator("#upload-task").fill("train");
    await page.locator("#upload-round").fill("0");
    await page.locator("#send-results").click();
    await expect(page.locator("#upload-status")).toHaveAttribute("data-state", "failed", {
      timeout: 30_000,
    });
    await expect(page.locator("#error")).toHaveAttribute("data-kind", "permission-denied");
    const after = (await (await request.get(f.resultsUrl)).json()) as ReceivedResults[];
    expect(after).toEqual(before);
  });
}
