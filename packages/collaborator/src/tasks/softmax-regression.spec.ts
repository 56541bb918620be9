import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { TaskContext, TaskDefinition, TaskResult } from "../task-set.js";
import { accuracy, initialModel, TRAINING, tasks, trainSgd } from "./softmax-regression.js";
import { collaboratorShard } from "./synthetic-blobs.js";

const model = () => {
  const m = initialModel();
  return {
    weight: Float32Array.from(m["dense.weight"]?.data ?? []),
    bias: Float32Array.from(m["dense.bias"]?.data ?? []),
  };
};

describe("synthetic blobs", () => {
  it("is deterministic per collaborator and differs between collaborators", () => {
    const a = collaboratorShard("col1");
    assert.deepEqual(a.train.features, collaboratorShard("col1").train.features);
    assert.notDeepEqual(a.train.features, collaboratorShard("col2").train.features);
    assert.equal(a.train.featureCount, 4);
    assert.ok([...a.train.labels].every((l) => l < 3));
  });
});

describe("softmax regression", () => {
  it("starts from an all-zero model that guesses class 0 (about chance)", () => {
    const { validation } = collaboratorShard("col1");
    const acc = accuracy(model(), validation);
    assert.ok(acc > 0.2 && acc < 0.45, `accuracy ${acc}`);
  });

  it("raises accuracy and lowers loss with SGD", () => {
    const { train, validation } = collaboratorShard("col1");
    const m = model();
    const before = accuracy(m, validation);
    const loss1 = trainSgd(m, train, { ...TRAINING, seed: 1 });
    const loss5 = trainSgd(m, train, { ...TRAINING, epochs: 5, seed: 2 });
    assert.ok(loss5 < loss1, `loss ${loss1} -> ${loss5}`);
    assert.ok(accuracy(m, validation) > before + 0.2);
  });

  it("train returns dense.weight [3,4] and dense.bias [3] with data_size = train samples", async () => {
    const train = tasks.train;
    assert.equal(typeof train, "function");
    const result = await (train as Exclude<typeof train, { run: unknown } | undefined>)({
      taskName: "train",
      round: 0,
      collaboratorName: "col1",
      model: initialModel(),
      localTensors: {},
      signal: new AbortController().signal,
    });
    assert.equal(result.dataSize, collaboratorShard("col1").train.samples);
    assert.deepEqual(result.tensors?.["dense.weight"]?.shape, [3, 4]);
    assert.deepEqual(result.tensors?.["dense.bias"]?.shape, [3]);
    assert.equal(typeof result.metrics?.loss, "number");
  });

  it("locally_tuned_model_validation after a restart (localTensors empty) validates the model train gave this round, rebuilt", async () => {
    const run = (name: string, ctx: Partial<TaskContext>): Promise<TaskResult> => {
      const task = tasks[name] as TaskDefinition;
      const fn = typeof task === "function" ? task : task.run;
      return fn({
        taskName: name,
        round: 2,
        collaboratorName: "col1",
        model: initialModel(),
        localTensors: {},
        signal: new AbortController().signal,
        ...ctx,
      });
    };
    const trained = await run("train", {});
    const inProcess = await run("locally_tuned_model_validation", {
      localTensors: trained.tensors ?? {},
    });
    const restarted = await run("locally_tuned_model_validation", { localTensors: {} });
    const untrained = await run("aggregated_model_validation", {});
    assert.equal(restarted.metrics?.accuracy, inProcess.metrics?.accuracy);
    assert.ok(
      (restarted.metrics?.accuracy as number) > (untrained.metrics?.accuracy as number) + 0.1,
      `rebuilt ${restarted.metrics?.accuracy}, round's model ${untrained.metrics?.accuracy}`,
    );
  });
});
