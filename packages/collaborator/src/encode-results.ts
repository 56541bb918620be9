import {
  encodeNamedTensor,
  type Float32Tensor,
  generateDelta,
  type NamedTensor,
  receivedTags,
} from "@openfl-connect/core";

/** A task function returned something that cannot be sent. */
export class TaskFailedError extends Error {
  override name = "TaskFailedError";
  constructor(
    readonly taskName: string,
    readonly round: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`task '${taskName}' (round ${round}) failed: ${message}`, options);
  }
}

/** The largest dataSize a result may have: TaskResults.data_size is an int32 (2^31 - 1). */
export const MAX_DATA_SIZE = 2_147_483_647;

export interface EncodeResultsOptions {
  readonly taskName: string;
  readonly round: number;
  /** Tags of the task's metrics besides "metric" (e.g. "validate_agg"). */
  readonly metricTags: readonly string[];
  /**
   * The base of a trained delta: this round's model tensor of that name, when held. With it a
   * trained tensor is sent as OpenFL's collaborator sends it under use_delta_updates:
   * trained - model, tagged "delta", lossless false. Undefined: whole tensors.
   */
  readonly deltaBase?: (name: string) => Float32Tensor | undefined;
  /**
   * The model's tensor names (the task set's `modelTensorNames` and the task's own). A trained
   * tensor under another name is refused before the upload: OpenFL's aggregator accepts it,
   * then fails at the end of the round ('NoneType' object has no attribute 'dtype') and the
   * round never ends. Empty: not checked (the task set declares no model).
   */
  readonly modelTensorNames?: readonly string[];
}

/** The NamedTensors OpenFL's collaborator sends for a task's results. */
export function encodeResults(result: unknown, options: EncodeResultsOptions): NamedTensor[] {
  const { taskName, round } = options;
  const r = result as Partial<{
    tensors: Record<string, Float32Tensor>;
    dataSize: number;
    metrics: Record<string, number>;
  }> | null;
  if (typeof r !== "object" || r === null) {
    throw new TaskFailedError(taskName, round, "returned no result object");
  }
  if (
    typeof r.dataSize !== "number" ||
    !Number.isInteger(r.dataSize) ||
    r.dataSize < 0 ||
    r.dataSize > MAX_DATA_SIZE
  ) {
    throw new TaskFailedError(
      taskName,
      round,
      `dataSize must be a whole number from 0 to ${MAX_DATA_SIZE}, got ${String(r.dataSize)}`,
    );
  }
  const model = options.modelTensorNames ?? [];
  const named: NamedTensor[] = [];
  for (const [name, tensor] of Object.entries(r.tensors ?? {})) {
    if (model.length > 0 && !model.includes(name)) {
      throw new TaskFailedError(
        taskName,
        round,
        `trained tensor '${name}' is not a tensor of the model (its tensors: ${model.join(", ")}): OpenFL's aggregator would accept it and never end the round`,
      );
    }
    const base = options.deltaBase?.(name);
    if (base !== undefined && base.data.length === tensor.data.length) {
      named.push(
        encodeNamedTensor(
          { shape: tensor.shape, data: generateDelta(tensor, base, name) },
          { name, roundNumber: round, tags: ["trained", "delta"], lossless: false },
        ),
      );
    } else {
      named.push(encodeNamedTensor(tensor, { name, roundNumber: round, tags: ["trained"] }));
    }
  }
  for (const [name, value] of Object.entries(r.metrics ?? {})) {
    if (typeof value !== "number") {
      throw new TaskFailedError(taskName, round, `metric '${name}' is not a number`);
    }
    named.push(
      encodeNamedTensor(
        { shape: [], data: [value] },
        { name, roundNumber: round, tags: ["metric", ...options.metricTags], report: true },
      ),
    );
  }
  return named;
}

/**
 * The tensor keys this collaborator reported in a round, by task. OpenFL's aggregator keys a
 * collaborator's results by (name, round, report, tags) across all tasks of the round: two
 * tasks sending the same key overwrite each other, and its end-of-round aggregation then fails
 * (the round never ends). Caught here, before the upload, with the fix in the message.
 */
export class RoundTensorKeys {
  #round = -1;
  readonly #owners = new Map<string, string>();

  /** Throws TaskFailedError when a tensor of `taskName` repeats another task's key. */
  claim(round: number, taskName: string, tensors: readonly NamedTensor[]): void {
    if (round !== this.#round) {
      this.#round = round;
      this.#owners.clear();
    }
    const keys = tensors.map((t) => ({ t, key: tensorKey(t) }));
    for (const { t, key } of keys) {
      const owner = this.#owners.get(key);
      if (owner !== undefined && owner !== taskName) {
        throw new TaskFailedError(
          taskName,
          round,
          `its tensor '${t.name}' (tags ${receivedTags(t).join(", ")}) has the same name and tags as one task '${owner}' sent this round; OpenFL's aggregator cannot tell them apart and would never end the round. Give one task other metric tags (metricTags, e.g. "validate_agg" / "validate_local") or rename the tensor`,
        );
      }
    }
    for (const { key } of keys) this.#owners.set(key, taskName);
  }
}

/** The aggregator's key of a received tensor: a delta is stored as the tensor it rebuilds. */
function tensorKey(t: NamedTensor): string {
  const tags = receivedTags(t).filter((tag) => tag !== "delta");
  return JSON.stringify([t.name, t.report, tags]);
}
