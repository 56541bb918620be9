// Real models with a browser tab: collaborator.html?model=digits-cnn in Chromium trains the digits
// CNN with TensorFlow.js in its Web Worker, through Envoy, beside two OpenFL Keras collaborators
// and a Node TF.js collaborator, against OpenFL 1.9's real Aggregator (keras-federation-harness.ts),
// until the aggregator says quit and the aggregated model validates at 90% or more.
import type { Arrival, MetricRecord } from "@openfl-connect/interop/openfl-federation";
import { metricValue } from "@openfl-connect/interop/openfl-federation";
import { expect, test } from "@playwright/test";
import { type Harness, startHarness } from "./harness-process.js";

interface KerasFederation {
  readonly collaboratorUrl: string;
  readonly accessToken: string;
  readonly stateUrl: string;
  readonly csvPath: string;
  readonly rounds: number;
  readonly collaboratorName: string;
  readonly participants: readonly string[];
}

interface KerasFederationState {
  readonly arrivals: readonly Arrival[];
  readonly metrics: readonly MetricRecord[];
  readonly errors: readonly unknown[];
  readonly nodeOutcome: string;
}

const TASKS = ["aggregated_model_validation", "train", "locally_tuned_model_validation"];

async function federationState(federation: KerasFederation): Promise<KerasFederationState> {
  const response = await fetch(federation.stateUrl);
  if (!response.ok) throw new Error(`harness /state: ${response.status} ${await response.text()}`);
  return (await response.json()) as KerasFederationState;
}

// WebGL first, falling back to the CPU backend (what the page does), without delta updates; then
// the CPU backend alone (the link's backends=) with use_delta_updates for everyone. TF.js's WASM
// backend has no convolution gradients: not offered.
for (const { backends, delta } of [
  { backends: "webgl,cpu", delta: false },
  { backends: "cpu", delta: true },
]) {
  test.describe(`real models: a browser tab trains the digits CNN with OpenFL's Keras collaborators (backends ${backends}, use_delta_updates ${delta})`, () => {
    let harness: Harness<KerasFederation> | undefined;
    let federation: KerasFederation;

    test.beforeAll(async () => {
      test.setTimeout(240_000);
      harness = await startHarness<KerasFederation>(
        "keras-federation-harness.ts",
        delta ? ["--delta"] : [],
        `keras-federation-harness-${backends}-${delta}`,
      );
      federation = harness.ready;
    });

    test.afterAll(async () => {
      await harness?.stop();
    });

    test("every round completes with the tab, the Node and the Keras collaborators; accuracy reaches 90%", async ({
      page,
    }, testInfo) => {
      test.setTimeout(600_000);
      await page.goto(`${federation.collaboratorUrl}&backends=${backends}`);
      await expect(page.locator("#model")).toHaveText("digits-cnn");
      await page.locator("#accessToken").fill(federation.accessToken);
      await page.locator("#dataset").setInputFiles(federation.csvPath);
      await expect(page.locator("#dataset-status")).toHaveAttribute("data-state", "ready", {
        timeout: 60_000,
      });
      // Headless Chromium may have WebGL (software GL) or not; either way the page says which ran.
      const backend = (await page.locator("#backend").textContent()) ?? "";
      expect(backends.split(",")).toContain(backend);
      console.log(`browser collaborator: TensorFlow.js backend ${backend}`);

      await page.locator("#start").click();
      await expect(page.locator("#state")).toHaveAttribute("data-state", "quit", {
        timeout: 540_000,
      });
      await page.locator("#chart").screenshot({
        path: testInfo.outputPath(`digits-accuracy-chart-${backend}-delta-${delta}.png`),
      });

      // The harness's Node collaborator ends once the aggregator has told everyone to quit.
      await expect
        .poll(async () => (await federationState(federation)).nodeOutcome, {
          timeout: 30_000,
        })
        .toBe("quit");
      const state = await federationState(federation);
      expect(state.errors).toEqual([]);
      const key = (a: Arrival) => `${a.collaborator}/${a.round}/${a.task}`;
      const keys = state.arrivals.map(key);
      expect(new Set(keys).size).toBe(keys.length);
      for (const c of federation.participants) {
        for (let r = 0; r < federation.rounds; r++) {
          for (const t of TASKS) expect(keys, `${c} ${t} round ${r}`).toContain(`${c}/${r}/${t}`);
        }
      }
      // The tab sends what OpenFL's Keras collaborators send: tensor names, tags, flags.
      const summary = (c: string, r: number, t: string) =>
        (state.arrivals.find((a) => key(a) === `${c}/${r}/${t}`) as Arrival).tensors
          .map((x) => `${x.name} ${x.tags.join(",")} ${x.report} ${x.lossless}`)
          .sort();
      for (const r of [0, 1]) {
        for (const t of TASKS) {
          expect(summary(federation.collaboratorName, r, t)).toEqual(summary("keras-alpha", r, t));
        }
      }
      // The link's useDeltaUpdates reached the tab's loop: round 0's trained tensors (its model
      // fetched whole) are deltas then, as OpenFL's collaborator sends them.
      const tabTrain = state.arrivals.find(
        (a) => key(a) === `${federation.collaboratorName}/0/train`,
      ) as Arrival;
      const trainedTags = tabTrain.tensors.filter((x) => x.tags.includes("trained"));
      expect(trainedTags.length).toBeGreaterThan(0);
      for (const x of trainedTags) expect(x.tags.includes("delta"), x.name).toBe(delta);

      const rows = [
        "round | aggregated acc | " +
          federation.participants.map((c) => `${c} local acc / loss`).join(" | "),
      ];
      const aggregated: number[] = [];
      const f = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(3));
      for (let r = 0; r < federation.rounds; r++) {
        const acc = metricValue(
          state.metrics,
          r,
          "aggregator",
          "aggregated_model_validation",
          "accuracy",
        );
        aggregated.push(acc ?? Number.NaN);
        const cells = federation.participants.map(
          (c) =>
            `${f(metricValue(state.metrics, r, c, "locally_tuned_model_validation", "accuracy"))} / ${f(metricValue(state.metrics, r, c, "train", "loss"))}`,
        );
        rows.push([String(r), f(acc), ...cells].join(" | "));
      }
      console.log(
        `digits CNN with a browser tab (${backend}, use_delta_updates ${delta}):\n${rows.join("\n")}`,
      );
      expect(aggregated.at(-1) as number).toBeGreaterThanOrEqual(0.9);
      expect(aggregated.at(-1) as number).toBeGreaterThan((aggregated[0] as number) + 0.3);
    });
  });
}
