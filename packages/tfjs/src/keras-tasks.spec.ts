import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { TaskContext, TaskDescription, TaskSet } from "@openfl-connect/collaborator/browser";
import { collaboratorShard } from "@openfl-connect/collaborator/tasks/synthetic-blobs";
import type { Float32Tensor } from "@openfl-connect/core";
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { ModelMismatchError, OptimizerStateError, TaskSettingsError } from "./errors.js";
import { createKerasTasks } from "./keras-tasks.js";
import { getModelWeights } from "./model-weights.js";

before(async () => {
  await tf.setBackend("cpu");
});

const shard = collaboratorShard("col1", { train: 120, validation: 45 });

function blobsModel(): tfl.LayersModel {
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [4], units: 8, activation: "relu", name: "hidden" }),
      tfl.layers.dense({ units: 3, activation: "softmax", name: "out" }),
    ],
  });
  model.compile({
    optimizer: tf.train.adam(0.01),
    loss: "categoricalCrossentropy",
    metrics: ["accuracy"],
  });
  return model;
}

function run(set: TaskSet, taskName: string, ctx: Partial<TaskContext> & { round: number }) {
  const definition = set.tasks[taskName] as TaskDescription;
  return definition.run({
    taskName,
    collaboratorName: "col1",
    model: {},
    localTensors: {},
    signal: new AbortController().signal,
    ...ctx,
  });
}

const optimizerIterations = async (model: tfl.LayersModel) =>
  ((await model.optimizer.getWeights())[0]?.tensor.dataSync()[0] ?? 0) as number;

describe("createKerasTasks: OpenFL's Keras tasks on a TF.js model", () => {
  it("declares the default Keras tasks, every model tensor, and KerasTaskRunner's metric tags", () => {
    const set = createKerasTasks({ model: blobsModel(), data: shard });
    assert.deepEqual(Object.keys(set.tasks).sort(), [
      "aggregated_model_validation",
      "locally_tuned_model_validation",
      "train",
    ]);
    assert.deepEqual(set.modelTensorNames, [
      "hidden/kernel",
      "hidden/bias",
      "out/kernel",
      "out/bias",
    ]);
    const tags = (n: string) => (set.tasks[n] as TaskDescription).metricTags;
    assert.deepEqual(tags("train"), []);
    assert.deepEqual(tags("aggregated_model_validation"), ["validate_agg"]);
    assert.deepEqual(tags("locally_tuned_model_validation"), ["validate_local"]);
  });

  it("train starts from the round's model, returns every trained tensor, the loss and the train size", async () => {
    const model = blobsModel();
    const set = createKerasTasks({ model, data: shard });
    const start = await getModelWeights(model);
    const result = await run(set, "train", { round: 0, model: start });
    assert.deepEqual(Object.keys(result.tensors ?? {}), set.modelTensorNames);
    assert.equal(result.dataSize, 120);
    assert.deepEqual(Object.keys(result.metrics ?? {}), ["loss"]);
    assert.ok(Number.isFinite(result.metrics?.loss) && (result.metrics?.loss as number) > 0);
    const kernel = result.tensors?.["out/kernel"] as Float32Tensor;
    assert.deepEqual(kernel.shape, [8, 3]);
    assert.notDeepEqual(
      kernel.data,
      (start["out/kernel"] as Float32Tensor).data,
      "training changed the weights",
    );
  });

  it("validates the aggregated model it is given (not whatever the model last held)", async () => {
    const model = blobsModel();
    const set = createKerasTasks({ model, data: shard });
    const zeros: Record<string, Float32Tensor> = Object.fromEntries(
      Object.entries(await getModelWeights(model)).map(([n, t]) => [
        n,
        { shape: t.shape, data: new Float32Array(t.data.length) },
      ]),
    );
    // An all-zero network predicts uniform probabilities: argmax is class 0 for every sample.
    const result = await run(set, "aggregated_model_validation", { round: 2, model: zeros });
    const classZero = Array.from(shard.validation.labels).filter((l) => l === 0).length / 45;
    assert.equal(result.dataSize, 45);
    assert.ok(Math.abs((result.metrics?.accuracy as number) - classZero) < 1e-6);
  });

  it("locally_tuned_model_validation validates this round's trained tensors, or trains again after a restart", async () => {
    const model = blobsModel();
    const set = createKerasTasks({
      model,
      data: shard,
      tasks: {
        train: { function: "train_task", kwargs: { batch_size: 8, epochs: 30, metrics: ["loss"] } },
        locally_tuned_model_validation: {
          function: "validate_task",
          kwargs: { apply: "local", batch_size: 32, metrics: ["accuracy"] },
        },
      },
    });
    const start = await getModelWeights(model);
    const trained = await run(set, "train", { round: 1, model: start });
    const local = await run(set, "locally_tuned_model_validation", {
      round: 1,
      model: start,
      localTensors: trained.tensors ?? {},
    });
    assert.ok(
      (local.metrics?.accuracy as number) > 0.8,
      `trained model accuracy ${local.metrics?.accuracy}`,
    );
    // After a restart the local tensors are gone: the round's model is trained again, not validated as is.
    const again = await run(set, "locally_tuned_model_validation", {
      round: 1,
      model: start,
      localTensors: {},
    });
    assert.ok(
      (again.metrics?.accuracy as number) > 0.8,
      `retrained model accuracy ${again.metrics?.accuracy}`,
    );
  });

  it("refuses an aggregated model whose tensor shape differs, naming the tensor, expected and actual", async () => {
    const model = blobsModel();
    const set = createKerasTasks({ model, data: shard });
    const wrong = await getModelWeights(model);
    wrong["out/kernel"] = { shape: [8, 4], data: new Float32Array(32) };
    await assert.rejects(
      run(set, "train", { round: 3, model: wrong }),
      (e: unknown) =>
        e instanceof ModelMismatchError &&
        e.tensorName === "out/kernel" &&
        /train, round 3: the aggregated model: tensor 'out\/kernel': the federation's model has \[8, 4\], this model has \[8, 3\]/.test(
          e.message,
        ),
    );
    const missing = await getModelWeights(model);
    delete missing["hidden/bias"];
    await assert.rejects(
      run(set, "train", { round: 3, model: missing }),
      /tensor 'hidden\/bias': the federation's model has no such tensor, this model has \[8\]/,
    );
  });

  it("refuses what cannot work when the tasks are made: unknown metrics, CONTINUE_GLOBAL with an unmapped optimizer, data of another shape", () => {
    const model = blobsModel();
    assert.throws(
      () =>
        createKerasTasks({
          model,
          data: shard,
          tasks: { train: { function: "train_task", kwargs: { metrics: ["auc"] } } },
        }),
      (e: unknown) =>
        e instanceof TaskSettingsError &&
        e.setting === "tasks.train.kwargs.metrics" &&
        /computes \[loss, acc\].*not 'auc'/.test(e.message),
    );
    const momentum = blobsModel();
    momentum.compile({
      optimizer: tf.train.momentum(0.01, 0.9),
      loss: "categoricalCrossentropy",
      metrics: ["accuracy"],
    });
    assert.throws(
      () => createKerasTasks({ model: momentum, data: shard, optTreatment: "CONTINUE_GLOBAL" }),
      (e: unknown) => e instanceof OptimizerStateError && e.optimizer === "Momentum",
    );
    assert.throws(
      () => createKerasTasks({ model, data: shard, optTreatment: "CONTINUE_SOMEHOW" }),
      /opt_treatment: expected RESET, CONTINUE_LOCAL or CONTINUE_GLOBAL, got "CONTINUE_SOMEHOW"/,
    );
    const other = collaboratorShard("col1", { train: 10, validation: 5 }, { features: 5 });
    assert.throws(
      () => createKerasTasks({ model, data: other }),
      /data\.train: 10 samples of input shape \[4\] need 40 feature values, got 50/,
    );
    const badLabel = {
      ...shard,
      validation: {
        ...shard.validation,
        labels: Uint8Array.from(shard.validation.labels, () => 3),
      },
    };
    assert.throws(
      () => createKerasTasks({ model, data: badLabel }),
      /data\.validation: label of sample 0 must be a class 0\.\.2/,
    );
  });

  it("RESET starts every round's training with a fresh optimizer; CONTINUE_LOCAL keeps its state", async () => {
    for (const [treatment, steps] of [
      ["RESET", 4],
      ["CONTINUE_LOCAL", 8],
    ] as const) {
      const model = blobsModel();
      const set = createKerasTasks({ model, data: shard, optTreatment: treatment });
      const start = await getModelWeights(model);
      await run(set, "train", { round: 0, model: start }); // 120 samples, batch 32: 4 steps
      await run(set, "train", { round: 1, model: start });
      assert.equal(await optimizerIterations(model), steps, treatment);
    }
  });

  it("CONTINUE_GLOBAL: train sends the optimizer's state with the model and, from round 1 on, asks for it and trains on from it", async () => {
    const model = blobsModel();
    const set = createKerasTasks({ model, data: shard, optTreatment: "CONTINUE_GLOBAL" });
    const optimizer = [
      "iteration",
      "learning_rate",
      ...["hidden", "out"].flatMap((l) =>
        ["kernel", "bias"].flatMap((w) => [
          `sequential_${l}_${w}_momentum`,
          `sequential_${l}_${w}_velocity`,
        ]),
      ),
    ];
    assert.deepEqual(set.optimizerTensorNames, optimizer);
    const train = set.tasks.train as TaskDescription;
    const declared = train.modelTensors as (round: number) => readonly string[];
    assert.deepEqual(declared(0), set.modelTensorNames);
    assert.deepEqual(declared(1), [...(set.modelTensorNames ?? []), ...optimizer]);
    // Validation never needs the optimizer (KerasTaskRunner: rebuild_model(validation=True)).
    const validation = set.tasks.aggregated_model_validation as TaskDescription;
    assert.equal(validation.modelTensors, undefined);

    const start = await getModelWeights(model);
    const first = await run(set, "train", { round: 0, model: start });
    assert.deepEqual(Object.keys(first.tensors ?? {}), [
      ...(set.modelTensorNames ?? []),
      ...optimizer,
    ]);
    const value = (r: typeof first, name: string) => r.tensors?.[name]?.data[0];
    assert.equal(value(first, "iteration"), 4); // 120 samples, batch 32: 4 steps
    assert.equal(value(first, "learning_rate"), Math.fround(0.01));
    // Round 1 starts from the aggregator's state: 10.6 steps (an average) is 10, as Keras's
    // int32 iteration takes it; the learning rate is the aggregated one.
    const aggregated = {
      ...(first.tensors ?? {}),
      iteration: { shape: [], data: Float32Array.of(10.6) },
      learning_rate: { shape: [], data: Float32Array.of(0.02) },
    };
    const second = await run(set, "train", { round: 1, model: aggregated });
    assert.equal(value(second, "iteration"), 14);
    assert.equal(value(second, "learning_rate"), Math.fround(0.02));
    const missing = { ...aggregated } as Record<string, Float32Tensor>;
    delete missing.sequential_out_bias_velocity;
    await assert.rejects(
      run(set, "train", { round: 2, model: missing }),
      /train, round 2: the aggregated model: tensor 'sequential_out_bias_velocity': the federation's model has no such tensor, this model has \[3\]/,
    );
  });

  it("stops training when the task's signal aborts", async () => {
    const model = blobsModel();
    const set = createKerasTasks({
      model,
      data: shard,
      tasks: {
        train: {
          function: "train_task",
          kwargs: { epochs: 1000, batch_size: 4, metrics: ["loss"] },
        },
      },
    });
    const controller = new AbortController();
    const start = await getModelWeights(model);
    const result = run(set, "train", { round: 0, model: start, signal: controller.signal });
    // A timer must get to run during training (a shutdown signal in Node, a click in a page).
    setTimeout(() => controller.abort(new Error("shutdown")), 200);
    await assert.rejects(result, /shutdown/);
  });

  for (const optTreatment of ["RESET", "CONTINUE_LOCAL", "CONTINUE_GLOBAL"]) {
    it(`leaks nothing: tensors and memory stay flat over 20 rounds (${optTreatment}, with and without a restart's retraining)`, async () => {
      const model = blobsModel();
      const set = createKerasTasks({ model, data: shard, optTreatment });
      let weights = await getModelWeights(model);
      const counts: number[] = [];
      const rss: number[] = [];
      for (let round = 0; round < 20; round++) {
        await run(set, "aggregated_model_validation", { round, model: weights });
        const trained = await run(set, "train", { round, model: weights });
        // Every other round as after a restart: no local tensors, so the task trains again.
        await run(set, "locally_tuned_model_validation", {
          round,
          model: weights,
          localTensors: round % 2 === 0 ? (trained.tensors ?? {}) : {},
        });
        weights = { ...(trained.tensors ?? {}) };
        counts.push(tf.memory().numTensors);
        rss.push(process.memoryUsage().rss);
      }
      assert.deepEqual(
        new Set(counts.slice(1)).size,
        1,
        `${optTreatment}: tensors per round: ${counts.join(", ")}`,
      );
      const growth = ((rss[19] as number) - (rss[4] as number)) / 2 ** 20;
      assert.ok(
        growth < 32,
        `${optTreatment}: RSS grew ${growth.toFixed(1)} MiB from round 5 to round 20`,
      );
      model.dispose();
    });
  }
});
