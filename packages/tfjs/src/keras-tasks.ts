// A TF.js model as the collaborator's task set, behaving as OpenFL's KerasTaskRunner does for the
// same Keras model: the same tensor names, tasks, metrics, tags and data_size.

import type {
  TaskContext,
  TaskDefinition,
  TaskResult,
  TaskSet,
} from "@openfl-connect/collaborator/browser";
import type { Float32Tensor } from "@openfl-connect/core";
import type * as tf from "@tensorflow/tfjs-core";
import type { LayersModel } from "@tensorflow/tfjs-layers";
import { TaskSettingsError } from "./errors.js";
import { kerasWeights } from "./keras-names.js";
import {
  checkData,
  dataTensors,
  type LabelledData,
  modelIo,
  type TrainValidData,
} from "./labelled-data.js";
import { getModelWeights, setModelWeights } from "./model-weights.js";
import { getOptimizerState, kerasOptimizerTensors, setOptimizerState } from "./optimizer-state.js";
import { type OptTreatment, parseOptTreatment, resetOptimizer } from "./optimizer-treatment.js";
import {
  KERAS_TASK_DEFAULTS,
  type KerasTask,
  openflDataSize,
  type PlanTask,
  parsePlanTasks,
} from "./task-settings.js";

export interface KerasTasksOptions {
  /** A compiled TF.js model (optimizer, loss and metrics set by `model.compile`). */
  readonly model: LayersModel;
  /** This collaborator's data (it never leaves the process or the tab). */
  readonly data: TrainValidData;
  /**
   * The plan's `tasks` section (OpenFL's snake_case kwargs: batch_size, epochs, metrics, apply).
   * Default: OpenFL's plan/defaults/tasks_keras.yaml.
   */
  readonly tasks?: Readonly<Record<string, PlanTask | unknown>>;
  /** OpenFL: collaborator.settings.opt_treatment. Default "CONTINUE_LOCAL" (OpenFL's default). */
  readonly optTreatment?: OptTreatment | string;
  /** Called after every training epoch (progress in a page); `logs` holds that epoch's metrics. */
  readonly onEpochEnd?: (event: {
    readonly task: string;
    readonly round: number;
    readonly epoch: number;
    readonly logs: Readonly<Record<string, number>>;
  }) => void;
}

/** TF.js reports Keras's "accuracy" as "acc"; snake_case Keras names are camelCase in TF.js. */
function tfjsMetricName(kerasName: string, available: readonly string[]): string | undefined {
  const camel = kerasName.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const aliases: Record<string, string> = { accuracy: "acc", acc: "accuracy" };
  const alias = aliases[kerasName];
  return [kerasName, alias, camel].find((n) => n !== undefined && available.includes(n));
}

async function scalarValues(result: tf.Scalar | tf.Scalar[]): Promise<number[]> {
  const list = Array.isArray(result) ? result : [result];
  try {
    return await Promise.all(list.map(async (s) => (await s.data())[0] as number));
  } finally {
    for (const s of list) s.dispose();
  }
}

/**
 * OpenFL's Keras tasks (`train`, `aggregated_model_validation`, `locally_tuned_model_validation`,
 * or those of `tasks`) on a TF.js model. Everything that cannot work is refused here, before the
 * collaborator joins: a task setting KerasTaskRunner would reject, a metric the model does not
 * compute, data that does not fit the model, CONTINUE_GLOBAL with an optimizer whose state does
 * not map to a Keras optimizer's.
 */
export function createKerasTasks(options: KerasTasksOptions): TaskSet {
  const { model, data } = options;
  const optTreatment = parseOptTreatment(options.optTreatment ?? "CONTINUE_LOCAL");
  const settings = parsePlanTasks(
    (options.tasks ?? KERAS_TASK_DEFAULTS) as Record<string, unknown>,
  );
  const io = modelIo(model);
  checkData(data.train, io, "data.train");
  checkData(data.validation, io, "data.validation");
  if (model.optimizer === undefined || model.optimizer === null) {
    throw new RangeError("the model has no optimizer: compile it before handing it to the runner");
  }
  const available = model.metricsNames;
  for (const [name, task] of Object.entries(settings)) {
    for (const metric of task.metrics) {
      if (tfjsMetricName(metric, available) === undefined) {
        // KerasTaskRunner: "does not support specifying new metrics".
        throw new TaskSettingsError(
          `tasks.${name}.kwargs.metrics`,
          `the model computes [${available.join(", ")}] (as compiled), not '${metric}'`,
        );
      }
    }
  }
  const modelTensorNames = kerasWeights(model).map((w) => w.name);
  // CONTINUE_GLOBAL: KerasTaskRunner sends the optimizer's state with every trained model and,
  // once it has trained (from round 1 on), asks for the aggregated state with the model.
  const global = optTreatment === "CONTINUE_GLOBAL";
  const optimizerTensorNames = global ? kerasOptimizerTensors(model).map((t) => t.name) : [];

  const evaluate = async (set: LabelledData, batchSize: number, metrics: readonly string[]) => {
    const { x, y } = dataTensors(set, io);
    try {
      const values = await scalarValues(
        model.evaluate(x, y, { batchSize }) as tf.Scalar | tf.Scalar[],
      );
      const byName = Object.fromEntries(model.metricsNames.map((n, i) => [n, values[i] as number]));
      return Object.fromEntries(
        metrics.map((m) => [m, byName[tfjsMetricName(m, available) as string] as number]),
      );
    } finally {
      x.dispose();
      y.dispose();
    }
  };

  const fit = async (ctx: TaskContext, task: Extract<KerasTask, { kind: "train" }>) => {
    const { x, y } = dataTensors(data.train, io);
    let last: Record<string, number> = {};
    try {
      // KerasTaskRunner.train_task runs `epochs` one-epoch fits and reports the last one's metrics.
      for (let epoch = 0; epoch < task.epochs; epoch++) {
        // One macrotask between epochs: TF.js yields only within an epoch that runs long, so
        // without it many short epochs would starve timers, signals and a page's events.
        await new Promise((resolve) => setTimeout(resolve, 0));
        ctx.signal.throwIfAborted();
        const history = await model.fit(x, y, {
          batchSize: task.batchSize,
          epochs: 1,
          shuffle: true,
          verbose: 0,
          callbacks: {
            onBatchEnd: async () => {
              if (ctx.signal.aborted) model.stopTraining = true;
            },
          },
        });
        ctx.signal.throwIfAborted();
        last = {};
        for (const [key, values] of Object.entries(history.history)) {
          const v = values[values.length - 1];
          last[key] = typeof v === "number" ? v : ((await (v as tf.Tensor).data())[0] as number);
        }
        options.onEpochEnd?.({ task: ctx.taskName, round: ctx.round, epoch, logs: last });
      }
    } finally {
      x.dispose();
      y.dispose();
    }
    return Object.fromEntries(
      task.metrics.map((m) => [m, last[tfjsMetricName(m, available) as string] as number]),
    );
  };

  const dataSize = (taskName: string) =>
    openflDataSize(taskName, data.train.samples, data.validation.samples);

  const train =
    (task: Extract<KerasTask, { kind: "train" }>) =>
    async (ctx: TaskContext): Promise<TaskResult> => {
      if (optTreatment === "RESET") resetOptimizer(model);
      const where = `${ctx.taskName}, round ${ctx.round}: the aggregated model`;
      setModelWeights(model, ctx.model, where);
      // KerasTaskRunner.rebuild_model: the optimizer's state too when round_num > 0.
      if (global && ctx.round > 0) await setOptimizerState(model, ctx.model, where);
      const metrics = await fit(ctx, task);
      const tensors = await getModelWeights(model);
      const state = global ? await getOptimizerState(model) : {};
      return { tensors: { ...tensors, ...state }, dataSize: dataSize(ctx.taskName), metrics };
    };

  const validate =
    (task: Extract<KerasTask, { kind: "validate" }>) =>
    async (ctx: TaskContext): Promise<TaskResult> => {
      let weights: Readonly<Record<string, Float32Tensor>> = ctx.model;
      if (task.apply === "local") {
        if (modelTensorNames.every((n) => Object.hasOwn(ctx.localTensors, n))) {
          weights = ctx.localTensors;
        } else {
          // The model trained here this round is gone (the collaborator restarted after `train`):
          // train again from the round's model, so that a locally tuned model is what is validated.
          const trainer = Object.values(settings).find(
            (t): t is Extract<KerasTask, { kind: "train" }> => t.kind === "train",
          );
          if (trainer === undefined) {
            throw new TaskSettingsError(
              `tasks.${ctx.taskName}`,
              "apply: local validates the model trained this round, and the plan has no train_task",
            );
          }
          setModelWeights(
            model,
            ctx.model,
            `${ctx.taskName}, round ${ctx.round}: the aggregated model`,
          );
          await fit(ctx, trainer);
          weights = await getModelWeights(model);
        }
      }
      setModelWeights(
        model,
        weights,
        `${ctx.taskName}, round ${ctx.round}: the ${task.apply === "local" ? "locally trained" : "aggregated"} model`,
      );
      const metrics = await evaluate(data.validation, task.batchSize, task.metrics);
      return { dataSize: dataSize(ctx.taskName), metrics };
    };

  const tasks: Record<string, TaskDefinition> = {};
  for (const [name, task] of Object.entries(settings)) {
    tasks[name] =
      task.kind === "train"
        ? {
            metricTags: [],
            modelTensors: (round: number) =>
              global && round > 0
                ? [...modelTensorNames, ...optimizerTensorNames]
                : modelTensorNames,
            run: train(task),
          }
        : // KerasTaskRunner.validate_task tags ("metric", "validate_agg" | "validate_local").
          {
            metricTags: [task.apply === "local" ? "validate_local" : "validate_agg"],
            run: validate(task),
          };
  }
  return {
    tasks,
    modelTensorNames,
    ...(global ? { optimizerTensorNames } : {}),
  };
}
