import {
  type AggregatorClient,
  abortableSleep,
  decodeNamedTensor,
  encodeNamedTensor,
  type Float32Tensor,
  type NamedTensor,
} from "@openfl-connect/core";
import { formatBytes, type Logger, silentLogger } from "./logger.js";
import { resolveTask, type TaskSet } from "./task-set.js";

/** The calls the loop makes; an AggregatorClient (e.g. the Node AggregatorGRPCClient) has them. */
export type CollaboratorClient = Pick<
  AggregatorClient,
  "getTasks" | "getAggregatedTensor" | "sendLocalTaskResults" | "resendPending"
>;

export interface CollaboratorServiceOptions {
  readonly client: CollaboratorClient;
  /** This collaborator's name (the client's collaboratorName), handed to task functions. */
  readonly collaboratorName: string;
  readonly taskSet: TaskSet;
  /** Default: silent. */
  readonly logger?: Logger;
  /**
   * Upper bound of the no-task sleep, in seconds. Default none: sleep the aggregator's
   * sleep_time, like OpenFL (10 s). The demo sets it low to keep rounds quick.
   */
  readonly maxSleepSeconds?: number;
  /** Transfers at least this large get progress lines, in bytes. Default 4 MiB. */
  readonly progressMinBytes?: number;
  /** Seconds between progress lines of a large transfer. Default 5. */
  readonly progressIntervalSeconds?: number;
}

export interface RunOptions {
  /** Stops polling, sleeping, fetching and running tasks (shutdown). */
  readonly signal?: AbortSignal;
  /**
   * Stops an upload in flight; abort it some time after `signal` to let an upload finish.
   * An aborted upload stays in the client's resend buffer. Default: `signal`.
   */
  readonly uploadSignal?: AbortSignal;
}

/** How `run` ended. */
export type RunOutcome =
  | { readonly t: "quit"; readonly roundsWorked: number; readonly tasksRun: number }
  | { readonly t: "aborted"; readonly tasksRun: number };

/** A task the aggregator assigned that the task set does not implement. */
export class UnknownTaskError extends Error {
  override name = "UnknownTaskError";
  constructor(readonly taskName: string) {
    super(`the aggregator assigned task '${taskName}' but the task module does not export it`);
  }
}

/** A task function threw or returned something unusable. */
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

/**
 * OpenFL's collaborator loop (openfl.component.collaborator.Collaborator.run): poll get_tasks;
 * quit -> stop; no tasks -> sleep sleep_time and poll again; otherwise run the tasks in order
 * (fetch model tensors, run, send results) and poll again at once.
 */
export class CollaboratorService {
  readonly #o: CollaboratorServiceOptions;
  readonly #log: Logger;

  constructor(options: CollaboratorServiceOptions) {
    this.#o = options;
    this.#log = options.logger ?? silentLogger;
  }

  /** Runs until the aggregator says quit (or `signal` aborts). Other failures reject. */
  async run(options: RunOptions = {}): Promise<RunOutcome> {
    const signal = options.signal ?? new AbortController().signal;
    const uploadSignal = options.uploadSignal ?? signal;
    const { client } = this.#o;
    let tasksRun = 0;
    const rounds = new Set<number>();
    let localRound = -1;
    let localTensors: Record<string, Float32Tensor> = {};
    try {
      const resent = await client.resendPending({ signal: uploadSignal });
      if (resent > 0) this.#log("info", "resent pending uploads", { count: resent });
      for (;;) {
        const assignment = await client.getTasks({ signal });
        if (assignment.quit) {
          this.#log("info", "aggregator says quit", { round: assignment.roundNumber });
          return { t: "quit", roundsWorked: rounds.size, tasksRun };
        }
        if (assignment.tasks.length === 0) {
          const seconds = Math.max(
            0,
            Math.min(assignment.sleepTime, this.#o.maxSleepSeconds ?? Number.POSITIVE_INFINITY),
          );
          this.#log("debug", "no tasks; sleeping", {
            round: assignment.roundNumber,
            seconds,
          });
          await abortableSleep(seconds * 1000, signal);
          continue;
        }
        const round = assignment.roundNumber;
        if (round !== localRound) {
          localRound = round;
          localTensors = {};
        }
        this.#log("info", "tasks received", {
          round,
          tasks: assignment.tasks.map((t) => t.name),
        });
        for (const task of assignment.tasks) {
          signal.throwIfAborted();
          const produced = await this.#runTask(
            task.name,
            round,
            localTensors,
            signal,
            uploadSignal,
          );
          localTensors = { ...localTensors, ...produced };
          tasksRun++;
          rounds.add(round);
        }
      }
    } catch (error) {
      if (signal.aborted || uploadSignal.aborted) {
        this.#log("info", "stopped", { tasksRun });
        return { t: "aborted", tasksRun };
      }
      throw error;
    }
  }

  async #runTask(
    taskName: string,
    round: number,
    localTensors: Readonly<Record<string, Float32Tensor>>,
    signal: AbortSignal,
    uploadSignal: AbortSignal,
  ): Promise<Record<string, Float32Tensor>> {
    const { client, collaboratorName } = this.#o;
    const task = resolveTask(this.#o.taskSet, taskName);
    if (task === undefined) throw new UnknownTaskError(taskName);
    const model: Record<string, Float32Tensor> = {};
    for (const name of task.modelTensors) {
      const named = await this.#transfer("download", name, () =>
        client.getAggregatedTensor(name, round, {
          tags: ["model"],
          requireLossless: true,
          signal,
        }),
      );
      model[name] = decodeNamedTensor(named);
    }
    const started = Date.now();
    let result: Awaited<ReturnType<typeof task.run>>;
    try {
      result = await task.run({ taskName, round, collaboratorName, model, localTensors, signal });
    } catch (error) {
      if (signal.aborted) throw error;
      throw new TaskFailedError(taskName, round, errorMessage(error), { cause: error });
    }
    signal.throwIfAborted();
    const named = encodeResults(taskName, round, result);
    this.#log("info", "task done", {
      round,
      task: taskName,
      dataSize: result.dataSize,
      ms: Date.now() - started,
      ...result.metrics,
    });
    const bytes = named.reduce((n, t) => n + t.dataBytes.byteLength, 0);
    await this.#transfer(
      "upload",
      `${taskName} results`,
      () =>
        client.sendLocalTaskResults(round, taskName, result.dataSize, named, {
          signal: uploadSignal,
        }),
      bytes,
    );
    this.#log("debug", "results sent", { round, task: taskName, tensors: named.length, bytes });
    return { ...result.tensors };
  }

  /** Runs a transfer; for large ones logs start, progress every few seconds and the end. */
  async #transfer<T>(
    direction: "upload" | "download",
    what: string,
    call: () => Promise<T>,
    knownBytes?: number,
  ): Promise<T> {
    const min = this.#o.progressMinBytes ?? 4 * 1024 * 1024;
    const started = Date.now();
    const large = knownBytes !== undefined && knownBytes >= min;
    if (large) this.#log("info", `${direction} started`, { what, size: formatBytes(knownBytes) });
    const timer = setInterval(
      () =>
        this.#log("info", `${direction} in progress`, {
          what,
          ...(knownBytes === undefined ? {} : { size: formatBytes(knownBytes) }),
          elapsedSeconds: Math.round((Date.now() - started) / 1000),
        }),
      (this.#o.progressIntervalSeconds ?? 5) * 1000,
    );
    timer.unref();
    try {
      const value = await call();
      const bytes =
        knownBytes ?? (value as { dataBytes?: Uint8Array } | undefined)?.dataBytes?.byteLength ?? 0;
      if (bytes >= min) {
        const seconds = Math.max((Date.now() - started) / 1000, 0.001);
        this.#log("info", `${direction} done`, {
          what,
          size: formatBytes(bytes),
          seconds,
          rate: `${formatBytes(bytes / seconds)}/s`,
        });
      }
      return value;
    } finally {
      clearInterval(timer);
    }
  }
}

/** The NamedTensors OpenFL's collaborator sends for a task's results. */
export function encodeResults(taskName: string, round: number, result: unknown): NamedTensor[] {
  const r = result as Partial<{
    tensors: Record<string, Float32Tensor>;
    dataSize: number;
    metrics: Record<string, number>;
  }> | null;
  if (typeof r !== "object" || r === null) {
    throw new TaskFailedError(taskName, round, "returned no result object");
  }
  if (typeof r.dataSize !== "number" || !Number.isInteger(r.dataSize) || r.dataSize < 0) {
    throw new TaskFailedError(
      taskName,
      round,
      `dataSize must be a whole number >= 0, got ${String(r.dataSize)}`,
    );
  }
  const named: NamedTensor[] = [];
  for (const [name, tensor] of Object.entries(r.tensors ?? {})) {
    named.push(encodeNamedTensor(tensor, { name, roundNumber: round, tags: ["trained"] }));
  }
  for (const [name, value] of Object.entries(r.metrics ?? {})) {
    if (typeof value !== "number") {
      throw new TaskFailedError(taskName, round, `metric '${name}' is not a number`);
    }
    named.push(
      encodeNamedTensor(
        { shape: [], data: [value] },
        { name, roundNumber: round, tags: ["metric"], report: true },
      ),
    );
  }
  return named;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
