import type { Float32Tensor } from "@openfl-connect/core";

/** What a task function gets. */
export interface TaskContext {
  /** The task's name as the aggregator sent it, e.g. "train". */
  readonly taskName: string;
  /** The round the task belongs to (0-based). */
  readonly round: number;
  readonly collaboratorName: string;
  /**
   * The round's model as fetched from the aggregator (tags ["model"], lossless), decoded,
   * by tensor name. Empty for a task that declares `modelTensors: []`.
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
  /** Number of samples the task used: the weight of these results (OpenFL: data_size). */
  readonly dataSize: number;
  /** Scalar metrics, sent as 0-d tensors tagged ["metric"] with report true. Default none. */
  readonly metrics?: Readonly<Record<string, number>>;
}

export type TaskFunction = (ctx: TaskContext) => Promise<TaskResult>;

/**
 * A task: a function (fetches the module's `modelTensorNames`) or an object naming the
 * model tensors it needs (`[]` for none).
 */
export type TaskDefinition =
  | TaskFunction
  | { readonly modelTensors: readonly string[]; readonly run: TaskFunction };

/** What a task module exports. */
export interface TaskSet {
  /** Task name -> its implementation. */
  readonly tasks: Readonly<Record<string, TaskDefinition>>;
  /** Model tensors a plain task function needs, fetched for each such task. Default none. */
  readonly modelTensorNames?: readonly string[];
}

/** A task's function and the model tensors it needs. */
export function resolveTask(
  taskSet: TaskSet,
  taskName: string,
): { readonly run: TaskFunction; readonly modelTensors: readonly string[] } | undefined {
  if (!Object.hasOwn(taskSet.tasks, taskName)) return undefined;
  const definition = taskSet.tasks[taskName];
  if (typeof definition === "function") {
    return { run: definition, modelTensors: taskSet.modelTensorNames ?? [] };
  }
  return definition;
}

/** Checks the shape of a loaded task module; returns a message naming what is wrong, or undefined. */
export function taskSetProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return "the module has no exports";
  const m = value as Record<string, unknown>;
  if (typeof m.tasks !== "object" || m.tasks === null) {
    return "the module must export `tasks`: Record<taskName, (ctx) => Promise<{ tensors, dataSize, metrics }>>";
  }
  for (const [name, definition] of Object.entries(m.tasks)) {
    if (typeof definition === "function") continue;
    const d = definition as { run?: unknown; modelTensors?: unknown } | null;
    if (typeof d?.run !== "function" || !Array.isArray(d.modelTensors)) {
      return `tasks.${name} must be a function or { modelTensors: string[], run }`;
    }
  }
  if (
    m.modelTensorNames !== undefined &&
    !(Array.isArray(m.modelTensorNames) && m.modelTensorNames.every((n) => typeof n === "string"))
  ) {
    return "`modelTensorNames` must be an array of strings";
  }
  return undefined;
}
