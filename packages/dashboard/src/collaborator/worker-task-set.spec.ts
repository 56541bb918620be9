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
  it("declares the Node task set's tasks, model tensors and metric tags", () => {
    const set = workerTaskSet(new TrainWorkerClient(inProcessWorker()));
    for (const name of Object.keys(nodeTasks)) {
      const page = resolveTask(set, name);
      const node = resolveTask(
        { tasks: nodeTasks, modelTensorNames: ["dense.weight", "dense.bias"] },
        name,
      );
      assert.deepEqual(
        [page?.modelTensors, page?.metricTags],
        [node?.modelTensors, node?.metricTags],
        name,
      );
    }
    assert.deepEqual(Object.keys(set.tasks), Object.keys(nodeTasks));
  });

  it("trains in the worker on the file's rows: the same result as the shared task directly", async () => {
    const seen: string[] = [];
    const worker = new TrainWorkerClient(inProcessWorker());
    assert.deepEqual(await worker.loadDataset(CSV), { train: 20, validation: 10 });
    const set = workerTaskSet(worker, {
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
});
