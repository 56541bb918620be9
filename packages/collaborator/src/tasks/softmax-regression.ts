// A task set for OpenFL's default tasks: softmax regression (one dense layer) in plain
// TypeScript, trained with SGD on this collaborator's synthetic blobs.
import type { Float32Tensor } from "@openfl-connect/core";
import type { TaskContext, TaskDefinition, TaskResult } from "../task-set.js";
import {
  type CollaboratorShard,
  collaboratorShard,
  type Dataset,
  seededRandom,
} from "./synthetic-blobs.js";

export const CLASSES = 3;
export const FEATURES = 4;
/** Tensor names as a PyTorch `nn.Linear` named `dense` would give them. */
export const WEIGHT = "dense.weight";
export const BIAS = "dense.bias";

/** SGD settings of `train`. */
export const TRAINING = { epochs: 1, batchSize: 16, learningRate: 0.01 } as const;

/** The round-0 model: all zeros (every class equally likely). Start the aggregator with it. */
export function initialModel(): Record<string, Float32Tensor> {
  return {
    [WEIGHT]: { shape: [CLASSES, FEATURES], data: new Float32Array(CLASSES * FEATURES) },
    [BIAS]: { shape: [CLASSES], data: new Float32Array(CLASSES) },
  };
}

/** The model tensors every task that uses the aggregated model fetches. */
export const modelTensorNames = [WEIGHT, BIAS] as const;

/** The softmax-regression model as plain arrays: weight (classes x features, row-major), bias. */
export interface SoftmaxModel {
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

function modelFrom(tensors: Readonly<Record<string, Float32Tensor>>, where: string): SoftmaxModel {
  const weight = tensors[WEIGHT];
  const bias = tensors[BIAS];
  if (weight === undefined || bias === undefined) {
    throw new Error(`${where}: needs tensors ${WEIGHT} and ${BIAS}`);
  }
  if (weight.data.length !== CLASSES * FEATURES || bias.data.length !== CLASSES) {
    throw new Error(
      `${where}: expected ${WEIGHT} [${CLASSES}, ${FEATURES}] and ${BIAS} [${CLASSES}], got [${weight.shape.join(", ")}] and [${bias.shape.join(", ")}]`,
    );
  }
  return { weight: Float32Array.from(weight.data), bias: Float32Array.from(bias.data) };
}

/** Class probabilities of sample `s` into `out`. */
function predict(model: SoftmaxModel, data: Dataset, s: number, out: Float64Array): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < CLASSES; c++) {
    let z = model.bias[c] as number;
    for (let f = 0; f < FEATURES; f++) {
      z += (model.weight[c * FEATURES + f] as number) * (data.features[s * FEATURES + f] as number);
    }
    out[c] = z;
    if (z > max) max = z;
  }
  let sum = 0;
  for (let c = 0; c < CLASSES; c++) {
    const e = Math.exp((out[c] as number) - max);
    out[c] = e;
    sum += e;
  }
  for (let c = 0; c < CLASSES; c++) out[c] = (out[c] as number) / sum;
}

/** Fraction of samples whose most likely class is the label (ties: the lowest class). */
export function accuracy(model: SoftmaxModel, data: Dataset): number {
  const p = new Float64Array(CLASSES);
  let correct = 0;
  for (let s = 0; s < data.samples; s++) {
    predict(model, data, s, p);
    let best = 0;
    for (let c = 1; c < CLASSES; c++) if ((p[c] as number) > (p[best] as number)) best = c;
    if (best === data.labels[s]) correct++;
  }
  return data.samples === 0 ? 0 : correct / data.samples;
}

/** Mini-batch SGD on cross-entropy; returns the mean loss of the last epoch. */
export function trainSgd(
  model: SoftmaxModel,
  data: Dataset,
  options: { epochs: number; batchSize: number; learningRate: number; seed: number },
  signal?: AbortSignal,
): number {
  const random = seededRandom(options.seed);
  const order = Array.from({ length: data.samples }, (_, i) => i);
  const p = new Float64Array(CLASSES);
  const gradW = new Float64Array(CLASSES * FEATURES);
  const gradB = new Float64Array(CLASSES);
  let lastLoss = 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    signal?.throwIfAborted();
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    let lossSum = 0;
    for (let start = 0; start < order.length; start += options.batchSize) {
      const batch = order.slice(start, start + options.batchSize);
      gradW.fill(0);
      gradB.fill(0);
      for (const s of batch) {
        predict(model, data, s, p);
        const label = data.labels[s] as number;
        lossSum -= Math.log(Math.max(p[label] as number, 1e-12));
        for (let c = 0; c < CLASSES; c++) {
          const g = (p[c] as number) - (c === label ? 1 : 0);
          gradB[c] = (gradB[c] as number) + g;
          for (let f = 0; f < FEATURES; f++) {
            gradW[c * FEATURES + f] =
              (gradW[c * FEATURES + f] as number) + g * (data.features[s * FEATURES + f] as number);
          }
        }
      }
      const step = options.learningRate / batch.length;
      for (let k = 0; k < gradW.length; k++) {
        model.weight[k] = (model.weight[k] as number) - step * (gradW[k] as number);
      }
      for (let c = 0; c < CLASSES; c++) {
        model.bias[c] = (model.bias[c] as number) - step * (gradB[c] as number);
      }
    }
    lastLoss = data.samples === 0 ? 0 : lossSum / data.samples;
  }
  return lastLoss;
}

function tensorsOf(model: SoftmaxModel): Record<string, Float32Tensor> {
  return {
    [WEIGHT]: { shape: [CLASSES, FEATURES], data: model.weight },
    [BIAS]: { shape: [CLASSES], data: model.bias },
  };
}

/**
 * OpenFL's default tasks on the data `shardFor` gives a collaborator (by its name): the
 * synthetic blobs in Node (`tasks`), a file the user picked in the browser.
 */
export function createSoftmaxTasks(
  shardFor: (collaboratorName: string) => CollaboratorShard,
): Record<string, TaskDefinition> {
  async function aggregatedModelValidation(ctx: TaskContext): Promise<TaskResult> {
    const { validation } = shardFor(ctx.collaboratorName);
    const model = modelFrom(ctx.model, ctx.taskName);
    return { dataSize: validation.samples, metrics: { accuracy: accuracy(model, validation) } };
  }

  async function train(ctx: TaskContext): Promise<TaskResult> {
    const { train: data } = shardFor(ctx.collaboratorName);
    const model = modelFrom(ctx.model, ctx.taskName);
    const loss = trainSgd(model, data, { ...TRAINING, seed: ctx.round + 1 }, ctx.signal);
    return { tensors: tensorsOf(model), dataSize: data.samples, metrics: { loss } };
  }

  /**
   * Accuracy of the model `train` produced this round. After a restart between `train` and this
   * task the local tensors are gone; training is deterministic (seeded by the round), so the
   * same model is rebuilt from the round's aggregated model.
   */
  async function locallyTunedModelValidation(ctx: TaskContext): Promise<TaskResult> {
    const { train: data, validation } = shardFor(ctx.collaboratorName);
    let model: SoftmaxModel;
    if (ctx.localTensors[WEIGHT] !== undefined) {
      model = modelFrom(ctx.localTensors, ctx.taskName);
    } else {
      model = modelFrom(ctx.model, ctx.taskName);
      trainSgd(model, data, { ...TRAINING, seed: ctx.round + 1 }, ctx.signal);
    }
    return { dataSize: validation.samples, metrics: { accuracy: accuracy(model, validation) } };
  }

  // Tagged as OpenFL's task runners tag them: validation of the aggregated model reports
  // "validate_agg" metrics (the aggregator keeps its best model by them), of the locally
  // trained one "validate_local"; train metrics are plain "metric".
  return {
    aggregated_model_validation: { metricTags: ["validate_agg"], run: aggregatedModelValidation },
    train,
    locally_tuned_model_validation: {
      metricTags: ["validate_local"],
      run: locallyTunedModelValidation,
    },
  };
}

const shards = new Map<string, CollaboratorShard>();
function shardOf(name: string): CollaboratorShard {
  let shard = shards.get(name);
  if (shard === undefined) {
    shard = collaboratorShard(name);
    shards.set(name, shard);
  }
  return shard;
}

/** OpenFL's default tasks on this collaborator's synthetic blobs (chosen by its name). */
export const tasks: Record<string, TaskDefinition> = createSoftmaxTasks(shardOf);
