// A browser tab as an OpenFL collaborator: collaborator.html in Chromium joins a mixed federation
// (two Node collaborators and the tab, mixed-federation-harness.ts) through Envoy and trains until
// the aggregator says quit; a reload in the middle of an upload leaves the aggregator holding that
// result exactly once; the accuracy chart is kept as a screenshot.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { resolve } from "node:path";
import { expect, type Route, test } from "@playwright/test";
import { readyLine } from "./global-setup.js";

interface MixedFederation {
  readonly collaboratorUrl: string;
  readonly proxyUrl: string;
  readonly accessToken: string;
  readonly stateUrl: string;
  readonly csvPath: string;
  readonly rounds: number;
  readonly collaboratorName: string;
  readonly nodeCollaborators: readonly string[];
}

interface AggregatorState {
  readonly uploadsReceived: { collaborator: string; round: number; taskName: string }[];
  readonly receivedResults: { collaborator: string; round: number; taskName: string }[];
  readonly roundSummaries: {
    round: number;
    collaborators: string[];
    metrics: Record<string, number>;
  }[];
  readonly nodeOutcomes: Record<string, string>;
}

const dashboardDir = resolve(import.meta.dirname, "..");
const ACCURACY = "aggregated_model_validation/accuracy";

let harness: ChildProcess | undefined;
let federation: MixedFederation;

test.beforeAll(async () => {
  test.setTimeout(240_000);
  const log = createWriteStream(
    resolve(dashboardDir, "../../test-results/mixed-federation-harness.log"),
  );
  harness = spawn(process.execPath, ["--import", "tsx", "e2e/mixed-federation-harness.ts"], {
    cwd: dashboardDir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  harness.stderr?.pipe(log);
  federation = (await readyLine(harness, log, "mixed")) as unknown as MixedFederation;
});

test.afterAll(async () => {
  const child = harness;
  if (child === undefined || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
});

async function aggregatorState(): Promise<AggregatorState> {
  const response = await fetch(federation.stateUrl);
  return (await response.json()) as AggregatorState;
}

test("a browser collaborator trains with two Node collaborators until quit; a reload mid-upload is resent once", async ({
  page,
}, testInfo) => {
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
  const browserTrain = (s: AggregatorState["uploadsReceived"]) =>
    s.filter(
      (u) =>
        u.collaborator === federation.collaboratorName && u.taskName === "train" && u.round === 0,
    );
  expect(browserTrain((await aggregatorState()).uploadsReceived)).toHaveLength(0);
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
  await page.locator("#start").click();
  await expect(page.locator("#state")).toHaveAttribute("data-state", "quit", { timeout: 180_000 });

  await expect
    .poll(async () => (await aggregatorState()).nodeOutcomes)
    .toEqual(Object.fromEntries(federation.nodeCollaborators.map((n) => [n, "quit"])));
  const state = await aggregatorState();
  expect(browserTrain(state.uploadsReceived)).toHaveLength(1);
  expect(browserTrain(state.receivedResults)).toHaveLength(1);
  expect(state.roundSummaries.map((s) => s.round)).toEqual(
    Array.from({ length: federation.rounds }, (_, i) => i),
  );
  for (const summary of state.roundSummaries) {
    expect([...summary.collaborators].sort()).toEqual(
      [...federation.nodeCollaborators, federation.collaboratorName].sort(),
    );
  }
  const accuracies = state.roundSummaries.map((s) => s.metrics[ACCURACY] ?? Number.NaN);
  expect(accuracies.at(-1)).toBeGreaterThan(accuracies[0] as number);

  // The page drew both series; the chart is kept as an artefact.
  await expect(page.locator('#chart polyline[data-series="aggregated"]')).toHaveCount(1);
  await expect(page.locator('#chart polyline[data-series="local"]')).toHaveCount(1);
  const chart = testInfo.outputPath("accuracy-chart.png");
  await page.locator("#chart").screenshot({ path: chart });
  await testInfo.attach("accuracy-chart", { path: chart, contentType: "image/png" });
  await page.screenshot({ path: testInfo.outputPath("collaborator-page.png"), fullPage: true });

  // The page talked to its own origin and the proxy, nothing else.
  expect([...contacted].sort()).toEqual([pageOrigin, federation.proxyUrl].sort());
});
