// Real models in a mixed federation run by OpenFL 1.9's REAL Aggregator: two OpenFL Python
// Collaborators running OpenFL's KerasTaskRunner (Keras 3 on JAX) and one of our Node
// collaborators (the CLI) running @openfl-connect/tfjs, all training the same small CNN on their
// own shard of scikit-learn's digits. The aggregator starts from a model file we wrote from the
// TF.js model; at the end we read the model file OpenFL wrote back into TF.js.

import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { CollaboratorShard } from "@openfl-connect/collaborator/tasks/synthetic-blobs";
import { createTestPki } from "@openfl-connect/reference-aggregator/pki";
import { type CliRun, stopCliRuns } from "@openfl-connect/test-support/collaborator-cli";
import { kerasWeights, loadModelFile, modelFileOf } from "@openfl-connect/tfjs";
import { digitsCnn } from "@openfl-connect/tfjs/examples/digits-cnn";
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { exportDigitsShards, kerasDigitsTensors, readDigitsShard } from "./digits-shards.js";
import {
  type Arrival,
  type MetricRecord,
  metricValue as metric,
  startOpenFLFederation,
} from "./openfl-federation.js";
import { removeDir } from "./openfl-fixture.js";
import { startTfjsCollaboratorCli } from "./tfjs-collaborator-cli.js";

after(stopCliRuns);
before(async () => {
  await tf.setBackend("cpu");
});

const KERAS = ["keras-alpha", "keras-bravo"];
const TFJS_NODE = "tfjs-node";
const ALL = [...KERAS, TFJS_NODE];
const ROUNDS = 10;
const TASKS = ["aggregated_model_validation", "train", "locally_tuned_model_validation"];
/** A whole run here: ~15 s of Keras/JAX start-up, then a few seconds per round. */
const RUN_TIMEOUT_MS = 400_000;

/** The per-round table: aggregated accuracy, then each participant's local accuracy and loss. */
function roundTable(metrics: readonly MetricRecord[]): { table: string; aggregated: number[] } {
  const aggregated: number[] = [];
  const header = [
    "round",
    "aggregated acc",
    ...ALL.flatMap((c) => [`${c} local acc`, `${c} loss`]),
  ];
  const rows = [header.join(" | ")];
  const f = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(3));
  for (let r = 0; r < ROUNDS; r++) {
    const agg = metric(metrics, r, "aggregator", "aggregated_model_validation", "accuracy");
    assert.equal(typeof agg, "number", `round ${r}: no aggregated accuracy`);
    aggregated.push(agg as number);
    const cells = ALL.flatMap((c) => [
      f(metric(metrics, r, c, "locally_tuned_model_validation", "accuracy")),
      f(metric(metrics, r, c, "train", "loss")),
    ]);
    rows.push([String(r), f(agg), ...cells].join(" | "));
  }
  return { table: rows.join("\n"), aggregated };
}

/** Accuracy of a TF.js model over the validation parts of every shard. */
function accuracyOver(model: ReturnType<typeof digitsCnn>, shards: readonly CollaboratorShard[]) {
  let correct = 0;
  let total = 0;
  for (const { validation } of shards) {
    const x = tf.tensor(validation.features, [validation.samples, 8, 8, 1]);
    const predicted = tf.tidy(() => tf.argMax(model.predict(x) as tf.Tensor, -1).dataSync());
    x.dispose();
    predicted.forEach((p: number, i: number) => {
      if (p === validation.labels[i]) correct++;
    });
    total += validation.samples;
  }
  return correct / total;
}

describe("real models: TF.js and OpenFL's KerasTaskRunner share one model", () => {
  it("the runner names and shapes the digits CNN's tensors exactly as KerasTaskRunner does", async () => {
    const ours = Object.fromEntries(kerasWeights(digitsCnn()).map((w) => [w.name, [...w.shape]]));
    assert.deepEqual(ours, await kerasDigitsTensors());
  });

  for (const useDeltaUpdates of [false, true]) {
    it(`two Keras collaborators and a Node TF.js collaborator train the digits CNN to 90% (use_delta_updates ${useDeltaUpdates})`, {
      timeout: RUN_TIMEOUT_MS,
    }, async () => {
      const dir = await mkdtemp(join(tmpdir(), "keras-federation-"));
      let node: CliRun | undefined;
      let stop = async () => {};
      try {
        const pki = await createTestPki(join(dir, "pki"), { collaborators: ALL });
        const shardFiles = await exportDigitsShards(join(dir, "data"), ALL);
        const initModel = join(dir, "initial-model.pbuf");
        await writeFile(initModel, await modelFileOf(digitsCnn({ seed: 11 })));
        const federation = await startOpenFLFederation({
          pki,
          outDir: join(dir, "openfl"),
          collaborators: ALL,
          pythonCollaborators: Object.fromEntries(
            KERAS.map((c) => [c, { csvPath: shardFiles[c] as string }]),
          ),
          rounds: ROUNDS,
          useDeltaUpdates,
          taskRunner: "keras-digits",
          initModel,
        });
        stop = () => federation.stop();
        node = await startTfjsCollaboratorCli({
          pki,
          name: TFJS_NODE,
          port: federation.port,
          dataCsv: shardFiles[TFJS_NODE] as string,
          dir,
          extra: { retry: { intervalMs: 200 }, useDeltaUpdates },
        });
        const { code } = await node.exited;
        assert.equal(code, 0, `${TFJS_NODE} exit code; stderr: ${node.stderr()}`);
        assert.ok(
          node.lines.some((l) => l.event === "finished"),
          "the Node collaborator was told to quit",
        );
        assert.deepEqual(await federation.done, { rounds: ROUNDS });
        assert.deepEqual(await federation.errors(), []);

        // Every participant's every task of every round arrived once, with the same tensors.
        const arrivals = await federation.arrivals();
        const key = (a: Arrival) => `${a.collaborator}/${a.round}/${a.task}`;
        assert.equal(arrivals.length, ALL.length * ROUNDS * TASKS.length);
        assert.equal(new Set(arrivals.map(key)).size, arrivals.length);
        const shards = Object.fromEntries(
          await Promise.all(
            ALL.map(async (c) => [c, await readDigitsShard(shardFiles[c] as string)] as const),
          ),
        );
        const modelNames = kerasWeights(digitsCnn())
          .map((w) => w.name)
          .sort();
        for (let r = 0; r < ROUNDS; r++) {
          for (const task of TASKS) {
            const of = (c: string) =>
              arrivals.find((a) => key(a) === `${c}/${r}/${task}`) as Arrival;
            // Ours sends what OpenFL's Keras collaborators send: names, tags, flags, round by
            // round (under use_delta_updates a delta only where the round's whole model was
            // fetched, round 0 here; whole tensors after delta downloads).
            const summary = (a: Arrival) =>
              a.tensors
                .map(
                  (t) => `${t.name} ${t.tags.join(",")} report=${t.report} lossless=${t.lossless}`,
                )
                .sort();
            assert.deepEqual(
              summary(of(TFJS_NODE)),
              summary(of("keras-alpha")),
              `round ${r} ${task}`,
            );
            for (const c of ALL) {
              const shard = shards[c] as CollaboratorShard;
              const expected = task === "train" ? shard.train.samples : shard.validation.samples;
              assert.equal(of(c).data_size, expected, `${c} round ${r} ${task} data_size`);
            }
          }
          const trained = arrivals.find((a) => key(a) === `${TFJS_NODE}/${r}/train`) as Arrival;
          assert.deepEqual(
            trained.tensors
              .filter((t) => !t.report)
              .map((t) => t.name)
              .sort(),
            modelNames,
          );
        }

        const metrics = await federation.metrics();
        const { table, aggregated } = roundTable(metrics);
        console.log(`digits CNN, use_delta_updates ${useDeltaUpdates}:\n${table}`);
        assert.ok(
          (aggregated.at(-1) as number) >= 0.9,
          `final aggregated accuracy ${aggregated.at(-1)}`,
        );
        const firstHalf = Math.max(...aggregated.slice(0, ROUNDS / 2));
        const secondHalf = Math.max(...aggregated.slice(ROUNDS / 2));
        assert.ok(
          secondHalf > firstHalf && (aggregated.at(-1) as number) > (aggregated[0] as number) + 0.3,
          `accuracy rises: ${aggregated}`,
        );

        // The model file OpenFL wrote (last.pbuf: the model of the last round), read into TF.js,
        // scores what the aggregator measured for it through its collaborators.
        const last = digitsCnn();
        const lastRound = loadModelFile(
          last,
          await readFile(join(dir, "openfl", "last.pbuf")),
          "last.pbuf",
        );
        const ours = accuracyOver(last, Object.values(shards));
        const theirs = aggregated[lastRound] as number;
        assert.ok(
          Math.abs(ours - theirs) < 0.01,
          `last.pbuf (round ${lastRound}) in TF.js: ${ours}; aggregator: ${theirs}`,
        );
      } finally {
        if (node !== undefined && node.child.exitCode === null) node.child.kill("SIGKILL");
        await stop();
        await removeDir(dir);
      }
    });
  }
});
