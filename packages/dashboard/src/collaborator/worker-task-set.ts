// The task set the page's collaborator loop runs: the shared softmax tasks' names, model tensors
// and metric tags, each run in the training worker.
import {
  createSoftmaxTasks,
  modelTensorNames,
  resolveTask,
  type TaskContext,
  type TaskDefinition,
  type TaskResult,
  type TaskSet,
} from "@openfl-connect/collaborator/browser";
import type { FromWorker, ToWorker } from "./train-protocol.js";

/** What the page needs of a Worker (a stand-in in tests). */
export interface WorkerPort {
  postMessage(message: ToWorker): void;
  onmessage: ((event: { data: FromWorker }) => void) | null;
}

/** A dataset the worker could not read; the message names the line (never values). */
export class DatasetError extends Error {
  override name = "DatasetError";
}

/** Talks to the training worker: one request at a time is enough for the loop. */
export class TrainWorkerClient {
  readonly #port: WorkerPort;
  #next = 0;
  readonly #waiting = new Map<number | "dataset", (reply: FromWorker) => void>();

  constructor(port: WorkerPort) {
    this.#port = port;
    port.onmessage = ({ data }) => {
      const key = data.t === "dataset" || data.t === "dataset-error" ? "dataset" : data.id;
      const resolve = this.#waiting.get(key);
      this.#waiting.delete(key);
      resolve?.(data);
    };
  }

  /** Hands the file's text to the worker; resolves with the row counts. Throws DatasetError. */
  async loadDataset(text: string): Promise<{ train: number; validation: number }> {
    const reply = await new Promise<FromWorker>((resolve) => {
      this.#waiting.set("dataset", resolve);
      this.#port.postMessage({ t: "dataset", text });
    });
    if (reply.t === "dataset-error") throw new DatasetError(reply.message);
    if (reply.t !== "dataset") throw new DatasetError("the worker answered out of turn");
    return { train: reply.train, validation: reply.validation };
  }

  run(ctx: TaskContext): Promise<TaskResult> {
    const id = this.#next++;
    return new Promise<TaskResult>((resolve, reject) => {
      const onAbort = () => {
        this.#waiting.delete(id);
        reject(ctx.signal.reason);
      };
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      this.#waiting.set(id, (reply) => {
        ctx.signal.removeEventListener("abort", onAbort);
        if (reply.t === "result") resolve(reply.result);
        else reject(new Error(reply.t === "task-error" ? reply.message : "unexpected reply"));
      });
      this.#port.postMessage({
        t: "task",
        id,
        taskName: ctx.taskName,
        round: ctx.round,
        collaboratorName: ctx.collaboratorName,
        model: ctx.model,
        localTensors: ctx.localTensors,
      });
    });
  }
}

/** What the page watches of each task. */
export interface TaskHooks {
  /** The task is handed to the worker. */
  readonly onStart?: (ctx: TaskContext) => void;
  /** The task's result (metrics for the chart), before the loop sends it. */
  readonly onResult?: (ctx: TaskContext, result: TaskResult) => void;
}

/** The softmax task set with every task run by `worker`. */
export function workerTaskSet(worker: TrainWorkerClient, hooks: TaskHooks = {}): TaskSet {
  const shared: TaskSet = {
    tasks: createSoftmaxTasks(() => {
      throw new Error("runs in the worker");
    }),
    modelTensorNames,
  };
  const tasks: Record<string, TaskDefinition> = {};
  for (const name of Object.keys(shared.tasks)) {
    const resolved = resolveTask(shared, name);
    if (resolved === undefined) continue;
    tasks[name] = {
      modelTensors: resolved.modelTensors,
      metricTags: resolved.metricTags,
      run: async (ctx) => {
        hooks.onStart?.(ctx);
        const result = await worker.run(ctx);
        hooks.onResult?.(ctx, result);
        return result;
      },
    };
  }
  return { tasks, modelTensorNames };
}
