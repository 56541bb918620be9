// Refusals on arrival of results OpenFL's aggregator would accept but could never aggregate:
// the upload that carries them fails, instead of the round never ending.
import type { Float32Tensor } from "@openfl-connect/core";
import { AggregatorStateError } from "./aggregator-state-error.js";
import type { ReceivedTensor } from "./received-tensor.js";
import { tensorKeyRepr } from "./tensor-key.js";

/** One upload's decoded results, as the checks see them. */
export interface UploadToCheck {
  readonly collaborator: string;
  readonly taskName: string;
  readonly dataSize: number;
  readonly tensors: readonly ReceivedTensor[];
}

export interface UploadCheckContext {
  /** OpenFL: aggregator_uuid, the origin of the TensorKeys that errors name. */
  readonly origin: string;
  /** The round's model, whose shapes trained tensors must have. */
  readonly model: Readonly<Record<string, Float32Tensor>>;
  /** This round's accepted tensor keys (roundTensorKey) -> the task that sent them. */
  readonly roundTensorKeys: ReadonlyMap<string, string>;
}

/** Throws AggregatorStateError for the first thing in `upload` the round could not aggregate. */
export function checkUpload(upload: UploadToCheck, context: UploadCheckContext): void {
  refuseRepeatedKeys(upload, context);
  refuseWrongShapes(upload, context);
  refuseBadDataSize(upload);
}

/** The key of a collaborator's tensor among the round's results (OpenFL: name, report, tags). */
export function roundTensorKey(collaborator: string, t: ReceivedTensor): string {
  return JSON.stringify([collaborator, t.name, t.report, t.tags]);
}

/**
 * OpenFL's aggregator keys a collaborator's results by (name, round, report, tags) across all
 * tasks of a round; a second task sending the same key leaves the round unable to end (its
 * end-of-round aggregation raises). Refused here, on the upload that repeats the key.
 */
function refuseRepeatedKeys(
  { collaborator, taskName, tensors }: UploadToCheck,
  { origin, roundTensorKeys }: UploadCheckContext,
): void {
  for (const t of tensors) {
    const earlierTask = roundTensorKeys.get(roundTensorKey(collaborator, t));
    if (earlierTask !== undefined) {
      throw new AggregatorStateError(
        `task ${taskName} from ${collaborator} repeats ${tensorKeyRepr(origin, t.name, t.roundNumber, t.report, t.tags)} already sent by task ${earlierTask} this round; the round could not be aggregated`,
      );
    }
  }
}

/**
 * A trained tensor of the model must have the model's shape, or endRound's average throws and
 * the round can never end; a metric must be one value. OpenFL 1.9 checks the shape nowhere on
 * arrival: its end-of-round np.average raises inside the last upload, and that round never
 * ends either. It does refuse a metric of several values on arrival (float(value) raises in
 * process_task_results). Both are refused here, on the upload that carries them. (Byte length
 * against the shape is checked by decoding; the codec has one dtype, float32.)
 */
function refuseWrongShapes(
  { collaborator, taskName, tensors }: UploadToCheck,
  { origin, model }: UploadCheckContext,
): void {
  for (const t of tensors) {
    const repr = () => tensorKeyRepr(origin, t.name, t.roundNumber, t.report, t.tags);
    const modelTensor = t.tags.includes("trained") ? model[t.name] : undefined;
    if (modelTensor !== undefined && !sameShape(modelTensor.shape, t.shape)) {
      throw new AggregatorStateError(
        `task ${taskName} from ${collaborator} sends ${repr()} of shape [${t.shape.join(", ")}], but the model's tensor '${t.name}' has shape [${modelTensor.shape.join(", ")}]; the round could not be aggregated`,
      );
    }
    if (t.tags.includes("metric") && t.data.length !== 1) {
      throw new AggregatorStateError(
        `task ${taskName} from ${collaborator} sends metric ${repr()} of shape [${t.shape.join(", ")}]: a metric is one value`,
      );
    }
  }
}

/** data_size weights the average: a whole number, and above 0 where there is something to weigh. */
function refuseBadDataSize({ collaborator, taskName, dataSize, tensors }: UploadToCheck): void {
  if (!Number.isInteger(dataSize) || dataSize < 0) {
    throw new AggregatorStateError(
      `data_size must be a whole number >= 0, got ${dataSize} (task ${taskName}, collaborator ${collaborator})`,
    );
  }
  if (dataSize === 0 && tensors.some((t) => t.tags.includes("trained"))) {
    throw new AggregatorStateError(
      `data_size must be > 0 for results with trained tensors (task ${taskName}, collaborator ${collaborator})`,
    );
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}
