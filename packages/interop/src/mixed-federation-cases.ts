// The mixed-federation runs of mixed-federation.spec.ts (gRPC) and mixed-federation-rest.spec.ts
// (transport_protocol: rest) on OpenFL 1.9's REAL Aggregator (python/openfl_federation.py): two
// of our Node collaborator services (the CLI, softmax task set) and one OpenFL Collaborator (the
// real class, numpy task runner; AggregatorRESTClient over REST), until the aggregator says
// quit. One spec file per transport, so that each stays within the suite's per-file timeout.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PAUSE_ENV } from "@openfl-connect/test-support/pause-resend-buffer";
import {
  aggregatedAccuracies,
  assertEachResultOnce,
  expectQuit,
  NODE_COLLABORATORS,
  PYTHON_COLLABORATOR,
  ROUNDS,
  RUN_TIMEOUT_MS,
  startMixedFederation,
  trainedTagsByRound,
} from "./mixed-federation-run.js";

/** Every round until quit, with the checks of what OpenFL's side received. */
export function describeMixedFederationRun(options: {
  readonly useDeltaUpdates: boolean;
  readonly transportProtocol: "grpc" | "rest";
}): void {
  const { useDeltaUpdates, transportProtocol } = options;
  const over = transportProtocol === "rest" ? " over REST (transport_protocol: rest)" : "";
  describe(`mixed federation on OpenFL's real Aggregator${over}, use_delta_updates ${useDeltaUpdates}`, () => {
    it("two Node collaborators and one OpenFL Collaborator run every round until quit; accuracy rises", {
      timeout: RUN_TIMEOUT_MS,
    }, async () => {
      const run = await startMixedFederation({ useDeltaUpdates, transportProtocol });
      try {
        const nodes = await Promise.all(NODE_COLLABORATORS.map((n) => run.startNode(n)));
        await Promise.all(nodes.map((n, i) => expectQuit(n, NODE_COLLABORATORS[i] as string)));
        assert.deepEqual(await run.federation.done, { rounds: ROUNDS });
        assert.deepEqual(await run.federation.errors(), []);

        const arrivals = await run.federation.arrivals();
        assertEachResultOnce(arrivals);
        const ours = arrivals.filter((a) => NODE_COLLABORATORS.includes(a.collaborator));
        const tagsOf = (task: string, name: string) =>
          ours
            .filter((a) => a.task === task)
            .map((a) => a.tensors.find((t) => t.name === name)?.tags.join(","));
        assert.deepEqual(
          new Set(tagsOf("aggregated_model_validation", "accuracy")),
          new Set(["compressed,metric,validate_agg"]),
        );
        assert.deepEqual(
          new Set(tagsOf("locally_tuned_model_validation", "accuracy")),
          new Set(["compressed,metric,validate_local"]),
        );
        // Trained tensors as OpenFL's collaborator sends them, round by round: with delta
        // updates round 0's is a delta (its model was fetched whole), later rounds' are whole.
        const trained = trainedTagsByRound(arrivals, "dense.weight");
        assert.deepEqual(trained[PYTHON_COLLABORATOR], [
          useDeltaUpdates ? "compressed,delta,trained" : "compressed,trained",
          "compressed,trained",
          "compressed,trained",
        ]);
        for (const name of NODE_COLLABORATORS) {
          assert.deepEqual(trained[name], trained[PYTHON_COLLABORATOR], name);
        }

        const accuracy = aggregatedAccuracies(await run.federation.metrics(), arrivals);
        console.log(`aggregated accuracy per round (delta ${useDeltaUpdates}): ${accuracy}`);
        assert.ok(
          (accuracy.at(-1) as number) > (accuracy[0] as number) + 0.1,
          `accuracy should rise: ${accuracy}`,
        );
        const best = await run.federation.model("best");
        const last = await run.federation.model("last");
        assert.ok(best && last, "best.pbuf and last.pbuf written");
        assert.deepEqual(last.tensors["dense.weight"]?.shape, [3, 4]);
      } finally {
        await run.close();
      }
    });
  });
}

/** A Node collaborator SIGKILLed between persisting and sending its results, then restarted. */
export function describeKilledMidUpload(transportProtocol: "grpc" | "rest"): void {
  const over = transportProtocol === "rest" ? " over REST" : "";
  describe(`mixed federation on OpenFL's real Aggregator${over}: a Node collaborator killed mid-upload`, () => {
    it("SIGKILL after train's results are persisted, before they are sent; the restart sends them once and the run completes", {
      timeout: RUN_TIMEOUT_MS,
    }, async () => {
      const run = await startMixedFederation({ useDeltaUpdates: false, transportProtocol });
      try {
        const [victim, other] = NODE_COLLABORATORS as [string, string];
        const otherRun = await run.startNode(other);
        const first = await run.startNode(victim, {
          [PAUSE_ENV]: "pause-after-persist:train",
        });
        await first.waitForEvent("test hook: paused", 60_000);
        first.child.kill("SIGKILL");
        assert.equal((await first.exited).signal, "SIGKILL");
        const before = await run.federation.arrivals();
        assert.equal(
          before.filter((a) => a.collaborator === victim && a.task === "train").length,
          0,
          "the killed process had not sent train's results",
        );

        const second = await run.startNode(victim);
        await expectQuit(second, victim);
        await expectQuit(otherRun, other);
        assert.deepEqual(await run.federation.done, { rounds: ROUNDS });
        const arrivals = await run.federation.arrivals();
        assertEachResultOnce(arrivals);
        const resent = second.lines.find((l) => l.event === "resent pending uploads");
        assert.equal(resent?.count, 1, "the restart resent the persisted upload");
      } finally {
        await run.close();
      }
    });
  });
}
