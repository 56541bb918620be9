// A mixed federation run by OpenFL 1.9's REAL Aggregator (python/openfl_federation.py): two of
// our Node collaborator services (the CLI, softmax task set) and one OpenFL Collaborator (the
// real class, numpy task runner), each on its own shard, until the aggregator says quit.

import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { collaboratorShard } from "@openfl-connect/collaborator/tasks/synthetic-blobs";
import { collaboratorConnection, createTestPki } from "@openfl-connect/reference-aggregator/pki";
import {
  type CliRun,
  runCli,
  SOFTMAX_TASKS,
  stopCliRuns,
} from "@openfl-connect/test-support/collaborator-cli";
import { PAUSE_ENV } from "@openfl-connect/test-support/pause-resend-buffer";
import {
  type Arrival,
  type MetricRecord,
  type OpenFLFederation,
  type ShardJson,
  shardJson,
  startOpenFLFederation,
} from "./openfl-federation.js";
import { AGGREGATOR_UUID, FEDERATION_UUID, removeDir } from "./openfl-fixture.js";

// A failed assertion must not leave a CLI child running (it would keep the run alive).
after(stopCliRuns);

const NODE_COLLABORATORS = ["node-alpha", "node-bravo"];
const PYTHON_COLLABORATOR = "openfl-charlie";
const ALL = [...NODE_COLLABORATORS, PYTHON_COLLABORATOR];
const ROUNDS = 3;
const TASKS = ["aggregated_model_validation", "train", "locally_tuned_model_validation"];
/** A whole federation run, Python start-up included, takes ~10 s here. */
const RUN_TIMEOUT_MS = 120_000;

/** The Python collaborator's shard, smaller than ours so data sizes differ. */
function pythonShard(): ShardJson {
  return shardJson(collaboratorShard(PYTHON_COLLABORATOR, { train: 160, validation: 60 }));
}

interface Run {
  readonly federation: OpenFLFederation;
  readonly dir: string;
  startNode(name: string, env?: Record<string, string>): Promise<CliRun>;
  close(): Promise<void>;
}

async function startMixedFederation(useDeltaUpdates: boolean): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), "mixed-federation-"));
  const pki = await createTestPki(join(dir, "pki"), { collaborators: ALL });
  const federation = await startOpenFLFederation({
    pki,
    outDir: dir,
    collaborators: ALL,
    pythonCollaborators: { [PYTHON_COLLABORATOR]: pythonShard() },
    rounds: ROUNDS,
    useDeltaUpdates,
  });
  const children: CliRun[] = [];
  return {
    federation,
    dir,
    async startNode(name, env = {}) {
      const config = join(dir, `${name}.yaml`);
      const settings = {
        ...collaboratorConnection(pki, name, {
          port: federation.port,
          aggregatorUuid: AGGREGATOR_UUID,
          federationUuid: FEDERATION_UUID,
        }),
        tasks: SOFTMAX_TASKS,
        pendingDir: join(dir, `pending-${name}`),
        log: "json",
        retry: { intervalMs: 200 },
        useDeltaUpdates,
      };
      await writeFile(config, JSON.stringify(settings, null, 2));
      const run = runCli(["--config", config], env);
      children.push(run);
      return run;
    },
    async close() {
      for (const c of children) if (c.child.exitCode === null) c.child.kill("SIGKILL");
      await federation.stop();
      await removeDir(dir);
    },
  };
}

async function expectQuit(run: CliRun, name: string): Promise<void> {
  const { code } = await run.exited;
  assert.equal(code, 0, `${name} exit code; stderr: ${run.stderr()}`);
  // "finished" is logged only when the aggregator said quit.
  const finished = run.lines.find((l) => l.event === "finished");
  assert.ok(finished, `${name}: ${JSON.stringify(run.lines.slice(-5))}`);
}

/** Every (collaborator, round, task) arrived exactly once, for every round and task. */
function assertEachResultOnce(arrivals: readonly Arrival[]): void {
  const count = new Map<string, number>();
  for (const a of arrivals) {
    const key = `${a.collaborator}/${a.round}/${a.task}`;
    count.set(key, (count.get(key) ?? 0) + 1);
  }
  for (const c of ALL) {
    for (let r = 0; r < ROUNDS; r++) {
      for (const t of TASKS) assert.equal(count.get(`${c}/${r}/${t}`), 1, `${c} ${t} round ${r}`);
    }
  }
  assert.equal(arrivals.length, ALL.length * ROUNDS * TASKS.length);
}

/**
 * The aggregator's validate_agg accuracy of each round is the data-size-weighted average of
 * the three collaborators' accuracies; returns it per round.
 */
function aggregatedAccuracies(metrics: readonly MetricRecord[], arrivals: readonly Arrival[]) {
  const perRound: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const of = (origin: string) =>
      metrics.find(
        (m) =>
          m.round === r &&
          m.metric_origin === origin &&
          m.task_name === "aggregated_model_validation" &&
          m.metric_name === "accuracy",
      )?.metric_value;
    const aggregated = of("aggregator");
    assert.equal(typeof aggregated, "number", `round ${r}: no aggregated accuracy`);
    let weighted = 0;
    let total = 0;
    for (const c of ALL) {
      const size = arrivals.find(
        (a) => a.collaborator === c && a.round === r && a.task === "aggregated_model_validation",
      )?.data_size;
      const accuracy = of(c);
      assert.ok(size !== undefined && size > 0 && accuracy !== undefined, `${c} round ${r}`);
      weighted += size * accuracy;
      total += size;
    }
    assert.ok(
      Math.abs((aggregated as number) - weighted / total) < 1e-6,
      `round ${r}: aggregator ${aggregated} vs data-size-weighted ${weighted / total}`,
    );
    perRound.push(aggregated as number);
  }
  return perRound;
}

for (const useDeltaUpdates of [false, true]) {
  describe(`mixed federation on OpenFL's real Aggregator, use_delta_updates ${useDeltaUpdates}`, () => {
    it("two Node collaborators and one OpenFL Collaborator run every round until quit; accuracy rises", {
      timeout: RUN_TIMEOUT_MS,
    }, async () => {
      const run = await startMixedFederation(useDeltaUpdates);
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
        assert.deepEqual(
          new Set(tagsOf("train", "dense.weight")),
          new Set([useDeltaUpdates ? "compressed,delta,trained" : "compressed,trained"]),
        );

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

describe("mixed federation on OpenFL's real Aggregator: a Node collaborator killed mid-upload", () => {
  it("SIGKILL after train's results are persisted, before they are sent; the restart sends them once and the run completes", {
    timeout: RUN_TIMEOUT_MS,
  }, async () => {
    const run = await startMixedFederation(false);
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
