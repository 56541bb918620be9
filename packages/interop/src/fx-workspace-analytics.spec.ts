// Federated analytics end to end (issue 24): OpenFL's own federated_analytics/histogram workspace
// (fx workspace create --template federated_analytics/histogram, its IrisHistogram runner and
// AggregateHistogram), fx aggregator start, fx collaborator start -n col1 and ours as
// openfl-collaborator start -n col2 with a TypeScript analytics task (fx-histogram-task-module.ts).
// Ours sends its histograms tagged analytics with data_size -1 as OpenFL's runner does; the
// aggregator sums both shards' histograms into save/result.json, which must equal numpy's
// histogram of all of iris.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  completedInRound,
  createFxWorkspace,
  type FederationProcess,
  type FxWorkspace,
  ourLogEntries,
  readFxLog,
  runFxFederation,
  runPython,
} from "./fx-workspace.js";
import { requirePython } from "./openfl-fixture.js";

const COLLABORATORS = ["col1", "col2"];
const COLUMNS = ["sepal length (cm)", "sepal width (cm)"];
const TASK_MODULE = fileURLToPath(new URL("./fx-histogram-task-module.ts", import.meta.url));
const FEDERATION_TIMEOUT_MS = 3 * 60_000;

/** sklearn's iris as IRISInMemory writes it, and numpy's histograms of the whole columns. */
const IRIS_PY = `
import json, sys
import numpy as np
from sklearn.datasets import load_iris
data = load_iris(as_frame=True)["data"]
data.to_csv(sys.argv[1], index=False)
bins = np.linspace(2.0, 10.0, 10)
print(json.dumps({c: np.histogram(data[c], bins=bins)[0].tolist() for c in json.loads(sys.argv[2])}))
`;

describe("OpenFL's federated_analytics/histogram workspace: fx aggregator, fx collaborator col1, openfl-collaborator col2", () => {
  let root: string | undefined;
  let workspace: FxWorkspace;
  let expected: Record<string, number[]>;
  const processes: FederationProcess[] = [];
  let ours: FederationProcess | undefined;
  let finished = false;

  before(
    async () => {
      await requirePython();
      root = await mkdtemp(join(tmpdir(), "openfl-fx-analytics-"));
      workspace = await createFxWorkspace({
        dir: join(root, "workspace"),
        collaborators: COLLABORATORS,
        rounds: 1,
        useDeltaUpdates: false,
        template: "federated_analytics/histogram",
      });
      const csv = join(workspace.dir, "data", "iris.csv");
      expected = JSON.parse(
        await runPython(["-c", IRIS_PY, csv, JSON.stringify(COLUMNS)], workspace.dir),
      ) as Record<string, number[]>;
    },
    { timeout: 300_000 },
  );

  after(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  test("all three processes exit 0 after the analytics round", {
    timeout: FEDERATION_TIMEOUT_MS + 60_000,
  }, async (t) => {
    const run = await runFxFederation(workspace, {
      fxName: "col1",
      ourName: "col2",
      taskModule: TASK_MODULE,
      timeoutMs: FEDERATION_TIMEOUT_MS,
      started: (p) => processes.push(p),
    });
    ours = run.ours;
    for (const [label, ms] of Object.entries(run.times))
      t.diagnostic(`${label} exited 0 after ${ms} ms`);
    finished = true;
  });

  test("OpenFL's aggregator summed both shards: save/result.json holds numpy's histogram of all of iris", async () => {
    assert.ok(finished, "the federation did not finish");
    const log = await readFxLog(workspace.dir, "aggregator");
    assert.deepEqual(completedInRound(log, 0), COLLABORATORS);
    assert.doesNotMatch(log, /Traceback|ERROR/);
    const result = JSON.parse(await readFile(join(workspace.dir, "save", "result.json"), "utf8"));
    for (const column of COLUMNS) {
      assert.deepEqual(result[`${column} histogram`], expected[column], column);
    }
    const total = (expected[COLUMNS[0] as string] ?? []).reduce((a, b) => a + b, 0);
    assert.equal(total, 150, "every iris row counted once");
  });

  test("ours ran the analytics task with data_size -1", () => {
    assert.ok(finished && ours !== undefined, "the federation did not finish");
    const entries = ourLogEntries(ours.stdout());
    const done = entries.filter((e) => e.event === "task done");
    assert.deepEqual(
      done.map((e) => [e.task, e.round, e.dataSize]),
      [["analytics", 0, -1]],
    );
    assert.equal(entries.filter((e) => e.level === "error").length, 0, ours.stdout());
  });
});
