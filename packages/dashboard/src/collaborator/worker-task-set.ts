// The task set the page's collaborator loop runs: the tasks the worker declared for the chosen
// model (names, model tensors, metric tags), each run in the training worker.
import type {
  TaskContext,
  TaskDefinition,
  TaskResult,
  TaskSet,
} from "@openfl-connect/collaborator/browser";
import type { PageModel } from "./page-models.js";
import type { FromWorker, TaskDeclaration, ToWorker } from "./train-protocol.js";

/** What the worker made of the user's file: row counts, the model's tasks, the backend. */
export type LoadedDataset = Omit<Extract<FromWorker, { t: "dataset" }>, "t">;

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

  /**
   * Hands the file's text to the worker, which builds `model`'s tasks on it; resolves with the
   * row counts, the tasks and the backend. Throws DatasetError.
   */
  async loadDataset(
    text: string,
    model: PageModel = "softmax",
    backends: readonly string[] = ["webgl", "cpu"],
  ): Promise<LoadedDataset> {
    const reply = await new Promise<FromWorker>((resolve) => {
      this.#waiting.set("dataset", resolve);
      this.#port.postMessage({ t: "dataset", text, model, backends });
    });
    if (reply.t === "dataset-error") throw new DatasetError(reply.message);
    if (reply.t !== "dataset") throw new DatasetError("the worker answered out of turn");
    const { t: _, ...loaded } = reply;
    return loaded;
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

/** The tasks the worker declared (`loadDataset`), each run by `worker`. */
export function workerTaskSet(
  worker: TrainWorkerClient,
  declared: Pick<LoadedDataset, "tasks" | "modelTensorNames">,
  hooks: TaskHooks = {},
): TaskSet {
  const tasks: Record<string, TaskDefinition> = {};
  for (const task of declared.tasks as readonly TaskDeclaration[]) {
    tasks[task.name] = {
      modelTensors: task.modelTensors,
      metricTags: task.metricTags,
      run: async (ctx) => {
        hooks.onStart?.(ctx);
        const result = await worker.run(ctx);
        hooks.onResult?.(ctx, result);
        return result;
      },
    };
  }
  return { tasks, modelTensorNames: declared.modelTensorNames };
}
