// Real models in a mixed federation run by OpenFL 1.9's REAL Aggregator: two OpenFL Python
// Collaborators running OpenFL's KerasTaskRunner (Keras 3 on JAX) and one of our Node
// collaborators (the CLI) running @openfl-connect/tfjs, all training the same small CNN on their
// own shard of scikit-learn's digits. The aggregator starts from a model file we wrote from the
// TF.js model; at the end we read the model file OpenFL wrote back into TF.js. Under
// opt_treatment CONTINUE_GLOBAL the Adam state travels with the model, named as Keras names it.

import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { CollaboratorShard } from "@openfl-connect/collaborator/tasks/synthetic-blobs";
import { createTestPki } from "@openfl-connect/reference-aggregator/pki";
import { type CliRun, stopCliRuns } from "@openfl-connect/test-support/collaborator-cli";
import {
  kerasOptimizerTensors,
  kerasWeights,
  loadModelFile,
  modelFileOf,
} from "@openfl-connect/tfjs";
import { digitsCnn } from "@openfl-connect/tfjs/examples/digits-cnn";
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { exportDigitsShards, kerasDigitsNames, readDigitsShard } from "./digits-shards.js";
import {
  type Arrival,
  type MetricRecord,
  metricValue as metric,
  startOpenFLFederation,
  type TensorRequest,
} from "./openfl-federation.js";
import { removeDir } from "./openfl-fixture.js";
import { startTfjsCollaboratorCli } from "./tfjs-collaborator-cli.js";

after(stopCliRuns);
before(async () => {
  await tf.setBackend("cpu");
});

const KERAS = ["keras-alpha", "keras-bravo"];
const TFJS_NODE = "tfjs-node";
const TASKS = ["aggregated_model_validation", "train", "locally_tuned_model_validation"];
/** A whole run here: ~15 s of Keras/JAX start-up, then a few seconds per round. */
const RUN_TIMEOUT_MS = 400_000;

type OptTreatment = "RESET" | "CONTINUE_LOCAL" | "CONTINUE_GLOBAL";

/** The per-round table: aggregated accuracy, then each participant's local accuracy and loss. */
function roundTable(
  metrics: readonly MetricRecord[],
  all: readonly string[],
  rounds: number,
): { table: string; aggregated: number[] } {
  const aggregated: number[] = [];
  const header = [
    "round",
    "aggregated acc",
    ...all.flatMap((c) => [`${c} local acc`, `${c} loss`]),
  ];
  const rows = [header.join(" | ")];
  const f = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(3));
  for (let r = 0; r < rounds; r++) {
    const agg = metric(metrics, r, "aggregator", "aggregated_model_validation", "accuracy");
    assert.equal(typeof agg, "number", `round ${r}: no aggregated accuracy`);
    aggregated.push(agg as number);
    const cells = all.flatMap((c) => [
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

interface KerasFederationRun {
  readonly keras: readonly string[];
  readonly rounds: number;
  readonly useDeltaUpdates: boolean;
  readonly optTreatment: OptTreatment;
  /** The optimizer tensors every train result carries besides the model (CONTINUE_GLOBAL). */
  readonly optimizerTensors: readonly string[];
}

interface KerasFederationResult {
  readonly requests: readonly TensorRequest[];
  /** The aggregated model's validation accuracy, round by round. */
  readonly aggregated: readonly number[];
}

/**
 * OpenFL's Aggregator with the `keras` Python collaborators (KerasTaskRunner) and our Node TF.js
 * collaborator, from a model file we wrote: every round completes, and each of our results
 * carries what the first Keras collaborator's does (names, tags, flags, shapes; data_size).
 */
async function runKerasFederation(o: KerasFederationRun): Promise<KerasFederationResult> {
  const all = [...o.keras, TFJS_NODE];
  const first = o.keras[0] as string;
  const dir = await mkdtemp(join(tmpdir(), "keras-federation-"));
  let node: CliRun | undefined;
  let stop = async () => {};
  try {
    const pki = await createTestPki(join(dir, "pki"), { collaborators: all });
    const shardFiles = await exportDigitsShards(join(dir, "data"), all);
    const initModel = join(dir, "initial-model.pbuf");
    await writeFile(initModel, await modelFileOf(digitsCnn({ seed: 11 })));
    const federation = await startOpenFLFederation({
      pki,
      outDir: join(dir, "openfl"),
      collaborators: all,
      pythonCollaborators: Object.fromEntries(
        o.keras.map((c) => [c, { csvPath: shardFiles[c] as string }]),
      ),
      rounds: o.rounds,
      useDeltaUpdates: o.useDeltaUpdates,
      optTreatment: o.optTreatment,
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
      extra: { retry: { intervalMs: 200 }, useDeltaUpdates: o.useDeltaUpdates },
      optTreatment: o.optTreatment,
    });
    const { code } = await node.exited;
    assert.equal(code, 0, `${TFJS_NODE} exit code; stderr: ${node.stderr()}`);
    assert.ok(
      node.lines.some((l) => l.event === "finished"),
      "the Node collaborator was told to quit",
    );
    assert.deepEqual(await federation.done, { rounds: o.rounds });
    assert.deepEqual(await federation.errors(), []);

    // Every participant's every task of every round arrived once, with the same tensors.
    const arrivals = await federation.arrivals();
    const key = (a: Arrival) => `${a.collaborator}/${a.round}/${a.task}`;
    assert.equal(arrivals.length, all.length * o.rounds * TASKS.length);
    assert.equal(new Set(arrivals.map(key)).size, arrivals.length);
    const shards = Object.fromEntries(
      await Promise.all(
        all.map(async (c) => [c, await readDigitsShard(shardFiles[c] as string)] as const),
      ),
    );
    const trainedNames = [
      ...kerasWeights(digitsCnn()).map((w) => w.name),
      ...o.optimizerTensors,
    ].sort();
    for (let r = 0; r < o.rounds; r++) {
      for (const task of TASKS) {
        const of = (c: string) => arrivals.find((a) => key(a) === `${c}/${r}/${task}`) as Arrival;
        // Ours sends what OpenFL's Keras collaborators send: names, tags, flags and shapes,
        // round by round (under use_delta_updates a delta only where the round's whole model
        // was fetched; whole tensors after delta downloads; the optimizer's state alike).
        const summary = (a: Arrival) =>
          a.tensors
            .map(
              (t) =>
                `${t.name} ${t.tags.join(",")} report=${t.report} lossless=${t.lossless} shape=${JSON.stringify(t.shape)}`,
            )
            .sort();
        assert.deepEqual(summary(of(TFJS_NODE)), summary(of(first)), `round ${r} ${task}`);
        for (const c of all) {
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
        trainedNames,
      );
    }

    const metrics = await federation.metrics();
    const { table, aggregated } = roundTable(metrics, all, o.rounds);
    console.log(
      `digits CNN, use_delta_updates ${o.useDeltaUpdates}, opt_treatment ${o.optTreatment}:\n${table}`,
    );

    // The model file OpenFL wrote (last.pbuf: the model of the last round, without optimizer
    // state: the aggregator saves the initial model's tensors only), read into TF.js, scores
    // what the aggregator measured for it through its collaborators.
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
    return { requests: await federation.requests(), aggregated };
  } finally {
    if (node !== undefined && node.child.exitCode === null) node.child.kill("SIGKILL");
    await stop();
    await removeDir(dir);
  }
}

describe("real models: TF.js and OpenFL's KerasTaskRunner share one model", () => {
  it("the runner names and shapes the digits CNN's tensors exactly as KerasTaskRunner does", async () => {
    const ours = Object.fromEntries(kerasWeights(digitsCnn()).map((w) => [w.name, [...w.shape]]));
    assert.deepEqual(ours, (await kerasDigitsNames()).tensors);
  });

  it("the runner names, shapes and orders the CNN's Adam state as KerasTaskRunner does (with_opt_vars)", async () => {
    const ours = kerasOptimizerTensors(digitsCnn()).map((t) => [t.name, [...t.shape]]);
    assert.deepEqual(ours, (await kerasDigitsNames()).optimizer);
  });

  it("the runner names, shapes and orders the state of every optimizer it maps as KerasTaskRunner does for the same Keras optimizer", async () => {
    const tfjs: Record<string, () => tf.Optimizer> = {
      adam: () => tf.train.adam(0.01),
      rmsprop: () => tf.train.rmsprop(0.01),
      "rmsprop-momentum-centered": () => tf.train.rmsprop(0.01, 0.9, 0.5, 1e-7, true),
      adagrad: () => tf.train.adagrad(0.05),
      adadelta: () => tf.train.adadelta(1),
      sgd: () => tf.train.sgd(0.05),
    };
    const keras = (await kerasDigitsNames()).small_model;
    assert.deepEqual(Object.keys(keras).sort(), Object.keys(tfjs).sort());
    for (const [name, make] of Object.entries(tfjs)) {
      const model = tfl.sequential({
        layers: [
          tfl.layers.dense({ inputShape: [3], units: 4, name: "hid" }),
          tfl.layers.dense({ units: 2 }),
        ],
      });
      model.compile({ optimizer: make(), loss: "meanSquaredError" });
      const ours = kerasOptimizerTensors(model).map((t) => [t.name, [...t.shape]]);
      assert.deepEqual(ours, keras[name], name);
    }
  });

  for (const useDeltaUpdates of [false, true]) {
    it(`two Keras collaborators and a Node TF.js collaborator train the digits CNN to 90% (use_delta_updates ${useDeltaUpdates})`, {
      timeout: RUN_TIMEOUT_MS,
    }, async () => {
      const rounds = 10;
      const { aggregated } = await runKerasFederation({
        keras: KERAS,
        rounds,
        useDeltaUpdates,
        optTreatment: "RESET",
        optimizerTensors: [],
      });
      assert.ok(
        (aggregated.at(-1) as number) >= 0.9,
        `final aggregated accuracy ${aggregated.at(-1)}`,
      );
      const firstHalf = Math.max(...aggregated.slice(0, rounds / 2));
      const secondHalf = Math.max(...aggregated.slice(rounds / 2));
      assert.ok(
        secondHalf > firstHalf && (aggregated.at(-1) as number) > (aggregated[0] as number) + 0.3,
        `accuracy rises: ${aggregated}`,
      );
    });
  }

  it("opt_treatment CONTINUE_GLOBAL: a Keras collaborator and a Node TF.js one exchange the Adam state as OpenFL does, round by round (use_delta_updates true)", {
    timeout: RUN_TIMEOUT_MS,
  }, async () => {
    const rounds = 4;
    const optimizer = (await kerasDigitsNames()).optimizer.map(([name]) => name);
    const { requests, aggregated } = await runKerasFederation({
      keras: ["keras-alpha"],
      rounds,
      useDeltaUpdates: true,
      optTreatment: "CONTINUE_GLOBAL",
      optimizerTensors: optimizer,
    });
    // What each asked the aggregator for, round by round: the model from round 0, the optimizer's
    // state with it from round 1 on (KerasTaskRunner learns its names at its first train_task),
    // with the same tags and require_lossless (whole tensors, deltas once the last round's held).
    const asked = (c: string, r: number) =>
      requests
        .filter((q) => q.collaborator === c && q.round === r)
        .map((q) => `${q.tensor_name} ${q.tags.join(",")} lossless=${q.require_lossless}`)
        .sort();
    for (let r = 0; r < rounds; r++) {
      assert.deepEqual(asked(TFJS_NODE, r), asked("keras-alpha", r), `round ${r} requests`);
      const names = new Set(requests.filter((q) => q.round === r).map((q) => q.tensor_name));
      assert.equal(
        optimizer.every((n) => names.has(n)),
        r >= 1,
        `round ${r}: the optimizer's state is asked for from round 1 on`,
      );
    }
    assert.ok(
      (aggregated.at(-1) as number) > (aggregated[0] as number) + 0.3 &&
        Math.max(...aggregated.slice(rounds / 2)) > Math.max(...aggregated.slice(0, rounds / 2)),
      `accuracy rises: ${aggregated}`,
    );
  });
});
