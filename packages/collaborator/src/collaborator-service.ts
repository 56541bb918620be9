import {
  type AggregatorClient,
  type CompressionPipeline,
  type Float32Tensor,
  formatBytes,
  type Gunzip,
  type Gzip,
  LOSSY_COMPRESSED_TAG,
  MAX_TIMER_MS,
} from "@openfl-connect/core";
import { abortableSleep } from "@openfl-connect/core/internal";
import { type TensorCompression, tensorCompression } from "./compression/tensor-compression.js";
import { encodeResults, RoundTensorKeys, TaskFailedError } from "./encode-results.js";
import { DEFAULT_IDLE_WARNING_SECONDS, IdleReporter } from "./idle-reporter.js";
import { type Logger, silentLogger } from "./logger.js";
import { RoundModelCache } from "./round-model-cache.js";
import { resolveTask, type TaskSet } from "./task-set.js";

export { TaskFailedError } from "./encode-results.js";

/** The calls the loop makes; an AggregatorClient (e.g. the Node AggregatorGRPCClient) has them. */
export type CollaboratorClient = Pick<
  AggregatorClient,
  "getTasks" | "getAggregatedTensor" | "sendLocalTaskResults" | "resendPending"
>;

/** The default cap of the aggregator's no-task sleep_time, in seconds (1 hour). */
export const DEFAULT_MAX_SLEEP_SECONDS = 3600;

export interface CollaboratorServiceOptions {
  readonly client: CollaboratorClient;
  /** This collaborator's name (the client's collaboratorName), handed to task functions. */
  readonly collaboratorName: string;
  readonly taskSet: TaskSet;
  /** Default: silent. */
  readonly logger?: Logger;
  /**
   * Upper bound of the no-task sleep, in seconds. Default DEFAULT_MAX_SLEEP_SECONDS (1 h): the
   * aggregator's sleep_time (OpenFL: 10 s) up to an hour, so that a server answering with a
   * huge sleep_time (it is an int32 of seconds) cannot park the collaborator for years. The
   * demo sets it low to keep rounds quick.
   */
  readonly maxSleepSeconds?: number;
  /**
   * While the aggregator keeps answering "no tasks", a warning this often (seconds; default
   * 300) says for how long and why that may be, so a wait that never ends is not silent.
   */
  readonly idleWarningSeconds?: number;
  /** Transfers at least this large get progress lines, in bytes. Default 4 MiB. */
  readonly progressMinBytes?: number;
  /** Seconds between progress lines of a large transfer. Default 5; at most MAX_TIMER_MS / 1000. */
  readonly progressIntervalSeconds?: number;
  /**
   * Send trained tensors as deltas from the round's model, and rebuild a round's model from the
   * aggregated delta when the previous round's is held. Default false (OpenFL: the plan's
   * collaborator setting use_delta_updates, default false).
   */
  readonly useDeltaUpdates?: boolean;
  /**
   * The plan's compression pipeline (OpenFL: compression_pipeline, e.g. from core's
   * pipelineFromTemplate). Default NoCompressionPipeline. Every tensor received is decoded with
   * it; results are sent as OpenFL's collaborator sends them under it (lossy trained deltas
   * only where core's shouldSendLossy says so).
   */
  readonly compression?: CompressionPipeline;
  /** Gzip for the lossy pipelines. Default: the platform's CompressionStream. */
  readonly gzip?: Gzip;
  /** Gunzip for the lossy pipelines. Default: the platform's DecompressionStream. */
  readonly gunzip?: Gunzip;
  /** RandomShiftPipeline's uniform numbers in [0, 1). Default Math.random. */
  readonly random?: () => number;
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

/**
 * OpenFL's collaborator loop (openfl.component.collaborator.Collaborator.run): poll get_tasks;
 * quit -> stop; no tasks -> sleep sleep_time and poll again; otherwise run the tasks in order
 * (fetch model tensors, run, send results) and poll again at once.
 */
export class CollaboratorService {
  readonly #o: CollaboratorServiceOptions;
  readonly #log: Logger;
  readonly #reported = new RoundTensorKeys();
  readonly #compression: TensorCompression;

  constructor(options: CollaboratorServiceOptions) {
    const { progressIntervalSeconds: progress, maxSleepSeconds } = options;
    // setInterval fires every millisecond when given more than MAX_TIMER_MS.
    if (progress !== undefined && !(progress > 0 && progress * 1000 <= MAX_TIMER_MS)) {
      throw new RangeError(
        `progressIntervalSeconds must be > 0 and at most ${MAX_TIMER_MS / 1000} (the longest timer), got ${progress}`,
      );
    }
    if (maxSleepSeconds !== undefined && !(maxSleepSeconds >= 0)) {
      throw new RangeError(`maxSleepSeconds must be >= 0 (or Infinity), got ${maxSleepSeconds}`);
    }
    this.#o = options;
    this.#log = options.logger ?? silentLogger;
    this.#compression = tensorCompression({
      pipeline: options.compression,
      gzip: options.gzip,
      gunzip: options.gunzip,
      random: options.random,
    });
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
    // One per run: a model fetched for one task of a round serves the others (OpenFL's TensorDB).
    const models = new RoundModelCache(
      (name, round, request) =>
        this.#transfer("download", name, () =>
          client.getAggregatedTensor(name, round, { ...request, signal }),
        ),
      { useDeltaUpdates: this.#o.useDeltaUpdates ?? false, compression: this.#compression },
    );
    const idle = new IdleReporter(
      this.#log,
      (this.#o.idleWarningSeconds ?? DEFAULT_IDLE_WARNING_SECONDS) * 1000,
    );
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
            Math.min(assignment.sleepTime, this.#o.maxSleepSeconds ?? DEFAULT_MAX_SLEEP_SECONDS),
          );
          idle.noTasks(assignment.roundNumber, seconds);
          await abortableSleep(seconds * 1000, signal);
          continue;
        }
        idle.tasksReceived();
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
            { models, localTensors },
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
    held: {
      readonly models: RoundModelCache;
      readonly localTensors: Readonly<Record<string, Float32Tensor>>;
    },
    signal: AbortSignal,
    uploadSignal: AbortSignal,
  ): Promise<Record<string, Float32Tensor>> {
    const { client, collaboratorName } = this.#o;
    const { models, localTensors } = held;
    const task = resolveTask(this.#o.taskSet, taskName);
    if (task === undefined) throw new UnknownTaskError(taskName);
    const modelTensors = task.modelTensors(round);
    const model: Record<string, Float32Tensor> = {};
    for (const name of modelTensors) {
      model[name] = await models.tensor(name, round);
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
    const named = await encodeResults(result, {
      taskName,
      round,
      metricTags: task.metricTags,
      useDeltaUpdates: this.#o.useDeltaUpdates ?? false,
      roundModel: (name) => models.wholeModel(name, round),
      compression: this.#compression,
      modelTensorNames: [
        ...new Set([
          ...(this.#o.taskSet.modelTensorNames ?? []),
          ...(this.#o.taskSet.optimizerTensorNames ?? []),
          ...modelTensors,
        ]),
      ],
    });
    this.#reported.claim(round, taskName, named);
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
    const lossy = named.filter((t) => t.tags.includes(LOSSY_COMPRESSED_TAG)).length;
    this.#log("debug", "results sent", {
      round,
      task: taskName,
      tensors: named.length,
      lossyTensors: lossy,
      bytes,
    });
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
    // Node: do not keep the process alive for it. Browsers' timers are numbers without unref.
    (timer as { unref?: () => void }).unref?.();
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

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
