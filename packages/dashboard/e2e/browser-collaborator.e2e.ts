// A browser tab as an OpenFL collaborator: collaborator.html in Chromium joins a mixed federation
// (two Node collaborators and the tab, mixed-federation-harness.ts) through Envoy and trains until
// the aggregator says quit, against the TypeScript reference aggregator and OpenFL 1.9's real
// Aggregator; a reload in the middle of an upload leaves the aggregator holding that result
// exactly once; the accuracy chart is kept as a screenshot.
import { expect, type Page, type Route, type TestInfo, test } from "@playwright/test";
import { type Harness, startHarness } from "./harness-process.js";
import type { MixedFederation, MixedFederationState } from "./mixed-federation-state.js";

async function aggregatorState(federation: MixedFederation): Promise<MixedFederationState> {
  const response = await fetch(federation.stateUrl);
  if (!response.ok) throw new Error(`harness /state: ${response.status} ${await response.text()}`);
  return (await response.json()) as MixedFederationState;
}

for (const kind of ["reference", "openfl"] as const) {
  test.describe(`against ${kind === "openfl" ? "OpenFL's real Aggregator" : "the reference aggregator"}`, () => {
    let harness: Harness<MixedFederation> | undefined;
    let federation: MixedFederation;

    test.beforeAll(async () => {
      test.setTimeout(240_000);
      harness = await startHarness<MixedFederation>(
        "mixed-federation-harness.ts",
        ["--aggregator", kind],
        `mixed-federation-harness-${kind}`,
      );
      federation = harness.ready;
    });

    test.afterAll(async () => {
      await harness?.stop();
    });

    if (kind === "reference") {
      // Before the federation runs (the Node collaborators wait for the tab): IndexedDbResendBuffer
      // in real Chromium, with the site's storage quota overridden to almost nothing.
      test("a full storage quota stops the tab before its first upload, explained; nothing is sent", async ({
        page,
      }) => {
        const cdp = await page.context().newCDPSession(page);
        const origin = new URL(federation.collaboratorUrl).origin;
        await page.goto(federation.collaboratorUrl);
        await page.locator("#accessToken").fill(federation.accessToken);
        await page.locator("#dataset").setInputFiles(federation.csvPath);
        await expect(page.locator("#dataset-status")).toHaveAttribute("data-state", "ready");
        await cdp.send("Storage.overrideQuotaForOrigin", { origin, quotaSize: 1 });
        try {
          await page.locator("#start").click();
          await expect(page.locator("#state")).toHaveAttribute("data-state", "failed");
          await expect(page.locator("#error")).toHaveAttribute("data-kind", "storage");
          await expect(page.locator("#error")).toContainText("storage quota used up");
          await expect(page.locator("#error")).toContainText("Nothing was sent");
        } finally {
          await cdp.send("Storage.overrideQuotaForOrigin", { origin });
        }
        const state = await aggregatorState(federation);
        expect(
          state.uploadsReceived.filter((u) => u.collaborator === federation.collaboratorName),
        ).toEqual([]);
      });
    }

    if (kind === "reference") {
      test("a second tab as the same collaborator is refused, explained; nothing is sent", async ({
        context,
      }) => {
        // Tab A holds the identity's buffer: with a token for the tab, the page opens it on load.
        const a = await context.newPage();
        await a.addInitScript(
          ([key, token]) => sessionStorage.setItem(key as string, token as string),
          ["openfl-connect.dashboard.access-token", federation.accessToken],
        );
        await a.goto(federation.collaboratorUrl);
        await expect(a.locator("#pending")).toHaveText("0");
        // Tab B, same browser profile, same identity.
        const b = await context.newPage();
        await b.goto(federation.collaboratorUrl);
        await b.locator("#accessToken").fill(federation.accessToken);
        await b.locator("#dataset").setInputFiles(federation.csvPath);
        await expect(b.locator("#dataset-status")).toHaveAttribute("data-state", "ready");
        await b.locator("#start").click();
        await expect(b.locator("#state")).toHaveAttribute("data-state", "failed");
        await expect(b.locator("#error")).toContainText("already runs in another tab");
        const state = await aggregatorState(federation);
        expect(
          state.uploadsReceived.filter((u) => u.collaborator === federation.collaboratorName),
        ).toEqual([]);
        await a.close();
        await b.close();
      });
    }

    test("a browser collaborator trains with two Node collaborators until quit; a reload mid-upload is resent once; stop and resume", async ({
      page,
    }, testInfo) => {
      await runMixedFederation(page, testInfo, federation);
    });
  });
}

async function runMixedFederation(
  page: Page,
  testInfo: TestInfo,
  federation: MixedFederation,
): Promise<void> {
  test.setTimeout(240_000);
  const pageOrigin = new URL(federation.collaboratorUrl).origin;
  const contacted = new Set<string>();
  page.on("request", (r) => contacted.add(new URL(r.url()).origin));

  await page.goto(federation.collaboratorUrl);
  await expect(page.locator("#privacy")).toContainText("Your data never leaves this browser");
  await page.locator("#accessToken").fill(federation.accessToken);
  await page.locator("#dataset").setInputFiles(federation.csvPath);
  await expect(page.locator("#dataset-status")).toHaveAttribute("data-state", "ready");

  // Hold the tab's first "train" upload: sent by the page, never answered.
  let held: Route | undefined;
  let onHeld: () => void = () => {};
  const uploadHeld = new Promise<void>((r) => {
    onHeld = r;
  });
  await page.route("**/SendLocalTaskResults", async (route) => {
    const body = route.request().postDataBuffer();
    if (held === undefined && body?.includes("train")) {
      held = route;
      onHeld();
      return;
    }
    await route.continue();
  });
  await page.locator("#start").click();
  await uploadHeld;
  const browserTrain = (s: MixedFederationState["uploadsReceived"]) =>
    s.filter(
      (u) =>
        u.collaborator === federation.collaboratorName && u.taskName === "train" && u.round === 0,
    );
  expect(browserTrain((await aggregatorState(federation)).uploadsReceived)).toHaveLength(0);
  await expect(page.locator("#pending")).toHaveText("1");

  // Reload in the middle of that upload; the page resends it from IndexedDB when it comes back.
  // (Routes are removed after the reload: unrouting first lets the held request go on.)
  await page.reload();
  await held?.abort().catch(() => {});
  await page.unrouteAll({ behavior: "ignoreErrors" });
  await expect(page.locator('#log li[data-event="resent"]')).toHaveCount(1);
  await expect(page.locator("#pending")).toHaveText("0");

  // Resume: the file must be picked again (a reload forgets it).
  await page.locator("#dataset").setInputFiles(federation.csvPath);
  await expect(page.locator("#dataset-status")).toHaveAttribute("data-state", "ready");

  // Stop while the loop waits on the aggregator (its GetTasks held), then Start resumes.
  let onPoll: () => void = () => {};
  const polled = new Promise<void>((r) => {
    onPoll = r;
  });
  await page.route("**/GetTasks", () => onPoll());
  await page.locator("#start").click();
  await polled;
  await page.locator("#stop").click();
  await expect(page.locator("#state")).toHaveAttribute("data-state", "stopped");
  await expect(page.locator("#start")).toBeEnabled();
  await page.unrouteAll({ behavior: "ignoreErrors" });
  await page.locator("#start").click();
  await expect(page.locator("#state")).toHaveAttribute("data-state", "quit", { timeout: 180_000 });

  await expect
    .poll(async () => (await aggregatorState(federation)).nodeOutcomes)
    .toEqual(Object.fromEntries(federation.nodeCollaborators.map((n) => [n, "quit"])));
  const state = await aggregatorState(federation);
  expect(browserTrain(state.uploadsReceived)).toHaveLength(1);
  if (state.resultsHeld !== null) expect(browserTrain(state.resultsHeld)).toHaveLength(1);
  // Every participant's every task of every round arrived once (the reload's included).
  const all = [...federation.nodeCollaborators, federation.collaboratorName];
  const tasks = ["aggregated_model_validation", "train", "locally_tuned_model_validation"];
  const expected = all.flatMap((c) =>
    Array.from({ length: federation.rounds }, (_, round) =>
      tasks.map((taskName) => `${c}/${round}/${taskName}`),
    ).flat(),
  );
  expect(
    state.uploadsReceived.map((u) => `${u.collaborator}/${u.round}/${u.taskName}`).sort(),
  ).toEqual(expected.sort());
  const accuracy = state.aggregatedAccuracy;
  expect(accuracy).toHaveLength(federation.rounds);
  expect(accuracy.at(-1)).toBeGreaterThan(accuracy[0] as number);

  // The page drew both series; the chart is kept as an artefact.
  // Every round's points, those from before the reload included (kept for the tab).
  await expect(page.locator("#chart circle.aggregated")).toHaveCount(federation.rounds);
  await expect(page.locator("#chart circle.local")).toHaveCount(federation.rounds);
  await expect(page.locator('#chart polyline[data-series="aggregated"]')).toHaveCount(1);
  await expect(page.locator('#chart polyline[data-series="local"]')).toHaveCount(1);
  const chart = testInfo.outputPath(`accuracy-chart.png`);
  // The whole chart section: title, legend and chart.
  await page.locator("section", { has: page.locator("#chart") }).screenshot({ path: chart });
  await testInfo.attach("accuracy-chart", { path: chart, contentType: "image/png" });
  await page.screenshot({ path: testInfo.outputPath("collaborator-page.png"), fullPage: true });

  // The page talked to its own origin and the proxy, nothing else.
  expect([...contacted].sort()).toEqual([pageOrigin, federation.proxyUrl].sort());
}
