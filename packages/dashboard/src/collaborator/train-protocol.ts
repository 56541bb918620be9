// Messages between the collaborator page and its training worker. The user's file goes to the
// worker and stays there; only tensors and metrics come back (and go to the aggregator).

import {
  CsvDatasetError,
  parseCsvDataset,
  resolveTask,
  splitShard,
  type TaskResult,
  type TaskSet,
} from "@openfl-connect/collaborator/browser";
import type { Float32Tensor } from "@openfl-connect/core";
import { createPageTaskSet, PAGE_MODELS, type PageModel } from "./page-models.js";

/** What the page's loop needs to know of a task the worker runs. */
export interface TaskDeclaration {
  readonly name: string;
  readonly modelTensors: readonly string[];
  readonly metricTags: readonly string[];
}

export type ToWorker =
  | {
      readonly t: "dataset";
      readonly text: string;
      readonly model: PageModel;
      /** TF.js backends to try, in order (the CNN only). */
      readonly backends: readonly string[];
    }
  | {
      readonly t: "task";
      readonly id: number;
      readonly taskName: string;
      readonly round: number;
      readonly collaboratorName: string;
      readonly model: Readonly<Record<string, Float32Tensor>>;
      readonly localTensors: Readonly<Record<string, Float32Tensor>>;
    };

export type FromWorker =
  | {
      readonly t: "dataset";
      readonly train: number;
      readonly validation: number;
      readonly tasks: readonly TaskDeclaration[];
      readonly modelTensorNames: readonly string[];
      /** The TF.js backend training runs on (the CNN only). */
      readonly backend?: string;
    }
  | { readonly t: "dataset-error"; readonly message: string }
  | { readonly t: "result"; readonly id: number; readonly result: TaskResult }
  | { readonly t: "task-error"; readonly id: number; readonly message: string };

/** The worker's side: holds the parsed file and runs the chosen model's tasks on it. */
export class TrainWorkerState {
  #taskSet: TaskSet | undefined;

  async handle(message: ToWorker): Promise<FromWorker> {
    if (message.t === "dataset") {
      try {
        const shape = PAGE_MODELS[message.model];
        const shard = splitShard(parseCsvDataset(message.text, shape));
        const { taskSet, backend } = await createPageTaskSet(
          message.model,
          shard,
          message.backends,
        );
        this.#taskSet = taskSet;
        const tasks = Object.keys(taskSet.tasks).map((name) => {
          const task = resolveTask(taskSet, name);
          return {
            name,
            // The page's task sets (RESET) need the same tensors in every round.
            modelTensors: task?.modelTensors(0) ?? [],
            metricTags: task?.metricTags ?? [],
          };
        });
        return {
          t: "dataset",
          train: shard.train.samples,
          validation: shard.validation.samples,
          tasks,
          modelTensorNames: taskSet.modelTensorNames ?? [],
          ...(backend === undefined ? {} : { backend }),
        };
      } catch (error) {
        const text =
          error instanceof CsvDatasetError || error instanceof RangeError
            ? error.message
            : String(error);
        return { t: "dataset-error", message: text };
      }
    }
    const { id, taskName } = message;
    const taskSet = this.#taskSet;
    if (taskSet === undefined) return { t: "task-error", id, message: "no dataset loaded" };
    const task = resolveTask(taskSet, taskName);
    if (task === undefined) {
      return { t: "task-error", id, message: `the page's model has no task '${taskName}'` };
    }
    try {
      const result = await task.run({
        taskName,
        round: message.round,
        collaboratorName: message.collaboratorName,
        model: message.model,
        localTensors: message.localTensors,
        signal: new AbortController().signal,
      });
      return { t: "result", id, result };
    } catch (error) {
      return {
        t: "task-error",
        id,
        message: error instanceof Error ? error.message : String(error),
      };
    }
  }
}
