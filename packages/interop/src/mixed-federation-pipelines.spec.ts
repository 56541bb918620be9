// OpenFL's compression pipelines in a mixed federation (issue 24): OpenFL 1.9's REAL Aggregator
// and one OpenFL Collaborator built with the plan's pipeline (python/openfl_federation.py), and
// two of our Node collaborators (the CLI) configured with the same compressionPipeline, for
// RandomShift, STC, SKC and KC under both use_delta_updates settings. Every round completes,
// accuracy rises, and each round's trained tensors reach OpenFL's aggregator with the tags and
// lossless flag OpenFL's own collaborator gives them, lossy exactly where it sends lossy.
// PIPELINES=stc,kc runs some of them.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { stopCliRuns } from "@openfl-connect/test-support/collaborator-cli";
import {
  aggregatedAccuracies,
  assertEachResultOnce,
  expectQuit,
  NODE_COLLABORATORS,
  PYTHON_COLLABORATOR,
  RUN_TIMEOUT_MS,
  startMixedFederation,
  trainedTagsByRound,
} from "./mixed-federation-run.js";
import { PIPELINE_CASES, pipelineName, selectedPipelineCases } from "./pipeline-cases.js";

after(stopCliRuns);

for (const c of selectedPipelineCases(PIPELINE_CASES.map((c) => c.id))) {
  const name = pipelineName(c);
  for (const useDeltaUpdates of [false, true]) {
    describe(`mixed federation under ${name}, use_delta_updates ${useDeltaUpdates}`, () => {
      it("two Node collaborators and one OpenFL Collaborator finish every round; accuracy rises; trained tensors sent as OpenFL's collaborator sends them", {
        timeout: RUN_TIMEOUT_MS,
      }, async () => {
        const run = await startMixedFederation({
          useDeltaUpdates,
          compressionPipeline: c.pipeline,
        });
        try {
          const nodes = await Promise.all(NODE_COLLABORATORS.map((n) => run.startNode(n)));
          await Promise.all(nodes.map((n, i) => expectQuit(n, NODE_COLLABORATORS[i] as string)));
          assert.deepEqual(await run.federation.done, { rounds: 3 });
          assert.deepEqual(await run.federation.errors(), []);
          const arrivals = await run.federation.arrivals();
          assertEachResultOnce(arrivals);

          // Round 0 under delta updates: trained - model from the model fetched whole, through
          // the plan's pipeline; then whole tensors, lossless (NoCompression under a lossy plan).
          const delta0 = !useDeltaUpdates
            ? "compressed,trained lossless=true"
            : c.lossy
              ? "delta,lossy_compressed,trained lossless=false"
              : "compressed,delta,trained lossless=false";
          const expected = [
            delta0,
            "compressed,trained lossless=true",
            "compressed,trained lossless=true",
          ];
          for (const tensor of ["dense.weight", "dense.bias"]) {
            const trained = trainedTagsByRound(arrivals, tensor, true);
            assert.deepEqual(trained[PYTHON_COLLABORATOR], expected, `OpenFL's ${tensor}`);
            for (const node of NODE_COLLABORATORS) {
              assert.deepEqual(trained[node], expected, `${node}'s ${tensor}`);
            }
          }

          const accuracy = aggregatedAccuracies(await run.federation.metrics(), arrivals);
          console.log(
            `${name}, delta ${useDeltaUpdates}: aggregated accuracy per round ${accuracy}`,
          );
          assert.ok(
            (accuracy.at(-1) as number) > (accuracy[0] as number) + 0.1,
            `accuracy should rise: ${accuracy}`,
          );
          const last = await run.federation.model("last");
          assert.deepEqual(last?.tensors["dense.weight"]?.shape, [3, 4]);
        } finally {
          await run.close();
        }
      });
    });
  }
}
