// A browser tab under a lossy compression pipeline (issue 24): OpenFL 1.9's real Aggregator with
// STCPipeline and use_delta_updates (mixed-federation-harness.ts --pipeline ... --delta), two Node
// collaborators and collaborator.html in Chromium, whose link names the same pipeline. The tab
// decodes the aggregator's lossy deltas (gzip through the browser's DecompressionStream) and sends
// its trained tensors as OpenFL's collaborator does: round 0's delta lossy, later rounds whole.
import { expect, test } from "@playwright/test";
import { type Harness, startHarness } from "./harness-process.js";
import type { MixedFederation, MixedFederationState } from "./mixed-federation-state.js";

let harness: Harness<MixedFederation> | undefined;

test.beforeAll(async () => {
  test.setTimeout(240_000);
  harness = await startHarness<MixedFederation>(
    "mixed-federation-harness.ts",
    [
      ...["--aggregator", "openfl", "--pipeline", "openfl.pipelines.STCPipeline"],
      ...["--p-sparsity", "0.25", "--delta"],
    ],
    "mixed-federation-harness-stc",
  );
});

test.afterAll(async () => {
  await harness?.stop();
});

test("the tab trains under STCPipeline with delta updates until quit, sending what OpenFL's collaborators send", async ({
  page,
}) => {
  test.setTimeout(240_000);
  const federation = harness?.ready as MixedFederation;
  expect(new URL(federation.collaboratorUrl).searchParams.get("compressionPipeline")).toBe(
    "openfl.pipelines.STCPipeline",
  );
  await page.goto(federation.collaboratorUrl);
  await page.locator("#accessToken").fill(federation.accessToken);
  await page.locator("#dataset").setInputFiles(federation.csvPath);
  await expect(page.locator("#dataset-status")).toHaveAttribute("data-state", "ready");
  await page.locator("#start").click();
  await expect(page.locator("#state")).toHaveAttribute("data-state", "quit", { timeout: 180_000 });

  const state = async () =>
    (await (await fetch(federation.stateUrl)).json()) as MixedFederationState;
  await expect
    .poll(async () => (await state()).nodeOutcomes)
    .toEqual(Object.fromEntries(federation.nodeCollaborators.map((n) => [n, "quit"])));
  const { uploadsReceived, aggregatedAccuracy } = await state();
  const trained = (collaborator: string) =>
    Array.from(
      { length: federation.rounds },
      (_, round) =>
        uploadsReceived.find(
          (u) => u.collaborator === collaborator && u.round === round && u.taskName === "train",
        )?.trained,
    );
  const tab = trained(federation.collaboratorName);
  expect(tab[0]).toEqual([
    "dense.bias delta,lossy_compressed,trained lossless=false",
    "dense.weight delta,lossy_compressed,trained lossless=false",
  ]);
  for (const round of tab.slice(1)) {
    expect(round).toEqual([
      "dense.bias compressed,trained lossless=true",
      "dense.weight compressed,trained lossless=true",
    ]);
  }
  for (const node of federation.nodeCollaborators) expect(trained(node)).toEqual(tab);
  expect(aggregatedAccuracy).toHaveLength(federation.rounds);
  expect(aggregatedAccuracy.at(-1)).toBeGreaterThan(aggregatedAccuracy[0] as number);
  await expect(page.locator("#chart circle.aggregated")).toHaveCount(federation.rounds);
});
