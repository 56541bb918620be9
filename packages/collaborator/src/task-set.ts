import type { Float32Tensor } from "@openfl-connect/core";

/** What a task function gets. */
export interface TaskContext {
  /** The task's name as the aggregator sent it, e.g. "train". */
  readonly taskName: string;
  /** The round the task belongs to (0-based). */
  readonly round: number;
  readonly collaboratorName: string;
  /**
   * The round's model tensors the task declared, by name: fetched once per round (tags
   * ["model"], lossless, or rebuilt from the aggregated delta with `useDeltaUpdates`), and
   * handed to each task as its own copy. Empty for a task that declares `modelTensors: []`.
   */
  readonly model: Readonly<Record<string, Float32Tensor>>;
  /**
   * Tensors produced by the earlier tasks of this round on this collaborator (OpenFL keeps
   * them in its local tensor DB), e.g. the locally trained model for
   * `locally_tuned_model_validation`. Cleared when a new round starts.
   */
  readonly localTensors: Readonly<Record<string, Float32Tensor>>;
  /** Aborted on shutdown; long tasks should stop early. */
  readonly signal: AbortSignal;
}

/** What a task function returns. */
export interface TaskResult {
  /** Tensors to send tagged ["trained"] (the aggregator averages them by dataSize). Default none. */
  readonly tensors?: Readonly<Record<string, Float32Tensor>>;
  /**
   * Number of samples the task used: the weight of these results (OpenFL: data_size, an int32).
   * A whole number from 0 to 2147483647; -1 (no data size, as OpenFL sends for an analytics
   * task) only when the result holds `analytics` alone.
   */
  readonly dataSize: number;
  /** Scalar metrics, sent as 0-d tensors tagged ["metric"] with report true. Default none. */
  readonly metrics?: Readonly<Record<string, number>>;
  /**
   * Results of a federated analytics task (e.g. histograms), sent tagged ["analytics"], report
   * false, lossless, as OpenFL's FederatedAnalyticsTaskRunner sends them; the plan's
   * `aggregation_type` combines them and OpenFL's aggregator saves the result. Default none.
   */
  readonly analytics?: Readonly<Record<string, Float32Tensor>>;
}

export type TaskFunction = (ctx: TaskContext) => Promise<TaskResult>;

/** A task with what OpenFL's task runner would declare about it. */
export interface TaskDescription {
  /**
   * Model tensors the task needs (`[]` for none), or a function of the round when they depend
   * on it: OpenFL's KerasTaskRunner under `opt_treatment: CONTINUE_GLOBAL` asks for the
   * optimizer's state with the model from round 1 on (round 0's aggregator holds the initial
   * model only). Default: the module's `modelTensorNames`.
   */
  readonly modelTensors?: readonly string[] | ((round: number) => readonly string[]);
  /**
   * Tags of this task's metrics besides "metric". OpenFL's aggregator keys a round's metrics by
   * name and tags, so two tasks reporting a metric of the same name need different tags (OpenFL's
   * runners tag validation of the aggregated model "validate_agg", of the locally trained one
   * "validate_local"). Default: `DEFAULT_METRIC_TAGS[taskName]`, else none.
   */
  readonly metricTags?: readonly string[];
  readonly run: TaskFunction;
}

/** A task: a function, or a description of it. */
export type TaskDefinition = TaskFunction | TaskDescription;

/**
 * What `openfl-collaborator start` read from the OpenFL workspace, handed to a task module that
 * exports `createTaskSet(context)` (a module exporting `tasks` gets nothing).
 */
export interface TaskModuleContext {
  readonly collaboratorName: string;
  /** The workspace directory. */
  readonly workspaceDir: string;
  /**
   * This collaborator's line of plan/data.yaml (OpenFL hands it to the data loader as
   * data_path), resolved against the workspace; undefined when the file has none.
   */
  readonly dataPath: string | undefined;
  /**
   * The plan's `tasks` section as OpenFL's collaborator gets it (each task's `function` and
   * `kwargs`, snake_case, e.g. `{ train: { function: "train_task", kwargs: { epochs: 1 } } }`).
   */
  readonly planTasks: Readonly<Record<string, unknown>>;
  /** collaborator.settings.opt_treatment: RESET, CONTINUE_LOCAL or CONTINUE_GLOBAL. */
  readonly optTreatment?: string;
}

/** What a task module exports. */
export interface TaskSet {
  /** Task name -> its implementation. */
  readonly tasks: Readonly<Record<string, TaskDefinition>>;
  /** Model tensors a task needs unless it says otherwise. Default none. */
  readonly modelTensorNames?: readonly string[];
  /**
   * The optimizer's state as tensors (OpenFL: `opt_treatment: CONTINUE_GLOBAL`, e.g. Keras's
   * `iteration`, `learning_rate`, `sequential_dense_kernel_momentum`): a task may send them
   * tagged trained with the model, and ask for them among its `modelTensors`, as the aggregator
   * averages them with the model. Default none.
   */
  readonly optimizerTensorNames?: readonly string[];
}

/**
 * The metric tags of OpenFL's default task names, as its default plan runs them (TaskRunner
 * `validate_task` with apply=global / apply=local; `train_task` metrics carry "metric" only).
 */
export const DEFAULT_METRIC_TAGS: Readonly<Record<string, readonly string[]>> = {
  aggregated_model_validation: ["validate_agg"],
  locally_tuned_model_validation: ["validate_local"],
};

/** A task as the service runs it. */
export interface ResolvedTask {
  readonly run: TaskFunction;
  /** The model tensors the task needs in `round` (checked: a list of names). */
  readonly modelTensors: (round: number) => readonly string[];
  readonly metricTags: readonly string[];
}

/** A task module declared something that cannot be used. */
export class TaskDeclarationError extends Error {
  override name = "TaskDeclarationError";
}

/** A task's function, the model tensors it needs (by round) and its metric tags. */
export function resolveTask(taskSet: TaskSet, taskName: string): ResolvedTask | undefined {
  if (!Object.hasOwn(taskSet.tasks, taskName)) return undefined;
  const definition = taskSet.tasks[taskName] as TaskDefinition;
  const description = typeof definition === "function" ? { run: definition } : definition;
  const declared = description.modelTensors ?? taskSet.modelTensorNames ?? [];
  return {
    run: description.run,
    modelTensors:
      typeof declared === "function"
        ? (round) => {
            const names: unknown = declared(round);
            if (!isStringArray(names)) {
              throw new TaskDeclarationError(
                `tasks.${taskName}.modelTensors(${round}) must return an array of tensor names, got ${describe(names)}`,
              );
            }
            return names as readonly string[];
          }
        : () => declared,
    metricTags: description.metricTags ?? DEFAULT_METRIC_TAGS[taskName] ?? [],
  };
}

const isStringArray = (v: unknown): boolean =>
  Array.isArray(v) && v.every((n) => typeof n === "string");

const describe = (v: unknown): string =>
  Array.isArray(v) ? `[${v.map((n) => typeof n).join(", ")}]` : v === null ? "null" : typeof v;

/** Checks the shape of a loaded task module; returns a message naming what is wrong, or undefined. */
export function taskSetProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return "the module has no exports";
  const m = value as Record<string, unknown>;
  if (typeof m.tasks !== "object" || m.tasks === null) {
    return "the module must export `tasks`: Record<taskName, (ctx) => Promise<{ tensors, dataSize, metrics }>>";
  }
  for (const [name, definition] of Object.entries(m.tasks)) {
    if (typeof definition === "function") continue;
    const d = definition as { run?: unknown; modelTensors?: unknown; metricTags?: unknown } | null;
    if (
      typeof d?.run !== "function" ||
      (d.modelTensors !== undefined &&
        typeof d.modelTensors !== "function" &&
        !isStringArray(d.modelTensors)) ||
      (d.metricTags !== undefined && !isStringArray(d.metricTags))
    ) {
      return `tasks.${name} must be a function or { run, modelTensors?: string[] | (round) => string[], metricTags?: string[] }`;
    }
  }
  if (m.modelTensorNames !== undefined && !isStringArray(m.modelTensorNames)) {
    return "`modelTensorNames` must be an array of strings";
  }
  if (m.optimizerTensorNames !== undefined && !isStringArray(m.optimizerTensorNames)) {
    return "`optimizerTensorNames` must be an array of strings";
  }
  return undefined;
}
