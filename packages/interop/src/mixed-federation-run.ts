// A mixed federation on OpenFL 1.9's REAL Aggregator (python/openfl_federation.py): two of our
// Node collaborators (the CLI, softmax task set) and one OpenFL Collaborator (the real class,
// numpy task runner), each on its own shard; and the checks its specs share.
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collaboratorShard } from "@openfl-connect/collaborator/tasks/synthetic-blobs";
import { collaboratorConnection, createTestPki } from "@openfl-connect/reference-aggregator/pki";
import { type CliRun, runCli, SOFTMAX_TASKS } from "@openfl-connect/test-support/collaborator-cli";
import {
  type Arrival,
  type MetricRecord,
  type OpenFLFederation,
  ourCompressionKeys,
  type PlanCompressionPipeline,
  type ShardJson,
  shardJson,
  startOpenFLFederation,
} from "./openfl-federation.js";
import { AGGREGATOR_UUID, FEDERATION_UUID, removeDir } from "./openfl-fixture.js";

export const NODE_COLLABORATORS = ["node-alpha", "node-bravo"];
export const PYTHON_COLLABORATOR = "openfl-charlie";
export const ALL = [...NODE_COLLABORATORS, PYTHON_COLLABORATOR];
export const ROUNDS = 3;
export const TASKS = ["aggregated_model_validation", "train", "locally_tuned_model_validation"];
/** A whole federation run, Python start-up included, takes ~10 s here. */
export const RUN_TIMEOUT_MS = 120_000;

/** The Python collaborator's shard, smaller than ours so data sizes differ. */
function pythonShard(): ShardJson {
  return shardJson(collaboratorShard(PYTHON_COLLABORATOR, { train: 160, validation: 60 }));
}

export interface Run {
  readonly federation: OpenFLFederation;
  readonly dir: string;
  startNode(name: string, env?: Record<string, string>): Promise<CliRun>;
  close(): Promise<void>;
}

export interface MixedFederationOptions {
  readonly useDeltaUpdates: boolean;
  /** The plan's pipeline, for OpenFL's side and ours (compressionPipeline, pSparsity, nClusters). */
  readonly compressionPipeline?: PlanCompressionPipeline;
  /** The plan's transport_protocol, for OpenFL's side and ours. Default grpc. */
  readonly transportProtocol?: "grpc" | "rest";
}

export async function startMixedFederation(options: MixedFederationOptions): Promise<Run> {
  const { useDeltaUpdates, compressionPipeline, transportProtocol } = options;
  const dir = await mkdtemp(join(tmpdir(), "mixed-federation-"));
  const pki = await createTestPki(join(dir, "pki"), { collaborators: ALL });
  const federation = await startOpenFLFederation({
    pki,
    outDir: dir,
    collaborators: ALL,
    pythonCollaborators: { [PYTHON_COLLABORATOR]: pythonShard() },
    rounds: ROUNDS,
    useDeltaUpdates,
    ...(compressionPipeline === undefined ? {} : { compressionPipeline }),
    ...(transportProtocol === undefined ? {} : { transportProtocol }),
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
        ...ourCompressionKeys(compressionPipeline),
        ...(transportProtocol === undefined ? {} : { transportProtocol }),
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

export async function expectQuit(run: CliRun, name: string): Promise<void> {
  const { code } = await run.exited;
  assert.equal(code, 0, `${name} exit code; stderr: ${run.stderr()}`);
  // "finished" is logged only when the aggregator said quit.
  const finished = run.lines.find((l) => l.event === "finished");
  assert.ok(finished, `${name}: ${JSON.stringify(run.lines.slice(-5))}`);
}

/** Every (collaborator, round, task) arrived exactly once, for every round and task. */
export function assertEachResultOnce(arrivals: readonly Arrival[]): void {
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
export function aggregatedAccuracies(
  metrics: readonly MetricRecord[],
  arrivals: readonly Arrival[],
) {
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

/**
 * Per collaborator, the tags (joined, sorted) and lossless flag of its trained tensor `name` in
 * each round's train results, e.g. ["compressed,delta,trained", "compressed,trained", ...].
 */
export function trainedTagsByRound(
  arrivals: readonly Arrival[],
  name: string,
  withLossless = false,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const collaborator of ALL) {
    out[collaborator] = Array.from({ length: ROUNDS }, (_, round) => {
      const arrival = arrivals.find(
        (a) => a.collaborator === collaborator && a.round === round && a.task === "train",
      );
      const tensor = arrival?.tensors.find((t) => t.name === name);
      if (tensor === undefined) return "(none)";
      const tags = [...tensor.tags].sort().join(",");
      return withLossless ? `${tags} lossless=${tensor.lossless}` : tags;
    });
  }
  return out;
}
