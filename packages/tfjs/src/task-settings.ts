// The `tasks` section of an OpenFL plan, as KerasTaskRunner reads each task's kwargs
// (openfl/federated/task/runner_keras.py; defaults: plan/defaults/tasks_keras.yaml).
import { TaskSettingsError } from "./errors.js";

/** One task of a plan's `tasks` section, as OpenFL writes it (snake_case kwargs). */
export interface PlanTask {
  /** "train_task" or "validate_task". */
  readonly function: string;
  readonly kwargs?: {
    /** Samples per batch. Default 1 (KerasTaskRunner's signature default). */
    readonly batch_size?: number;
    /** Epochs per round (train_task only). Default 1. */
    readonly epochs?: number;
    /** Metric names to report, e.g. ["loss"] or ["accuracy"]. Required. */
    readonly metrics?: readonly string[];
    /** validate_task only: "global" validates the aggregated model, "local" the one trained here. */
    readonly apply?: string;
    readonly [other: string]: unknown;
  };
}

/** A task as the runner runs it. */
export type KerasTask =
  | {
      readonly kind: "train";
      readonly epochs: number;
      readonly batchSize: number;
      readonly metrics: readonly string[];
    }
  | {
      readonly kind: "validate";
      readonly apply: "global" | "local";
      readonly batchSize: number;
      readonly metrics: readonly string[];
    };

/** OpenFL's plan/defaults/tasks_keras.yaml. */
export const KERAS_TASK_DEFAULTS: Readonly<Record<string, PlanTask>> = {
  aggregated_model_validation: {
    function: "validate_task",
    kwargs: { batch_size: 32, apply: "global", metrics: ["accuracy"] },
  },
  locally_tuned_model_validation: {
    function: "validate_task",
    kwargs: { batch_size: 32, apply: "local", metrics: ["accuracy"] },
  },
  train: { function: "train_task", kwargs: { batch_size: 32, epochs: 1, metrics: ["loss"] } },
};

function wholeNumber(value: unknown, fallback: number, setting: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new TaskSettingsError(
      setting,
      `expected a whole number >= 1, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function metricNames(value: unknown, setting: string): string[] {
  // KerasTaskRunner raises KeyError("metrics must be defined") / KeyError('metrics').
  if (!Array.isArray(value) || value.length === 0 || !value.every((m) => typeof m === "string")) {
    throw new TaskSettingsError(
      setting,
      `expected a non-empty list of metric names (e.g. [loss] or [accuracy]), got ${JSON.stringify(value)}`,
    );
  }
  return [...value];
}

/**
 * Reads a plan's `tasks` section (its `settings` entry, which is not a task, is skipped).
 * Throws TaskSettingsError naming the setting, e.g. `tasks.train.kwargs.epochs`.
 */
export function parsePlanTasks(
  section: Readonly<Record<string, unknown>>,
): Record<string, KerasTask> {
  const out: Record<string, KerasTask> = {};
  for (const [name, value] of Object.entries(section)) {
    if (name === "settings") continue;
    const at = `tasks.${name}`;
    const task = value as Partial<PlanTask> | null;
    if (typeof task !== "object" || task === null) {
      throw new TaskSettingsError(
        at,
        `expected { function, kwargs }, got ${JSON.stringify(value)}`,
      );
    }
    const kwargs = (task.kwargs ?? {}) as NonNullable<PlanTask["kwargs"]>;
    if (typeof kwargs !== "object" || kwargs === null) {
      throw new TaskSettingsError(
        `${at}.kwargs`,
        `expected a mapping, got ${JSON.stringify(task.kwargs)}`,
      );
    }
    const batchSize = wholeNumber(kwargs.batch_size, 1, `${at}.kwargs.batch_size`);
    const metrics = metricNames(kwargs.metrics, `${at}.kwargs.metrics`);
    if (task.function === "train_task") {
      const epochs = wholeNumber(kwargs.epochs, 1, `${at}.kwargs.epochs`);
      out[name] = { kind: "train", epochs, batchSize, metrics };
    } else if (task.function === "validate_task") {
      if (kwargs.apply !== "global" && kwargs.apply !== "local") {
        throw new TaskSettingsError(
          `${at}.kwargs.apply`,
          `expected "global" or "local", got ${JSON.stringify(kwargs.apply)}`,
        );
      }
      out[name] = { kind: "validate", apply: kwargs.apply, batchSize, metrics };
    } else {
      throw new TaskSettingsError(
        `${at}.function`,
        `KerasTaskRunner has train_task and validate_task, got ${JSON.stringify(task.function)}`,
      );
    }
    // OpenFL's Collaborator weighs results by data_size, which it counts from the task's name.
    if (!name.includes("train") && !name.includes("valid")) {
      throw new TaskSettingsError(
        at,
        "OpenFL's Collaborator counts data_size by the task's name, which must contain 'train' or 'valid' (otherwise it sends -1)",
      );
    }
  }
  return out;
}

/**
 * The data_size OpenFL's Collaborator sends for a task (Collaborator.send_task_results): the
 * training set's size if the name contains "train", the validation set's if it contains "valid"
 * (the latter wins when both do).
 */
export function openflDataSize(taskName: string, trainSize: number, validSize: number): number {
  let size = -1;
  if (taskName.includes("train")) size = trainSize;
  if (taskName.includes("valid")) size = validSize;
  return size;
}
