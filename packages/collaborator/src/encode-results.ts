import {
  encodeTensor,
  type Float32Tensor,
  generateDelta,
  type NamedTensor,
  receivedTags,
  shouldSendLossy,
} from "@openfl-connect/core";
import { type TensorCompression, tensorCompression } from "./compression/tensor-compression.js";

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

/** OpenFL's data_size for results without one (a task named neither train nor valid). */
export const NO_DATA_SIZE = -1;

export interface EncodeResultsOptions {
  readonly taskName: string;
  readonly round: number;
  /** Tags of the task's metrics besides "metric" (e.g. "validate_agg"). */
  readonly metricTags: readonly string[];
  /** OpenFL: collaborator.settings.use_delta_updates. Default false. */
  readonly useDeltaUpdates?: boolean;
  /**
   * This round's model tensor of that name when it was fetched whole (RoundModelCache.wholeModel),
   * as OpenFL's collaborator finds it in its TensorDB. Under useDeltaUpdates a trained tensor
   * with one is sent as OpenFL sends it (core's shouldSendLossy): trained - model, tagged
   * "delta", lossless false, through the plan's pipeline (lossy under STC, SKC, KC). Otherwise,
   * and for a model rebuilt from an aggregated delta: the whole tensor, lossless.
   */
  readonly roundModel?: (name: string) => Float32Tensor | undefined;
  /** The plan's pipeline and gzip. Default NoCompressionPipeline. */
  readonly compression?: TensorCompression;
  /**
   * The model's tensor names (the task set's `modelTensorNames` and `optimizerTensorNames`, and
   * the task's own for the round). A trained
   * tensor under another name is refused before the upload: OpenFL's aggregator accepts it,
   * then fails at the end of the round ('NoneType' object has no attribute 'dtype') and the
   * round never ends. Empty: not checked (the task set declares no model).
   */
  readonly modelTensorNames?: readonly string[];
}

/** The NamedTensors OpenFL's collaborator sends for a task's results. */
export async function encodeResults(
  result: unknown,
  options: EncodeResultsOptions,
): Promise<NamedTensor[]> {
  const { taskName, round } = options;
  const r = result as Partial<{
    tensors: Record<string, Float32Tensor>;
    dataSize: number;
    metrics: Record<string, number>;
    analytics: Record<string, Float32Tensor>;
  }> | null;
  if (typeof r !== "object" || r === null) {
    throw new TaskFailedError(taskName, round, "returned no result object");
  }
  // -1 is OpenFL's "no data size" (what it sends for an analytics task): only for results
  // the aggregator does not weight by it, i.e. analytics alone.
  const analyticsOnly =
    Object.keys(r.tensors ?? {}).length === 0 && Object.keys(r.metrics ?? {}).length === 0;
  if (
    typeof r.dataSize !== "number" ||
    !Number.isInteger(r.dataSize) ||
    r.dataSize < (analyticsOnly ? NO_DATA_SIZE : 0) ||
    r.dataSize > MAX_DATA_SIZE
  ) {
    throw new TaskFailedError(
      taskName,
      round,
      `dataSize must be a whole number from 0 to ${MAX_DATA_SIZE} (or ${NO_DATA_SIZE}, no data size, for analytics alone), got ${String(r.dataSize)}`,
    );
  }
  const model = options.modelTensorNames ?? [];
  const compression = options.compression ?? tensorCompression();
  const encode = (
    tensor: Float32Tensor,
    name: string,
    tags: readonly string[],
    extra: { readonly requireLossless: boolean; readonly report?: boolean },
  ) => encodeTensor(tensor, { ...compression, name, roundNumber: round, tags, ...extra });
  const named: NamedTensor[] = [];
  for (const [name, tensor] of Object.entries(r.tensors ?? {})) {
    if (model.length > 0 && !model.includes(name)) {
      throw new TaskFailedError(
        taskName,
        round,
        `trained tensor '${name}' is not a tensor of the model (its tensors: ${model.join(", ")}): OpenFL's aggregator would accept it and never end the round`,
      );
    }
    const base = options.roundModel?.(name);
    const asDelta = shouldSendLossy({
      tags: ["trained"],
      useDeltaUpdates: options.useDeltaUpdates ?? false,
      holdsRoundModel: base !== undefined,
    });
    named.push(
      // A base of another size (the model changed shape) cannot make a delta: the whole tensor.
      await (asDelta && base?.data.length === tensor.data.length
        ? encode(
            { shape: tensor.shape, data: generateDelta(tensor, base, name) },
            name,
            ["trained", "delta"],
            { requireLossless: false },
          )
        : encode(tensor, name, ["trained"], { requireLossless: true })),
    );
  }
  // OpenFL's FederatedAnalyticsTaskRunner: TensorKey(name, origin, round, False, ("analytics",)),
  // sent lossless; the plan's aggregation_type combines them.
  for (const [name, tensor] of Object.entries(r.analytics ?? {})) {
    named.push(await encode(tensor, name, ["analytics"], { requireLossless: true }));
  }
  for (const [name, value] of Object.entries(r.metrics ?? {})) {
    if (typeof value !== "number") {
      throw new TaskFailedError(taskName, round, `metric '${name}' is not a number`);
    }
    named.push(
      await encode(
        { shape: [], data: Float32Array.of(value) },
        name,
        ["metric", ...options.metricTags],
        {
          requireLossless: true,
          report: true,
        },
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
