// The compression pipelines OpenFL ships, in a federation a user runs with OpenFL's own tools: a
// workspace whose plan names the pipeline (fx-workspace.ts), `fx aggregator start`, `fx
// collaborator start -n col1` and ours as `openfl-collaborator start -n col2`, delta updates on
// (the plan default). Every round ends with both collaborators; OpenFL's aggregator decodes what
// ours sends and ours decodes what it sends (the lossy aggregated deltas from round 1 on); under a
// lossy pipeline ours sends round 0's trained delta lossy, as OpenFL's collaborator does, and the
// later rounds' whole tensors lossless. By default STCPipeline only (about 90 s): the workspace
// path is the same for every pipeline, and mixed-federation-pipelines.spec.ts runs all four under
// both delta settings; PIPELINES=random-shift,stc,skc,kc runs others here too.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  completedInRound,
  createFxWorkspace,
  type FederationProcess,
  FX_SOFTMAX_TASK_MODULE,
  type FxWorkspace,
  ourLogEntries,
  readFxLog,
  readFxModelState,
  runFxFederation,
} from "./fx-workspace.js";
import { requirePython } from "./openfl-fixture.js";
import { pipelineName, selectedPipelineCases } from "./pipeline-cases.js";

const ROUNDS = 3;
const COLLABORATORS = ["col1", "col2"];
const FEDERATION_TIMEOUT_MS = 4 * 60_000;

for (const c of selectedPipelineCases(["stc"])) {
  const name = pipelineName(c);
  describe(`OpenFL workspace with ${name} (use_delta_updates: true): fx aggregator, fx collaborator col1, openfl-collaborator col2`, () => {
    let root: string | undefined;
    let workspace: FxWorkspace;
    const processes: FederationProcess[] = [];
    let ours: FederationProcess | undefined;
    let finished = false;

    before(
      async () => {
        await requirePython();
        root = await mkdtemp(join(tmpdir(), `openfl-fx-${c.id}-`));
        workspace = await createFxWorkspace({
          dir: join(root, "workspace"),
          collaborators: COLLABORATORS,
          rounds: ROUNDS,
          useDeltaUpdates: true,
          compressionPipeline: c.pipeline,
        });
      },
      { timeout: 300_000 },
    );

    after(async () => {
      await Promise.all(processes.map((p) => p.stop()));
      if (root !== undefined) await rm(root, { recursive: true, force: true });
    });

    test(`all three processes exit 0 after ${ROUNDS} rounds`, {
      timeout: FEDERATION_TIMEOUT_MS + 90_000,
    }, async (t) => {
      const run = await runFxFederation(workspace, {
        fxName: "col1",
        ourName: "col2",
        taskModule: FX_SOFTMAX_TASK_MODULE,
        // --debug: the "results sent" lines count the tensors sent lossy.
        ourArgs: ["--debug"],
        timeoutMs: FEDERATION_TIMEOUT_MS,
        started: (p) => processes.push(p),
      });
      ours = run.ours;
      for (const [label, ms] of Object.entries(run.times)) {
        t.diagnostic(`${label} exited 0 after ${ms} ms`);
      }
      finished = true;
    });

    test("OpenFL's aggregator completed every round with both collaborators, without an error", async () => {
      assert.ok(finished, "the federation did not finish");
      const log = await readFxLog(workspace.dir, "aggregator");
      for (let round = 0; round < ROUNDS; round++) {
        assert.deepEqual(completedInRound(log, round), COLLABORATORS, `round ${round}`);
      }
      assert.match(log, /Experiment Completed/);
      assert.doesNotMatch(log, /Traceback|ERROR|Bypassing tensor codec/);
    });

    test("ours read the plan's pipeline and sent the trained delta lossy exactly where OpenFL's collaborator does", () => {
      assert.ok(finished && ours !== undefined, "the federation did not finish");
      const entries = ourLogEntries(ours.stdout());
      assert.equal(entries.filter((e) => e.level === "error").length, 0, ours.stdout());
      const sent = entries.filter((e) => e.event === "results sent" && e.task === "train");
      assert.equal(sent.length, ROUNDS, JSON.stringify(sent));
      for (const e of sent) {
        // Round 0: the model was fetched whole, so the delta goes lossy (dense.weight and
        // dense.bias); later rounds' models are rebuilt from the aggregated delta: whole tensors.
        const expected = c.lossy && e.round === 0 ? 2 : 0;
        assert.equal(e.lossyTensors, expected, `round ${e.round}: ${JSON.stringify(e)}`);
      }
      const done = entries.find((e) => e.event === "finished");
      assert.equal(done?.roundsWorked, ROUNDS, JSON.stringify(done));
    });

    test("the last model OpenFL saved (through the plan's pipeline) was trained", async () => {
      assert.ok(finished, "the federation did not finish");
      const last = await readFxModelState(workspace.dir, "save/last.pbuf", c.pipeline);
      assert.equal(last.round, ROUNDS - 1);
      const weight = last.tensors["dense.weight"];
      assert.deepEqual(weight?.shape, [3, 4]);
      assert.ok(
        weight?.values.some((v) => Math.abs(v) > 1e-3),
        `the model never moved from zeros: ${JSON.stringify(weight?.values)}`,
      );
    });
  });
}
