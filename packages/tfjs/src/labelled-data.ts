// A collaborator's data as tensors for one task: features reshaped to the model's input, labels
// as the model's loss expects them. Made per task and disposed after it, so nothing outlives it.
import * as tf from "@tensorflow/tfjs-core";
import type { LayersModel } from "@tensorflow/tfjs-layers";

/**
 * Samples row-major (samples x features) and integer class labels; the collaborator package's
 * `Dataset` (CSV files, `splitShard`) has this shape.
 */
export interface LabelledData {
  readonly features: Float32Array;
  readonly labels: ArrayLike<number>;
  readonly samples: number;
}

/** A collaborator's training and validation data. */
export interface TrainValidData {
  readonly train: LabelledData;
  readonly validation: LabelledData;
}

/** The input shape (without the batch dimension) and class count the model was built for. */
export interface ModelIo {
  readonly inputShape: readonly number[];
  readonly classes: number;
  /** Labels as class indices (sparse losses) rather than one-hot rows. */
  readonly sparseLabels: boolean;
}

export function modelIo(model: LayersModel): ModelIo {
  const input = model.inputs[0]?.shape ?? [];
  const output = model.outputs[0]?.shape ?? [];
  const inputShape = input.slice(1);
  const classes = output[output.length - 1];
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new RangeError(
      `the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; this runner trains a model of one input and one output`,
    );
  }
  if (inputShape.some((d) => d === null) || typeof classes !== "number") {
    throw new RangeError(
      `the model's input [${input.join(", ")}] and output [${output.join(", ")}] must have fixed sizes besides the batch`,
    );
  }
  const loss = model.loss;
  const lossName = typeof loss === "string" ? loss : Array.isArray(loss) ? String(loss[0]) : "";
  return {
    inputShape: inputShape as number[],
    classes,
    sparseLabels: /sparse/i.test(lossName),
  };
}

/** Checks a data set against the model; `where` names it (e.g. "data.train"). */
export function checkData(data: LabelledData, io: ModelIo, where: string): void {
  const perSample = io.inputShape.reduce((a, b) => a * b, 1);
  if (!(Number.isInteger(data.samples) && data.samples > 0)) {
    throw new RangeError(`${where}: expected at least one sample, got ${data.samples}`);
  }
  if (data.features.length !== data.samples * perSample) {
    throw new RangeError(
      `${where}: ${data.samples} samples of input shape [${io.inputShape.join(", ")}] need ${data.samples * perSample} feature values, got ${data.features.length}`,
    );
  }
  if (data.labels.length !== data.samples) {
    throw new RangeError(`${where}: ${data.samples} samples, ${data.labels.length} labels`);
  }
  for (let i = 0; i < data.samples; i++) {
    const label = data.labels[i] as number;
    if (!(Number.isInteger(label) && label >= 0 && label < io.classes)) {
      throw new RangeError(
        `${where}: label of sample ${i} must be a class 0..${io.classes - 1} (the model's output size), got ${label}`,
      );
    }
  }
}

/** The data as (x, y) tensors; the caller disposes both. */
export function dataTensors(data: LabelledData, io: ModelIo): { x: tf.Tensor; y: tf.Tensor } {
  const x = tf.tensor(data.features, [data.samples, ...io.inputShape], "float32");
  const labels = tf.tensor1d(Int32Array.from(data.labels), "int32");
  const y = tf.tidy(() =>
    tf.cast(
      io.sparseLabels ? tf.reshape(labels, [data.samples, 1]) : tf.oneHot(labels, io.classes),
      "float32",
    ),
  );
  labels.dispose();
  return { x, y };
}
