import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  createSoftmaxTasks,
  initialModel,
  parseCsvDataset,
  resolveTask,
  splitShard,
  type TaskContext,
} from "@openfl-connect/collaborator/browser";
import { tasks as nodeTasks } from "@openfl-connect/collaborator/tasks/softmax-regression";
import { getModelWeights, kerasWeights } from "@openfl-connect/tfjs";
import { digitsCnn } from "@openfl-connect/tfjs/examples/digits-cnn";
import { type FromWorker, type ToWorker, TrainWorkerState } from "./train-protocol.js";
import {
  DatasetError,
  TrainWorkerClient,
  type WorkerPort,
  workerTaskSet,
} from "./worker-task-set.js";

/** The worker in this process: messages go through structuredClone, as postMessage does. */
function inProcessWorker(): WorkerPort {
  const state = new TrainWorkerState();
  const port: WorkerPort = {
    onmessage: null,
    postMessage(message: ToWorker) {
      void state
        .handle(structuredClone(message))
        .then((reply: FromWorker) => port.onmessage?.({ data: structuredClone(reply) }));
    },
  };
  return port;
}

const CSV = [
  "f1,f2,f3,f4,label",
  ...Array.from({ length: 30 }, (_, i) => `${i % 3},${(i * 7) % 5},${i / 10},1,${i % 3}`),
].join("\n");

const ctx = (taskName: string): TaskContext => ({
  taskName,
  round: 2,
  collaboratorName: "browser",
  model: initialModel(),
  localTensors: {},
  signal: new AbortController().signal,
});

describe("the page's worker task set", () => {
  it("declares the Node task set's tasks, model tensors and metric tags", async () => {
    const worker = new TrainWorkerClient(inProcessWorker());
    const set = workerTaskSet(worker, await worker.loadDataset(CSV));
    for (const name of Object.keys(nodeTasks)) {
      const page = resolveTask(set, name);
      const node = resolveTask(
        { tasks: nodeTasks, modelTensorNames: ["dense.weight", "dense.bias"] },
        name,
      );
      assert.deepEqual(
        [page?.modelTensors(0), page?.modelTensors(1), page?.metricTags],
        [node?.modelTensors(0), node?.modelTensors(1), node?.metricTags],
        name,
      );
    }
    assert.deepEqual(Object.keys(set.tasks), Object.keys(nodeTasks));
  });

  it("trains in the worker on the file's rows: the same result as the shared task directly", async () => {
    const seen: string[] = [];
    const worker = new TrainWorkerClient(inProcessWorker());
    const loaded = await worker.loadDataset(CSV);
    assert.deepEqual([loaded.train, loaded.validation, loaded.backend], [20, 10, undefined]);
    const set = workerTaskSet(worker, loaded, {
      onStart: (c) => seen.push(`start ${c.taskName}`),
      onResult: (c, r) => seen.push(`${c.taskName}:${Object.keys(r.metrics ?? {})}`),
    });
    const train = resolveTask(set, "train");
    const result = await train?.run(ctx("train"));
    const shard = splitShard(parseCsvDataset(CSV, { features: 4, classes: 3 }));
    const direct = await resolveTask({ tasks: createSoftmaxTasks(() => shard) }, "train")?.run(
      ctx("train"),
    );
    assert.deepEqual(result, direct);
    assert.deepEqual(seen, ["start train", "train:loss"]);
  });

  it("a file that is not the task's CSV is a DatasetError naming the line", async () => {
    const worker = new TrainWorkerClient(inProcessWorker());
    await assert.rejects(
      worker.loadDataset("1,2,3,4,0\n1,2,3,0\n"),
      (e: unknown) => e instanceof DatasetError && /CSV line 2: expected 5 columns/.test(e.message),
    );
  });

  it("with model=digits-cnn, builds the TF.js CNN's Keras tasks in the worker and names its backend", async () => {
    const rows = Array.from({ length: 30 }, (_, i) =>
      [...Array.from({ length: 64 }, (_, p) => ((i * 31 + p * 7) % 17) / 16), i % 10].join(","),
    );
    const worker = new TrainWorkerClient(inProcessWorker());
    // Node has no WebGL: the worker falls back to the CPU backend and says so.
    const loaded = await worker.loadDataset(rows.join("\n"), "digits-cnn", ["webgl", "cpu"]);
    assert.equal(loaded.backend, "cpu");
    assert.deepEqual([loaded.train, loaded.validation], [20, 10]);
    assert.deepEqual(
      [...loaded.modelTensorNames],
      kerasWeights(digitsCnn()).map((w) => w.name),
    );
    const set = workerTaskSet(worker, loaded);
    assert.deepEqual(resolveTask(set, "locally_tuned_model_validation")?.metricTags, [
      "validate_local",
    ]);
    const model = await getModelWeights(digitsCnn());
    const result = await resolveTask(set, "train")?.run({ ...ctx("train"), model });
    assert.equal(result?.dataSize, 20);
    assert.deepEqual(Object.keys(result?.tensors ?? {}), loaded.modelTensorNames);
    await assert.rejects(
      worker.loadDataset("1,2,3,4,0\n", "digits-cnn", ["cpu"]),
      /CSV line 1: expected 65 columns/,
    );
  });
});
