// Messages between the collaborator page and its training worker. The user's file goes to the
// worker and stays there; only tensors and metrics come back (and go to the aggregator).

import {
  CLASSES,
  type CollaboratorShard,
  CsvDatasetError,
  createSoftmaxTasks,
  FEATURES,
  parseCsvDataset,
  resolveTask,
  splitShard,
  type TaskResult,
} from "@openfl-connect/collaborator/browser";
import type { Float32Tensor } from "@openfl-connect/core";

export type ToWorker =
  | { readonly t: "dataset"; readonly text: string }
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
  | { readonly t: "dataset"; readonly train: number; readonly validation: number }
  | { readonly t: "dataset-error"; readonly message: string }
  | { readonly t: "result"; readonly id: number; readonly result: TaskResult }
  | { readonly t: "task-error"; readonly id: number; readonly message: string };

/** The worker's side: holds the parsed file and runs the shared softmax tasks on it. */
export class TrainWorkerState {
  #shard: CollaboratorShard | undefined;

  async handle(message: ToWorker): Promise<FromWorker> {
    if (message.t === "dataset") {
      try {
        const shard = splitShard(
          parseCsvDataset(message.text, { features: FEATURES, classes: CLASSES }),
        );
        this.#shard = shard;
        return { t: "dataset", train: shard.train.samples, validation: shard.validation.samples };
      } catch (error) {
        const text =
          error instanceof CsvDatasetError || error instanceof RangeError
            ? error.message
            : String(error);
        return { t: "dataset-error", message: text };
      }
    }
    const { id, taskName } = message;
    const shard = this.#shard;
    if (shard === undefined) return { t: "task-error", id, message: "no dataset loaded" };
    const task = resolveTask({ tasks: createSoftmaxTasks(() => shard) }, taskName);
    if (task === undefined) {
      return { t: "task-error", id, message: `the softmax task set has no task '${taskName}'` };
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
